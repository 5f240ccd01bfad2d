"""Coverage is computed from live data: evidence ages, disappears, and the matrix follows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete
from tests.conftest import Clock
from tests.risk_answers import CREDIT as ANSWERS

from steward import bootstrap
from steward.compliance.coverage import ModelCoverage, State, Status
from steward.compliance.mapping import EvidenceKind
from steward.domain.checks import CheckFamily, CheckResult, Threshold
from steward.domain.errors import Forbidden, NotFound
from steward.domain.permissions import Principal
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services import compliance
from steward.services.context import Context
from steward.settings import Settings
from steward.store import tables

RITA = Principal("rita", roles=frozenset({"risk_officer"}))


@pytest.fixture
def clocked(settings: Settings, clock: Clock) -> Iterator[Context]:
    context = bootstrap.build(settings, migrate=True, clock=clock)
    yield context
    context.uow.engine.dispose()


def setup_credit(ctx: Context, tmp_path: Path) -> Steward:
    st = Steward(LocalBackend(ctx, "admin"))
    st.load_default_policy(activate=True)
    st.create_model(
        "credit",
        title="Credit scoring",
        description="Gradient boosting on bureau data",
        purpose="Score retail credit applications",
        business_unit="Retail",
        owner="olivia",
        team="retail",
    )
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"credit weights")
    st.log_version("credit", artifact=artifact, description="first model")
    st.assess_risk("credit", ANSWERS)
    return st


def evidence(cov: ModelCoverage, kind: EvidenceKind) -> State:
    return next(e.state for e in cov.evidence if e.kind is kind)


def status(cov: ModelCoverage, framework: str, control: str) -> Status:
    return next(c.status for c in cov.controls if (c.framework, c.control) == (framework, control))


def test_check_results_go_stale_with_age_and_missing_when_deleted(
    clocked: Context, clock: Clock, tmp_path: Path
) -> None:
    st = setup_credit(clocked, tmp_path)
    before = compliance.model_coverage(clocked, RITA, "credit")
    assert evidence(before, EvidenceKind.CHECK_RESULTS) is State.MISSING
    assert status(before, "nist-ai-rmf", "MEASURE 2.11") is Status.MISSING
    assert evidence(before, EvidenceKind.RISK_ASSESSMENT) is State.CURRENT
    assert evidence(before, EvidenceKind.INVENTORY) is State.CURRENT
    # not in production: monitoring is not due; the policy is active but nothing approved yet
    assert evidence(before, EvidenceKind.MONITORING) is State.NOT_APPLICABLE
    assert evidence(before, EvidenceKind.POLICY_APPROVALS) is State.MISSING
    assert status(before, "nist-ai-rmf", "GOVERN 2.2") is Status.ORGANISATIONAL

    st.record_checks(
        "credit",
        1,
        [CheckResult("fairness.dpr", CheckFamily.FAIRNESS, True, 0.91, Threshold(">=", 0.8))],
        suite="bank",
        finished_at=clock.now,
    )
    fresh = compliance.model_coverage(clocked, RITA, "credit")
    assert evidence(fresh, EvidenceKind.CHECK_RESULTS) is State.CURRENT
    assert status(fresh, "nist-ai-rmf", "MEASURE 2.11") is Status.CURRENT
    assert status(fresh, "eu-ai-act", "IV.4") is Status.CURRENT

    clock.advance(days=91)  # past the 90-day freshness window of the mapping
    aged = compliance.model_coverage(clocked, RITA, "credit")
    stale = next(e for e in aged.evidence if e.kind is EvidenceKind.CHECK_RESULTS)
    assert stale.state is State.STALE and "91 days old" in stale.detail
    assert status(aged, "nist-ai-rmf", "MEASURE 2.11") is Status.STALE
    row = next(c for c in aged.controls if c.control == "MEASURE 2.11")
    assert "validate again" in row.reason

    with clocked.uow.write() as uow:  # the evidence disappears
        uow.conn.execute(delete(tables.check_runs))
        uow.commit()
    gone = compliance.model_coverage(clocked, RITA, "credit")
    assert evidence(gone, EvidenceKind.CHECK_RESULTS) is State.MISSING
    assert status(gone, "nist-ai-rmf", "MEASURE 2.11") is Status.MISSING
    nist = next(f for f in gone.frameworks if f.framework == "nist-ai-rmf")
    assert nist.controls == 72
    assert sum(nist.counts.values()) == 72
    assert nist.percent_current is not None and nist.percent_current < 100


def test_a_failing_latest_run_and_a_changed_model_make_evidence_stale(
    clocked: Context, clock: Clock, tmp_path: Path
) -> None:
    st = setup_credit(clocked, tmp_path)
    st.record_checks(
        "credit",
        1,
        [
            CheckResult(
                "performance.auc", CheckFamily.PERFORMANCE, False, 0.55, Threshold(">=", 0.7)
            )
        ],
        suite="bank",
        finished_at=clock.now,
    )
    st.update_model("credit", purpose="Score small-business credit applications")
    cov = compliance.model_coverage(clocked, RITA, "credit")
    checks = next(e for e in cov.evidence if e.kind is EvidenceKind.CHECK_RESULTS)
    assert checks.state is State.STALE and "bank" in checks.detail and "failed" in checks.detail
    risk = next(e for e in cov.evidence if e.kind is EvidenceKind.RISK_ASSESSMENT)
    assert risk.state is State.STALE and "purpose" in risk.detail
    # the failed check opened a finding, which the findings evidence tracks
    findings = next(e for e in cov.evidence if e.kind is EvidenceKind.FINDINGS)
    assert findings.refs


def test_the_organisation_view_and_dashboard(
    clocked: Context, clock: Clock, tmp_path: Path
) -> None:
    st = setup_credit(clocked, tmp_path)
    st.create_model("notes", owner="bob")  # nothing else: no version, no tier
    st.open_finding("credit", title="Stale bureau feed", severity="high", description="x")
    st.complete_review("credit", outcome="satisfactory", notes="Annual review")
    assert evidence(compliance.model_coverage(clocked, RITA, "credit"), EvidenceKind.REVIEWS) is (
        State.CURRENT
    )
    clock.advance(days=400)  # the high tier's yearly review is now overdue
    org = compliance.organisation_coverage(clocked, RITA, ["eu-ai-act"])
    assert org.models == 2
    assert [f.framework for f in org.frameworks] == ["eu-ai-act"]
    art9 = next(r for r in org.controls if r.control == "Art. 9")
    assert sum(art9.counts.values()) == 2 and set(art9.gaps) == {"credit", "notes"}
    board = compliance.organisation_dashboard(clocked, RITA)
    assert board.models == 2
    assert board.by_tier_and_stage == {"high": {"development": 1}, "unassessed": {"no_version": 1}}
    assert board.open_findings["high"] == 1
    assert [r.model for r in board.overdue_reviews] == ["credit"]
    assert board.overdue_reviews[0].days_overdue > 0
    assert board.overdue_reviews[0].due == date(2027, 1, 1)
    assert board.production_without_monitor == ()
    assert {f.framework for f in board.coverage} >= {"nist-ai-rmf", "tw-fsc"}
    reviews = compliance.model_coverage(clocked, RITA, "credit")
    assert evidence(reviews, EvidenceKind.REVIEWS) is State.STALE  # reviewed once, now overdue
    assert evidence(compliance.model_coverage(clocked, RITA, "notes"), EvidenceKind.REVIEWS) is (
        State.MISSING
    )


def test_coverage_needs_governance_read_and_a_real_model(clocked: Context) -> None:
    nobody = Principal("nobody")
    with pytest.raises(Forbidden):
        compliance.model_coverage(clocked, nobody, "credit")
    with pytest.raises(Forbidden):
        compliance.organisation_dashboard(clocked, nobody)
    with pytest.raises(NotFound, match="steward model list"):
        compliance.model_coverage(clocked, RITA, "ghost")
    with pytest.raises(NotFound, match="No control catalog 'cobit'"):
        compliance.organisation_coverage(clocked, RITA, ["cobit"])
    # the catalogs carry the organisation's evidence mapping (its own statements): a role
    with pytest.raises(Forbidden):
        compliance.list_catalogs(clocked, nobody)
    assert len(compliance.list_catalogs(clocked, RITA)) == 9


def test_a_user_mapping_changes_what_counts(
    settings: Settings, clock: Clock, tmp_path: Path
) -> None:
    ours = tmp_path / "ours.yaml"
    ours.write_text(
        'mapping: bank\nversion: "1"\nfreshness_days: {check_results: 10}\ncontrols:\n'
        "  nist-ai-rmf:\n"
        '    MEASURE 2.11: {organisational: "Fairness is reviewed by our ethics board"}\n'
    )
    context = bootstrap.build(settings.with_(compliance_mapping=ours), migrate=True, clock=clock)
    try:
        st = setup_credit(context, tmp_path)
        st.record_checks(
            "credit",
            1,
            [CheckResult("performance.auc", CheckFamily.PERFORMANCE, True, 0.8)],
            finished_at=clock.now,
        )
        clock.advance(days=11)
        cov = compliance.model_coverage(context, RITA, "credit", ["nist-ai-rmf"])
        assert status(cov, "nist-ai-rmf", "MEASURE 2.11") is Status.ORGANISATIONAL
        assert status(cov, "nist-ai-rmf", "MEASURE 2.3") is Status.STALE  # 10-day window
    finally:
        context.uow.engine.dispose()


def test_documentation_counts_the_card_narrative_written_for_the_version_in_scope(
    clocked: Context, tmp_path: Path
) -> None:
    import pandas as pd

    st = setup_credit(clocked, tmp_path)
    training = pd.DataFrame({"income": [30.0, 52.0, 41.0, 75.0], "default": [1, 0, 0, 0]})

    def log(number: int) -> None:
        artifact = tmp_path / f"model-{number}.bin"
        artifact.write_bytes(f"credit weights {number}".encode())
        st.log_version(
            "credit",
            artifact=artifact,
            description=f"retrained ({number})",
            training_data=training,
            target="default",
        )

    narrative = {
        "intended_use": "Approve or refer retail credit applications.",
        "out_of_scope": "Business lending; collections.",
        "limitations": "Thin-file applicants score less reliably.",
        "human_oversight": "Underwriters review every refusal.",
    }

    def documentation() -> tuple[State, str]:
        cov = compliance.model_coverage(clocked, RITA, "credit")
        found = next(e for e in cov.evidence if e.kind is EvidenceKind.DOCUMENTATION)
        return found.state, found.detail

    log(2)  # the version in scope: documented with its training data, no narrative yet
    state, detail = documentation()
    assert state is State.STALE
    assert detail.startswith("Documentation lacks narrative intended_use, ")
    assert "steward report narrative credit 2" in detail
    before = compliance.model_coverage(clocked, RITA, "credit")
    assert status(before, "nist-ai-rmf", "MAP 2.1") is Status.STALE
    st.set_narrative("credit", 2, {k: v for k, v in narrative.items() if k != "limitations"})
    state, detail = documentation()
    assert state is State.STALE and detail.startswith("Documentation lacks narrative limitations.")
    st.set_narrative("credit", 2, limitations=narrative["limitations"])
    state, detail = documentation()
    assert state is State.CURRENT and "written for v2" in detail
    # MAP 2.1 needs documentation only: it is met now.
    after = compliance.model_coverage(clocked, RITA, "credit")
    assert status(after, "nist-ai-rmf", "MAP 2.1") is Status.CURRENT
    # A newer version in scope shows v2's text carried over: not confirmed for v3 yet.
    log(3)
    state, detail = documentation()
    assert state is State.STALE
    assert "not confirmed for v3: intended_use (from v2), out_of_scope (from v2)" in detail
    st.set_narrative("credit", 3, narrative)
    state, detail = documentation()
    assert state is State.CURRENT and "written for v3" in detail
