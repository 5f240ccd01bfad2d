"""The gate says what helps when checks fail (issue 13, item 8): re-running a failed check on
the same artifact and data gives the same result, so the advice is a fix on a new version or
a waiver, named with the command that requests it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from steward.domain import gate, policy
from steward.domain.gate import CheckFact, GateFacts
from steward.domain.lifecycle import Outcome, Stage
from steward.domain.yamldoc import DocumentError

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PACK = policy.parse(policy.default_pack_text())
SHA = "a" * 64
EVAL = "e" * 64


def _facts() -> GateFacts:
    return GateFacts(
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
    )


def _outcomes(checks: list[CheckFact]) -> dict[str, Outcome]:
    return {o.requirement: o for o in gate.evaluate(PACK, replace(_facts(), checks=checks))}


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


def _pack(uncertain: str | None) -> policy.PolicyPack:
    text = policy.default_pack_text()
    marker = '    checks: ["fairness.*"]\n'
    assert marker in text
    if uncertain:
        text = text.replace(marker, marker + f"    uncertain: {uncertain}\n")
    return policy.parse(text)


def test_the_pack_chooses_whether_an_uncertain_pass_blocks() -> None:
    checks = (
        _check("performance.roc_auc", True),
        replace(_check("fairness.four_fifths", True), uncertain=True),
    )
    base = _outcomes(list(checks))["checks.fairness"]
    assert base.met  # default: a pass is a pass, its uncertainty is reported with the result
    blocking = {
        o.requirement: o
        for o in gate.evaluate(
            _pack("block"), replace(_facts(), checks=checks, policy=_pack("block").ref)
        )
    }["checks.fairness"]
    assert not blocking.met
    assert "fairness.four_fifths passed, but the confidence interval straddles" in blocking.reason
    assert "this policy blocks uncertain passes" in blocking.reason


def test_an_unknown_uncertain_option_is_refused() -> None:
    with pytest.raises(DocumentError, match="'uncertain' is 'allow'"):
        _pack("sometimes")
