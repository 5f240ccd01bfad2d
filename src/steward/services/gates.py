"""Gate evaluation: gather the facts for one move and apply the active policy pack.

``report_in_uow`` is the single implementation behind `steward gate check`,
transition requests, approvals and direct transitions.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from steward.domain import gate, lifecycle
from steward.domain.entities import ModelVersion
from steward.domain.errors import IllegalTransition
from steward.domain.gate import ApprovalFact, CheckFact, FindingFact, GateFacts, WaiverFact
from steward.domain.lifecycle import SEND_BACK, Stage, TransitionRequest
from steward.domain.permissions import Permission, Principal, ensure
from steward.domain.policy import Kind, PolicyPack
from steward.domain.requests import GateReport, Verdict
from steward.services import policies
from steward.services.access import request_holders
from steward.services.context import Context, version_row_id
from steward.store.uow import UnitOfWork

NO_POLICY = "none"


def check_gate(ctx: Context, principal: Principal, model: str, version: int, to: str) -> GateReport:
    """What `steward gate check` prints: would this move be allowed now, and why.

    A governance record (it names open findings, approvers and waivers), so it needs a role.
    """
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        mid, vid = version_row_id(uow, model, version)
        request = _request(uow, vid, model, version, to, principal.name, "gate check")
        return report_in_uow(uow, ctx, request, mid, vid)


def _request(
    uow: UnitOfWork, vid: int, model: str, version: int, to: str, actor: str, why: str
) -> TransitionRequest:
    current = Stage(uow.versions.row_by_id(vid)["stage"])
    return lifecycle.make_request(
        model=model, version=version, current=current, target=to, actor=actor, justification=why
    )


def report_in_uow(
    uow: UnitOfWork,
    ctx: Context,
    request: TransitionRequest,
    mid: int,
    vid: int,
    *,
    request_id: str | None = None,
    requester: str | None = None,
) -> GateReport:
    """Evaluate the state machine, the active pack and any extra requirements."""
    pack = policies.active_pack(uow)
    if request_id is None:
        request_id = uow.requests.open_for(vid, request.target)
    outcomes: list[lifecycle.Outcome] = []
    machine = lifecycle.state_machine(request)
    if machine.met and pack is not None and SEND_BACK.get(request.current) != request.target:
        facts = gather_facts(uow, pack, request, mid, vid, request_id, requester)
        outcomes = gate.evaluate(pack, facts)
    decision = lifecycle.evaluate(request, ctx.requirements, outcomes)
    return GateReport(
        model=request.model,
        version=request.version,
        from_stage=request.current,
        to_stage=request.target,
        allowed=decision.allowed,
        policy=None if pack is None else pack.ref,
        outcomes=list(decision.outcomes),
        request=request_id,
    )


def gather_facts(
    uow: UnitOfWork,
    pack: PolicyPack,
    request: TransitionRequest,
    mid: int,
    vid: int,
    request_id: str | None,
    requester: str | None,
) -> GateFacts:
    model_row = uow.models.row(request.model)
    assert model_row is not None
    version_row = uow.versions.row_by_id(vid)
    version = uow.versions.hydrate([version_row])[0]
    kinds = {r.kind for r in pack.applicable(request.target, str(model_row["risk_tier"]))}
    facts: dict[str, Any] = {}
    if Kind.RISK_ASSESSED in kinds:
        facts.update(_assessment(uow, mid))
    if Kind.IMPACT_ASSESSED in kinds:
        from steward.services import impact

        found, why = impact.status_in_uow(uow, mid)
        facts["impact_id"] = None if found is None else found.id
        facts["impact_problem"] = why
    if Kind.CHECKS_PASSED in kinds:
        facts["checks"] = [_check_fact(row) for row in uow.check_runs.facts(vid)]
    owner = str(model_row["owner"])
    if Kind.APPROVALS in kinds and request_id is not None:
        facts["approvals"] = approval_facts(uow, request_id)
        row = uow.requests.row(request_id)
        requester = requester or (None if row is None else str(row["requested_by"]))
        owner, facts["contributors"] = request_holders(uow, row, request.model)
    if Kind.NO_OPEN_FINDINGS in kinds:
        facts["findings"] = [
            FindingFact(
                id=f"finding:{f.id}",
                severity=str(f.severity),
                version=f.version,
                title=f.title,
                scope=f.scope,
            )
            for f in uow.findings.open_for_model(mid)
        ]
    if kinds & {Kind.DATA_REGISTERED, Kind.DATA_QUALITY_PASSED, Kind.DATA_APPROVED}:
        from steward.services import datasets

        facts["data"] = datasets.gate_facts(uow, version_row)
    if Kind.PERSONAL_DATA_REVIEWED in kinds:
        from steward.services import personal_data

        facts["personal_data"] = personal_data.gate_facts(uow, version_row)
    if Kind.MONITOR_CONFIGURED in kinds:
        from steward.services import monitoring

        facts["monitors"] = monitoring.monitored_versions(uow, vid)
    facts["waivers"] = [
        WaiverFact(
            id=f"waiver:{w.id}",
            requirement=w.requirement,
            reason=w.reason,
            granted_by=w.granted_by,
            expires_at=w.expires_at,
        )
        for w in uow.waivers.active_for_version(vid, uow.now)
    ]
    return GateFacts(
        model=request.model,
        version=request.version,
        target=request.target,
        tier=str(model_row["risk_tier"]),
        category=str(model_row["regulatory_category"]),
        owner=owner,
        version_creator=version.created_by,
        requester=requester,
        documentation={
            f: str(model_row[f] or "")
            for f in ("title", "description", "purpose", "business_unit", "owner", "team")
        },
        next_review_date=model_row["next_review_date"],
        artifact_sha256=version.artifact.sha256,
        fingerprints=fingerprints(version),
        now=uow.now,
        policy=pack.ref,
        **facts,
    )


def _check_fact(row: Any) -> CheckFact:
    values = dict(row)
    details = values.pop("details", None)
    uncertain = isinstance(details, dict) and details.get("uncertain") is True
    return CheckFact(**values, uncertain=uncertain)


def fingerprints(version: ModelVersion) -> tuple[str | None, str | None]:
    """(training, evaluation) dataset fingerprints: part of what approvals bind to."""
    training, evaluation = version.training_data, version.evaluation_data
    return (
        training.fingerprint if training else None,
        evaluation.fingerprint if evaluation else None,
    )


def _assessment(uow: UnitOfWork, mid: int) -> dict[str, Any]:
    from steward.services import risk  # type: ignore[attr-defined,unused-ignore]

    assessment, problem = risk.assessment_status(uow, mid)
    return {
        "assessment_id": None if assessment is None else str(assessment.id),
        "assessment_problem": problem,
    }


def approval_facts(uow: UnitOfWork, request_id: str) -> list[ApprovalFact]:
    given = [
        a
        for a in uow.requests.approvals([request_id]).get(request_id, [])
        if a.decision is Verdict.APPROVE
    ]
    # The teams recorded with each approval, judged by the line each team is in now.
    lines = uow.teams.lines({team for a in given for team in a.teams})
    return [
        ApprovalFact(
            id=a.id,
            approver=a.approver,
            decision=a.decision.value,
            roles=frozenset(a.roles),
            teams=frozenset(a.teams),
            artifact_sha256=a.artifact_sha256,
            fingerprints=(a.training_fingerprint, a.evaluation_fingerprint),
            policy=a.policy,
            at=a.at,
            comment=a.comment,
            lines=tuple(
                sorted((team, line) for team in a.teams if (line := lines.get(team)) is not None)
            ),
        )
        for a in given
    ]


def refuse(report: GateReport) -> IllegalTransition:
    """The error a refused move raises: every unmet requirement with its reason."""
    unmet = [o for o in report.outcomes if not o.met]
    lines = " ".join(f"[{o.requirement}] {o.reason}" for o in unmet)
    return IllegalTransition(
        f"Version {report.version} of {report.model!r} cannot move to "
        f"{report.to_stage.value}: {lines}",
        current=report.from_stage.value,
        target=report.to_stage.value,
        allowed=[s.value for s in lifecycle.ALLOWED[report.from_stage]],
        policy=report.policy,
        requirements=[outcome_json(o) for o in report.outcomes],
    )


def outcome_json(outcome: lifecycle.Outcome) -> dict[str, Any]:
    data = asdict(outcome)
    data["evidence"] = list(outcome.evidence)
    data["controls"] = list(outcome.controls)
    data["status"] = outcome.status
    return data
