"""Check runs: the evidence a validation (or an external tool) produced for one version.

A run is bound to the exact artifact hash and data fingerprint it was computed
on; the gates only count a result whose binding matches the version as it is
now, so a result on other data or another model never satisfies a policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


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
