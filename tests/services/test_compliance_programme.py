"""The compliance programme: readiness per framework replayed week by week from the journal
(a model counts from the week it was registered; checks and assessments from when they
were made) and the next actions, each worth exactly the controls it turns current."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tests.conftest import Clock
from tests.services.test_compliance_coverage import setup_credit

from steward import bootstrap
from steward.compliance import programme
from steward.compliance.coverage import ModelFacts
from steward.compliance.mapping import EvidenceKind
from steward.domain.checks import CheckFamily, CheckResult, Threshold
from steward.domain.errors import Forbidden, InvalidInput
from steward.domain.permissions import Principal
from steward.services import compliance
from steward.services.context import Context
from steward.settings import Settings

RITA = Principal("rita", roles=frozenset({"risk_officer"}))


@pytest.fixture
def clocked(settings: Settings, clock: Clock) -> Iterator[Context]:
    context = bootstrap.build(settings, migrate=True, clock=clock)
    yield context
    context.uow.engine.dispose()


def _percent(point: programme.Point, framework: str) -> float | None:
    return next(f.percent_current for f in point.frameworks if f.framework == framework)


def _current(point: programme.Point) -> int:
    return sum(f.counts["current"] for f in point.frameworks)


def test_weeks_replay_registration_and_checks(
    clocked: Context, clock: Clock, tmp_path: Path
) -> None:
    clock.advance(days=30)  # weeks before the model existed
    st = setup_credit(clocked, tmp_path)
    clock.advance(days=10)
    before_checks = compliance.compliance_programme(clocked, RITA, weeks=6)
    assert [p.models for p in before_checks.weeks] == [0, 0, 0, 0, 0, 1, 1]
    assert before_checks.weeks[-1].at == before_checks.computed_at
    assert all(p.frameworks == () for p in before_checks.weeks[:5])

    first = next(
        a
        for a in before_checks.actions
        if (a.model, a.kind) == ("credit", EvidenceKind.CHECK_RESULTS)
    )
    assert first.controls > 0 and "nist-ai-rmf" in first.frameworks
    assert before_checks.actions == tuple(
        sorted(before_checks.actions, key=lambda a: (-a.controls, a.model, a.kind.value))
    )
    st.record_checks(
        "credit",
        1,
        [CheckResult("fairness.dpr", CheckFamily.FAIRNESS, True, 0.91, Threshold(">=", 0.8))],
        suite="bank",
        finished_at=clock.now,
    )
    clock.advance(days=8)
    after = compliance.compliance_programme(clocked, RITA, weeks=6)
    # the action was worth exactly the controls it turned current
    assert _current(after.weeks[-1]) - _current(before_checks.weeks[-1]) == first.controls
    assert all(a.kind is not EvidenceKind.CHECK_RESULTS for a in after.actions)
    # a week before the checks the replay still shows them missing
    week_before = after.weeks[-3]
    assert week_before.at < clock.now - timedelta(days=8)
    assert _current(week_before) == _current(before_checks.weeks[-1])
    nist_then, nist_now = (
        _percent(week_before, "nist-ai-rmf"),
        _percent(after.weeks[-1], "nist-ai-rmf"),
    )
    assert nist_then is not None and nist_now is not None and nist_now > nist_then


def test_the_plan_exports_every_action_as_csv_and_markdown(
    clocked: Context, tmp_path: Path
) -> None:
    setup_credit(clocked, tmp_path)
    found = compliance.compliance_programme(clocked, RITA, weeks=2)
    rows = programme.plan_csv(found).splitlines()
    assert rows[0] == "rank,model,evidence,state,controls,frameworks,to do"
    assert len(rows) == 1 + len(found.actions) and rows[1].startswith("1,credit,")
    text = programme.plan_markdown(found)
    assert "| # | model | evidence |" in text and text.count("\n| ") >= len(found.actions) + 3


def test_weeks_out_of_range_and_people_without_governance_read_are_refused(
    clocked: Context,
) -> None:
    with pytest.raises(InvalidInput, match="between 1 and 52"):
        compliance.compliance_programme(clocked, RITA, weeks=0)
    with pytest.raises(Forbidden):
        compliance.compliance_programme(clocked, Principal("nobody"), weeks=2)


def test_a_waiver_revoked_later_was_in_force_then(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from steward.compliance.coverage import WaiverFact

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    facts = ModelFacts(
        model="m",
        fields={},
        risk_tier="high",
        status="active",
        next_review_date=None,
        waivers=(WaiverFact(7, "approvals", t0 + timedelta(days=60), in_force=False),),
    )
    journal = programme.ModelJournal(
        registered_at=t0,
        waivers={7: t0 + timedelta(days=1)},
        waivers_revoked={7: t0 + timedelta(days=20)},
    )
    assert programme.facts_as_of(facts, journal, t0 - timedelta(days=1)) is None
    mid = programme.facts_as_of(facts, journal, t0 + timedelta(days=10))
    assert mid is not None and mid.waivers[0].in_force
    early = programme.facts_as_of(facts, journal, t0 + timedelta(hours=1))
    assert early is not None and early.waivers == ()
    late = programme.facts_as_of(facts, journal, t0 + timedelta(days=30))
    assert late is not None and not late.waivers[0].in_force


def test_grouping_models_by_evidence_states_gives_the_per_model_figures(
    clocked: Context, clock: Clock, tmp_path: Path
) -> None:
    from steward.compliance import coverage

    st = setup_credit(clocked, tmp_path)
    st.create_model("bare", purpose="nothing recorded yet")
    st.create_model("bare-too", purpose="nothing recorded yet")
    with clocked.uow.read() as uow:
        facts = compliance._facts(uow)
        now = uow.now
    mapping = compliance.evidence_mapping(clocked)
    point, actions = programme.readiness(facts, mapping, now, actions=True)
    each = [coverage.for_model(f, mapping, now) for f in facts]
    assert point.frameworks == coverage.summarise([list(c.controls) for c in each])
    assert {a.model for a in actions} == {"credit", "bare", "bare-too"}
