"""Bring an MLflow model registry under Steward: import (idempotent, resumable) and status.

Each MLflow registered model becomes a Steward model (its name mapped to a slug and
recorded), each model version a Steward version whose artifact is the version's model
folder, downloaded and stored content-addressed. A version, its link row and its
``mlflow.version_imported`` event are one transaction: a crash leaves whole versions, and
the next run skips what is linked. See docs/mlflow.md.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward.domain import mlflow_bridge as mb
from steward.domain import specs
from steward.domain.audit import Action
from steward.domain.entities import ColumnSpec, DatasetVersion, Flavor
from steward.domain.errors import ArtifactError, InvalidInput, NotFound
from steward.domain.lifecycle import INITIAL, Stage
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import lifecycle, models, versions
from steward.services.context import Context
from steward.store.mlflow_repo import ModelLink, VersionLink
from steward.store.uow import UnitOfWork

if TYPE_CHECKING:
    from steward.bridge.mlflow_source import MlflowSource


@dataclass(frozen=True)
class Step:
    """One unit of progress, for the CLI's progress bar."""

    kind: str  # "model" (``total`` = its versions), "version", "alias"
    mlflow_name: str
    detail: str
    total: int = 0


@dataclass
class ImportSummary:
    source: str
    models_created: list[str] = field(default_factory=list)
    models_linked: list[str] = field(default_factory=list)  # linked by an earlier run
    renamed: dict[str, str] = field(default_factory=dict)  # MLflow name -> Steward slug
    versions_imported: list[str] = field(default_factory=list)  # "model/N <- mlflow N"
    versions_skipped: int = 0  # linked by an earlier run
    aliases_set: list[str] = field(default_factory=list)
    aliases_skipped: list[str] = field(default_factory=list)  # not mappable, with why
    failed: list[str] = field(default_factory=list)  # sync only: versions left for next time
    seconds_download: float = 0.0
    seconds_store: float = 0.0


def import_registry(
    ctx: Context,
    principal: Principal,
    source: MlflowSource,
    *,
    only: list[str] | None = None,
    stage_map: dict[str, Stage] | None = None,
    owner: str | None = None,
    progress: Callable[[Step], None] | None = None,
    aliases: bool = True,
    keep_going: bool = False,
) -> ImportSummary:
    """Import what ``source`` registers (or the registered models named in ``only``).

    ``aliases=False`` (sync) leaves Steward's aliases alone: once a model is governed here,
    its aliases move through Steward, and MLflow's are compared, not copied (`status`).
    ``keep_going`` (sync): a version whose files cannot be read is reported in ``failed``
    and its model's later versions wait, while the other models go on.
    """
    import time

    ensure(principal, Permission.MODEL_WRITE)
    ensure(principal, Permission.VERSION_WRITE)
    mapping = stage_map or dict(mb.DEFAULT_STAGE_MAP)
    report = progress or (lambda _step: None)
    source.probe()
    found = source.models(only)  # an unknown --model fails here, before anything is written
    summary = ImportSummary(source=source.id)
    for registered in found:
        slug = _ensure_model(ctx, principal, source, registered, owner, summary)
        remote = source.versions(registered.name)
        with ctx.uow.read() as uow:
            done = {v.mlflow_version for v in uow.mlflow.versions(source.id, registered.name)}
        todo = [v for v in remote if v.version not in done]
        summary.versions_skipped += len(remote) - len(todo)
        report(Step("model", registered.name, slug, total=len(todo)))
        for mv in todo:
            started = time.perf_counter()
            try:
                number = _import_version(
                    ctx, principal, source, slug, mv, mapping, summary, started
                )
            except ArtifactError as exc:
                if not keep_going:
                    raise
                summary.failed.append(f"{mv.name} {mv.version}: {exc.detail}")
                break  # versions keep MLflow's order: the later ones wait for this one
            summary.versions_imported.append(f"{slug}/{number} <- {mv.name} {mv.version}")
            report(Step("version", registered.name, f"{mv.version} -> {slug}/{number}"))
        if aliases:
            _import_aliases(ctx, principal, source, slug, registered, summary, report)
    return summary


