"""Check runs: the evidence a validation (or an external tool) produced for one version.

A run is bound to the exact artifact hash and data fingerprint it was computed
on; the gates only count a result whose binding matches the version as it is
now, so a result on other data or another model never satisfies a policy.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from steward.domain.errors import InvalidInput

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_:-]*)+$")
_SUITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")
# The one comparison table: check thresholds, monitor rules and charts all use it.
COMPARISONS: Mapping[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
OPS = frozenset(COMPARISONS)
MAX_RESULTS = 2000


class CheckFamily(StrEnum):
    PERFORMANCE = "performance"
    FAIRNESS = "fairness"
    EXPLAINABILITY = "explainability"
    ROBUSTNESS = "robustness"
    DATA_QUALITY = "data_quality"
    CUSTOM = "custom"


class RunSource(StrEnum):
    STEWARD = "steward"  # computed by Steward's validation engine
    EXTERNAL = "external"  # computed elsewhere and recorded through the API


@dataclass(frozen=True)
class Threshold:
    """``value <op> limit`` must hold for the check to pass (op: >=, >, <=, <, ==)."""

    op: str
    limit: float

    def holds(self, value: float) -> bool:
        """Whether ``value <op> limit`` — the one pass/fail rule for thresholds."""
        return bool(COMPARISONS[self.op](value, self.limit))


@dataclass(frozen=True)
class CheckResult:
    name: str  # "<family>.<metric>", e.g. "fairness.demographic_parity_ratio"
    family: CheckFamily
    passed: bool | None  # None: informational, never fails a run
    value: float | None = None
    threshold: Threshold | None = None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvidenceFile:
    name: str  # e.g. "fairness-by-group.svg"
    sha256: str  # content address in the artifact store
    media_type: str
    size: int


@dataclass(frozen=True)
class RunRecord:
    """What a producer hands to ``services.checks.store_run``."""

    suite: str
    suite_version: str
    source: RunSource
    data_fingerprint: str | None
    results: tuple[CheckResult, ...]
    started_at: datetime
    finished_at: datetime
    summary: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[EvidenceFile, ...] = ()
    # Defaults to the version's artifact; an external run may only name that hash.
    artifact_sha256: str | None = None


@dataclass(frozen=True)
class CheckRun:
    id: str  # "run_<hex>"
    model: str
    version: int
    suite: str
    suite_version: str
    source: RunSource
    artifact_sha256: str
    data_fingerprint: str | None
    passed: bool
    started_at: datetime
    finished_at: datetime
    created_by: str
    audit_seq: int
    results: tuple[CheckResult, ...]
    summary: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[EvidenceFile, ...] = ()

    def result(self, name: str) -> CheckResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(name)


def run_passed(results: tuple[CheckResult, ...]) -> bool:
    """A run passes when no check failed; informational results do not count."""
    return all(r.passed is not False for r in results)


def validate_record(record: RunRecord) -> None:
    """Refuse a malformed run before anything is stored (or sent to a server)."""
    if not _SUITE.match(record.suite or ""):
        raise InvalidInput(
            f"Suite name {record.suite!r} must be 1-100 letters, digits, '.', '_' or '-'.",
            field="suite",
        )
    if not record.suite_version or len(record.suite_version) > 40:
        raise InvalidInput("suite_version must be 1-40 characters, e.g. '1'.", field="suite")
    if not record.results:
        raise InvalidInput("A check run needs at least one result.", field="results")
    if len(record.results) > MAX_RESULTS:
        raise InvalidInput(f"A run holds at most {MAX_RESULTS} results.", field="results")
    seen: set[str] = set()
    for result in record.results:
        _validate_result(result, seen)
    if record.finished_at < record.started_at:
        raise InvalidInput("finished_at is before started_at.", field="finished_at")
    if record.data_fingerprint is not None and not _FINGERPRINT.fullmatch(record.data_fingerprint):
        raise InvalidInput(
            "data_fingerprint must be the dataset's sha256 fingerprint (64 hex digits), as "
            "`steward version show` prints it.",
            field="data_fingerprint",
        )


def _validate_result(result: CheckResult, seen: set[str]) -> None:
    if not _NAME.match(result.name) or len(result.name) > 128:
        raise InvalidInput(
            f"Check name {result.name!r} must be '<family>.<check>' in lower case, e.g. "
            "'fairness.demographic_parity_ratio'.",
            field="results",
        )
    if result.name in seen:
        raise InvalidInput(f"Check {result.name!r} appears twice in one run.", field="results")
    seen.add(result.name)
    if result.value is not None and not math.isfinite(result.value):
        raise InvalidInput(
            f"Check {result.name!r} has a non-finite value; record null and explain in the "
            "message instead.",
            field="results",
        )
    if result.threshold is not None and (
        result.threshold.op not in OPS or not math.isfinite(result.threshold.limit)
    ):
        raise InvalidInput(
            f"Check {result.name!r}: threshold op must be one of {', '.join(sorted(OPS))} "
            "with a finite limit.",
            field="results",
        )
