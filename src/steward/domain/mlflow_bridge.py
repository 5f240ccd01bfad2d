"""Rules for bringing an MLflow model registry under Steward (pure: no MLflow import).

What MLflow calls things and what Steward calls them: registered-model names become model
slugs, legacy stages become lifecycle stages, MLflow metric and tag keys become Steward
keys. Each mapping is total (every MLflow value maps to something valid) and deterministic
(the same MLflow value always maps to the same Steward value), so a re-run maps alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from steward.domain import names
from steward.domain.entities import CodeRef
from steward.domain.errors import InvalidInput
from steward.domain.lifecycle import Stage

# MLflow's legacy stages (deprecated since MLflow 2.9 but still set by many teams).
DEFAULT_STAGE_MAP: dict[str, Stage] = {
    "None": Stage.DEVELOPMENT,
    "Staging": Stage.VALIDATION,
    "Production": Stage.PRODUCTION,
    "Archived": Stage.DEPRECATED,
}
# The reverse, for MLflow clients that read a Steward version's stage through /mlflow.
MLFLOW_STAGE_OF: dict[Stage, str] = {
    Stage.DEVELOPMENT: "None",
    Stage.VALIDATION: "Staging",
    Stage.APPROVED: "Staging",
    Stage.PRODUCTION: "Production",
    Stage.UNDER_REVIEW: "Production",
    Stage.DEPRECATED: "Archived",
    Stage.RETIRED: "Archived",
    Stage.REJECTED: "Archived",
}
GIT_COMMIT = "mlflow.source.git.commit"
GIT_REPO = "mlflow.source.git.repoURL"
GIT_BRANCH = "mlflow.source.git.branch"
SOURCE_NAME = "mlflow.source.name"

_NOT_SLUG = re.compile(r"[^a-z0-9._-]+")
_NOT_KEY = re.compile(r"[^A-Za-z0-9._:/-]+")


def parse_stage_map(items: list[str] | tuple[str, ...]) -> dict[str, Stage]:
    """``["Production=validation", ...]`` over the default map (case as MLflow spells it)."""
    mapping = dict(DEFAULT_STAGE_MAP)
    by_lower = {k.lower(): k for k in DEFAULT_STAGE_MAP}
    for item in items:
        left, sep, right = item.partition("=")
        key = by_lower.get(left.strip().lower())
        if not sep or key is None:
            raise InvalidInput(
                f"Invalid stage mapping {item!r}: write MLFLOW_STAGE=STEWARD_STAGE, where "
                f"MLFLOW_STAGE is one of {', '.join(DEFAULT_STAGE_MAP)} "
                "(for example 'Production=validation').",
                field="stage_map",
            )
        try:
            mapping[key] = Stage(right.strip().lower())
        except ValueError:
            known = ", ".join(s.value for s in Stage)
            raise InvalidInput(
                f"Invalid Steward stage {right!r} in {item!r}; use one of: {known}.",
                field="stage_map",
            ) from None
    return mapping


def source_id(tracking_uri: str) -> str:
    """How a tracking server is named in the link tables: no credentials, no trailing slash.

    ``https://user:secret@mlflow:5000/`` and ``https://mlflow:5000`` are the same registry,
    and a password must never be stored or journalled.
    """
    uri = tracking_uri.strip()
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            f"Invalid MLflow tracking URI {tracking_uri!r}: give the server's http(s) address, "
            "for example http://mlflow:5000.",
            field="tracking_uri",
        )
    host = parts.hostname.lower() + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def model_slug(mlflow_name: str) -> str:
    """A valid Steward model name for an MLflow registered-model name.

    'Credit Scoring' → 'credit-scoring'; a name with nothing usable → 'mlflow-model'.
    """
    slug = _NOT_SLUG.sub("-", mlflow_name.strip().lower()).strip("-._")
    slug = re.sub(r"-{2,}", "-", slug)[:100].rstrip("-._")
    return slug or "mlflow-model"


def alias_name(mlflow_alias: str) -> str | None:
    """A valid Steward alias for an MLflow alias, or None when nothing usable is left."""
    value = re.sub(r"[^a-z0-9_-]+", "-", mlflow_alias.strip().lower()).strip("-_")
    value = value.lstrip("0123456789-_")[:63]
    try:
        return names.alias(value)
    except InvalidInput:
        return None


def key(value: str) -> str:
    """A valid Steward tag or metric key for an MLflow key ('val loss' → 'val_loss')."""
    cleaned = _NOT_KEY.sub("_", value.strip()).lstrip("._:/-")[:128]
    return cleaned or "key"


def keyed(values: dict[str, Any]) -> dict[str, Any]:
    """Keys made valid; on a clash after mapping the first in sorted order wins."""
    out: dict[str, Any] = {}
    for k in sorted(values):
        out.setdefault(key(k), values[k])
    return out


def code_ref(run_tags: dict[str, str]) -> CodeRef | None:
    """Code lineage from the tags MLflow sets on a run started from a git checkout."""
    commit = run_tags.get(GIT_COMMIT)
    path = run_tags.get(SOURCE_NAME)
    if not commit and not path:
        return None
    return CodeRef(
        repo_url=run_tags.get(GIT_REPO) or None,
        commit=commit or None,
        branch=run_tags.get(GIT_BRANCH) or None,
        path=path or None,
    )


@dataclass(frozen=True)
class MlflowDataset:
    """A dataset input of the run that produced a version (``mlflow.log_input``)."""

    name: str
    digest: str
    context: str  # "training", "eval", ... (the mlflow.data.context input tag)
    source_type: str
    source: str
    schema: list[tuple[str, str]]  # (column, type)
    rows: int


@dataclass(frozen=True)
class MlflowRun:
    run_id: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    datasets: list[MlflowDataset] = field(default_factory=list)
    artifact_uri: str = ""  # where the run's own files are (``mlflow-artifacts:/…``)


@dataclass(frozen=True)
class MlflowVersion:
    name: str
    version: int
    description: str
    stage: str  # legacy stage as MLflow spells it ("None", "Staging", ...)
    source: str
    run_id: str | None
    tags: dict[str, str]
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class MlflowModel:
    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]  # alias -> version


def mapped_stage(stage: str, mapping: dict[str, Stage]) -> Stage:
    """An unknown stage string (a newer MLflow) is development: gates apply from there."""
    return mapping.get(stage, Stage.DEVELOPMENT)