# What sync does with MLflow's stage: nothing. A version that appears in MLflow after the
# import starts in development, so it earns every later stage through Steward's gates.
SYNC_STAGES: dict[str, Stage] = dict.fromkeys(mb.DEFAULT_STAGE_MAP, Stage.DEVELOPMENT)


def sync(
    ctx: Context,
    principal: Principal,
    source: MlflowSource,
    *,
    only: list[str] | None = None,
    progress: Callable[[Step], None] | None = None,
) -> ImportSummary:
    """Bring what is new in MLflow: new models and versions (in development), changed model
    descriptions. Safe to run often and from several workers (each version is linked once:
    the link's primary key refuses a second copy)."""
    return import_registry(
        ctx,
        principal,
        source,
        only=only,
        stage_map=SYNC_STAGES,
        progress=progress,
        aliases=False,
        keep_going=True,
    )


def _ensure_model(
    ctx: Context,
    principal: Principal,
    source: MlflowSource,
    registered: mb.MlflowModel,
    owner: str | None,
    summary: ImportSummary,
) -> str:
    with ctx.uow.read() as uow:
        link = uow.mlflow.model_link(source.id, registered.name)
        taken = _taken_names(uow, mb.model_slug(registered.name))
    if link is not None:
        summary.models_linked.append(link.model)
        if (link.description, link.tags) != (registered.description, registered.tags):
            _follow_model(ctx, principal, source, link, registered)
        return link.model
    slug = _free_slug(mb.model_slug(registered.name), taken)
    renamed = slug != registered.name

    def link_it(uow: UnitOfWork, mid: int) -> None:
        uow.mlflow.link_model(
            source.id,
            registered.name,
            mid,
            registered.description,
            registered.tags,
            uow.now,
            principal.name,
        )
        uow.record(
            principal.name,
            Action.MLFLOW_MODEL_LINKED,
            "model",
            slug,
            {
                "model": slug,
                "source": source.id,
                "mlflow_name": registered.name,
                "renamed": renamed,
                "tags": registered.tags,
            },
        )

    fields: dict[str, Any] = {
        "title": registered.name[: specs.MAX_SHORT],
        "description": registered.description,
        "purpose": registered.description.split("\n", 1)[0][: specs.MAX_SHORT]
        or f"Imported from MLflow registered model {registered.name!r}"[: specs.MAX_SHORT],
    }
    if owner:
        fields["owner"] = owner
    models.create_model(ctx, principal, slug, within=link_it, **fields)
    summary.models_created.append(slug)
    if renamed:
        summary.renamed[registered.name] = slug
    return slug


def _follow_model(
    ctx: Context,
    principal: Principal,
    source: MlflowSource,
    link: ModelLink,
    registered: mb.MlflowModel,
) -> None:
    """A description or tags changed in MLflow: the description follows (journalled as
    ``model.updated``), the tags are kept with the link."""
    if link.description != registered.description:
        models.update_model(ctx, principal, link.model, description=registered.description)
    with ctx.uow.write() as uow:
        uow.mlflow.update_model(source.id, registered.name, registered.description, registered.tags)
        uow.commit()


def _taken_names(uow: UnitOfWork, base: str) -> set[str]:
    return {
        name for name in (base, *(f"{base}-{i}" for i in range(2, 50))) if uow.models.id_of(name)
    }


