"""Entities of the registry and inventory, as plain dataclasses.

The store maps rows to these at the repository boundary; the API serialises
them with Pydantic; the remote SDK rebuilds them from JSON. One definition
serves every face, so local and remote results compare equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from steward.domain.lifecycle import Stage

T = TypeVar("T")


class RiskTier(StrEnum):
    UNASSESSED = "unassessed"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


# Tier names in ascending order of risk, from the enum so they are listed once.
TIERS: tuple[str, ...] = tuple(t.value for t in RiskTier)
ASSESSED_TIERS: tuple[str, ...] = tuple(t.value for t in RiskTier if t is not RiskTier.UNASSESSED)


class RegulatoryCategory(StrEnum):
    """EU AI Act risk category."""

    UNASSESSED = "unassessed"
    PROHIBITED = "prohibited"
    HIGH = "high"
    LIMITED = "limited"
    MINIMAL = "minimal"


class PositiveMeans(StrEnum):
    """What a positive prediction (the positive label) means for the person it is about.

    Fairness compares groups on the *favourable* outcome: for a deny / default / high-risk
    model (positive = adverse) the group with the highest positive rate is the disadvantaged
    one. ``unstated`` models are asked before fairness checks run."""

    UNSTATED = "unstated"
    FAVOURABLE = "favourable"
    ADVERSE = "adverse"


class ModelStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    RETIRED = "retired"


class Flavor(StrEnum):
    SKLEARN = "sklearn"
    ONNX = "onnx"
    XGBOOST = "xgboost"
    LIGHTGBM = "lightgbm"
    PYTORCH = "pytorch"
    MLFLOW = "mlflow"
    DIRECTORY = "directory"
    OTHER = "other"


# Fields a user may set on a model record (risk tier and category are set by
# governance's risk assessment, but an admin may record them directly today).
EDITABLE_MODEL_FIELDS = (
    "title",
    "description",
    "purpose",
    "business_unit",
    "owner",
    "team",
    "risk_tier",
    "regulatory_category",
    "tags",
    "status",
    "next_review_date",
    "allow_multiple_production",
    "positive_means",
)


@dataclass(frozen=True)
class Model:
    name: str
    title: str
    description: str
    purpose: str
    business_unit: str
    owner: str
    team: str
    risk_tier: RiskTier
    regulatory_category: RegulatoryCategory
    tags: list[str]
    status: ModelStatus
    next_review_date: date | None
    allow_multiple_production: bool
    created_at: datetime
    created_by: str
    updated_at: datetime
    latest_version: int = 0
    positive_means: PositiveMeans = PositiveMeans.UNSTATED


@dataclass(frozen=True)
class Artifact:
    sha256: str
    size: int
    flavor: Flavor
    filename: str
    is_directory: bool = False


@dataclass(frozen=True)
class CodeRef:
    repo_url: str | None = None
    commit: str | None = None
    branch: str | None = None
    path: str | None = None
    dirty: bool = False


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str


@dataclass(frozen=True)
class Signature:
    inputs: list[ColumnSpec] = field(default_factory=list)
    outputs: list[ColumnSpec] = field(default_factory=list)


@dataclass(frozen=True)
class DatasetVersion:
    fingerprint: str
    name: str
    uri: str | None
    rows: int
    columns: int
    schema: list[ColumnSpec]
    profile: dict[str, dict[str, Any]]
    created_at: datetime | None = None


@dataclass(frozen=True)
class ModelVersion:
    model: str
    version: int
    stage: Stage
    artifact: Artifact
    description: str
    params: dict[str, Any]
    metrics: dict[str, float]
    tags: dict[str, str]
    signature: Signature | None
    code: CodeRef | None
    training_data: DatasetVersion | None
    evaluation_data: DatasetVersion | None
    parent_version: int | None
    aliases: list[str]
    created_at: datetime
    created_by: str
    stage_changed_at: datetime


# The alias of the version that serves and that challengers are compared with.
CHAMPION = "champion"


def serving_version(versions: Iterable[ModelVersion]) -> ModelVersion | None:
    """The version a reader of a model wants first: the one in production (the champion
    when several are), else the champion, else the newest."""
    found = list(versions)
    production = [v for v in found if v.stage is Stage.PRODUCTION]
    for pool in (production, found):
        champions = [v for v in pool if CHAMPION in v.aliases]
        if champions:
            return champions[0]
        if pool is production and production:
            return max(production, key=lambda v: v.version)
    return max(found, key=lambda v: v.version) if found else None


@dataclass(frozen=True)
class Transition:
    model: str
    version: int
    from_stage: Stage
    to_stage: Stage
    actor: str
    justification: str
    at: datetime
    audit_seq: int
    caused_by: str | None = None  # e.g. "promotion of version 4"


@dataclass(frozen=True)
class TransitionResult:
    transition: Transition
    displaced: list[Transition]
    version: ModelVersion


@dataclass(frozen=True)
class TokenInfo:
    id: str
    user: str
    name: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class NewToken:
    info: TokenInfo
    token: str  # shown once, never stored


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing. It iterates over its items (``for m in st.list_models()``);
    ``next_cursor`` fetches the next page, or use the SDK's ``iter_*`` methods for all pages."""

    items: list[T]
    next_cursor: str | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]


@dataclass(frozen=True)
class HistoryEntry:
    """What a model had in production and under each alias at one moment."""

    model: str
    at: datetime
    production: list[int]
    aliases: dict[str, int]
    stages: dict[int, Stage]
