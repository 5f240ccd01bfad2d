"""Registry use cases: versions, their artifacts, and aliases."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from steward.artifacts.store import sha256_file
from steward.domain import names, specs
from steward.domain.audit import Action
from steward.domain.entities import DatasetVersion, ModelVersion, Page
from steward.domain.errors import ArtifactError, ArtifactTooLarge, Conflict, InvalidInput, NotFound
from steward.domain.lifecycle import INITIAL, Stage, parse_stage
from steward.domain.permissions import Permission, Principal, ensure
from steward.services.access import check_first, ensure_model
from steward.services.context import Context, model_id, version_row_id
from steward.services.models import check_limit
from steward.store.uow import UnitOfWork
from steward.store.versions_repo import VersionFilter, code_json, signature_json


def create_version(
    ctx: Context,
    principal: Principal,
    model: str,
    spec: specs.VersionSpec,
    artifact: Path,
    *,
    sha256: str | None = None,
    within: Callable[[UnitOfWork, int, int], None] | None = None,
) -> ModelVersion:
    """Store the artifact, then record the version; on any failure leave neither behind.

    ``within(uow, version_id, number)`` adds the caller's rows and events to the version's
    own transaction (the MLflow bridge's link and imported stage).
    """
    ensure(principal, Permission.VERSION_WRITE)
    check_first(ctx, principal, Permission.VERSION_WRITE, model)
    spec = specs.validate_version_spec(spec)
    digest, size = _checked_artifact(ctx, artifact, sha256)
    # An unknown model is found inside the transaction; the blob is then discarded.
    ctx.artifacts.put(artifact, digest)
    try:
        return _record_version(ctx, principal, model, spec, artifact, digest, size, within)
    except BaseException:
        # Clean-up must never hide the error that got us here.
        with contextlib.suppress(Exception):
            _discard_blob(ctx, digest)
        raise


def _checked_artifact(ctx: Context, artifact: Path, sha256: str | None) -> tuple[str, int]:
    """The artifact's digest and size, refused when corrupted in transit or over the limit."""
    try:
        digest, size = sha256_file(artifact)
    except OSError as exc:
        raise ArtifactError(f"Cannot read the artifact: {exc.strerror}.") from exc
    if sha256 is not None and sha256 != digest:
        raise ArtifactError(
            f"The artifact arrived with sha256 {digest}, not the {sha256} the client computed; "
            "it was corrupted in transit. Upload it again."
        )
    if size > ctx.settings.max_artifact_bytes:
        raise ArtifactTooLarge(
            f"The artifact is {size} bytes; this store accepts at most "
            f"{ctx.settings.max_artifact_bytes} (STEWARD_MAX_ARTIFACT_BYTES)."
        )
    return digest, size


def _discard_blob(ctx: Context, digest: str) -> None:
    """Delete the blob unless a committed version points to it.

    Runs under the blob's lock, which a version being recorded holds until it commits: a
    concurrent upload of the same bytes either committed already (the blob is in use and
    stays) or has not checked for the blob yet (it publishes it again, see _record_version).
    """
    with ctx.uow.write() as uow:
        uow.versions.lock_artifact(digest)
        if not uow.versions.artifact_in_use(digest):
            ctx.artifacts.delete(digest)
        uow.commit()


def _record_version(
    ctx: Context,
    principal: Principal,
    model: str,
    spec: specs.VersionSpec,
    artifact: Path,
    digest: str,
    size: int,
    within: Callable[[UnitOfWork, int, int], None] | None = None,
) -> ModelVersion:
    with ctx.uow.write() as uow:
        uow.versions.lock_artifact(digest)
        if not ctx.artifacts.exists(digest):
            # A failed upload of the same bytes removed the blob after our put: publish it
            # again while holding the lock, so no version ever points to a missing blob.
            ctx.artifacts.put(artifact, digest)
        mid = model_id(uow, model)
        ensure_model(uow, principal, Permission.VERSION_WRITE, model)
        if spec.parent_version is not None and uow.versions.row(mid, spec.parent_version) is None:
            raise InvalidInput(
                f"Parent version {spec.parent_version} of {model!r} does not exist.",
                field="parent_version",
            )
        number = uow.models.next_version(mid, uow.now)
        training = (
            uow.versions.upsert_dataset(spec.training_data, uow.now) if spec.training_data else None
        )
        evaluation = (
            uow.versions.upsert_dataset(spec.evaluation_data, uow.now)
            if spec.evaluation_data
            else None
        )
        values: dict[str, Any] = {
            "model_id": mid,
            "version": number,
            "stage": INITIAL.value,
            "artifact_sha256": digest,
            "artifact_size": size,
            "artifact_flavor": spec.flavor.value,
            "artifact_filename": spec.filename,
            "artifact_is_directory": spec.is_directory,
            "description": spec.description,
            "params": spec.params,
            "metrics": spec.metrics,
            "signature": signature_json(spec.signature),
            "code": code_json(spec.code),
            "training_dataset_id": training,
            "evaluation_dataset_id": evaluation,
            "parent_version": spec.parent_version,
            "created_at": uow.now,
            "created_by": principal.name,
            "stage_changed_at": uow.now,
        }
        vid = uow.versions.insert(values, spec.tags)
        uow.record(
            principal.name,
            Action.VERSION_CREATED,
            "version",
            f"{model}/{number}",
            {
                "model": model,
                "version": number,
                "stage": INITIAL.value,
                "artifact": {
                    "sha256": digest,
                    "size": size,
                    "flavor": spec.flavor.value,
                    "filename": spec.filename,
                },
                "tags": spec.tags,
                "params": spec.params,
                "metrics": spec.metrics,
                "code": code_json(spec.code),
                "parent_version": spec.parent_version,
                "training_data": spec.training_data.fingerprint if spec.training_data else None,
                "evaluation_data": spec.evaluation_data.fingerprint
                if spec.evaluation_data
                else None,
            },
        )
        if within is None:
            created = uow.versions.new_version(values, model, spec.tags)
        else:
            within(uow, vid, number)
            created = uow.versions.hydrate([uow.versions.row_by_id(vid)])[0]
        uow.commit()
    return created


# Stages whose content may still be corrected; from production on a version is frozen.
AMENDABLE = frozenset({Stage.DEVELOPMENT, Stage.VALIDATION, Stage.APPROVED})


def amend_version(
    ctx: Context,
    principal: Principal,
    model: str,
    version: int,
    *,
    justification: str,
    training_data: DatasetVersion | None = None,
    evaluation_data: DatasetVersion | None = None,
    artifact: Path | None = None,
    sha256: str | None = None,
) -> ModelVersion:
    """Replace a not-yet-deployed version's artifact or datasets, on the record.

    Every approval given for the old content lapses (approvals bind to the artifact
    hash and data fingerprints), so the gate asks for them again.
    """
    ensure(principal, Permission.VERSION_WRITE)
    check_first(ctx, principal, Permission.VERSION_WRITE, model)
    justification = (justification or "").strip()
    if not justification:
        raise InvalidInput("Say why the version is amended (justification).", field="justification")
    if training_data is None and evaluation_data is None and artifact is None:
        raise InvalidInput(
            "Nothing to amend: give a new artifact, training data or evaluation data."
        )
    digest = size = None
    if artifact is not None:
        digest, size = _checked_artifact(ctx, artifact, sha256)
        ctx.artifacts.put(artifact, digest)
    with ctx.uow.write() as uow:
        mid, vid = version_row_id(uow, model, version)
        uow.models.lock(mid)
        ensure_model(uow, principal, Permission.VERSION_WRITE, model)
        row = uow.versions.row_by_id(vid)
        stage = Stage(row["stage"])
        if stage not in AMENDABLE:
            raise Conflict(
                f"Version {version} of {model!r} is {stage.value}; only versions in development, "
                "validation or approved can be amended. Log a new version instead.",
                stage=stage.value,
            )
        before = uow.versions.hydrate([row])[0]
        values: dict[str, Any] = {}
        changes: dict[str, Any] = {}
        if digest is not None:
            uow.versions.lock_artifact(digest)
            if not ctx.artifacts.exists(digest):
                assert artifact is not None
                ctx.artifacts.put(artifact, digest)
            values.update(artifact_sha256=digest, artifact_size=size)
            changes["artifact_sha256"] = {"before": before.artifact.sha256, "after": digest}
        for key, column, data, old in (
            ("training_data", "training_dataset_id", training_data, before.training_data),
            ("evaluation_data", "evaluation_dataset_id", evaluation_data, before.evaluation_data),
        ):
            if data is None:
                continue
            values[column] = uow.versions.upsert_dataset(data, uow.now)
            changes[key] = {"before": old.fingerprint if old else None, "after": data.fingerprint}
        uow.versions.amend(vid, values)
        uow.record(
            principal.name,
            Action.VERSION_AMENDED,
            "version",
            f"{model}/{version}",
            {"model": model, "version": version, "justification": justification, **changes},
        )
        after = uow.versions.hydrate([uow.versions.row_by_id(vid)])[0]
        uow.commit()
    return after


def set_tag(
    ctx: Context, principal: Principal, model: str, version: int, key: str, value: str | None
) -> ModelVersion:
    """Set (``value`` None: remove) one tag of an existing version, on the record.

    Tags are labels, not evidence: approvals bind to the artifact and data, so a tag
    change needs no new approval.
    """
    ensure(principal, Permission.VERSION_WRITE)
    check_first(ctx, principal, Permission.VERSION_WRITE, model)
    key = names.tag_key(key)
    if value is not None:
        value = names.tag_value(key, value)
    with ctx.uow.write() as uow:
        mid, vid = version_row_id(uow, model, version)
        uow.models.lock(mid)
        ensure_model(uow, principal, Permission.VERSION_WRITE, model)
        found = uow.versions.hydrate([uow.versions.row_by_id(vid)])[0]
        before = found.tags.get(key)
        if before == value:
            return found
        uow.versions.set_tag(vid, key, value)
        uow.record(
            principal.name,
            Action.VERSION_TAG_SET,
            "version",
            f"{model}/{version}",
            {"model": model, "version": version, "key": key, "before": before, "after": value},
        )
        found = uow.versions.hydrate([uow.versions.row_by_id(vid)])[0]
        uow.commit()
    return found


def get_version(ctx: Context, principal: Principal, model: str, version: int) -> ModelVersion:
    ensure(principal, Permission.VERSION_READ)
    with ctx.uow.read() as uow:
        found = uow.versions.find(model, version)
        if found is None:
            version_row_id(uow, model, version)  # raises the precise NotFound
        assert found is not None
        return found


def _cursor(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(
            "Invalid cursor: pass the next_cursor value from the previous page unchanged.",
            field="cursor",
        ) from None


def parse_tag_filter(tag: str | None) -> tuple[str | None, str | None]:
    if not tag:
        return None, None
    key, sep, value = tag.partition("=")
    return names.tag_key(key), (value if sep else None)


def list_versions(
    ctx: Context,
    principal: Principal,
    model: str | None = None,
    *,
    stage: str | None = None,
    tag: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[ModelVersion]:
    """Newest first. ``tag`` is ``key`` (has the tag) or ``key=value``."""
    ensure(principal, Permission.VERSION_READ)
    check_limit(limit)
    key, value = parse_tag_filter(tag)
    with ctx.uow.read() as uow:
        mid = model_id(uow, model) if model else None
        flt = VersionFilter(
            model_id=mid,
            stage=parse_stage(stage, "stage").value if stage else None,
            tag_key=key,
            tag_value=value,
            before_id=_cursor(cursor),
        )
        items, ids = uow.versions.search(flt, limit + 1)
    more = len(items) > limit
    return Page(items[:limit], str(ids[limit - 1]) if more else None)


def open_artifact(
    ctx: Context, principal: Principal, model: str, version: int
) -> tuple[ModelVersion, Iterator[bytes]]:
    """The version and an iterator over its verified bytes."""
    ensure(principal, Permission.ARTIFACT_READ)
    found = get_version(ctx, principal, model, version)
    return found, ctx.artifacts.iter_verified(found.artifact.sha256)


def download_artifact(
    ctx: Context, principal: Principal, model: str, version: int, dest: Path
) -> ModelVersion:
    ensure(principal, Permission.ARTIFACT_READ)
    found = get_version(ctx, principal, model, version)
    ctx.artifacts.download(found.artifact.sha256, dest)
    return found


def set_alias(
    ctx: Context, principal: Principal, model: str, alias: str, version: int
) -> ModelVersion:
    ensure(principal, Permission.ALIAS_WRITE)
    check_first(ctx, principal, Permission.ALIAS_WRITE, model)
    names.alias(alias)
    with ctx.uow.write() as uow:
        mid, vid = version_row_id(uow, model, version)
        uow.models.lock(mid)  # read where the alias points under the model's lock
        ensure_model(uow, principal, Permission.ALIAS_WRITE, model)
        previous_id = uow.versions.alias_target(mid, alias)
        if previous_id == vid:
            return uow.versions.hydrate([uow.versions.row_by_id(vid)])[0]
        previous = (
            None if previous_id is None else int(uow.versions.row_by_id(previous_id)["version"])
        )
        uow.versions.set_alias(mid, alias, vid, uow.now)
        uow.record(
            principal.name,
            Action.ALIAS_SET,
            "alias",
            f"{model}/{alias}",
            {
                "model": model,
                "alias": alias,
                "before": previous,
                "after": version,
            },
        )
        found = uow.versions.hydrate([uow.versions.row_by_id(vid)])[0]
        uow.commit()
    return found


def get_by_alias(ctx: Context, principal: Principal, model: str, alias: str) -> ModelVersion:
    ensure(principal, Permission.VERSION_READ)
    with ctx.uow.read() as uow:
        found = uow.versions.find(model, alias=alias)
        if found is None:
            model_id(uow, model)  # an unknown model says so first
            raise NotFound(f"Model {model!r} has no alias {alias!r}.", model=model, alias=alias)
        return found


def delete_alias(ctx: Context, principal: Principal, model: str, alias: str) -> None:
    ensure(principal, Permission.ALIAS_WRITE)
    with ctx.uow.write() as uow:
        mid = model_id(uow, model)
        uow.models.lock(mid)
        ensure_model(uow, principal, Permission.ALIAS_WRITE, model)
        vid = uow.versions.alias_target(mid, alias)
        if vid is None:
            raise NotFound(f"Model {model!r} has no alias {alias!r}.", model=model, alias=alias)
        version = int(uow.versions.row_by_id(vid)["version"])
        uow.versions.delete_alias(mid, alias)
        uow.record(
            principal.name,
            Action.ALIAS_DELETED,
            "alias",
            f"{model}/{alias}",
            {
                "model": model,
                "alias": alias,
                "before": version,
                "after": None,
            },
        )
        uow.commit()


def list_aliases(ctx: Context, principal: Principal, model: str) -> dict[str, int]:
    ensure(principal, Permission.VERSION_READ)
    with ctx.uow.read() as uow:
        return uow.versions.aliases(model_id(uow, model))


def describe_upload(path: Path, filename: str) -> DatasetVersion:
    """An uploaded data file's fingerprint, schema and profile, as a version's data. Only the
    profile is kept: the upload's spool path is no location anyone can read it from again."""
    from steward.lineage.datasets import describe  # loads pandas: not at server start

    described = describe(path, name=Path(filename).name or "upload", uri="")
    return dataclasses.replace(described, uri=None)
