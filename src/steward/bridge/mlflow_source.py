"""Read an MLflow tracking server through the `mlflow` client library (the `mlflow` extra).

Everything MLflow returns is turned into the plain dataclasses of
:mod:`steward.domain.mlflow_bridge` here, so the import service never sees MLflow's types.
Artifacts are only downloaded, never loaded: the model folder is tarred and hashed like
any folder a user logs (``steward.artifacts.packaging``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from steward import extras
from steward.domain import mlflow_bridge as mb
from steward.domain.entities import ColumnSpec, Signature
from steward.domain.errors import ArtifactError, NotFound, SourceUnavailable
from steward.domain.mlflow_bridge import MlflowDataset, MlflowModel, MlflowRun, MlflowVersion

# MLflow's client retries a refused connection for minutes (7 retries, exponential back-off):
# the health probe below answers "unreachable" in seconds instead.
PROBE_TIMEOUT = 10.0
PAGE = 200


class MlflowSource:
    """One MLflow tracking server (which also serves its model registry)."""

    def __init__(self, tracking_uri: str) -> None:
        self.uri = tracking_uri.strip().rstrip("/")
        self.id = mb.source_id(self.uri)
        self._mlflow = extras.require("mlflow", "mlflow")
        from mlflow import MlflowClient

        self._client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def probe(self) -> None:
        """Fail fast, naming the server, when it does not answer."""
        headers = {}
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        if token:
            headers["authorization"] = f"Bearer {token}"
        try:
            answer = httpx.get(f"{self.uri}/health", timeout=PROBE_TIMEOUT, headers=headers)
        except httpx.HTTPError as exc:
            raise SourceUnavailable(
                f"The MLflow server at {self.id} does not answer ({exc.__class__.__name__}: "
                f"{exc}). Check --tracking-uri and that the server is running.",
                source=self.id,
            ) from None
        if answer.status_code != 200:
            raise SourceUnavailable(
                f"The MLflow server at {self.id} answered /health with HTTP "
                f"{answer.status_code}; is this the tracking server's address?",
                source=self.id,
            )

    # -- reads ---------------------------------------------------------------------------------

    def _call(self, what: str, fn: Any, *args: Any, verb: str = "reading", **kwargs: Any) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return fn(*args, **kwargs)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                raise NotFound(f"MLflow at {self.id} has no {what}.", source=self.id) from None
            raise SourceUnavailable(
                f"MLflow at {self.id} failed {verb} {what}: {exc.message}", source=self.id
            ) from None
        except OSError as exc:  # requests' connection errors are OSErrors
            raise SourceUnavailable(
                f"MLflow at {self.id} stopped answering while {verb} {what}: {exc}",
                source=self.id,
            ) from None

    def models(self, names: list[str] | None = None) -> list[MlflowModel]:
        if names:
            found = [
                self._call(f"registered model {n!r}", self._client.get_registered_model, n)
                for n in names
            ]
        else:
            found = list(self._pages("registered models", self._client.search_registered_models))
        return sorted((_model(m) for m in found), key=lambda m: m.name)

    def versions(self, name: str) -> list[MlflowVersion]:
        quoted = name.replace("'", "\\'")
        found = self._pages(
            f"versions of {name!r}",
            self._client.search_model_versions,
            filter_string=f"name='{quoted}'",
        )
        return sorted((_version(v) for v in found), key=lambda v: v.version)

    def _pages(self, what: str, fn: Any, **kwargs: Any) -> Iterator[Any]:
        token = None
        while True:
            page = self._call(what, fn, max_results=PAGE, page_token=token, **kwargs)
            yield from page
            token = page.token
            if not token:
                return

    def run(self, run_id: str | None) -> MlflowRun | None:
        if not run_id:
            return None
        try:
            run = self._call(f"run {run_id}", self._client.get_run, run_id)
        except NotFound:
            return None  # a deleted run: the version is imported without its run data
        datasets = []
        for item in run.inputs.dataset_inputs if run.inputs else []:
            ds = item.dataset
            context = next((t.value for t in item.tags if t.key == "mlflow.data.context"), "")
            datasets.append(
                MlflowDataset(
                    name=ds.name,
                    digest=ds.digest,
                    context=context,
                    source_type=ds.source_type,
                    source=ds.source,
                    schema=_dataset_schema(ds.schema),
                    rows=_rows(ds.profile),
                )
            )
        return MlflowRun(
            run_id=run.info.run_id,
            params=dict(run.data.params),
            metrics=dict(run.data.metrics),
            tags=dict(run.data.tags),
            datasets=datasets,
            artifact_uri=run.info.artifact_uri or "",
        )

    def download(self, version: MlflowVersion, dest: Path) -> Path:
        """The version's model folder under ``dest`` (bytes only, nothing is loaded)."""
        uri = self._call(
            f"version {version.version} of {version.name!r}",
            self._client.get_model_version_download_uri,
            version.name,
            str(version.version),
        )
        return self.download_uri(uri, dest, f"version {version.version} of {version.name!r}")

    def download_uri(self, uri: str, dest: Path, what: str) -> Path:
        from mlflow.artifacts import download_artifacts
        from mlflow.exceptions import MlflowException

        try:
            local = Path(
                download_artifacts(artifact_uri=uri, dst_path=str(dest), tracking_uri=self.uri)
            )
        except (MlflowException, OSError) as exc:
            raise ArtifactError(
                f"The artifacts of {what} could not be downloaded from MLflow at {self.id} "
                f"({uri}): {exc}. Restore them in MLflow, or leave this model out with --model.",
                source=self.id,
            ) from None
        if local.is_dir() and not any(local.iterdir()):
            raise ArtifactError(
                f"The artifacts of {what} are missing in MLflow at {self.id} ({uri}): the folder "
                "is empty. Restore them in MLflow, or leave this model out with --model.",
                source=self.id,
            )
        return local

    # -- writes (Steward's decisions, made by the worker's mlflow_sync job) ----------------------

    def set_version_tags(self, name: str, version: int, tags: dict[str, str]) -> None:
        for key, value in sorted(tags.items()):
            self._call(
                f"tag {key!r} of version {version} of {name!r}",
                self._client.set_model_version_tag,
                name,
                str(version),
                key,
                value,
                verb="writing",
            )

    def set_alias(self, name: str, alias: str, version: int) -> None:
        self._call(
            f"alias {alias!r} of {name!r}",
            self._client.set_registered_model_alias,
            name,
            alias,
            str(version),
            verb="writing",
        )

    def delete_alias(self, name: str, alias: str) -> None:
        self._call(
            f"alias {alias!r} of {name!r}",
            self._client.delete_registered_model_alias,
            name,
            alias,
            verb="removing",
        )

    def set_stage(self, name: str, version: int, stage: str) -> None:
        """Move a version's legacy stage (deprecated in MLflow, still read by many teams)."""
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MLflow's own deprecation notice of stages
            self._call(
                f"the stage of version {version} of {name!r}",
                self._client.transition_model_version_stage,
                name,
                str(version),
                stage,
                archive_existing_versions=False,
                verb="writing",
            )

    def logged_model_uri(self, model_id: str) -> str:
        """Where a logged model's files are (``models:/m-…`` sources of MLflow 3)."""
        found = self._call(f"logged model {model_id}", self._client.get_logged_model, model_id)
        return str(found.artifact_location)


