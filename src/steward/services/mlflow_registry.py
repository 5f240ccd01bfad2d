"""The MLflow Model Registry, answered by Steward (the `/mlflow` endpoint's use cases).

A data scientist keeps calling ``mlflow.register_model`` and
``set_registered_model_alias``; each call here is a Steward use case, so the same
permissions, ownership checks, gates and journal apply. Two rules make MLflow's verbs
governed:

- a *production alias* (``champion`` unless ``STEWARD_MLFLOW_PRODUCTION_ALIASES`` says
  otherwise) may only point to a version in production: setting it on another version asks
  for the production move, and the gate's refusal is the alias's refusal;
- a legacy stage move (``transition_model_version_stage``) is the mapped lifecycle move.

Model files come from the MLflow tracking server the administrator configured
(``STEWARD_MLFLOW_TRACKING_URI``) and from nowhere else; they are stored, never loaded.
"""

from __future__ import annotations

import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from steward.domain import mlflow_bridge as mb
from steward.domain.entities import Model, ModelVersion
from steward.domain.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from steward.domain.lifecycle import Stage
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import lifecycle, mlflow_bridge, models, versions
from steward.services.context import Context

if TYPE_CHECKING:
    from steward.bridge.mlflow_source import MlflowSource

SOURCE_TAG = "mlflow.source"
RUN_TAG = "mlflow.run_id"
_LOGGED_MODEL = re.compile(r"^models:/(m-[0-9a-f]{32})$")
_SAFE_SCHEMES = ("mlflow-artifacts:", "runs:/")


@dataclass(frozen=True)
class RegisteredModel:
    model: Model
    latest: list[ModelVersion]  # the newest version per MLflow stage
    aliases: dict[str, int]


# -- registered models -------------------------------------------------------------------------


def model_tags(model: Model) -> dict[str, str]:
    """MLflow's key/value model tags are kept as Steward labels ``key:value``."""
    out = {}
    for label in model.tags:
        key, sep, value = label.partition(":")
        if sep:
            out[key] = value
    return out


def _label(key: str, value: str) -> str:
    label = f"{key}:{value}"
    if ":" in key:
        raise InvalidInput(f"Model tag keys cannot contain ':' here ({key!r}).", field="key")
    return label


def create_registered_model(
    ctx: Context, principal: Principal, name: str, description: str, tags: dict[str, str]
) -> RegisteredModel:
    labels = [_label(k, v) for k, v in sorted(tags.items())]
    models.create_model(
        ctx,
        principal,
        name,
        description=description,
        purpose=(description.split("\n", 1)[0] or "Registered through the MLflow client")[:200],
        tags=labels,
    )
    return get_registered_model(ctx, principal, name)


def get_registered_model(ctx: Context, principal: Principal, name: str) -> RegisteredModel:
    model = models.get_model(ctx, principal, name)
    return RegisteredModel(model, _latest(ctx, principal, name), _aliases(ctx, principal, name))


def _aliases(ctx: Context, principal: Principal, name: str) -> dict[str, int]:
    return versions.list_aliases(ctx, principal, name)


def _latest(ctx: Context, principal: Principal, name: str) -> list[ModelVersion]:
    seen: dict[str, ModelVersion] = {}
    for v in versions.list_versions(ctx, principal, name, limit=200).items:  # newest first
        seen.setdefault(mb.MLFLOW_STAGE_OF[v.stage], v)
    return sorted(seen.values(), key=lambda v: v.version)


def _model_names(ctx: Context, principal: Principal, name_filter: NameFilter) -> list[str]:
    names: list[str] = []
    cursor = None
    while True:
        page = models.list_models(ctx, principal, limit=500, cursor=cursor)
        names.extend(
            m.name
            for m in page.items
            if name_filter.matches(
                {"name": m.name, **{f"tag.{k}": v for k, v in model_tags(m).items()}}
            )
        )
        cursor = page.next_cursor
        if cursor is None:
            return sorted(names)


