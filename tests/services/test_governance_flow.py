"""End to end on the demo credit model: nobody reaches production without evidence and approvals.

The same flow runs embedded and over HTTP (the remote SDK is the REST API), on
SQLite and PostgreSQL: high tier from the questionnaire; production refused while
checks and approvals are missing, each missing piece named; the developer's own
approval refused; two validators from different teams approve; a risk officer
approves deployment; the version is applied, signed, and every step is in a
journal whose chain verifies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from sklearn.metrics import accuracy_score, roc_auc_score
from tests.conftest import LiveServer, ensure_user
from tests.risk_answers import CREDIT as CREDIT_ANSWERS

import steward
from steward.demo.credit import TrainedCreditModel, train_credit_model
from steward.domain.checks import CheckFamily, CheckResult, Threshold
from steward.domain.errors import Conflict, Forbidden, IllegalTransition, InvalidInput
from steward.domain.lifecycle import Stage
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services import identity, tokens
from steward.services.context import Context

PEOPLE = {
    # name: (roles, teams)
    # dev also validates other teams' models: only segregation of duties stops them here
    "dev": (("owner", "validator"), ("retail-analytics",)),
    "val1": (("validator",), ("model-risk",)),
    "val2": (("validator",), ("model-validation",)),
    "val3": (("validator",), ("model-risk",)),
    "rita": (("risk_officer",), ("risk-office",)),
}
OPERATOR_P = Principal(name="admin", roles=frozenset({OPERATOR}))

As = Callable[[str], Steward]


@cache
def trained() -> TrainedCreditModel:
    return train_credit_model(seed=7)


def setup_people(ctx: Context) -> None:
    # The shipped pack counts validators of the second line only (lines of defence).
    for team, line in (
        ("retail-analytics", "first"),
        ("model-risk", "second"),
        ("model-validation", "second"),
        ("risk-office", "second"),
    ):
        identity.create_team(ctx, OPERATOR_P, team, line=line)
    for name, (roles, teams) in PEOPLE.items():
        ensure_user(ctx, name, *roles, teams=teams)


@pytest.fixture(params=["local", "remote"])
def as_user(request: pytest.FixtureRequest, ctx: Context) -> Iterator[As]:
    setup_people(ctx)
    ensure_user(ctx, "admin", "admin")
    if request.param == "local":
        yield lambda name: Steward(LocalBackend(ctx, name))
        return
    server: LiveServer = request.getfixturevalue("live_server")
    clients: dict[str, Steward] = {}

    def connect(name: str) -> Steward:
        if name not in clients:
            secret = tokens.create_token(ctx, OPERATOR_P, user=name, name="e2e").token
            clients[name] = steward.connect(server.url, token=secret)
        return clients[name]

    yield connect
    for client in clients.values():
        client.close()


def passing_checks(model: TrainedCreditModel) -> list[CheckResult]:
    """Real numbers on the holdout, computed with scikit-learn (recorded as external)."""
    x, y = model.test[model.feature_columns], model.test["risk"]
    score = model.model.predict_proba(x)[:, 1]
    predicted = model.model.predict(x)
    foreign = (model.test["foreign_worker"] == "yes").to_numpy()
    rate_a, rate_b = predicted[foreign].mean(), predicted[~foreign].mean()
    ratio = min(rate_a, rate_b) / max(rate_a, rate_b) if max(rate_a, rate_b) else 1.0
    return [
        CheckResult(
            "performance.roc_auc",
            CheckFamily.PERFORMANCE,
            True,
            float(roc_auc_score(y, score)),
            Threshold(">=", 0.6),
        ),
        CheckResult(
            "performance.accuracy",
            CheckFamily.PERFORMANCE,
            True,
            float(accuracy_score(y, predicted)),
        ),
        CheckResult(
            "fairness.demographic_parity_ratio",
            CheckFamily.FAIRNESS,
            True,
            float(ratio),
            Threshold(">=", 0.0),
            "foreign_worker, reviewed by the validation team",
        ),
    ]


def unmet(report: object) -> list[str]:
    return [o.requirement for o in report.outcomes if not o.met]  # type: ignore[attr-defined]


def test_the_credit_model_reaches_production_only_with_evidence_and_independent_approvals(
    as_user: As,
) -> None:
    admin, dev, val1, val2, val3, rita = (
        as_user(n) for n in ("admin", "dev", "val1", "val2", "val3", "rita")
    )
    admin.load_default_policy()
    model = trained()

    dev.create_model(
        "credit-scoring",
        title="Consumer credit scoring",
        description="Logistic regression on applicant data; probability of default.",
        purpose="Approve or refer consumer loan applications",
        business_unit="Retail lending",
        owner="dev",
        team="retail-analytics",
    )
    v = dev.log_version(
        "credit-scoring",
        model.model,
        training_data=model.train,
        evaluation_data=model.test,
        target="risk",
        capture_git=False,
    ).version

    # Without a risk assessment the version cannot even enter validation.
    with pytest.raises(IllegalTransition, match=r"\[risk.assessed\]"):
        dev.transition("credit-scoring", v, to="validation", justification="ready")
    assessment = dev.assess_risk("credit-scoring", CREDIT_ANSWERS)
    assert (assessment.tier, assessment.category) == ("high", "high")
    dev.transition("credit-scoring", v, to="validation", justification="ready for review")

    # Approval is refused while checks and approvals are missing; the gate names each.
    report = dev.check_transition("credit-scoring", v, to="approved")
    assert not report.allowed
    assert unmet(report) == ["checks.performance", "checks.fairness", "approvals.validation"]
    request = dev.request_transition(
        "credit-scoring", v, to="approved", justification="validation evidence complete"
    )
    assert not request.applied and request.request.status.value == "open"
    rid = request.request.id

    # The developer may not approve their own version (and that attempt is journaled).
    with pytest.raises(Forbidden, match="Segregation of duties: dev created version"):
        dev.approve(rid, "looks good to me")

    val1.record_checks(
        "credit-scoring",
        v,
        passing_checks(model),
        suite="credit-holdout",
        data_fingerprint=dev.get_version("credit-scoring", v).evaluation_data.fingerprint,
    )  # type: ignore[union-attr]

    first = val1.approve(rid, "performance and fairness reviewed")
    assert not first.applied
    assert unmet(first.gate) == ["approvals.validation"]
    with pytest.raises(Conflict, match="already decided"):
        val1.approve(rid)
    # A second validator from the same team is not enough: segregation of duties.
    same_team = val3.approve(rid, "concur")
    assert not same_team.applied
    assert "approvers span 1 team(s), 2 needed" in " ".join(
        o.reason for o in same_team.gate.outcomes
    )
    # In the inbox of the validator from another team, with the gate beside it.
    assert [i.request.id for i in val2.inbox()] == [rid]
    done = val2.approve(rid, "independent review complete")
    assert done.applied and done.request.status.value == "applied"
    assert dev.get_version("credit-scoring", v).stage is Stage.APPROVED
    with pytest.raises(Conflict, match="already applied"):
        rita.approve(rid)

    # Production needs a monitor and a risk officer's acceptance.
    prod = dev.request_transition(
        "credit-scoring", v, to="production", justification="go live for Q1"
    )
    assert unmet(prod.gate) == ["approvals.deployment", "monitoring.configured"]
    dev.create_monitor(
        "credit-scoring", v, reference=model.train, columns=["age_in_years", "credit_amount"]
    )
    with pytest.raises(Forbidden, match="decided by approver or risk_officer"):
        val2.approve(prod.request.id)
    live = rita.approve(prod.request.id, "residual risk accepted")
    assert live.applied
    assert dev.get_version("credit-scoring", v).stage is Stage.PRODUCTION

    # Every step is in the journal, and the chain verifies.
    actions = [e.action for e in admin.audit_events(limit=1000)]
    for expected in (
        "policy.activated",
        "risk.assessed",
        "gate.failed",
        "transition.requested",
        "approval.denied",
        "check_run.recorded",
        "approval.given",
        "version.transitioned",
    ):
        assert expected in actions, expected
    assert actions.count("approval.given") == 4
    assert admin.verify_audit().ok


def test_approvals_lapse_when_the_evaluation_data_changes(as_user: As) -> None:
    admin, dev, val1, val2 = (as_user(n) for n in ("admin", "dev", "val1", "val2"))
    admin.load_default_policy()
    model = trained()
    dev.create_model(
        "credit-scoring",
        title="Consumer credit",
        description="x",
        purpose="Approve loans",
        business_unit="Retail",
        owner="dev",
        team="retail-analytics",
    )
    v = dev.log_version(
        "credit-scoring", model.model, evaluation_data=model.test, capture_git=False
    ).version
    dev.assess_risk("credit-scoring", CREDIT_ANSWERS)
    dev.transition("credit-scoring", v, to="validation", justification="ready")
    fp = dev.get_version("credit-scoring", v).evaluation_data.fingerprint  # type: ignore[union-attr]
    val1.record_checks("credit-scoring", v, passing_checks(model), data_fingerprint=fp)
    rid = dev.request_transition(
        "credit-scoring", v, to="approved", justification="evidence complete"
    ).request.id
    val1.approve(rid, "ok")

    dev.amend_version(
        "credit-scoring",
        v,
        justification="evaluation set had duplicated rows",
        evaluation_data=model.test.drop_duplicates().iloc[:-5],
    )
    after = val2.approve(rid, "ok")
    assert not after.applied
    reasons = " ".join(o.reason for o in after.gate.outcomes)
    assert "approval by val1 lapsed: the training or evaluation data changed" in reasons
    # the checks were computed on the old evaluation data: they no longer count either
    assert "checks.performance" in unmet(after.gate)
    event = admin.audit_events(action="version.amended")[-1].payload_dict()
    assert event["evaluation_data"]["before"] == fp


def test_a_rejection_sends_the_version_back_with_the_reason(as_user: As) -> None:
    admin, dev, val1 = (as_user(n) for n in ("admin", "dev", "val1"))
    admin.load_default_policy()
    dev.create_model(
        "churn", title="Churn", purpose="Retention offers", business_unit="Retail", owner="dev"
    )
    v = dev.log_version("churn", trained().model, capture_git=False).version
    dev.assess_risk(
        "churn",
        {
            **CREDIT_ANSWERS,
            "decision_impact": "informs",
            "personal_data": "none",
            "scale": "under_1k",
            "financial_exposure": "negligible",
            "regulated_domain": ["none"],
            "annex_iii": ["none"],
        },
    )
    dev.transition("churn", v, to="validation", justification="ready")
    rid = dev.request_transition("churn", v, to="approved", justification="please").request.id
    with pytest.raises(InvalidInput, match="A rejection needs a comment"):
        val1.reject(rid, "")
    rejected = val1.reject(rid, "Calibration is off on the thin-file segment.")
    assert rejected.request.status.value == "rejected"
    back = dev.get_version("churn", v)
    assert back.stage is Stage.DEVELOPMENT
    last = dev.transitions("churn", v)[-1]
    assert last.justification == "Rejected by val1: Calibration is off on the thin-file segment."
    assert last.caused_by == rid


def test_requests_refuse_duplicates_and_unknown_ids(as_user: As) -> None:
    dev = as_user("dev")
    dev.create_model("m", owner="dev")
    v = dev.log_version("m", trained().model, capture_git=False).version
    first = dev.request_transition("m", v, to="validation", justification="go")
    assert first.applied  # no policy pack active: only the state machine, so it applies
    second = dev.request_transition("m", v, to="approved", justification="go")
    assert second.applied
    with pytest.raises(IllegalTransition, match="cannot move to development"):
        dev.request_transition("m", v, to="development", justification="go")
    from steward.domain.errors import NotFound

    with pytest.raises(NotFound, match="No transition request 'req_nope'"):
        dev.get_request("req_nope")
    assert datetime.now(UTC) > first.request.requested_at


def test_approvals_lapse_when_the_artifact_is_replaced(as_user: As, tmp_path: Path) -> None:
    admin, dev, val1 = (as_user(n) for n in ("admin", "dev", "val1"))
    admin.load_policy(
        text=(
            "pack: two-approvals\nversion: '1'\nrequirements:\n  - id: approvals.two\n"
            "    kind: approvals\n    roles: [validator]\n    count: 2\n    to: [approved]\n"
            "    controls: ['sr-26-2:SR26-2.independence']\n"
        ),
        activate=True,
    )
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    first.write_bytes(b"weights v1")
    second.write_bytes(b"weights v1, retrained")
    dev.create_model("m", owner="dev")
    v = dev.log_version("m", artifact=first, capture_git=False).version
    dev.transition("m", v, to="validation", justification="ready")
    rid = dev.request_transition("m", v, to="approved", justification="go").request.id
    assert not val1.approve(rid, "ok").applied  # one of two

    amended = dev.amend_version("m", v, artifact=second, justification="retrained on fixed data")
    import hashlib

    assert amended.artifact.sha256 == hashlib.sha256(second.read_bytes()).hexdigest()
    report = dev.check_transition("m", v, to="approved")
    reason = next(o.reason for o in report.outcomes if o.requirement == "approvals.two")
    assert "0 of 2 approval(s)" in reason
    assert "approval by val1 lapsed: the artifact changed" in reason
    event = admin.audit_events(action="version.amended")[-1].payload_dict()
    assert event["artifact_sha256"]["after"] == amended.artifact.sha256
    # once past approved, a version is frozen
    dev.transition("m", v, to="rejected", justification="superseded")
    with pytest.raises(Conflict, match="only versions in development, validation or approved"):
        dev.amend_version("m", v, artifact=first, justification="too late")


def test_an_internal_auditors_approval_does_not_count_under_the_shipped_pack(as_user: As) -> None:
    # The attack (issue 12): the demo's second validator sat in Internal Audit, the third line;
    # an auditor approving models breaks audit independence, yet the approval counted.
    admin, dev, val1 = (as_user(n) for n in ("admin", "dev", "val1"))
    admin.load_default_policy()
    admin.create_team("internal-audit", title="Internal Audit", line="third")
    admin.create_user("aud", roles=["validator"], teams=["internal-audit"])
    model = trained()
    dev.create_model(
        "credit-scoring",
        title="Consumer credit",
        description="x",
        purpose="Approve loans",
        business_unit="Retail",
        owner="dev",
        team="retail-analytics",
    )
    v = dev.log_version(
        "credit-scoring", model.model, evaluation_data=model.test, capture_git=False
    ).version
    dev.assess_risk("credit-scoring", CREDIT_ANSWERS)
    dev.transition("credit-scoring", v, to="validation", justification="ready")
    fp = dev.get_version("credit-scoring", v).evaluation_data.fingerprint  # type: ignore[union-attr]
    val1.record_checks("credit-scoring", v, passing_checks(model), data_fingerprint=fp)
    rid = dev.request_transition(
        "credit-scoring", v, to="approved", justification="evidence complete"
    ).request.id
    val1.approve(rid, "ok")
    after = as_user("aud").approve(rid, "looks fine to audit")
    assert not after.applied
    (outcome,) = [o for o in after.gate.outcomes if o.requirement == "approvals.validation"]
    assert not outcome.met
    assert (
        "aud's team internal-audit is third line (internal audit), which may not approve"
        in outcome.reason
    )
    # moving the team to the second line (an admin decision, journalled) makes it count
    team = admin.update_team("internal-audit", line="second")
    assert team.line == "second"
    event = admin.audit_events(action="team.updated")[-1].payload_dict()
    assert event == {"line": {"from": "third", "to": "second"}}
    assert dev.check_transition("credit-scoring", v, to="approved").allowed
