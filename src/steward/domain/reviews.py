"""Periodic reviews: each model is revalidated on a cadence that follows its risk tier.

The defaults follow the materiality-tiered approach of SR 26-2 (higher-risk
models are reviewed more often): critical every 6 months, high 12, medium 24,
low 36. The active policy pack may override them (``review_cadence_months``).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from steward.domain.errors import InvalidInput
from steward.domain.permissions import Decision, Permission, Principal, authorize

DEFAULT_CADENCE_MONTHS: dict[str, int] = {"critical": 6, "high": 12, "medium": 24, "low": 36}


class Outcome(StrEnum):
    SATISFACTORY = "satisfactory"  # the model remains fit for use as is
    NEEDS_IMPROVEMENT = "needs_improvement"  # fit for use; issues to fix (opens a medium finding)
    UNSATISFACTORY = "unsatisfactory"  # not fit as is (opens a high finding)


class DueStatus(StrEnum):
    OVERDUE = "overdue"
    DUE = "due"  # due within the window asked for
    UNSCHEDULED = "unscheduled"  # risk-tiered but never given a review date


@dataclass(frozen=True)
class Review:
    id: int
    model: str
    outcome: Outcome
    notes: str
    reviewer: str
    completed_at: datetime
    risk_tier: str
    cadence_months: int
    previous_due: date | None
    next_review_date: date
    finding_id: int | None = None  # the finding an adverse outcome opened


@dataclass(frozen=True)
class ReviewDue:
    model: str
    risk_tier: str
    owner: str
    next_review_date: date | None
    status: DueStatus
    days: int | None  # days until due; negative when overdue


# What a periodic review covers (SR 11-7 ongoing monitoring; ISO/IEC 42001 A.6.2.6): the
# reviewer ticks each item they examined. A satisfactory outcome confirms all of them;
# an adverse one may leave some unticked (the finding it opens says what is wrong).
CHECKLIST: dict[str, str] = {
    "performance": "Performance since the last review is within the thresholds the model "
    "was approved with.",
    "data": "The input data and population are still those the model was built for "
    "(drift reviewed).",
    "use": "The model is used only for its stated purpose, by its intended users.",
    "findings": "Open findings, waivers and their remediation were reviewed.",
    "documentation": "The model card, risk assessment and documentation are current.",
    "monitoring": "Monitoring is active and its alerts were followed up.",
}


def checklist_problem(outcome: Outcome, ticked: Iterable[str]) -> InvalidInput | None:
    """Why these ticked items do not support ``outcome``, or None."""
    done = set(ticked)
    unknown = sorted(done - set(CHECKLIST))
    if unknown:
        return InvalidInput(
            f"Unknown review checklist item(s): {', '.join(unknown)}; the items are "
            f"{', '.join(CHECKLIST)}.",
            field="checklist",
        )
    missing = [item for item in CHECKLIST if item not in done]
    if outcome is Outcome.SATISFACTORY and missing:
        return InvalidInput(
            "A satisfactory review confirms every checklist item; not confirmed: "
            f"{', '.join(missing)}. Examine them, or record the outcome as needs "
            "improvement or unsatisfactory.",
            field="checklist",
        )
    return None


def may_complete(principal: Principal, model: str, owner: str) -> Decision:
    """Whether ``principal`` may complete ``model``'s periodic review, and why.

    The permission, then independence: the model's owner never reviews their own model.
    """
    decision = authorize(principal, Permission.REVIEW_COMPLETE)
    if not decision.allowed:
        return decision
    if owner == principal.name:
        return Decision(
            False,
            f"{principal.name} owns {model!r}; a periodic review must be completed by an "
            "independent validator, not the model's owner.",
        )
    return decision


def parse_outcome(value: Outcome | str) -> Outcome:
    try:
        return Outcome(str(value).strip().lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        raise InvalidInput(
            f"Unknown review outcome {value!r}; use one of: {', '.join(o.value for o in Outcome)}.",
            field="outcome",
        ) from None


def cadence_months(tier: str, overrides: Mapping[str, int] | None = None) -> int:
    """Months between reviews for a tier; refuses an unassessed model with the fix."""
    months = (overrides or {}).get(tier) or DEFAULT_CADENCE_MONTHS.get(tier)
    if months is None:
        raise InvalidInput(
            f"A model with risk tier {tier!r} has no review cadence: assess its risk first "
            "with `steward risk assess MODEL` so its tier decides how often it is reviewed.",
            field="risk_tier",
        )
    return months


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Aug + 6 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_review(completed: date, tier: str, overrides: Mapping[str, int] | None = None) -> date:
    return add_months(completed, cadence_months(tier, overrides))


def due_status(next_date: date | None, today: date, within_days: int) -> DueStatus | None:
    """Where a model stands, or ``None`` when its review is not due within the window."""
    if next_date is None:
        return DueStatus.UNSCHEDULED
    if next_date < today:
        return DueStatus.OVERDUE
    if (next_date - today).days <= within_days:
        return DueStatus.DUE
    return None
