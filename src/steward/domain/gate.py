"""The gate: evaluate a policy pack's requirements against a snapshot of facts.

The service layer gathers :class:`GateFacts` in one read (model, version, risk
assessment, check results, approvals, findings, waivers) and this module turns
them into one :class:`~steward.domain.lifecycle.Outcome` per applicable
requirement. The same function answers ``steward gate check`` and guards the
real move, so the dry run and the lifecycle can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from steward.domain.findings import SEVERITIES
from steward.domain.lifecycle import Outcome, Stage
from steward.domain.policy import Kind, PolicyPack, RequirementSpec, check_matches


@dataclass(frozen=True)
class CheckFact:
    run_id: str
    suite: str
    name: str
    passed: bool | None
    finished_at: datetime
    artifact_sha256: str
    data_fingerprint: str | None
    uncertain: bool = False  # its confidence interval straddles the threshold


@dataclass(frozen=True)
class ApprovalFact:
    id: int
    approver: str
    decision: str  # "approve" | "reject"
    roles: frozenset[str]
    teams: frozenset[str]
    artifact_sha256: str
    fingerprints: tuple[str | None, str | None]  # (training, evaluation)
    policy: str  # name@version it was given under
    at: datetime
    comment: str = ""
    # (team, line) for each of the approver's teams whose line of defence is set, read when
    # the gate is evaluated: reclassifying a team changes what its members' approvals count.
    lines: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FindingFact:
    id: str
    severity: str
    version: int | None
    title: str
    scope: str = "version"  # "model": blocks every version of the model


@dataclass(frozen=True)
class WaiverFact:
    id: str
    requirement: str
    reason: str
    granted_by: str
    expires_at: datetime


@dataclass(frozen=True)
class DataFact:
    """The registered dataset versions sharing one of the version's data fingerprints."""

    role: str  # training | evaluation
    fingerprint: str
    registered: tuple[str, ...] = ()  # "dataset@version"
    passed: tuple[str, ...] = ()  # those whose quality rules passed
    approved: tuple[str, ...] = ()  # those a data steward approved


@dataclass(frozen=True)
class PersonalDataFact:
    """A registered dataset version of the model version's training data, as the data
    office reviewed its personal data (docs/datasets.md, "Personal data")."""

    ref: str  # dataset@version
    scanned: bool
    unreviewed: tuple[str, ...] = ()  # "column (categories)"
    restricted: bool = False  # classified restricted, or a special category column
    legal_basis: str = ""

    @property
    def problems(self) -> list[str]:
        out = []
        if not self.scanned:
            out.append(
                f"{self.ref} was never scanned for personal data (`steward dataset scan "
                f"{self.ref} --rescan`)"
            )
        if self.unreviewed:
            out.append(
                f"{self.ref} has unreviewed personal-data columns: {', '.join(self.unreviewed)} "
                f"(`steward dataset classify {self.ref} COLUMN --confirm`, or --category … "
                "--reason …)"
            )
        if self.restricted and not self.legal_basis:
            name = self.ref.partition("@")[0]
            command = f'steward dataset update {name} --legal-basis "…"'
            out.append(
                f"{self.ref} holds restricted data without a recorded legal basis (`{command}`)"
            )
        return out


@dataclass(frozen=True)
class GateFacts:
    model: str
    version: int
    target: Stage
    tier: str
    category: str
    owner: str
    version_creator: str
    requester: str | None
    documentation: dict[str, str]
    next_review_date: date | None
    artifact_sha256: str
    fingerprints: tuple[str | None, str | None]  # (training, evaluation)
    now: datetime
    policy: str  # name@version of the active pack
    assessment_id: str | None = None
    assessment_problem: str | None = None  # why the assessment is missing or stale
    impact_id: str | None = None  # the approved impact assessment that counts
    impact_problem: str | None = None  # why there is none, or why it is stale
    checks: Sequence[CheckFact] = ()
    approvals: Sequence[ApprovalFact] = ()
    findings: Sequence[FindingFact] = ()
    waivers: Sequence[WaiverFact] = ()
    monitors: Sequence[str] = ()  # evidence ids of the version's active monitors
    # Members of the model's team when the move was requested (not_model_owner excludes them).
    contributors: frozenset[str] = frozenset()
    data: Sequence[DataFact] = ()  # one per recorded training / evaluation fingerprint
    personal_data: Sequence[PersonalDataFact] = ()  # per registered training dataset version