def signature_of(model_dir: Path) -> Signature | None:
    """The signature recorded in the folder's MLmodel file (column name and type)."""
    mlmodel = model_dir / "MLmodel"
    if not mlmodel.is_file():
        return None
    import yaml

    try:
        doc = yaml.safe_load(mlmodel.read_text(encoding="utf-8")) or {}
        sig = doc.get("signature") or {}
        inputs = _columns(sig.get("inputs"))
        outputs = _columns(sig.get("outputs"))
    except (yaml.YAMLError, ValueError, AttributeError, TypeError):
        return None  # an unreadable signature is no reason to refuse the version
    if not inputs and not outputs:
        return None
    return Signature(inputs=inputs, outputs=outputs)


def _columns(text: Any) -> list[ColumnSpec]:
    if not text:
        return []
    specs = json.loads(text) if isinstance(text, str) else text
    out = []
    for i, spec in enumerate(specs):
        name = spec.get("name") or f"column_{i}"
        kind = spec.get("type") or "tensor"
        if kind == "tensor":
            kind = f"tensor[{spec.get('tensor-spec', {}).get('dtype', '')}]"
        out.append(ColumnSpec(name=str(name), type=str(kind)))
    return out


def _dataset_schema(text: str | None) -> list[tuple[str, str]]:
    if not text:
        return []
    try:
        doc = json.loads(text)
        return [(str(c.get("name")), str(c.get("type"))) for c in doc.get("mlflow_colspec", [])]
    except (ValueError, AttributeError):
        return []


def _rows(profile: str | None) -> int:
    try:
        return int(json.loads(profile or "{}").get("num_rows", 0))
    except (ValueError, AttributeError, TypeError):
        return 0


def _model(m: Any) -> MlflowModel:
    return MlflowModel(
        name=m.name,
        description=m.description or "",
        tags=dict(m.tags or {}),
        aliases={a: int(v) for a, v in (m.aliases or {}).items()},
    )


def _version(v: Any) -> MlflowVersion:
    return MlflowVersion(
        name=v.name,
        version=int(v.version),
        description=v.description or "",
        stage=v.current_stage or "None",
        source=v.source or "",
        run_id=v.run_id or None,
        tags=dict(v.tags or {}),
        aliases=tuple(v.aliases or ()),
    )