def search_registered_models(
    ctx: Context, principal: Principal, name_filter: NameFilter, limit: int, offset: int
) -> tuple[list[RegisteredModel], int | None]:
    names = _model_names(ctx, principal, name_filter)
    chosen = names[offset : offset + limit]
    more = offset + limit < len(names)
    return [get_registered_model(ctx, principal, n) for n in chosen], (
        offset + limit if more else None
    )


def set_model_tag(
    ctx: Context, principal: Principal, name: str, key: str, value: str | None
) -> None:
    model = models.get_model(ctx, principal, name)
    kept = [label for label in model.tags if label.partition(":")[0] != key or ":" not in label]
    if value is not None:
        kept.append(_label(key, value))
    models.update_model(ctx, principal, name, tags=kept)


_CLAUSE = re.compile(
    r"\s*(name|run_id|tags?\.(?:`[^`]+`|[\w.]+))\s*(=|!=|LIKE|ILIKE)\s*"
    r"('(?:[^']*)'|\"(?:[^\"]*)\")\s*",
    re.IGNORECASE,
)
_AND = re.compile(r"AND\b", re.IGNORECASE)


@dataclass(frozen=True)
class Clause:
    field: str  # "name", "run_id" or "tag.KEY"
    op: str
    value: str

    def test(self, actual: str | None) -> bool:
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in self.value)
        flags = re.IGNORECASE | re.DOTALL if self.op == "ILIKE" else re.DOTALL
        return actual is not None and re.fullmatch(body, actual, flags) is not None


@dataclass(frozen=True)
class NameFilter:
    """The subset of MLflow's search syntax its client sends: clauses on ``name``,
    ``run_id`` and ``tag.`key``` with ``=``, ``!=``, ``LIKE`` and ``ILIKE``, joined by
    ``AND`` (the client adds ``tag.`mlflow.prompt.is_prompt` != 'true'`` itself)."""

    clauses: tuple[Clause, ...] = ()

    def only(self, *fields: str) -> NameFilter:
        return NameFilter(tuple(c for c in self.clauses if c.field in fields))

    def matches(self, fields: dict[str, str | None]) -> bool:
        return all(c.test(fields.get(c.field)) for c in self.clauses)


def parse_filter(text: str | None) -> NameFilter:
    if not text or not text.strip():
        return NameFilter()
    clauses: list[Clause] = []
    pos = 0
    while True:
        found = _CLAUSE.match(text, pos)
        if found is None:
            raise InvalidInput(
                f"Unsupported filter {text!r}: this registry understands clauses on name, "
                "run_id and tag.`key` with =, !=, LIKE or ILIKE, joined by AND.",
                field="filter",
            )
        field, op, quoted = found.groups()
        if field.lower().startswith("tag"):
            field = "tag." + field.split(".", 1)[1].strip("`")
        clauses.append(
            Clause(field.lower() if "." not in field else field, op.upper(), quoted[1:-1])
        )
        pos = found.end()
        if pos >= len(text):
            return NameFilter(tuple(clauses))
        joined = _AND.match(text, pos)
        if joined is None:
            raise InvalidInput(
                f"Unsupported filter {text!r}: join clauses with AND.", field="filter"
            )
        pos = joined.end()


# -- model versions ----------------------------------------------------------------------------