def evaluate(pack: PolicyPack, facts: GateFacts) -> list[Outcome]:
    """One outcome per requirement that applies to this move and tier, waivers applied."""
    outcomes = []
    for spec in pack.applicable(facts.target, facts.tier):
        outcome = _EVALUATORS[spec.kind](spec, facts)
        outcomes.append(_with_waiver(outcome, facts))
    return outcomes


def _outcome(
    spec: RequirementSpec, met: bool, reason: str, evidence: Sequence[str] = ()
) -> Outcome:
    return Outcome(
        requirement=spec.id,
        met=met,
        reason=reason,
        evidence=tuple(evidence),
        controls=spec.controls,
        kind=spec.kind,
    )


def _with_waiver(outcome: Outcome, facts: GateFacts) -> Outcome:
    if outcome.met:
        return outcome
    for waiver in facts.waivers:
        if waiver.requirement == outcome.requirement and waiver.expires_at > facts.now:
            return Outcome(
                requirement=outcome.requirement,
                met=True,
                reason=(
                    f"Waived by {waiver.granted_by} until {waiver.expires_at:%Y-%m-%d} "
                    f"({waiver.reason}); unmet: {outcome.reason}"
                ),
                evidence=(*outcome.evidence, waiver.id),
                controls=outcome.controls,
                waiver=waiver.id,
                kind=outcome.kind,
            )
    return outcome


def _risk_assessed(spec: RequirementSpec, facts: GateFacts) -> Outcome:
    if facts.assessment_id is None:
        return _outcome(
            spec,
            False,
            facts.assessment_problem
            or (
                f"{facts.model!r} has no risk assessment; answer the questionnaire with "
                f"`steward risk assess {facts.model}`."
            ),
        )
    if facts.assessment_problem:
        return _outcome(spec, False, facts.assessment_problem, [facts.assessment_id])
    return _outcome(
        spec,
        True,
        f"Risk assessment {facts.assessment_id} is current: tier {facts.tier}, "
        f"EU AI Act category {facts.category}.",
        [facts.assessment_id],
    )


def _impact_assessed(spec: RequirementSpec, facts: GateFacts) -> Outcome:
    if facts.impact_id is None or facts.impact_problem:
        return _outcome(
            spec,
            False,
            facts.impact_problem
            or (
                f"{facts.model!r} has no approved impact assessment; its owner submits one "
                f"with `steward impact submit {facts.model} --answers FILE`."
            ),
            [facts.impact_id] if facts.impact_id else [],
        )
    reason = f"Impact assessment {facts.impact_id} is approved and current."
    return _outcome(spec, True, reason, [facts.impact_id])


def _not_prohibited(spec: RequirementSpec, facts: GateFacts) -> Outcome:
    if facts.category == "prohibited":
        return _outcome(
            spec,
            False,
            f"{facts.model!r} is assessed as a practice prohibited by "
            "Art. 5 of the EU AI Act; it may not be validated, approved or deployed.",
        )
    return _outcome(spec, True, f"EU AI Act category is {facts.category}, not prohibited.")


def _documentation(spec: RequirementSpec, facts: GateFacts) -> Outcome:
    missing = [f for f in spec.params["fields"] if not facts.documentation.get(f, "").strip()]
    if missing:
        fix = " ".join(f"--{m.replace('_', '-')} ..." for m in missing)
        return _outcome(
            spec,
            False,
            f"Model record fields not filled in: {', '.join(missing)}. "
            f"Fill them with `steward model update {facts.model} {fix}`.",
        )
    return _outcome(spec, True, f"Filled in: {', '.join(spec.params['fields'])}.")