def _free_slug(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``… when a Steward model of that name exists already
    (a model Steward did not import is never merged into)."""
    if base not in taken:
        return base
    for i in range(2, 50):
        candidate = f"{base[:95]}-{i}"
        if candidate not in taken:
            return candidate
    raise InvalidInput(
        f"Cannot find a free Steward name for MLflow model {base!r}; rename it in MLflow.",
        field="model",
    )


def _import_version(
    ctx: Context,
    principal: Principal,
    source: MlflowSource,
    slug: str,
    mv: mb.MlflowVersion,
    mapping: dict[str, Stage],
    summary: ImportSummary,
    started: float,
) -> int:
    import time

    from steward.artifacts import packaging
    from steward.bridge.mlflow_source import signature_of

    run = source.run(mv.run_id)
    folder = Path(tempfile.mkdtemp(prefix="steward-mlflow-"))
    try:
        local = source.download(mv, folder)
        summary.seconds_download += time.perf_counter() - started  # MLflow's share
        stored = time.perf_counter()  # Steward's share: tar, sha256, store, transaction
        prepared = packaging.prepare(local, max_bytes=ctx.settings.max_artifact_bytes)
        try:
            spec = version_spec(mv, run, prepared, signature_of(local) if local.is_dir() else None)
            target = mb.mapped_stage(mv.stage, mapping)

            def link_it(uow: UnitOfWork, vid: int, number: int) -> None:
                uow.mlflow.link_version(
                    source.id, mv.name, mv.version, vid, mv.run_id, mv.stage, uow.now
                )
                uow.record(
                    principal.name,
                    Action.MLFLOW_VERSION_IMPORTED,
                    "version",
                    f"{slug}/{number}",
                    {
                        "model": slug,
                        "version": number,
                        "source": source.id,
                        "mlflow_name": mv.name,
                        "mlflow_version": mv.version,
                        "run_id": mv.run_id,
                        "mlflow_source": mv.source,
                        "mlflow_stage": mv.stage,
                        "stage": target.value,
                    },
                )
                if target is not INITIAL:
                    lifecycle.record_observed_stage(
                        uow,
                        principal.name,
                        slug,
                        number,
                        vid,
                        target,
                        f"Stage {mv.stage!r} in MLflow ({source.id}, {mv.name!r} version "
                        f"{mv.version}) when imported; no Steward gate was evaluated.",
                    )

            created = versions.create_version(
                ctx, principal, slug, spec, prepared.path, sha256=prepared.sha256, within=link_it
            )
        finally:
            prepared.cleanup()
        summary.seconds_store += time.perf_counter() - stored
        return created.version
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def version_spec(
    mv: mb.MlflowVersion, run: mb.MlflowRun | None, prepared: Any, signature: Any
) -> specs.VersionSpec:
    """What Steward records of an MLflow version and the run that produced it."""
    tags = {mb.key(k): v[:5000] for k, v in mv.tags.items()}
    training = evaluation = None
    for ds in run.datasets if run else []:
        dataset = _dataset(ds)
        if ds.context in ("training", "train") and training is None:
            training = dataset
        elif ds.context in ("eval", "evaluation", "test", "validation") and evaluation is None:
            evaluation = dataset
    metrics = {}
    for k, value in mb.keyed(run.metrics if run else {}).items():
        if isinstance(value, int | float) and value == value and abs(value) != float("inf"):
            metrics[k] = float(value)
    return specs.VersionSpec(
        flavor=prepared.flavor if prepared.flavor is not Flavor.DIRECTORY else Flavor.MLFLOW,
        filename=prepared.filename,
        is_directory=prepared.is_directory,
        description=mv.description,
        params=dict(run.params) if run else {},
        metrics=metrics,
        tags=tags,
        signature=signature,
        code=mb.code_ref(run.tags) if run else None,
        training_data=training,
        evaluation_data=evaluation,
    )


def _dataset(ds: mb.MlflowDataset) -> DatasetVersion:
    # MLflow's digest identifies the content as MLflow hashed it; prefixed so it can never be
    # mistaken for a fingerprint Steward computed itself.
    return DatasetVersion(
        fingerprint=f"mlflow:{ds.digest}"[:64],
        name=ds.name,
        uri=None if ds.source_type == "code" else ds.source[:2000],
        rows=ds.rows,
        columns=len(ds.schema),
        schema=[ColumnSpec(name=n, type=t) for n, t in ds.schema],
        profile={},
    )


def _import_aliases(
    ctx: Context,
    principal: Principal,
    source: MlflowSource,
    slug: str,
    registered: mb.MlflowModel,
    summary: ImportSummary,
    report: Callable[[Step], None],
) -> None:
    with ctx.uow.read() as uow:
        linked = {
            v.mlflow_version: v.version for v in uow.mlflow.versions(source.id, registered.name)
        }
    for alias, mlflow_version in sorted(registered.aliases.items()):
        name = mb.alias_name(alias)
        target = linked.get(mlflow_version)
        if name is None or target is None:
            why = "not a valid Steward alias" if name is None else "its version is not imported"
            summary.aliases_skipped.append(f"{registered.name}@{alias}: {why}")
            continue
        versions.set_alias(ctx, principal, slug, name, target)
        summary.aliases_set.append(f"{slug}@{name} -> {target}")
        report(Step("alias", registered.name, f"{name} -> {target}"))


@dataclass(frozen=True)
class LinkStatus:
    """One linked MLflow version and whether the two registries still agree."""

    link: VersionLink
    differences: list[str]


@dataclass
class Status:
    models: list[ModelLink]
    versions: list[LinkStatus]
    unlinked: list[str] = field(default_factory=list)  # MLflow "name version" not in Steward
    aliases: list[str] = field(default_factory=list)  # aliases that point elsewhere in MLflow


def status(ctx: Context, principal: Principal, source: MlflowSource | None = None) -> Status:
    """What is linked; with ``source``, also what differs from MLflow now."""
    ensure(principal, Permission.VERSION_READ)
    with ctx.uow.read() as uow:
        model_links = uow.mlflow.models(source.id if source else None)
        version_links = uow.mlflow.versions(source.id if source else None)
    if source is None:
        return Status(model_links, [LinkStatus(v, []) for v in version_links])
    source.probe()
    out: list[LinkStatus] = []
    unlinked: list[str] = []
    by_key = {(v.mlflow_name, v.mlflow_version): v for v in version_links}
    alias_diffs: list[str] = []
    registered = {m.name: m for m in source.models()}
    for link in model_links:
        try:
            remote = source.versions(link.mlflow_name)
        except NotFound:
            remote = []
        alias_diffs += _alias_differences(
            ctx, principal, link, registered.get(link.mlflow_name), by_key
        )
        seen = set()
        for mv in remote:
            found = by_key.get((mv.name, mv.version))
            if found is None:
                unlinked.append(f"{mv.name} {mv.version}")
                continue
            seen.add(mv.version)
            diffs = []
            if mv.stage != found.mlflow_stage:
                diffs.append(f"MLflow stage {found.mlflow_stage!r} -> {mv.stage!r}")
            if mb.MLFLOW_STAGE_OF.get(Stage(found.stage)) != mv.stage:
                diffs.append(f"Steward stage {found.stage}, MLflow stage {mv.stage}")
            out.append(LinkStatus(found, diffs))
        for (name, number), found in by_key.items():
            if name == link.mlflow_name and number not in seen:
                out.append(LinkStatus(found, ["deleted in MLflow"]))
    linked_names = {link.mlflow_name for link in model_links}
    unlinked += [f"{n} (model not imported)" for n in sorted(registered) if n not in linked_names]
    return Status(model_links, out, unlinked, alias_diffs)


def _alias_differences(
    ctx: Context,
    principal: Principal,
    link: ModelLink,
    registered: mb.MlflowModel | None,
    by_key: dict[tuple[str, int], VersionLink],
) -> list[str]:
    """Aliases MLflow and Steward disagree on (e.g. champion moved by hand in MLflow)."""
    if registered is None:
        return [f"{link.mlflow_name}: deleted in MLflow"]
    ours = versions.list_aliases(ctx, principal, link.model)
    out = []
    for alias, number in sorted(registered.aliases.items()):
        name = mb.alias_name(alias)
        found = by_key.get((link.mlflow_name, number))
        theirs = found.version if found is not None else None
        if name is not None and ours.get(name) != theirs:
            out.append(
                f"{link.model}@{name}: MLflow -> version {number} "
                f"(Steward {theirs if theirs is not None else 'not imported'}), "
                f"Steward -> {ours.get(name, 'unset')}"
            )
    return out