def create_model_version(
    ctx: Context,
    principal: Principal,
    name: str,
    source: str,
    run_id: str | None,
    tags: dict[str, str],
    description: str,
) -> ModelVersion:
    """Fetch the model files from the configured MLflow server and record a version."""
    from steward.artifacts import packaging
    from steward.bridge.mlflow_source import MlflowSource, signature_of

    ensure(principal, Permission.VERSION_WRITE)
    from steward.services.access import check_first

    check_first(ctx, principal, Permission.VERSION_WRITE, name)  # before any download
    if not ctx.settings.mlflow_tracking_uri:
        raise InvalidInput(
            "This Steward server reads model files from no MLflow tracking server: its "
            "administrator sets STEWARD_MLFLOW_TRACKING_URI (docs/mlflow.md).",
            field="source",
        )
    mlsrc = MlflowSource(ctx.settings.mlflow_tracking_uri)
    uri = _resolve(mlsrc, source)
    run = mlsrc.run(run_id)
    folder = Path(tempfile.mkdtemp(prefix="steward-mlflow-"))
    try:
        local = _download(mlsrc, uri, run, folder, source)
        prepared = packaging.prepare(local, max_bytes=ctx.settings.max_artifact_bytes)
        try:
            mv = mb.MlflowVersion(
                name=name,
                version=0,
                description=description,
                stage="None",
                source=source,
                run_id=run_id,
                tags={**tags, SOURCE_TAG: source, **({RUN_TAG: run_id} if run_id else {})},
            )
            spec = mlflow_bridge.version_spec(
                mv, run, prepared, signature_of(local) if local.is_dir() else None
            )
            return versions.create_version(
                ctx, principal, name, spec, prepared.path, sha256=prepared.sha256
            )
        finally:
            prepared.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _download(
    mlsrc: MlflowSource, uri: str, run: mb.MlflowRun | None, folder: Path, source: str
) -> Path:
    """The version's files. A ``runs:/<run>/<path>`` of the run already read is fetched
    straight from the run's artifact folder on the server's proxy: MLflow's own resolution
    of ``runs:/`` reads the run twice more and looks for a logged model first, which cost
    about a third of a registration (BENCHMARKS.md). Files logged as a logged model rather
    than under the run (nothing there) take MLflow's way."""
    from steward.domain.errors import ArtifactError

    prefix = f"runs:/{run.run_id}/" if run else None
    direct = None
    if run is not None and prefix and uri.startswith(prefix):
        base = run.artifact_uri.rstrip("/")
        if base.startswith("mlflow-artifacts:"):  # the configured server's proxy, nothing else
            direct = f"{base}/{uri[len(prefix) :].strip('/')}"
    if direct is not None:
        try:
            (folder / "direct").mkdir()
            return mlsrc.download_uri(direct, folder / "direct", f"{source!r}")
        except ArtifactError:
            pass  # not under the run: let MLflow resolve it
    return mlsrc.download_uri(uri, folder, f"{source!r}")


def _resolve(mlsrc: object, source: str) -> str:
    """The MLflow URI to read a version's files from; only places on the configured server.

    A client-chosen ``file://``, ``s3://`` or ``http://`` source would make this server read
    its own disk or another host for the caller, so those are refused.
    """
    from steward.bridge.mlflow_source import MlflowSource

    assert isinstance(mlsrc, MlflowSource)
    logged = _LOGGED_MODEL.match(source.strip())
    uri = mlsrc.logged_model_uri(logged.group(1)) if logged else source.strip()
    if not uri.startswith(_SAFE_SCHEMES) or ".." in PurePosixPath(uri.split(":", 1)[1]).parts:
        raise InvalidInput(
            f"Steward reads model files only through its MLflow server's artifact proxy: "
            f"source {source!r} resolves to {uri!r}. Register runs:/…, models:/m-… or "
            "mlflow-artifacts:/… sources of the server in STEWARD_MLFLOW_TRACKING_URI "
            "(started with --serve-artifacts).",
            field="source",
        )
    return uri


def search_model_versions(
    ctx: Context, principal: Principal, flt: NameFilter, limit: int, offset: int
) -> tuple[list[ModelVersion], int | None]:
    found: list[ModelVersion] = []
    names = _model_names(ctx, principal, flt.only("name"))
    on_version = NameFilter(tuple(c for c in flt.clauses if c.field != "name"))
    for name in names:
        cursor = None
        while True:
            page = versions.list_versions(ctx, principal, name, limit=500, cursor=cursor)
            for v in page.items:
                fields: dict[str, str | None] = {"run_id": v.tags.get(RUN_TAG, "")}
                fields.update({f"tag.{k}": val for k, val in v.tags.items()})
                if on_version.matches(fields):
                    found.append(v)
            cursor = page.next_cursor
            if cursor is None:
                break
    found.sort(key=lambda v: (v.model, -v.version))
    more = offset + limit < len(found)
    return found[offset : offset + limit], (offset + limit if more else None)


