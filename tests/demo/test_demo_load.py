"""`steward demo` loads a governed inventory: every move in it went through its gate."""

from __future__ import annotations

from pathlib import Path

import pytest

import steward
from steward.demo.load import DEMO_STEPS, load_demo
from steward.domain.errors import InvalidInput
from steward.domain.lifecycle import Stage


def test_the_demo_is_a_governed_inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_DEMO_PASSWORD", "steward-demo-2026")
    st = steward.connect(home=str(tmp_path / "store"), actor="demo")
    try:
        steps: list[str] = []
        summary = load_demo(st, progress=steps.append)
        # every step was reported, once, so `steward demo` shows a progress bar that completes
        assert len(steps) == len(set(steps)) == DEMO_STEPS
        # the demo people can sign in to the web UI with the password `make run` prints
        assert st.login("victor", "steward-demo-2026").info.user == "victor"
        # the shipped pack, with its opt-in data requirements (steward.demo.datagov)
        assert "policy steward-default@2026.12+data active" in summary
        models = {m.name: m for m in st.list_models().items}
        assert sorted(models) == [
            "credit-scoring",
            "diabetes-progression",
            "fraud-rules-legacy",
            "wine-cultivar",
        ]
        # tiers come from the questionnaire, not from hand-set fields
        assert (
            models["credit-scoring"].risk_tier,
            models["credit-scoring"].regulatory_category,
        ) == ("high", "high")
        assert models["fraud-rules-legacy"].risk_tier == "unassessed"
        assert models["wine-cultivar"].risk_tier == "low"

        stages = {v.version: v.stage for v in st.list_versions("credit-scoring").items}
        assert stages == {
            1: Stage.DEPRECATED,
            2: Stage.UNDER_REVIEW,  # its monitor raised a critical drift alert
            3: Stage.VALIDATION,
            4: Stage.DEVELOPMENT,
            5: Stage.VALIDATION,  # retrained on a faulty extract: held by the data gate
        }
        assert st.get_version("credit-scoring", "champion").version == 2
        # production went through two validators of two teams and the risk officer, and is signed
        applied = [r for r in st.requests(model="credit-scoring") if r.status.value == "applied"]
        approvers = {a.approver for r in applied if r.version == 2 for a in r.approvals}
        assert approvers == {"victor", "wendy", "rita"}
        assert st.signatures("credit-scoring", 2)
        # the challenger waits for a second validator, and only wendy may give it
        wendy = steward.connect(home=str(tmp_path / "store"), actor="wendy")
        try:
            inbox = wendy.inbox()
            assert [(i.request.model, i.request.version) for i in inbox] == [("credit-scoring", 3)]
            assert [o.requirement for o in inbox[0].gate.outcomes if not o.met] == [
                "approvals.validation"
            ]
        finally:
            wendy.close()
        # the deliberately biased version failed fairness, and its failures are open findings
        biased = st.check_runs("credit-scoring", 4)[0]
        assert not biased.passed
        assert any(r.name.startswith("fairness.") and r.passed is False for r in biased.results)
        titles = {f.title for f in st.findings("credit-scoring", version=4).items}
        assert any("fairness." in t for t in titles)
        # production needed a monitor; the younger weeks raised an alert and its finding
        alerts = st.alerts(model="credit-scoring")
        assert any(a.severity == "critical" for a in alerts)
        # ... a model-wide finding, accepted on the record so the challenger is judged on its own
        drift = st.findings("credit-scoring", version=2, source="monitor", status="all").items
        assert drift and all(f.scope == "model" for f in drift)
        assert any(f.status.value == "accepted" for f in drift)
        _the_credit_data_is_governed(st)
        # lines of defence: validators sit in the second line, the auditor in the third
        lines = {t.name: t.line for t in st.list_teams()}
        assert lines["model-risk"] == lines["model-validation"] == "second"
        assert lines["internal-audit"] == "third"
        assert st.verify_audit().ok
        # loading again changes nothing
        assert load_demo(st) == "Demo already loaded."
    finally:
        st.close()


def _the_credit_data_is_governed(st: steward.Steward) -> None:
    """German Credit as a governed dataset: owner, steward team, classification and legal
    basis; rules that pass on the models' extracts and fail on the faulty one; the scan's
    finding reviewed by the data steward; approvals; lineage; the challenger held."""
    data = st.get_dataset("german-credit")
    assert (data.owner, data.steward_team, data.classification) == (
        "alice",
        "data-office",
        "confidential",
    )
    assert data.legal_basis and data.licence == "CC BY 4.0"
    snaps = {s.version: s for s in st.dataset_versions("german-credit")}
    assert {v: s.quality.value for v, s in snaps.items()} == {
        1: "passed",
        2: "passed",
        3: "failed",
    }
    assert (snaps[1].rows, snaps[2].rows, snaps[3].rows) == (700, 300, 700)
    assert [a.approver for a in snaps[1].approvals] == ["dora"]
    assert [a.approver for a in snaps[2].approvals] == ["dora"]
    assert not snaps[3].approvals
    # the faulty extract is derived from the training extract: 1 in 10 ages missing and
    # 1 in 25 amounts x100; the rules count exactly those rows
    faulty = st.get_dataset_version("german-credit@3")
    failing = {r.rule: r.failing_rows for r in faulty.results if not r.passed}
    assert failing == {"not_null:age_in_years": 70, "range:credit_amount": 28}
    assert {f.rule for f in st.dataset_findings("german-credit")} == set(failing)
    # the scan flags `telephone` by its name; the data steward reviewed it as no personal data
    scan = st.dataset_personal_data("german-credit@1")
    flagged = [c for c in scan.columns if c.scan.detections]
    assert [(c.column, c.scan.categories) for c in flagged] == [("telephone", ["phone"])]
    review = flagged[0].review
    assert review is not None and (review.reviewed_by, review.categories) == ("dora", [])
    assert not scan.unreviewed
    # lineage: the credit models were trained on @1 and evaluated on @2
    for number in (1, 2, 3):
        lineage = st.version_datasets("credit-scoring", number)
        assert (lineage.training, lineage.evaluation) == (
            ["german-credit@1"],
            ["german-credit@2"],
        )
    assert st.version_datasets("credit-scoring", 5).training == ["german-credit@3"]
    impact = {(v.model, v.version) for v in st.dataset_impact("german-credit@1").models}
    assert {("credit-scoring", n) for n in (1, 2, 3)} <= impact
    # the challenger on @3 is held at the approval gate by the data requirements
    report = st.check_transition("credit-scoring", 5, to="approved")
    outcomes = {o.requirement: o.met for o in report.outcomes}
    assert not report.allowed
    assert (outcomes["data.registered"], outcomes["data.quality"], outcomes["data.approved"]) == (
        True,
        False,
        False,
    )
    # ...while the validated challenger's data satisfies them
    held = st.check_transition("credit-scoring", 3, to="approved")
    assert all(o.met for o in held.outcomes if o.requirement.startswith("data."))


def test_the_demo_needs_the_embedded_store(remote: steward.Steward) -> None:
    with pytest.raises(InvalidInput, match="loads into an embedded store"):
        load_demo(remote)