def _checks_passed(spec: RequirementSpec, facts: GateFacts) -> Outcome:
    within = int(spec.params.get("within_days", 3650))
    since = facts.now - timedelta(days=within)
    evaluation_fp = facts.fingerprints[1]
    on_evaluation = (
        spec.params.get("data", "evaluation" if evaluation_fp else "any") == "evaluation"
    )
    suite = spec.params.get("suite")

    def counts(c: CheckFact) -> bool:
        return (
            c.artifact_sha256 == facts.artifact_sha256
            and c.finished_at >= since
            and (suite is None or c.suite == suite)
            and (not on_evaluation or c.data_fingerprint == evaluation_fp)
        )

    usable = [c for c in facts.checks if counts(c)]
    ignored = len(facts.checks) - len(usable)
    # The latest result of each check decides: a newer failure overrides an older pass.
    latest: dict[str, CheckFact] = {}
    for c in sorted(usable, key=lambda c: c.finished_at):
        latest[c.name] = c
    patterns = list(spec.params.get("checks") or ["*"])
    problems: list[str] = []
    evidence: set[str] = set()
    for pattern in patterns:
        matched = [c for name, c in latest.items() if check_matches(pattern, name)]
        if not matched:
            scope = f"suite {suite!r} " if suite else ""
            problems.append(
                f"no {scope}result for {pattern!r} on this artifact in the last "
                f"{within} days" + (" on the version's evaluation data" if on_evaluation else "")
            )
            continue
        failed = sorted(c.name for c in matched if c.passed is False)
        evidence.update(c.run_id for c in matched)
        uncertain = sorted(c.name for c in matched if c.passed and c.uncertain)
        if failed:
            problems.append(f"failed: {', '.join(failed)}")
        if uncertain and spec.params.get("uncertain") == "block":
            # The pack asks for passes that hold beyond sampling noise.
            problems.append(
                f"failed: {', '.join(uncertain)} passed, but the confidence interval straddles "
                "the threshold (this policy blocks uncertain passes)"
            )
        elif not any(c.passed for c in matched):
            # Informational or skipped results alone prove nothing.
            problems.append(f"no passing result for {pattern!r} (only informational or skipped)")
    if problems:
        any_failed = any(p.startswith("failed:") for p in problems)
        hint = (
            f" ({ignored} result(s) ignored: other artifact, other data or too old)"
            if ignored
            else ""
        )
        return _outcome(
            spec,
            False,
            "Checks not passed — "
            + "; ".join(problems)
            + hint
            + ". "
            + _what_helps(spec, facts, any_failed),
            sorted(evidence),
        )
    return _outcome(
        spec,
        True,
        f"Passed on this artifact within {within} days: {', '.join(patterns)}.",
        sorted(evidence),
    )


def _what_helps(spec: RequirementSpec, facts: GateFacts, failed: bool) -> str:
    """What moves a failed or missing check requirement. Re-running a failed check on the
    same artifact and data gives the same result, so "re-run" alone is no advice."""
    run = f"`steward check run {facts.model} {facts.version} ...`"
    if not failed:
        return f"Run {run}."
    return (
        "Re-running on the same artifact and data gives the same result. Fix what the failed "
        f"check reports (retrain or change the model or its inputs) and run {run} on the new "
        "version; or, if the result is accepted, ask a risk officer for a time-limited waiver: "
        f"`steward waiver grant {facts.model} {facts.version} --requirement {spec.id} "
        "--reason ... --expires YYYY-MM-DD`."
    )


def _line_problem(approval: ApprovalFact, spec: RequirementSpec) -> str | None:
    """Why an approver's line of defence keeps their approval from counting, or None.

    ``forbid_lines`` wins over ``lines``: an auditor who also sits in a validation team is
    still an auditor, and audit independence is what the rule protects.
    """
    from steward.domain.identity import LINES

    forbidden = set(spec.params.get("forbid_lines") or [])
    for team, line in sorted(approval.lines):
        if line in forbidden:
            return (
                f"{approval.approver}'s team {team} is {line} line ({LINES[line]}), "
                "which may not approve"
            )
    wanted = spec.params.get("lines") or []
    if wanted and not any(line in wanted for _, line in approval.lines):
        teams = ", ".join(sorted(approval.teams)) or "no team"
        lined = dict(approval.lines)
        unset = sorted(t for t in approval.teams if t not in lined)
        hint = (
            f"; {', '.join(unset)} has no line set (an admin sets it with "
            f"`steward team update {unset[0]} --line second`)"
            if unset
            else ""
        )
        return (
            f"{approval.approver} is not in a team of the {' or '.join(wanted)} line "
            f"(teams: {teams}){hint}"
        )
    return None


