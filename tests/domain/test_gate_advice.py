"""The gate says what helps when checks fail (issue 13, item 8): re-running a failed check on
the same artifact and data gives the same result, so the advice is a fix on a new version or
a waiver, named with the command that requests it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from steward.domain import gate, policy
from steward.domain.gate import CheckFact, GateFacts
from steward.domain.lifecycle import Outcome, Stage

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PACK = policy.parse(policy.default_pack_text())
SHA = "a" * 64
EVAL = "e" * 64


def _outcomes(checks: list[CheckFact]) -> dict[str, Outcome]:
    facts = GateFacts(
        model="credit",
        version=3,
        target=Stage.APPROVED,
        tier="high",
        category="high",
        owner="olivia",
        version_creator="dev",
        requester="dev",
        documentation={f: "x" for f in policy.DOCUMENT_FIELDS},
        next_review_date=date(2027, 6, 1),
        artifact_sha256=SHA,
        fingerprints=("t" * 64, EVAL),
        now=NOW,
        policy=PACK.ref,
        assessment_id="ra_1",
        checks=tuple(checks),
    )
    return {o.requirement: o for o in gate.evaluate(PACK, facts)}


def _check(name: str, passed: bool | None) -> CheckFact:
    return CheckFact("run_1", "credit-default", name, passed, NOW - timedelta(days=1), SHA, EVAL)


def test_a_failed_check_names_a_fix_on_a_new_version_or_a_waiver() -> None:
    outcomes = _outcomes(
        [_check("performance.roc_auc", True), _check("fairness.demographic_parity_ratio", False)]
    )
    failing = [o for o in outcomes.values() if "fairness.demographic_parity_ratio" in o.reason]
    assert failing and not failing[0].met
    reason = failing[0].reason
    assert "failed: fairness.demographic_parity_ratio" in reason
    assert "gives the same result" in reason
    assert "on the new version" in reason
    assert (
        f"`steward waiver grant credit 3 --requirement {failing[0].requirement} "
        "--reason ... --expires YYYY-MM-DD`" in reason
    )


def test_missing_results_still_ask_for_a_run() -> None:
    reason = _outcomes([])["checks.performance"].reason
    assert reason.endswith("Run `steward check run credit 3 ...`.")
    assert "waiver" not in reason
