"""Background jobs: long work (a validation run, a monitor run, an evidence pack, a model
card PDF) that a face submits and `steward worker` runs, never inside a web request.

A job is a row with a closed ``kind``, the model (and version) it is about, who asked, its
parameters — plain data of known fields only, checked here, so nothing a caller sends is
ever a path, code or SQL the worker follows — and its state:

    queued ──claim──▶ running ──▶ succeeded | failed | cancelled
       └────cancel───▶ cancelled        (running: cancel is requested, the worker stops
                                         at the next stage boundary)

A worker *claims* a queued job with one conditional UPDATE (``status = 'queued'`` in its
WHERE clause), so of two workers only one wins the row; it holds a lease it extends with
every progress report. A job whose lease ran out (its worker died) is queued again until
it has had ``MAX_ATTEMPTS`` tries, then failed with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from steward.domain.datasets import parse_ref
from steward.domain.errors import InvalidInput

# A running job reports progress at least this often (every stage boundary extends it);
# one silent for longer is taken for abandoned by a worker that died.
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 2
STAGE_MAX = 200  # characters of a stage text
ERROR_MAX = 2000


class JobKind(StrEnum):
    VALIDATION = "validation"  # run a suite on a version (services/validation.py)
    MONITOR_RUN = "monitor_run"  # run one monitor now (services/scheduler.py)
    EVIDENCE_PACK = "evidence_pack"  # the model's signed evidence pack (services/evidence.py)
    MODEL_CARD_PDF = "model_card_pdf"  # a version's model card as PDF (services/modelcards.py)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True)
class Job:
    id: str
    kind: JobKind
    model: str
    version: int | None
    requested_by: str
    params: dict[str, Any]
    status: JobStatus
    progress: float  # 0..1
    stage: str  # what the job is doing now, in a few words
    result: dict[str, Any]  # a reference to what it made: {"check_run": id}, {"sha256": ...}
    error: str
    attempts: int
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    lease_until: datetime | None = None
    worker: str = ""

    @property
    def finished(self) -> bool:
        return self.status.finished


@dataclass(frozen=True)
class JobFilter:
    model: str | None = None
    status: JobStatus | None = None
    kind: JobKind | None = None
    limit: int = 50


@dataclass(frozen=True)
class _Field:
    types: tuple[type, ...]
    required: bool = False
    help: str = ""


# The fields each kind accepts, and their JSON types. The validation kind's data is an
# upload the server stored itself (data_sha256/data_format are set by the service, never
# taken from a caller's params) or data the server already holds, named by ``data`` /
# ``reference`` (parse_stored_data: a dataset version or the version's own data); its
# options are ValidateOptions' fields, checked by
# steward.services.validation.options_from_json.
_PARAMS: dict[JobKind, dict[str, _Field]] = {
    JobKind.VALIDATION: {
        "options": _Field((dict,), help="validation options (JSON object)"),
        # data the server holds, named — never a path: see parse_stored_data
        "data": _Field((str,), help="NAME@VERSION of a registered dataset, or training / "
                       "evaluation (the version's own data)"),
        "reference": _Field((str,), help="NAME@VERSION of a registered dataset, or training "
                            "/ evaluation (the version's own data)"),
    },
    JobKind.MONITOR_RUN: {
        "monitor": _Field((str,), required=True, help="the monitor's id or MODEL/VERSION/NAME"),
        "engine": _Field((str,), help="duckdb, numpy or spark"),
    },
    JobKind.EVIDENCE_PACK: {
        "versions": _Field((list,), help="version numbers (default: production/review)"),
        "include_pdf": _Field((bool,), help="add PDF model cards"),
    },
    JobKind.MODEL_CARD_PDF: {},
}
NEEDS_VERSION = frozenset({JobKind.VALIDATION, JobKind.MODEL_CARD_PDF})
ENGINES = ("duckdb", "numpy", "spark")


VERSION_DATA = ("training", "evaluation")  # a model version's own data, by role


@dataclass(frozen=True)
class StoredData:
    """Data the server already holds, as a caller names it: a registered dataset version
    (``NAME@VERSION``) or the job's model version's own ``training`` / ``evaluation`` data.
    Never a path: the server finds the rows through the dataset's recorded source."""

    role: str | None = None  # training | evaluation
    dataset: str | None = None
    version: int | None = None

    @property
    def ref(self) -> str:
        return self.role or f"{self.dataset}@{self.version}"