def _independence_problem(
    approval: ApprovalFact, spec: RequirementSpec, facts: GateFacts
) -> str | None:
    rules = spec.params.get("independence") or []
    if "not_version_creator" in rules and approval.approver == facts.version_creator:
        return f"{approval.approver} created version {facts.version}"
    if "not_model_owner" in rules and approval.approver == facts.owner:
        return f"{approval.approver} owns {facts.model!r}"
    if "not_model_owner" in rules and approval.approver in facts.contributors:
        return f"{approval.approver} contributes to {facts.model!r} (a member of its team)"
    if "not_requester" in rules and approval.approver == facts.requester:
        return f"{approval.approver} requested this move"
    return None


@dataclass(frozen=True)
class Binding:
    """What an approval covers: the artifact, the data and the policy it was given under.

    Gates (may this move happen?) and coverage (is the approval evidence current?) both
    judge an approval against the version as it is now with :func:`lapse_reason`.
    """

    artifact_sha256: str
    fingerprints: tuple[str | None, str | None]  # (training, evaluation)
    policy: str


def lapse_reason(approver: str, given: Binding, now: Binding) -> str | None:
    """Why an approval given under ``given`` no longer covers ``now``, or None."""
    if given.artifact_sha256 != now.artifact_sha256:
        return (
            f"the artifact changed since {approver} approved "
            f"({given.artifact_sha256[:12]} -> {now.artifact_sha256[:12]})"
        )
    if given.fingerprints != now.fingerprints:
        return f"the training or evaluation data changed since {approver} approved"
    if given.policy != now.policy:
        return f"{approver} approved under policy {given.policy}, now {now.policy}"
    return None


def approval_lapse(approval: ApprovalFact, facts: GateFacts, policy_ref: str) -> str | None:
    """Why an approval no longer covers the version as it is now, or None."""
    return lapse_reason(
        approval.approver,
        Binding(approval.artifact_sha256, approval.fingerprints, approval.policy),
        Binding(facts.artifact_sha256, facts.fingerprints, policy_ref),
    )


def _approvals(spec: RequirementSpec, facts: GateFacts) -> Outcome:
    policy_ref = facts.policy
    roles = set(spec.params["roles"])
    count = int(spec.params["count"])
    teams_needed = int(spec.params.get("distinct_teams", 0))
    counted: list[ApprovalFact] = []
    notes: list[str] = []
    for approval in facts.approvals:
        if approval.decision != "approve":
            continue
        lapse = approval_lapse(approval, facts, policy_ref)
        if lapse:
            notes.append(f"approval by {approval.approver} lapsed: {lapse}")
            continue
        if not roles & approval.roles:
            notes.append(f"{approval.approver} does not hold {' or '.join(sorted(roles))}")
            continue
        conflict = _independence_problem(approval, spec, facts)
        if conflict:
            notes.append(f"{approval.approver} is not independent: {conflict}")
            continue
        line_problem = _line_problem(approval, spec)
        if line_problem:
            notes.append(line_problem)
            continue
        counted.append(approval)
    teams = set().union(*(a.teams for a in counted)) if counted else set()
    evidence = [f"approval:{a.id}" for a in counted]
    have = f"{len(counted)} of {count} approval(s) from {' or '.join(sorted(roles))}"
    problems = []
    if len(counted) < count:
        problems.append(f"{have}")
    if teams_needed and len(_distinct_teams(counted)) < teams_needed:
        problems.append(
            f"approvers span {len(teams)} team(s), {teams_needed} needed (segregation of duties)"
        )
    if problems:
        detail = f" ({'; '.join(notes)})" if notes else ""
        return _outcome(
            spec,
            False,
            "Approvals missing — "
            + "; ".join(problems)
            + detail
            + ". An eligible reviewer approves with "
            "`steward approvals approve REQUEST_ID`.",
            evidence,
        )
    span = f" from {len(teams)} teams" if teams_needed else ""
    return _outcome(
        spec, True, f"{have}{span}: {', '.join(a.approver for a in counted)}.", evidence
    )


