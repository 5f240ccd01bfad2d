"""Datasets as governed assets: the inventory record, its versions, approvals and impact.

A *dataset* is what a data office governs: a name, an owner and a steward team, where the
data comes from, how it is classified and on what legal basis it is held. A *dataset
version* is one snapshot of it: the content fingerprint, schema and profile that Steward
already records for a model version's training and evaluation data
(:class:`~steward.domain.entities.DatasetVersion`), numbered per dataset. Because both
share the fingerprint, a model version whose training data has the fingerprint of a
registered dataset version is linked to it, whichever was recorded first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from steward.domain import names
from steward.domain.connections import ConnectionSpec, spec_from_config
from steward.domain.entities import ColumnSpec
from steward.domain.errors import InvalidInput
from steward.domain.findings import Finding

MAX_TEXT = 10_000
MAX_SHORT = 200
MAX_SOURCE = 2_000


class Classification(StrEnum):
    """How sensitive the data is (a data office's usual four levels)."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"


class DatasetStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    RETIRED = "retired"


class Quality(StrEnum):
    """The outcome of a dataset version's quality rules."""

    UNCHECKED = "unchecked"  # no rules were set when it was snapshot
    PASSED = "passed"
    FAILED = "failed"


EDITABLE_DATASET_FIELDS = (
    "title",
    "description",
    "owner",
    "steward_team",
    "source",
    "classification",
    "legal_basis",
    "consent_ref",
    "retention",
    "licence",
    "tags",
    "status",
)
_SHORT_FIELDS = ("title", "owner", "steward_team", "consent_ref", "licence")
_LONG_FIELDS = ("description", "legal_basis")
_RETENTION = re.compile(r"^(\d{1,4})([dwmy])$")


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    description: str
    owner: str
    steward_team: str
    source: str
    classification: Classification
    legal_basis: str
    consent_ref: str
    retention: str
    licence: str
    tags: list[str]
    status: DatasetStatus
    latest_version: int
    created_at: datetime
    created_by: str
    updated_at: datetime


@dataclass(frozen=True)
class DataApproval:
    """A data steward's decision that a dataset version is fit for use."""

    dataset: str
    version: int
    approver: str
    comment: str
    roles: list[str]
    at: datetime


@dataclass(frozen=True)
class RuleResult:
    """One quality rule run on one dataset version; the stored evidence."""

    rule: str
    kind: str
    column: str | None
    passed: bool
    failing_rows: int
    rows: int
    samples: list[dict[str, Any]]
    sql: str
    detail: str
    line: int | None = None  # where the rule is written in its rules file


@dataclass(frozen=True)
class DatasetSnapshot:
    """A dataset version: the snapshot's content identity, schema, profile and verdicts."""

    dataset: str
    version: int
    fingerprint: str
    source: str
    rows: int
    columns: int
    schema: list[ColumnSpec]
    profile: dict[str, dict[str, Any]]
    quality: Quality
    rules_revision: int | None
    results: list[RuleResult]
    approvals: list[DataApproval]
    created_at: datetime
    created_by: str

    @property
    def ref(self) -> str:
        return f"{self.dataset}@{self.version}"

    @property
    def approved(self) -> bool:
        return bool(self.approvals)


@dataclass(frozen=True)
class RuleSet:
    """A revision of a dataset's quality rules, stored verbatim."""

    dataset: str
    revision: int
    filename: str
    text: str
    sha256: str
    rules: int
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class DataFinding:
    """An open (or resolved) failure of a quality rule on a dataset."""

    id: int
    dataset: str
    version: int
    rule: str
    title: str
    severity: str
    status: str
    opened_at: datetime
    resolved_at: datetime | None = None
    resolved_by_version: int | None = None
    message_key: str | None = None  # as on Finding (domain.finding_messages)
    message_params: dict[str, Any] | None = None


@dataclass(frozen=True)
class ImpactedVersion:
    """A model version built on a dataset version, with where it is deployed."""

    model: str
    version: int
    stage: str
    role: str  # training | evaluation
    deployments: list[str] = field(default_factory=list)  # "environment (status)"


@dataclass(frozen=True)
class Impact:
    dataset: str
    version: int
    fingerprint: str
    models: list[ImpactedVersion]


@dataclass(frozen=True)
class Recall:
    """A data recall: the findings opened (or found already open) on every model version
    built on one dataset version."""

    dataset: str
    version: int
    fingerprint: str
    findings: list[Finding]
    opened: int  # how many of them this recall opened (the rest were open already)


def recall_ref(dataset_ref: str, model: str, version: int) -> str:
    """The ``source_ref`` of a recall's finding on one model version: which dataset version
    it recalls and on which model version, so a second recall opens nothing twice."""
    return f"{dataset_ref}/{model}@{version}"


@dataclass(frozen=True)
class DataLineage:
    """The registered dataset versions a model version was trained and evaluated on."""

    model: str
    version: int
    training: list[str]  # "dataset@version" refs sharing the training data's fingerprint
    evaluation: list[str]
    training_fingerprint: str | None
    evaluation_fingerprint: str | None


def dataset_name(value: Any) -> str:
    try:
        return names.model_name(value)
    except InvalidInput:
        raise InvalidInput(
            f"Invalid dataset name {value!r}: use 1-100 lowercase letters, digits, '.', '_' "
            "or '-', starting with a letter or digit (for example 'loan-applications').",
            field="name",
        ) from None


def parse_ref(text: str) -> tuple[str, int]:
    """``NAME@V`` → (name, version)."""
    name, sep, number = str(text).partition("@")
    if not sep or not number.isdigit() or int(number) < 1:
        raise InvalidInput(
            f"{text!r} does not name a dataset version: write NAME@VERSION, for example "
            "loan-applications@3 (`steward dataset show NAME` lists its versions).",
            field="dataset",
        )
    return dataset_name(name), int(number)


@dataclass(frozen=True)
class Source:
    """Where a dataset's data lives: a data connection, an ``s3://`` URL or a file path."""

    kind: str  # connection | s3 | file | "" (none recorded)
    text: str
    connection: ConnectionSpec | None = None


def parse_source(text: str) -> Source:
    """``conn:NAME#table=schema.t`` (or ``#path=glob``, ``#query=SELECT …``, ``path`` and
    ``query`` combined with ``&``), ``s3://bucket/key``, or a file path."""
    text = (text or "").strip()
    if not text:
        return Source("", "")
    if len(text) > MAX_SOURCE:
        raise InvalidInput(f"A source has at most {MAX_SOURCE} characters.", field="source")
    if text.startswith("conn:"):
        name, _, rest = text[len("conn:") :].partition("#")
        raw: dict[str, Any] = {"connection": name}
        for part in rest.split("&") if rest else []:
            key, eq, value = part.partition("=")
            if not eq or key not in ("path", "table", "query"):
                raise InvalidInput(
                    f"Source {text!r}: after '#' write table=schema.name, path=glob or "
                    "query=SELECT …, not {part!r}.",
                    field="source",
                )
            raw[key] = value
        problems: list[str] = []
        spec = spec_from_config(raw, problems)
        if problems or spec is None:
            raise InvalidInput(
                f"Source {text!r}: {'; '.join(problems) or 'name a connection'}. Write "
                "conn:NAME#table=schema.table (PostgreSQL) or conn:NAME#path=files/*.parquet.",
                field="source",
            )
        return Source("connection", text, spec)
    if text.startswith("s3://"):
        return Source("s3", text)
    if "://" in text and not text.startswith("file://"):
        raise InvalidInput(
            f"Source {text!r}: use conn:NAME#…, s3://bucket/key or a file path.", field="source"
        )
    return Source("file", text)


REMOTE_SOURCE_REFUSED = (
    "A Steward server never reads a file path a caller names: give the source as a data "
    "connection (conn:NAME#table=… or conn:NAME#path=…, registered by an admin with "
    "`steward connection create`) or an s3:// URL, or upload the data with the snapshot."
)


def check_remote_source(source: Source) -> None:
    """What a remote caller may record as a source: a connection or an s3:// URL."""
    if source.kind == "file":
        raise InvalidInput(REMOTE_SOURCE_REFUSED, field="source")


def parse_retention(value: Any) -> str:
    text = str(value or "").strip().lower()
    if text and not _RETENTION.match(text):
        raise InvalidInput(
            f"Retention {value!r}: write a number and a unit, d, w, m or y (for example 7y, "
            "90d), or leave it empty.",
            field="retention",
        )
    return text


def _enum(cls: type[StrEnum], value: Any, what: str) -> Any:
    try:
        return cls(str(value).strip().lower())
    except ValueError:
        raise InvalidInput(
            f"Unknown {what} {value!r}; use one of {', '.join(m.value for m in cls)}.",
            field=what,
        ) from None


def dataset_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The checked values of a dataset record's fields (unknown fields are refused)."""
    unknown = sorted(set(fields) - set(EDITABLE_DATASET_FIELDS))
    if unknown:
        raise InvalidInput(
            f"Unknown dataset field(s) {', '.join(unknown)}; fields are "
            f"{', '.join(EDITABLE_DATASET_FIELDS)}.",
            field=unknown[0],
        )
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if value is None:
            continue
        if key in _SHORT_FIELDS or key in _LONG_FIELDS:
            text = str(value).strip()
            limit = MAX_SHORT if key in _SHORT_FIELDS else MAX_TEXT
            if len(text) > limit:
                raise InvalidInput(f"{key} has at most {limit} characters.", field=key)
            out[key] = text
        elif key == "source":
            out[key] = parse_source(str(value)).text
        elif key == "classification":
            out[key] = _enum(Classification, value, "classification")
        elif key == "status":
            out[key] = _enum(DatasetStatus, value, "status")
        elif key == "retention":
            out[key] = parse_retention(value)
        elif key == "tags":
            if isinstance(value, str) or not isinstance(value, list | tuple):
                raise InvalidInput("tags must be a list of tag names.", field="tags")
            out[key] = sorted({names.tag_key(str(t)) for t in value})
    return out