def parse_stored_data(text: str, field: str = "data") -> StoredData:
    text = (text or "").strip()
    if text in VERSION_DATA:
        return StoredData(role=text)
    try:
        name, version = parse_ref(text)
    except InvalidInput:
        raise InvalidInput(
            f"{text!r} does not name data the server holds: write training or evaluation "
            "(the version's own data) or NAME@VERSION of a registered dataset version "
            "(e.g. loan-applications@3; `steward dataset list`). A file is uploaded instead.",
            field=field,
        ) from None
    return StoredData(dataset=name, version=version)


def parse_kind(text: str) -> JobKind:
    try:
        return JobKind(text)
    except ValueError:
        raise InvalidInput(
            f"Unknown job kind {text!r}; one of: {', '.join(k.value for k in JobKind)}.",
            field="kind",
        ) from None


def parse_status(text: str) -> JobStatus:
    try:
        return JobStatus(text)
    except ValueError:
        raise InvalidInput(
            f"Unknown job status {text!r}; one of: {', '.join(s.value for s in JobStatus)}.",
            field="status",
        ) from None


def check_params(kind: JobKind, version: int | None, params: Mapping[str, Any]) -> dict[str, Any]:
    """The params of a ``kind`` job, refused (naming the field) unless every one is known
    and of its type; returns a plain copy."""
    if not isinstance(params, Mapping):
        raise InvalidInput("params must be a JSON object.", field="params")
    if kind in NEEDS_VERSION and version is None:
        raise InvalidInput(f"A {kind.value} job needs a version.", field="version")
    known = _PARAMS[kind]
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise InvalidInput(
            f"Unknown parameter(s) for a {kind.value} job: {', '.join(unknown)}. "
            f"Known: {', '.join(known) or 'none'}.",
            field="params",
        )
    out: dict[str, Any] = {}
    for name, spec in known.items():
        if name not in params or params[name] is None:
            if spec.required:
                raise InvalidInput(
                    f"A {kind.value} job needs {name!r} ({spec.help}).", field=f"params.{name}"
                )
            continue
        value = params[name]
        # bool is an int in Python: a flag given as 1 is refused like any wrong type
        if not isinstance(value, spec.types) or (
            isinstance(value, bool) and bool not in spec.types
        ):
            raise InvalidInput(
                f"params.{name} must be {spec.help}, not {type(value).__name__}.",
                field=f"params.{name}",
            )
        out[name] = value
    if kind is JobKind.MONITOR_RUN and out.get("engine", "duckdb") not in ENGINES:
        raise InvalidInput(
            f"params.engine must be one of {', '.join(ENGINES)}.", field="params.engine"
        )
    if "versions" in out and not all(
        isinstance(v, int) and not isinstance(v, bool) for v in out["versions"]
    ):
        raise InvalidInput(
            "params.versions must be a list of version numbers.", field="params.versions"
        )
    return out


def clamp_progress(value: float) -> float:
    return min(max(float(value), 0.0), 1.0)


def expired_verdict(attempts: int) -> JobStatus:
    """What becomes of a running job whose lease ran out: queued again, or failed."""
    return JobStatus.QUEUED if attempts < MAX_ATTEMPTS else JobStatus.FAILED


def expired_reason(worker: str, lease_until: datetime | None, attempts: int) -> str:
    when = lease_until.isoformat(timespec="seconds") if lease_until else "?"
    base = f"the worker running it ({worker or 'unknown'}) stopped reporting (lease ended {when})"
    if attempts < MAX_ATTEMPTS:
        return f"{base}; queued again (attempt {attempts + 1} of {MAX_ATTEMPTS})"
    return f"{base}; failed after {attempts} attempt(s)"


@dataclass(frozen=True)
class PassSummary:
    """What one worker pass over the queue did."""

    ran: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    requeued: tuple[str, ...] = ()
    abandoned: tuple[str, ...] = ()  # lease expired after the last attempt

    def describe(self) -> str:
        text = f"ran {len(self.ran)} job(s), {len(self.failed)} failed"
        if self.requeued or self.abandoned:
            text += f"; {len(self.requeued)} re-queued, {len(self.abandoned)} abandoned"
        return text
