"""Coverage and gates judge an approval with one lapse rule, so they never disagree.

Coverage used to check the artifact and policy only (not the data) and called a version
stale as soon as *any* of its approvals covered an older artifact, even after it was
approved again on the new one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from steward.compliance import coverage
from steward.compliance.coverage import ApprovalFact, ModelFacts, State
from steward.compliance.mapping import EvidenceKind, shipped
from steward.domain.gate import Binding, lapse_reason

NOW = datetime(2026, 12, 1, tzinfo=UTC)
POLICY = "default@1"
OLD, NEW = "a" * 64, "b" * 64
DATA = ("train-fp", "eval-fp")


def facts(
    *approvals: ApprovalFact, artifact: str = NEW, data: tuple[str, str] = DATA
) -> ModelFacts:
    return ModelFacts(
        model="credit",
        fields={},
        risk_tier="high",
        status="active",
        next_review_date=None,
        version=2,
        stage="approved",
        artifact_sha256=artifact,
        training_dataset=data[0],
        evaluation_dataset=data[1],
        active_policy=POLICY,
        approvals=approvals,
    )


def approval(
    who: str, artifact: str, *, data: tuple[str, str] = DATA, policy: str = POLICY, days: int = 0
) -> ApprovalFact:
    return ApprovalFact("req", who, "approve", policy, artifact, NOW - timedelta(days=days), data)


def approvals_state(f: ModelFacts) -> coverage.Evidence:
    return coverage.evidence_states(f, shipped(), NOW)[EvidenceKind.POLICY_APPROVALS]


def test_a_version_approved_again_after_its_artifact_changed_is_current() -> None:
    f = facts(approval("val1", OLD, days=10), approval("val2", NEW, days=1))
    got = approvals_state(f)
    assert got.state is State.CURRENT, got.detail
    assert "val2" in got.detail and "val1" not in got.detail


@pytest.mark.parametrize(
    ("given", "why"),
    [
        (approval("val1", OLD), "the artifact changed"),
        (approval("val1", NEW, data=("train-fp", "other")), "evaluation data changed"),
        (approval("val1", NEW, policy="default@0"), "approved under policy default@0"),
    ],
)
def test_coverage_calls_stale_exactly_what_the_gate_calls_lapsed(
    given: ApprovalFact, why: str
) -> None:
    gate_says = lapse_reason(
        given.approver,
        Binding(given.artifact_sha256, given.fingerprints, given.policy),
        Binding(NEW, DATA, POLICY),
    )
    assert gate_says is not None and why in gate_says
    got = approvals_state(facts(given))
    assert got.state is State.STALE
    assert gate_says in got.detail
    assert "steward approvals request credit 2 --to approved" in got.detail
