"""The organisation dashboard dataset, computed from the same snapshot as coverage."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from steward.compliance.coverage import (
    PRODUCTION_STAGES,
    FrameworkSummary,
    ModelCoverage,
    ModelFacts,
    State,
)
from steward.compliance.mapping import EvidenceKind
from steward.domain.findings import SEVERITIES as FINDING_SEVERITIES

SEVERITIES = tuple(reversed(FINDING_SEVERITIES))  # worst first
NO_VERSION = "no_version"


@dataclass(frozen=True)
class OverdueReview:
    model: str
    owner: str
    risk_tier: str
    due: date
    days_overdue: int


@dataclass(frozen=True)
class ProductionGap:
    model: str
    version: int
    owner: str
    risk_tier: str
    detail: str


@dataclass(frozen=True)
class Dashboard:
    computed_at: datetime
    models: int
    by_tier_and_stage: dict[str, dict[str, int]]  # tier -> stage of the version in scope -> models
    overdue_reviews: tuple[OverdueReview, ...]
    open_findings: dict[str, int]  # severity -> open findings
    overdue_findings: int  # open findings past their due date
    production_without_monitor: tuple[ProductionGap, ...]
    production_stale_validation: tuple[ProductionGap, ...]
    coverage: tuple[FrameworkSummary, ...]


def build(
    facts: list[ModelFacts],
    coverages: list[ModelCoverage],
    frameworks: tuple[FrameworkSummary, ...],
    now: datetime,
) -> Dashboard:
    today = now.date()
    grid: dict[str, Counter[str]] = {}
    severity: Counter[str] = Counter()
    overdue_findings = 0
    overdue: list[OverdueReview] = []
    unmonitored: list[ProductionGap] = []
    stale: list[ProductionGap] = []
    for f, cov in zip(facts, coverages, strict=True):
        grid.setdefault(f.risk_tier, Counter())[f.stage or NO_VERSION] += 1
        for finding in f.open_findings:
            severity[finding.severity] += 1
            if finding.due_date is not None and finding.due_date < today:
                overdue_findings += 1
        if f.next_review_date is not None and f.next_review_date < today:
            overdue.append(
                OverdueReview(
                    f.model,
                    f.fields.get("owner", ""),
                    f.risk_tier,
                    f.next_review_date,
                    (today - f.next_review_date).days,
                )
            )
        if f.stage in PRODUCTION_STAGES and f.version is not None:
            states = {e.kind: e for e in cov.evidence}
            monitoring = states[EvidenceKind.MONITORING]
            if monitoring.state is State.MISSING:
                unmonitored.append(
                    ProductionGap(
                        f.model,
                        f.version,
                        f.fields.get("owner", ""),
                        f.risk_tier,
                        monitoring.detail,
                    )
                )
            checks = states[EvidenceKind.CHECK_RESULTS]
            if checks.state in (State.MISSING, State.STALE):
                stale.append(
                    ProductionGap(
                        f.model, f.version, f.fields.get("owner", ""), f.risk_tier, checks.detail
                    )
                )
    return Dashboard(
        computed_at=now,
        models=len(facts),
        by_tier_and_stage={tier: dict(sorted(c.items())) for tier, c in sorted(grid.items())},
        overdue_reviews=tuple(sorted(overdue, key=lambda r: (r.due, r.model))),
        open_findings={s: severity[s] for s in SEVERITIES},
        overdue_findings=overdue_findings,
        production_without_monitor=tuple(unmonitored),
        production_stale_validation=tuple(stale),
        coverage=frameworks,
    )
