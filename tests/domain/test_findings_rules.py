"""Pure rules of findings, waivers and review cadence."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from steward.domain import findings as rules
from steward.domain import reviews
from steward.domain.errors import Conflict, InvalidInput
from steward.domain.findings import Finding, FindingStatus, Severity
from steward.domain.reviews import DueStatus

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _finding(status: FindingStatus) -> Finding:
    return Finding(
        id=7,
        model="credit",
        version=None,
        title="t",
        description="",
        severity=Severity.HIGH,
        status=status,
        source="manual",
        source_ref=None,
        owner="bob",
        due_date=date(2026, 7, 1),
        evidence={},
        opened_by="alice",
        opened_at=NOW,
        updated_at=NOW,
    )


def test_severities_are_ordered() -> None:
    assert [s.rank for s in Severity] == [1, 2, 3, 4]
    assert Severity.CRITICAL.at_least("high")
    assert Severity.HIGH.at_least(Severity.HIGH)
    assert not Severity.MEDIUM.at_least("high")
    assert rules.parse_severity(" Critical ") is Severity.CRITICAL
    with pytest.raises(InvalidInput, match="low, medium, high, critical"):
        rules.parse_severity("severe")


@pytest.mark.parametrize(
    ("source", "target", "legal"),
    [
        ("open", "in_remediation", True),
        ("open", "resolved", True),
        ("open", "accepted", True),
        ("in_remediation", "open", True),
        ("in_remediation", "resolved", True),
        ("resolved", "open", True),
        ("accepted", "open", True),
        ("resolved", "accepted", False),
        ("resolved", "in_remediation", False),
        ("accepted", "resolved", False),
    ],
)
def test_status_moves(source: str, target: str, legal: bool) -> None:
    finding = _finding(FindingStatus(source))
    if legal:
        rules.ensure_move(finding, FindingStatus(target), "because")
    else:
        with pytest.raises(Conflict, match="may go to: open"):
            rules.ensure_move(finding, FindingStatus(target), "because")


def test_closing_needs_a_note_and_staying_put_is_refused() -> None:
    with pytest.raises(InvalidInput, match="needs a note"):
        rules.ensure_move(_finding(FindingStatus.OPEN), FindingStatus.RESOLVED, "  ")
    with pytest.raises(Conflict, match="already open"):
        rules.ensure_move(_finding(FindingStatus.OPEN), FindingStatus.OPEN, None)
    assert rules.parse_status("in remediation") is FindingStatus.IN_REMEDIATION


def test_overdue_only_while_open() -> None:
    assert _finding(FindingStatus.OPEN).overdue(date(2026, 7, 2))
    assert not _finding(FindingStatus.OPEN).overdue(date(2026, 7, 1))
    assert not _finding(FindingStatus.RESOLVED).overdue(date(2027, 1, 1))


def test_waiver_expiry() -> None:
    # a bare date lasts to the end of that day, UTC
    assert rules.waiver_expiry("2026-06-30", NOW) == datetime(2026, 7, 1, tzinfo=UTC)
    assert rules.waiver_expiry(date(2026, 6, 1), NOW) == datetime(2026, 6, 2, tzinfo=UTC)
    assert rules.waiver_expiry("2026-06-01T15:00+02:00", NOW) == datetime(
        2026, 6, 1, 13, 0, tzinfo=UTC
    )
    with pytest.raises(InvalidInput, match="future"):
        rules.waiver_expiry("2026-05-31", NOW)
    with pytest.raises(InvalidInput, match="no time zone"):
        rules.waiver_expiry("2026-07-01T10:00", NOW)
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        rules.waiver_expiry("next week", NOW)


def test_requirement_ids_and_sources() -> None:
    assert rules.requirement_id(" approvals.independent ") == "approvals.independent"
    for bad in ("approvals", "Approvals.x", "a..b", ""):
        with pytest.raises(InvalidInput, match="steward policy show"):
            rules.requirement_id(bad)
    with pytest.raises(InvalidInput, match="source"):
        rules.source("Manual Entry")
    with pytest.raises(InvalidInput, match="one-line title"):
        rules.title("two\nlines")


def test_default_due_dates_follow_severity() -> None:
    today = date(2026, 1, 1)
    assert rules.default_due(Severity.CRITICAL, today) == date(2026, 1, 15)
    assert rules.default_due(Severity.LOW, today) == date(2026, 6, 30)


def test_cadence_per_tier_with_overrides() -> None:
    assert [reviews.cadence_months(t) for t in ("critical", "high", "medium", "low")] == [
        6,
        12,
        24,
        36,
    ]
    assert reviews.cadence_months("high", {"high": 9}) == 9
    assert reviews.cadence_months("low", {"high": 9}) == 36
    with pytest.raises(InvalidInput, match="steward risk assess"):
        reviews.cadence_months("unassessed")


def test_add_months_clamps_to_month_end() -> None:
    assert reviews.add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert reviews.add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert reviews.add_months(date(2026, 1, 15), 12) == date(2027, 1, 15)
    assert reviews.next_review(date(2026, 3, 1), "critical") == date(2026, 9, 1)


def test_due_status() -> None:
    today = date(2026, 6, 1)
    assert reviews.due_status(None, today, 30) is DueStatus.UNSCHEDULED
    assert reviews.due_status(date(2026, 5, 31), today, 0) is DueStatus.OVERDUE
    assert reviews.due_status(date(2026, 6, 1), today, 0) is DueStatus.DUE
    assert reviews.due_status(date(2026, 7, 1), today, 30) is DueStatus.DUE
    assert reviews.due_status(date(2026, 7, 2), today, 30) is None
    assert reviews.parse_outcome("needs-improvement").value == "needs_improvement"