def _distinct_teams(approvals: list[ApprovalFact]) -> set[str]:
    """The most teams the approvals can represent, one team per approver.

    An approver on two teams must not count for both: a greedy assignment over
    approvers with the fewest teams first gives the maximum for these sizes.
    """
    chosen: set[str] = set()
    for approval in sorted(approvals, key=lambda a: (len(a.teams), a.approver)):
        free = sorted(approval.teams - chosen)
        if free:
            chosen.add(free[0])
    return chosen


def _no_open_findings(spec: RequirementSpec, facts: GateFacts) -> Outcome:
    floor = SEVERITIES.index(spec.params["severity_at_least"])
    blocking = [
        f
        for f in facts.findings
        if f.severity in SEVERITIES
        and SEVERITIES.index(f.severity) >= floor
        # A model-scope finding (drift, data) is about every version serving the population.
        and (f.scope == "model" or f.version is None or f.version == facts.version)
    ]
    if blocking:
        listed = "; ".join(
            f"{f.id} ({f.severity}"
            + (
                f", model-wide, opened on version {f.version}"
                if f.scope == "model" and f.version not in (None, facts.version)
                else ""
            )
            + f"): {f.title}"
            for f in blocking[:5]
        )
        return _outcome(
            spec,
            False,
            f"{len(blocking)} open finding(s) at or above "
            f"{spec.params['severity_at_least']}: {listed}. Resolve them or have a "
            "risk officer accept them.",
            [f.id for f in blocking],
        )
    return _outcome(spec, True, f"No open finding at or above {spec.params['severity_at_least']}.")


def _review_current(spec: RequirementSpec, facts: GateFacts) -> Outcome:
    due = facts.next_review_date
    if due is not None and due < facts.now.date():
        return _outcome(
            spec,
            False,
            f"The periodic review of {facts.model!r} was due on "
            f"{due.isoformat()}; a validator completes it with "
            f"`steward review complete {facts.model}`.",
        )
    when = f"next due {due.isoformat()}" if due else "no review date set yet"
    return _outcome(spec, True, f"Periodic review not overdue ({when}).")


def _monitor_configured(spec: RequirementSpec, facts: GateFacts) -> Outcome:
    if facts.monitors:
        return _outcome(
            spec, True, f"Monitored: {', '.join(facts.monitors)}.", list(facts.monitors)
        )
    return _outcome(
        spec,
        False,
        f"Version {facts.version} of {facts.model!r} has no active monitor; configure one "
        f"before it goes live with `steward monitor create {facts.model} {facts.version} "
        "--reference REFERENCE.parquet ...`.",
    )


def judge_data(
    data: Sequence[DataFact], model: str, version: int, attr: str, what: str, fix: str
) -> tuple[bool, str, list[str]]:
    """Each recorded dataset of the version must have a registered version that is ``attr``
    (registered, passed, approved): met, the reason, the dataset versions it rests on. The
    gate's data requirements and compliance coverage's data evidence both judge by it."""
    if not data:
        return (
            False,
            f"Version {version} of {model!r} records no training or evaluation "
            "data; log it with the version (`training_data=`, `evaluation_data=`).",
            [],
        )
    missing = [d for d in data if not getattr(d, attr)]
    if missing:
        listed = "; ".join(
            f"its {d.role} data ({d.fingerprint[:12]})"
            + (f" is {', '.join(d.registered)}, not {what}" if d.registered else " is unregistered")
            for d in missing
        )
        return False, f"{listed}. {fix}", [r for d in missing for r in d.registered]
    found = [r for d in data for r in getattr(d, attr)]
    return (
        True,
        "; ".join(f"{d.role} data: {', '.join(getattr(d, attr))} {what}" for d in data) + ".",
        found,
    )


