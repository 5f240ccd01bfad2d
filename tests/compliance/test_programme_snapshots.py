"""The stored compliance programme (``programme_snapshots``, the worker's ``Job.PROGRAMME``)
gives exactly the numbers of the straightforward computation on the same data — weeks,
actions, the whole plan — on SQLite and PostgreSQL; it is served while the journal has not
moved and it is under an hour old, recomputed by a visit in a small organisation, and in a
large one served as last computed (saying how old) or asked of the worker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest
from tests.conftest import Clock
from tests.services.test_compliance_coverage import ANSWERS, setup_credit

from steward import bootstrap
from steward.compliance import programme
from steward.domain.checks import CheckFamily, CheckResult, Threshold
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.worker import Job
from steward.services import compliance, findings, worker
from steward.services.context import Context
from steward.settings import Settings

RITA = Principal("rita", roles=frozenset({"risk_officer"}))
OP = Principal("admin", roles=frozenset({OPERATOR}))


@pytest.fixture
def clocked(settings: Settings, clock: Clock) -> Iterator[Context]:
    context = bootstrap.build(settings, migrate=True, clock=clock)
    yield context
    context.uow.engine.dispose()


def _seed(ctx: Context, clock: Clock, tmp_path: Path) -> None:
    """Two models over five weeks: registration, checks, a stage move, a finding."""
    st = setup_credit(ctx, tmp_path)
    clock.advance(days=9)
    st.create_model(
        "fraud",
        title="Card fraud",
        description="Flags card fraud",
        purpose="Flag card fraud",
        business_unit="Cards",
        owner="olivia",
        team="retail",
    )
    artifact = tmp_path / "fraud.bin"
    artifact.write_bytes(b"fraud weights")
    st.log_version("fraud", artifact=artifact, description="first")
    st.assess_risk("fraud", ANSWERS)
    clock.advance(days=8)
    st.record_checks(
        "credit",
        1,
        [CheckResult("fairness.dpr", CheckFamily.FAIRNESS, True, 0.91, Threshold(">=", 0.8))],
        suite="bank",
        finished_at=clock.now,
    )
    st.transition("fraud", 1, to="validation", justification="ready")
    clock.advance(days=12)
    findings.open_finding(ctx, OP, "fraud", title="Recall too low", severity="high")
    clock.advance(days=3)


def _numbers(found: programme.Programme) -> list[tuple[int, Any]]:
    return [(p.models, p.frameworks) for p in found.weeks]


@pytest.mark.parametrize(("weeks", "frameworks"), [(12, None), (4, ["nist-ai-rmf"])])
def test_the_stored_programme_is_the_straightforward_computation(
    clocked: Context, clock: Clock, tmp_path: Path, weeks: int, frameworks: list[str] | None
) -> None:
    _seed(clocked, clock, tmp_path)
    first = compliance.programme_view(clocked, RITA, weeks, frameworks)
    assert first.live  # nothing stored yet: this visit computed (and stored) it
    served = compliance.programme_view(clocked, RITA, weeks, frameworks)
    assert not served.live and served.events_since == 0  # read back from the table
    live = compliance.compliance_programme(clocked, RITA, weeks, frameworks)
    assert served.programme is not None
    # The same moments (to the microsecond the clock ticks per call) and the same numbers.
    assert [p.at.date() for p in served.programme.weeks] == [p.at.date() for p in live.weeks]
    assert _numbers(served.programme) == _numbers(live)
    assert any(f.percent_current for p in live.weeks for f in p.frameworks)
    assert [p.models for p in live.weeks][-6:] == [0, 1, 2, 2, 2, 2][-min(6, weeks + 1) :]
    assert served.actions == len(live.actions) > 0
    assert served.programme.actions == live.actions[: compliance.STORED_ACTIONS]
    if frameworks is None:
        csv_text = compliance.programme_plan(clocked, RITA, "csv", weeks)
        md_text = compliance.programme_plan(clocked, RITA, "md", weeks)
        assert csv_text is not None and csv_text[0] == programme.plan_csv(live)
        assert md_text is not None
        assert md_text[0] == programme.plan_markdown(
            replace(live, computed_at=served.programme.computed_at)
        )


def test_the_summary_reads_back_equal() -> None:
    from datetime import UTC, datetime

    from steward.compliance.coverage import FrameworkSummary, State
    from steward.compliance.mapping import EvidenceKind

    at = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    summary = FrameworkSummary("nist-ai-rmf", 12, {"current": 3, "missing": 9}, 1 / 3)
    empty = FrameworkSummary("iso-42001", 0, {}, None)
    actions = tuple(
        programme.Action(f"m{i}", EvidenceKind.CHECK_RESULTS, State.MISSING, 9 - i, ("x",), "do")
        for i in range(5)
    )
    found = programme.Programme(at, (programme.Point(at, 7, (summary, empty)),), actions)
    back, count = programme.from_summary(programme.summary_json(found, 3))
    assert back == replace(found, actions=actions[:3]) and count == 5


def test_a_small_organisation_recomputes_when_the_journal_moves_or_an_hour_passes(
    clocked: Context, clock: Clock, tmp_path: Path
) -> None:
    _seed(clocked, clock, tmp_path)
    assert compliance.programme_view(clocked, RITA).live
    assert not compliance.programme_view(clocked, RITA).live
    findings.open_finding(clocked, OP, "credit", title="Drift", severity="low")
    assert compliance.programme_view(clocked, RITA).live  # the journal moved
    assert not compliance.programme_view(clocked, RITA).live
    clock.advance(minutes=61)
    assert compliance.programme_view(clocked, RITA).live  # evidence also ages with time


def test_a_large_organisation_is_served_what_the_worker_stored(
    clocked: Context, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(clocked, clock, tmp_path)
    monkeypatch.setattr(compliance, "LIVE_MODELS", 1)  # two models: "large"
    asked = compliance.programme_view(clocked, RITA, 6)
    assert asked.programme is None and not asked.live  # asked of the worker, not computed
    assert compliance.programme_plan(clocked, RITA, "csv", 6) is None
    # A worker pass computes what was asked and the default programme (12 weeks).
    report = worker.run_pass(
        clocked, OP, (Job.PROGRAMME,), cast(Any, None), identity=worker.Identity()
    )
    assert report.outcomes[0].ok, report.outcomes[0].detail
    assert report.outcomes[0].detail == "recomputed 2 compliance programme(s)"
    stored = compliance.programme_view(clocked, RITA, 6)
    live = compliance.compliance_programme(clocked, RITA, 6)
    assert stored.programme is not None and not stored.live
    assert _numbers(stored.programme) == _numbers(live)
    # New journal events do not make a visit recompute; the page says how many came since.
    findings.open_finding(clocked, OP, "credit", title="Drift", severity="low")
    later = compliance.programme_view(clocked, RITA, 6)
    assert not later.live and later.events_since >= 1
    assert later.programme == stored.programme
    # Nothing is due within the hour; after it, the worker recomputes both.
    assert compliance.refresh_programmes(clocked, RITA) == []
    clock.advance(minutes=61)
    assert sorted(compliance.refresh_programmes(clocked, RITA)) == ["12:*", "6:*"]
    again = compliance.programme_view(clocked, RITA, 6)
    assert again.programme is not None and again.events_since == 0
    assert _numbers(again.programme) == _numbers(compliance.compliance_programme(clocked, RITA, 6))


def test_people_without_governance_read_are_refused(clocked: Context) -> None:
    from steward.domain.errors import Forbidden, InvalidInput

    with pytest.raises(Forbidden):
        compliance.programme_view(clocked, Principal("nobody"))
    with pytest.raises(Forbidden):
        compliance.refresh_programmes(clocked, Principal("nobody"))
    with pytest.raises(InvalidInput, match="between 1 and 52"):
        compliance.programme_view(clocked, RITA, 53)