def _move(
    ctx: Context, principal: Principal, name: str, version: int, target: Stage, why: str
) -> ModelVersion:
    """A lifecycle move asked for in MLflow's terms; a refused production move is a 403
    whose message carries every reason (the state machine's or the policy gate's)."""
    try:
        return lifecycle.transition(ctx, principal, name, version, target.value, why).version
    except IllegalTransition as refused:
        if target is not Stage.PRODUCTION:
            raise
        raise Forbidden(
            f"{why} was refused by Steward: {refused.detail}", **refused.extra
        ) from None


def set_alias(
    ctx: Context, principal: Principal, name: str, alias: str, version: int
) -> ModelVersion:
    """A production alias is a production move: the gate decides, and says why not."""
    if alias in ctx.settings.mlflow_production_aliases:
        found = versions.get_version(ctx, principal, name, version)
        if found.stage is not Stage.PRODUCTION:
            _move(
                ctx,
                principal,
                name,
                version,
                Stage.PRODUCTION,
                f"Setting the production alias {alias!r} on version {version} through /mlflow",
            )
    return versions.set_alias(ctx, principal, name, alias, version)


def transition_stage(
    ctx: Context, principal: Principal, name: str, version: int, stage: str
) -> ModelVersion:
    target = mb.DEFAULT_STAGE_MAP.get(stage.strip().title() if stage.strip() else "None")
    if target is None:
        raise InvalidInput(
            f"Unknown stage {stage!r}: use None, Staging, Production or Archived.", field="stage"
        )
    found = versions.get_version(ctx, principal, name, version)
    if found.stage is target:
        return found
    return _move(
        ctx, principal, name, version, target, f"MLflow stage {stage!r} requested through /mlflow"
    )


# -- artifacts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    path: str  # relative to the listed folder
    is_dir: bool
    size: int


def list_files(
    ctx: Context, principal: Principal, name: str, version: int, folder: str
) -> list[Entry]:
    """The files of a version's model folder (a stored tar is read, never extracted)."""
    found, path = _blob(ctx, principal, name, version)
    try:
        prefix = folder.strip("/")
        entries = []
        for member, is_dir, size in _members(found, path):
            parent = str(PurePosixPath(member).parent)
            if (parent if parent != "." else "") == prefix:
                rel = member[len(prefix) + 1 :] if prefix else member
                entries.append(Entry(rel, is_dir, size))
        return entries
    finally:
        path.unlink(missing_ok=True)


def open_file(
    ctx: Context, principal: Principal, name: str, version: int, member: str
) -> Iterator[bytes]:
    found, path = _blob(ctx, principal, name, version)
    try:
        wanted = member.strip("/")
        if not found.artifact.is_directory:
            if wanted != found.artifact.filename:
                raise NotFound(f"Version {version} of {name!r} has no file {member!r}.")
            data = path.read_bytes()
        else:
            with tarfile.open(path) as tar:
                try:
                    info = tar.getmember(wanted)
                except KeyError:
                    raise NotFound(
                        f"Version {version} of {name!r} has no file {member!r}."
                    ) from None
                handle = tar.extractfile(info) if info.isreg() else None
                if handle is None:
                    raise NotFound(f"{member!r} in version {version} of {name!r} is not a file.")
                data = handle.read()
    finally:
        path.unlink(missing_ok=True)
    return iter([data])


def _blob(ctx: Context, principal: Principal, name: str, version: int) -> tuple[ModelVersion, Path]:
    fd, tmp = tempfile.mkstemp(prefix="steward-mlflow-")
    import os

    os.close(fd)
    path = Path(tmp)
    try:
        found = versions.download_artifact(ctx, principal, name, version, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return found, path


def _members(found: ModelVersion, path: Path) -> list[tuple[str, bool, int]]:
    if not found.artifact.is_directory:
        return [(found.artifact.filename, False, found.artifact.size)]
    with tarfile.open(path) as tar:
        return [(m.name, m.isdir(), m.size) for m in tar.getmembers() if m.isdir() or m.isreg()]
