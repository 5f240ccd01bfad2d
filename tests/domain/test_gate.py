"""The gate turns a policy pack and a snapshot of facts into explained outcomes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from steward.domain import gate, policy
from steward.domain.gate import ApprovalFact, CheckFact, FindingFact, GateFacts, WaiverFact
from steward.domain.lifecycle import Outcome, Stage

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PACK = policy.parse(policy.default_pack_text())
SHA = "a" * 64
EVAL = "e" * 64


def facts(**changes: object) -> GateFacts:
    base = GateFacts(
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
    return replace(base, **changes)  # type: ignore[arg-type]


def by_id(f: GateFacts) -> dict[str, Outcome]:
    return {o.requirement: o for o in gate.evaluate(PACK, f)}


def check(name: str, passed: bool | None = True, **changes: object) -> CheckFact:
    base = CheckFact("run_1", "credit-default", name, passed, NOW - timedelta(days=1), SHA, EVAL)
    return replace(base, **changes)  # type: ignore[arg-type]


def approval(
    who: str, teams: set[str], roles: set[str] | None = None, **changes: object
) -> ApprovalFact:
    base = ApprovalFact(
        id=hash(who) % 1000,
        approver=who,
        decision="approve",
        roles=frozenset(roles or {"validator"}),
        teams=frozenset(teams),
        artifact_sha256=SHA,
        fingerprints=("t" * 64, EVAL),
        policy=PACK.ref,
        at=NOW,
        # validators sit in the second line unless a test says otherwise
        lines=tuple((team, "second") for team in sorted(teams)),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


GOOD_CHECKS = [check("performance.roc_auc"), check("fairness.demographic_parity_ratio")]
TWO_TEAMS = [approval("val1", {"model-risk"}), approval("val2", {"model-validation"})]


def test_a_high_tier_approval_needs_checks_and_two_independent_teams() -> None:
    outcomes = by_id(facts(checks=GOOD_CHECKS, approvals=TWO_TEAMS))
    assert all(o.met for o in outcomes.values()), outcomes
    missing = by_id(facts())
    assert not missing["checks.performance"].met
    assert "Run `steward check run credit 3" in missing["checks.performance"].reason
    assert "0 of 2 approval(s) from validator" in missing["approvals.validation"].reason


def test_approvers_from_one_team_do_not_satisfy_segregation() -> None:
    same = [approval("val1", {"model-risk"}), approval("val2", {"model-risk"})]
    outcome = by_id(facts(checks=GOOD_CHECKS, approvals=same))["approvals.validation"]
    assert not outcome.met
    assert "approvers span 1 team(s), 2 needed" in outcome.reason


def test_one_approver_on_two_teams_counts_for_one_team_only() -> None:
    both = [approval("val1", {"a", "b"}), approval("val2", {"a"})]
    assert by_id(facts(approvals=both))["approvals.validation"].met
    alone = [approval("val1", {"a", "b"}), approval("val2", {"a", "b"})]
    assert by_id(facts(approvals=alone))["approvals.validation"].met
    narrow = [approval("val1", {"a", "b"}), approval("val2", set())]
    assert not by_id(facts(approvals=narrow))["approvals.validation"].met


def test_approvals_by_the_creator_owner_or_wrong_role_do_not_count() -> None:
    bad = [
        approval("dev", {"x"}),
        approval("olivia", {"y"}),
        approval("bob", {"z"}, roles={"approver"}),
    ]
    outcome = by_id(facts(approvals=bad))["approvals.validation"]
    assert not outcome.met
    assert "dev is not independent: dev created version 3" in outcome.reason
    assert "olivia is not independent: olivia owns 'credit'" in outcome.reason
    assert "bob does not hold validator" in outcome.reason


def test_approvals_lapse_when_the_artifact_data_or_policy_changes() -> None:
    for change, words in [
        ({"artifact_sha256": "b" * 64}, "the artifact changed"),
        ({"fingerprints": ("t" * 64, "f" * 64)}, "data changed"),
        ({"policy": "steward-default@2025.1"}, "approved under policy steward-default@2025.1"),
    ]:
        stale = [replace(a, **change) for a in TWO_TEAMS]  # type: ignore[arg-type]
        outcome = by_id(facts(approvals=stale))["approvals.validation"]
        assert not outcome.met
        assert words in outcome.reason


def test_check_results_on_another_artifact_or_data_or_too_old_never_count() -> None:
    for stale in [
        check("performance.roc_auc", artifact_sha256="b" * 64),
        check("performance.roc_auc", data_fingerprint="d" * 64),
        check("performance.roc_auc", finished_at=NOW - timedelta(days=91)),
    ]:
        outcome = by_id(facts(checks=[stale]))["checks.performance"]
        assert not outcome.met
        assert "1 result(s) ignored" in outcome.reason


def test_the_newest_result_of_a_check_decides() -> None:
    old_pass = check("fairness.dp", True, finished_at=NOW - timedelta(days=5))
    new_fail = check("fairness.dp", False, finished_at=NOW - timedelta(days=1), run_id="run_2")
    outcome = by_id(facts(checks=[old_pass, new_fail]))["checks.fairness"]
    assert not outcome.met
    assert "failed: fairness.dp" in outcome.reason
    assert outcome.evidence == ("run_2",)
    informational = check("fairness.group_table", None)
    alone = by_id(facts(checks=[informational]))["checks.fairness"]
    assert not alone.met and "only informational or skipped" in alone.reason
    passing = check("fairness.dp", True)
    assert by_id(facts(checks=[informational, passing]))["checks.fairness"].met


def test_a_live_waiver_turns_an_unmet_requirement_into_waived() -> None:
    waiver = WaiverFact(
        "waiver:7", "checks.fairness", "fix in Q1", "rita", NOW + timedelta(days=30)
    )
    outcome = by_id(facts(waivers=[waiver]))["checks.fairness"]
    assert outcome.met and outcome.status == "waived"
    assert "Waived by rita until 2026-12-27 (fix in Q1)" in outcome.reason
    expired = replace(waiver, expires_at=NOW - timedelta(seconds=1))
    assert by_id(facts(waivers=[expired]))["checks.fairness"].status == "unmet"


def test_open_findings_block_at_or_above_the_severity() -> None:
    medium = FindingFact("finding:1", "medium", None, "minor")
    high_other_version = FindingFact("finding:2", "critical", 2, "old version")
    high = FindingFact("finding:3", "high", 3, "drift")
    assert by_id(facts(findings=[medium, high_other_version]))["findings.none-open"].met
    outcome = by_id(facts(findings=[medium, high]))["findings.none-open"]
    assert not outcome.met and outcome.evidence == ("finding:3",)


def test_production_needs_a_current_review_and_deployment_approval() -> None:
    overdue = facts(target=Stage.PRODUCTION, next_review_date=date(2026, 11, 1))
    outcomes = by_id(overdue)
    assert "was due on 2026-11-01" in outcomes["review.current"].reason
    officer = approval("rita", {"risk"}, roles={"risk_officer"})
    ok = by_id(facts(target=Stage.PRODUCTION, approvals=[officer]))
    assert ok["approvals.deployment"].met and ok["review.current"].met


def test_missing_documentation_and_assessment_say_how_to_fix_them() -> None:
    f = facts(
        target=Stage.VALIDATION,
        documentation={"title": "x"},
        assessment_id=None,
        assessment_problem=None,
    )
    outcomes = by_id(f)
    assert "steward model update credit --purpose" in outcomes["documentation.inventory"].reason
    assert "steward risk assess credit" in outcomes["risk.assessed"].reason


def test_prohibited_practices_cannot_move_on() -> None:
    outcome = by_id(facts(category="prohibited"))["risk.not-prohibited"]
    assert not outcome.met and "Art. 5" in outcome.reason


def test_every_outcome_carries_its_controls() -> None:
    for outcome in gate.evaluate(PACK, facts()):
        assert outcome.controls and outcome.kind != "lifecycle"


def test_high_risk_production_needs_a_monitor() -> None:
    unmonitored = by_id(facts(target=Stage.PRODUCTION))["monitoring.configured"]
    assert not unmonitored.met
    assert "steward monitor create credit 3" in unmonitored.reason
    watched = by_id(facts(target=Stage.PRODUCTION, monitors=["monitor:mon_1"]))
    assert watched["monitoring.configured"].met
    assert watched["monitoring.configured"].evidence == ("monitor:mon_1",)
    assert "monitoring.configured" not in by_id(facts(target=Stage.PRODUCTION, tier="low"))


# -- lines of defence (issue 12, item 3) ----------------------------------------------------


def test_an_internal_auditor_approval_does_not_count_under_the_shipped_pack() -> None:
    # The attack: the demo's second validator sat in Internal Audit (third line); an auditor
    # approving models breaks audit independence, yet the approval counted.
    wendy = approval("wendy", {"internal-audit"}, lines=(("internal-audit", "third"),))
    outcome = by_id(facts(checks=GOOD_CHECKS, approvals=[TWO_TEAMS[0], wendy]))
    approvals = outcome["approvals.validation"]
    assert not approvals.met
    assert (
        "wendy's team internal-audit is third line (internal audit), which may not approve"
        in approvals.reason
    )
    assert "1 of 2 approval(s)" in approvals.reason


def test_forbidden_lines_win_and_required_lines_name_the_fix() -> None:
    both = approval(
        "wendy",
        {"internal-audit", "model-validation"},
        lines=(("internal-audit", "third"), ("model-validation", "second")),
    )
    first = approval("fred", {"retail"}, lines=(("retail", "first"),))
    unset = approval("uma", {"new-team"}, lines=())
    reason = by_id(facts(checks=GOOD_CHECKS, approvals=[both, first, unset]))[
        "approvals.validation"
    ].reason
    assert "wendy's team internal-audit is third line" in reason
    assert "fred is not in a team of the second line (teams: retail)" in reason
    assert "new-team has no line set" in reason
    assert "`steward team update new-team --line second`" in reason
    # the deployment approval forbids the third line only: a first-line approver still counts
    officer = approval("rita", {"risk"}, roles={"risk_officer"}, lines=(("risk", "first"),))
    auditor = approval("ann", {"audit"}, roles={"approver"}, lines=(("audit", "third"),))
    prod = facts(target=Stage.PRODUCTION, monitors=["mon_1"])
    assert by_id(replace(prod, approvals=[officer]))["approvals.deployment"].met
    assert not by_id(replace(prod, approvals=[auditor]))["approvals.deployment"].met


def test_a_model_scope_finding_on_another_version_blocks_this_one() -> None:
    drift = FindingFact("finding:7", "critical", 2, "PSI 0.41 on income", scope="model")
    local = FindingFact("finding:8", "critical", 2, "Wrong threshold", scope="version")
    assert by_id(facts(findings=[local]))["findings.none-open"].met
    blocked = by_id(facts(findings=[drift, local]))["findings.none-open"]
    assert not blocked.met
    assert "finding:7 (critical, model-wide, opened on version 2)" in blocked.reason
    assert "finding:8" not in blocked.reason