# What each data requirement asks of the registered versions: (attribute, what, fix).
DATA_REGISTERED = (
    "registered",
    "registered",
    "Register the dataset and snapshot these rows (`steward dataset snapshot NAME "
    "--data FILE`): the fingerprints then match.",
)
DATA_QUALITY_PASSED = (
    "passed",
    "passing its quality rules",
    "Set the dataset's rules (`steward dataset rules NAME --file rules.yaml`) and "
    "snapshot data that passes them.",
)
DATA_APPROVED = (
    "approved",
    "approved by a data steward",
    "A data steward who does not own the dataset approves it with "
    "`steward dataset approve NAME@VERSION`.",
)


def _data(spec: RequirementSpec, facts: GateFacts, judged: tuple[str, str, str]) -> Outcome:
    met, detail, refs = judge_data(facts.data, facts.model, facts.version, *judged)
    return _outcome(spec, met, detail, refs)


def _data_registered(spec: RequirementSpec, facts: GateFacts) -> Outcome:
    return _data(spec, facts, DATA_REGISTERED)


def _data_quality_passed(spec: RequirementSpec, facts: GateFacts) -> Outcome:
    return _data(spec, facts, DATA_QUALITY_PASSED)


def _data_approved(spec: RequirementSpec, facts: GateFacts) -> Outcome:
    return _data(spec, facts, DATA_APPROVED)


def judge_personal_data(
    personal_data: Sequence[PersonalDataFact],
    training_fingerprint: str | None,
    model: str,
    version: int,
) -> tuple[bool, str, list[str]]:
    """Some registered version of the training data has every personal-data column reviewed
    and, when it is restricted, a recorded legal basis: met, the reason, the dataset
    versions it rests on. The gate's ``personal_data_reviewed`` and compliance coverage's
    personal-data evidence both judge by it."""
    if training_fingerprint is None:
        return (
            False,
            f"Version {version} of {model!r} records no training data; log it "
            "with the version (`training_data=`).",
            [],
        )
    if not personal_data:
        return (
            False,
            f"Its training data ({training_fingerprint[:12]}) is unregistered, so nobody has "
            "reviewed its personal data. Register the dataset and snapshot these rows "
            "(`steward dataset snapshot NAME --data FILE`), then review its columns.",
            [],
        )
    good = [f.ref for f in personal_data if not f.problems]
    if good:
        return True, f"training data: {', '.join(good)} personal data reviewed.", good
    problems = [p for f in personal_data for p in f.problems]
    return False, "; ".join(problems) + ".", [f.ref for f in personal_data]


def _personal_data_reviewed(spec: RequirementSpec, facts: GateFacts) -> Outcome:
    met, detail, refs = judge_personal_data(
        facts.personal_data, facts.fingerprints[0], facts.model, facts.version
    )
    return _outcome(spec, met, detail, refs)


_EVALUATORS: dict[str, Callable[[RequirementSpec, GateFacts], Outcome]] = {
    Kind.RISK_ASSESSED: _risk_assessed,
    Kind.NOT_PROHIBITED: _not_prohibited,
    Kind.DOCUMENTATION: _documentation,
    Kind.CHECKS_PASSED: _checks_passed,
    Kind.APPROVALS: _approvals,
    Kind.NO_OPEN_FINDINGS: _no_open_findings,
    Kind.REVIEW_CURRENT: _review_current,
    Kind.MONITOR_CONFIGURED: _monitor_configured,
    Kind.DATA_REGISTERED: _data_registered,
    Kind.DATA_QUALITY_PASSED: _data_quality_passed,
    Kind.DATA_APPROVED: _data_approved,
    Kind.PERSONAL_DATA_REVIEWED: _personal_data_reviewed,
    Kind.IMPACT_ASSESSED: _impact_assessed,
}
