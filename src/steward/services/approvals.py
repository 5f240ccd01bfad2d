"""Transition requests and approvals: request a move, collect decisions, apply when met.

Every decision binds to what it covers (artifact hash, dataset fingerprints,
policy version), so an approval lapses when any of them changes. Decisions on
one request are serialised by the model's row lock: two validators approving
at the same moment produce exactly one applied transition.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from steward.domain import lifecycle
from steward.domain.audit import Action
from steward.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from steward.domain.lifecycle import SEND_BACK, Stage
from steward.domain.permissions import Permission, Principal, ensure
from steward.domain.policy import Kind, PolicyPack, RequirementSpec
from steward.domain.requests import (
    GateReport,
    RequestResult,
    RequestStatus,
    TransitionRequest,
    Verdict,
)
from steward.services import gates, policies
from steward.services.access import contributors, ensure_model, request_holders
from steward.services.context import Context, model_id, version_row_id
from steward.services.lifecycle import apply_in_uow, approval_json, record_gate_failure
from steward.store.uow import UnitOfWork

MAX_COMMENT = 4000


def request_transition(
    ctx: Context, principal: Principal, model: str, version: int, to: str, justification: str
) -> RequestResult:
    """Open a request for a move; it applies at once if the gate is already satisfied."""
    ensure(principal, Permission.APPROVAL_REQUEST)
    with ctx.uow.write() as uow:
        mid = model_id(uow, model)
        uow.models.lock(mid)
        scope = ensure_model(uow, principal, Permission.APPROVAL_REQUEST, model)
        _mid, vid = version_row_id(uow, model, version)
        current = Stage(uow.versions.row_by_id(vid)["stage"])
        move = lifecycle.make_request(
            model=model,
            version=version,
            current=current,
            target=to,
            actor=principal.name,
            justification=justification,
        )
        lifecycle.ensure_allowed(lifecycle.Decision(move, (lifecycle.state_machine(move),)))
        for open_id in uow.requests.open_ids_for_version(vid):
            raise Conflict(
                f"Request {open_id} for version {version} of {model!r} is still open; decide "
                f"or withdraw it first (`steward approvals withdraw {open_id}`).",
                request=open_id,
            )
        request_id = "req_" + secrets.token_hex(8)
        uow.requests.insert(
            {
                "id": request_id,
                "version_id": vid,
                "from_stage": current.value,
                "to_stage": move.target.value,
                "justification": move.justification,
                "requested_by": principal.name,
                "requested_at": uow.now,
                "status": RequestStatus.OPEN.value,
                "model_owner": scope.owner,
                "contributors": contributors(uow, scope),
            }
        )
        report = gates.report_in_uow(
            uow, ctx, move, mid, vid, request_id=request_id, requester=principal.name
        )
        uow.record(
            principal.name,
            Action.TRANSITION_REQUESTED,
            "request",
            request_id,
            {
                "model": model,
                "version": version,
                "from": current.value,
                "to": move.target.value,
                "justification": move.justification,
                "policy": report.policy,
                "unmet": [o.requirement for o in report.outcomes if not o.met],
            },
        )
        applied = report.allowed
        if applied:
            _apply(uow, ctx, principal.name, request_id, move, mid, vid, report)
        result = RequestResult(_get(uow, request_id), report, applied)
        uow.commit()
    return result


def approve(
    ctx: Context, principal: Principal, request_id: str, comment: str = ""
) -> RequestResult:
    return decide(ctx, principal, request_id, Verdict.APPROVE, comment)


def reject(ctx: Context, principal: Principal, request_id: str, comment: str) -> RequestResult:
    return decide(ctx, principal, request_id, Verdict.REJECT, comment)


def decide(
    ctx: Context, principal: Principal, request_id: str, verdict: Verdict, comment: str
) -> RequestResult:
    try:
        ensure(principal, Permission.APPROVAL_DECIDE)
    except Forbidden as refused:
        if not principal.anonymous:
            _record_denial(ctx, principal, request_id, verdict, refused)
        raise
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"The comment is longer than {MAX_COMMENT} characters.", field="comment")
    if verdict is Verdict.REJECT and not comment:
        raise InvalidInput("A rejection needs a comment: say what must change.", field="comment")
    try:
        with ctx.uow.write() as uow:
            result = _decide_in_uow(uow, ctx, principal, request_id, verdict, comment)
            uow.commit()
        return result
    except _Denied as denied:
        _record_denial(ctx, principal, request_id, verdict, denied.error)
        raise denied.error from None


@dataclass
class _Denied(Exception):
    error: Forbidden | Conflict


def _decide_in_uow(
    uow: UnitOfWork,
    ctx: Context,
    principal: Principal,
    request_id: str,
    verdict: Verdict,
    comment: str,
) -> RequestResult:
    row = uow.requests.row(request_id)
    if row is None:
        raise NotFound(
            f"No transition request {request_id!r}. See open ones with "
            "`steward approvals inbox` or `steward approvals list`.",
            request=request_id,
        )
    version_row = uow.versions.row_by_id(int(row["version_id"]))
    mid, vid = int(version_row["model_id"]), int(row["version_id"])
    uow.models.lock(mid)
    row = uow.requests.row(request_id)  # re-read under the lock
    assert row is not None
    request = _get(uow, request_id)
    if row["status"] != RequestStatus.OPEN.value:
        raise _Denied(
            Conflict(
                f"Request {request_id} is already {row['status']}"
                f"{' by ' + row['closed_by'] if row['closed_by'] else ''}; "
                "nothing left to decide.",
                request=request_id,
                # not "status": problem+json reserves that member for the HTTP status
                request_status=row["status"],
            )
        )
    if uow.requests.has_decided(request_id, principal.name):
        raise _Denied(
            Conflict(
                f"{principal.name} has already decided on request {request_id}; "
                "each person decides once.",
                request=request_id,
            )
        )
    version = uow.versions.hydrate([version_row])[0]
    model_row = uow.models.row(request.model)
    assert model_row is not None
    pack = policies.active_pack(uow)
    specs = _approval_specs(pack, request.to_stage, str(model_row["risk_tier"]))
    user = uow.users.get(principal.name)
    if user is None or not user.active:
        raise _Denied(
            Forbidden(
                f"{principal.name} is not an active Steward user, so their decision cannot "
                "carry roles; an admin creates users with `steward user create`."
            )
        )
    owner, team = request_holders(uow, row, request.model)
    _ensure_independent(principal.name, request, version.created_by, owner, team, specs)
    eligible = {role for spec in specs for role in spec.params["roles"]}
    if eligible and not eligible & set(user.roles):
        raise _Denied(
            Forbidden(
                f"Requests to move a {model_row['risk_tier']}-tier model to "
                f"{request.to_stage.value} are decided by {' or '.join(sorted(eligible))}; "
                f"{principal.name} holds {', '.join(sorted(user.roles)) or 'no role'}.",
                request=request_id,
            )
        )
    training, evaluation = gates.fingerprints(version)
    event = uow.record(
        principal.name,
        Action.APPROVAL_GIVEN if verdict is Verdict.APPROVE else Action.APPROVAL_REJECTED,
        "request",
        request_id,
        {
            "model": request.model,
            "version": request.version,
            "to": request.to_stage.value,
            "decision": verdict.value,
            "comment": comment,
            "roles": sorted(user.roles),
            "teams": sorted(user.teams),
            "artifact_sha256": version.artifact.sha256,
            "training_fingerprint": training,
            "evaluation_fingerprint": evaluation,
            "policy": pack.ref if pack else gates.NO_POLICY,
        },
    )
    uow.requests.add_approval(
        {
            "request_id": request_id,
            "approver": principal.name,
            "decision": verdict.value,
            "comment": comment,
            "roles": sorted(user.roles),
            "teams": sorted(user.teams),
            "artifact_sha256": version.artifact.sha256,
            "training_fingerprint": training,
            "evaluation_fingerprint": evaluation,
            "policy": pack.ref if pack else gates.NO_POLICY,
            "at": uow.now,
            "audit_seq": event.seq,
        }
    )
    move = lifecycle.make_request(
        model=request.model,
        version=request.version,
        current=Stage(version_row["stage"]),
        target=request.to_stage,
        actor=request.requested_by,
        justification=request.justification,
    )
    if verdict is Verdict.REJECT:
        _close_rejected(uow, ctx, principal, request, move, mid, vid, comment)
        report = gates.report_in_uow(uow, ctx, move, mid, vid, request_id=request_id)
        return RequestResult(_get(uow, request_id), report, False)
    report = gates.report_in_uow(uow, ctx, move, mid, vid, request_id=request_id)
    if report.allowed:
        _apply(uow, ctx, principal.name, request_id, move, mid, vid, report)
    return RequestResult(_get(uow, request_id), report, report.allowed)


def _approval_specs(pack: PolicyPack | None, target: Stage, tier: str) -> list[RequirementSpec]:
    if pack is None:
        return []
    return [r for r in pack.applicable(target, tier) if r.kind == Kind.APPROVALS]


def _ensure_independent(
    actor: str,
    request: TransitionRequest,
    creator: str,
    owner: str,
    team: frozenset[str],
    specs: list[RequirementSpec],
) -> None:
    """Segregation of duties: nobody approves their own work.

    ``owner`` and ``team`` are who held the model when the move was requested, so
    handing the model to someone else afterwards does not make its owner independent.
    """
    rules = {rule for spec in specs for rule in spec.params.get("independence") or []}
    reason = None
    if actor == creator:
        reason = f"{actor} created version {request.version}"
    elif actor == request.requested_by:
        reason = f"{actor} requested this move"
    elif actor == owner and "not_model_owner" in rules:
        reason = f"{actor} owned {request.model!r} when the move was requested"
    elif actor in team and "not_model_owner" in rules:
        reason = f"{actor} was in the team holding {request.model!r} when the move was requested"
    if reason:
        raise _Denied(
            Forbidden(
                f"Segregation of duties: {reason}, so they cannot decide request {request.id}. "
                "Ask an independent reviewer (`steward approvals inbox` shows them what waits).",
                request=request.id,
            )
        )


def _close_rejected(
    uow: UnitOfWork,
    ctx: Context,
    principal: Principal,
    request: TransitionRequest,
    move: lifecycle.TransitionRequest,
    mid: int,
    vid: int,
    comment: str,
) -> None:
    uow.requests.close(request.id, RequestStatus.REJECTED, principal.name, uow.now, comment)
    back = SEND_BACK.get(move.current)
    if back is None:
        return
    send_back = lifecycle.make_request(
        model=move.model,
        version=move.version,
        current=move.current,
        target=back,
        actor=principal.name,
        justification=f"Rejected by {principal.name}: {comment}",
    )
    apply_in_uow(uow, ctx, principal.name, mid, vid, send_back, caused_by=request.id)


def _apply(
    uow: UnitOfWork,
    ctx: Context,
    actor: str,
    request_id: str,
    move: lifecycle.TransitionRequest,
    mid: int,
    vid: int,
    report: GateReport,
) -> None:
    approvals = [
        approval_json(a)
        for a in uow.requests.approvals([request_id]).get(request_id, [])
        if a.decision is Verdict.APPROVE
    ]
    apply_in_uow(
        uow,
        ctx,
        actor,
        mid,
        vid,
        move,
        caused_by=request_id,
        approvals=approvals,
        policy=report.policy,
    )
    uow.requests.close(request_id, RequestStatus.APPLIED, actor, uow.now, "gate satisfied; applied")


def _record_denial(
    ctx: Context,
    principal: Principal,
    request_id: str,
    verdict: Verdict,
    error: Forbidden | Conflict,
) -> None:
    """Refused decisions are journaled: an auditor sees who tried to approve what."""
    with ctx.uow.write() as uow:
        uow.record(
            principal.name,
            Action.APPROVAL_DENIED,
            "request",
            request_id,
            {"decision": verdict.value, "reason": error.detail},
        )
        uow.commit()


def withdraw(
    ctx: Context, principal: Principal, request_id: str, reason: str = ""
) -> TransitionRequest:
    ensure(principal, Permission.APPROVAL_REQUEST)
    with ctx.uow.write() as uow:
        request = _get(uow, request_id)
        if request.status is not RequestStatus.OPEN:
            raise Conflict(f"Request {request_id} is already {request.status.value}.")
        if request.requested_by != principal.name and not _is_admin(uow, principal):
            raise Forbidden(
                f"Only {request.requested_by} (who asked) or an admin may withdraw request "
                f"{request_id}."
            )
        uow.requests.close(
            request_id, RequestStatus.WITHDRAWN, principal.name, uow.now, reason or "withdrawn"
        )
        uow.record(
            principal.name,
            Action.REQUEST_WITHDRAWN,
            "request",
            request_id,
            {"model": request.model, "version": request.version, "reason": reason},
        )
        result = _get(uow, request_id)
        uow.commit()
    return result


def _is_admin(uow: UnitOfWork, principal: Principal) -> bool:
    if "operator" in principal.roles or "admin" in principal.roles:
        return True
    user = uow.users.get(principal.name)
    return user is not None and "admin" in user.roles


def apply_request(ctx: Context, principal: Principal, request_id: str) -> RequestResult:
    """Re-evaluate an open request (e.g. after checks landed) and apply it if the gate passes."""
    ensure(principal, Permission.APPROVAL_REQUEST)
    failed: GateReport | None = None
    with ctx.uow.write() as uow:
        request = _get(uow, request_id)
        if request.status is not RequestStatus.OPEN:
            raise Conflict(f"Request {request_id} is already {request.status.value}.")
        mid, vid = version_row_id(uow, request.model, request.version)
        uow.models.lock(mid)
        ensure_model(uow, principal, Permission.APPROVAL_REQUEST, request.model)
        move = lifecycle.make_request(
            model=request.model,
            version=request.version,
            current=Stage(uow.versions.row_by_id(vid)["stage"]),
            target=request.to_stage,
            actor=request.requested_by,
            justification=request.justification,
        )
        report = gates.report_in_uow(uow, ctx, move, mid, vid, request_id=request_id)
        if report.allowed:
            _apply(uow, ctx, principal.name, request_id, move, mid, vid, report)
            result = RequestResult(_get(uow, request_id), report, True)
            uow.commit()
            return result
        failed = report
    record_gate_failure(ctx, principal.name, failed)
    raise gates.refuse(failed)


def get_request(ctx: Context, principal: Principal, request_id: str) -> RequestResult:
    """A request with the gate as it stands now."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        request = _get(uow, request_id)
        return RequestResult(
            request, _report(uow, ctx, request), request.status is RequestStatus.APPLIED
        )


def list_requests(
    ctx: Context,
    principal: Principal,
    *,
    status: str | None = None,
    model: str | None = None,
    limit: int = 100,
) -> list[TransitionRequest]:
    ensure(principal, Permission.GOVERNANCE_READ)
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000.", field="limit")
    wanted = None
    if status is not None:
        try:
            wanted = RequestStatus(status)
        except ValueError:
            known = ", ".join(s.value for s in RequestStatus)
            raise InvalidInput(f"Unknown status {status!r}; use one of {known}.") from None
    with ctx.uow.read() as uow:
        mid = None if model is None else model_id(uow, model)
        return uow.requests.search(status=wanted, model_id=mid, limit=limit)


def inbox(ctx: Context, principal: Principal) -> list[RequestResult]:
    """Open requests this person may decide now, with the gate beside each."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        user = uow.users.get(principal.name)
        roles = set(user.roles) if user is not None and user.active else set()
        pack = policies.active_pack(uow)
        items: list[RequestResult] = []
        for request in uow.requests.search(status=RequestStatus.OPEN, limit=1000):
            if any(a.approver == principal.name for a in request.approvals):
                continue
            _mid, vid = version_row_id(uow, request.model, request.version)
            model_row = uow.models.row(request.model)
            assert model_row is not None
            version = uow.versions.hydrate([uow.versions.row_by_id(vid)])[0]
            specs = _approval_specs(pack, request.to_stage, str(model_row["risk_tier"]))
            eligible = {role for spec in specs for role in spec.params["roles"]}
            if eligible and not eligible & roles:
                continue
            if not eligible and not roles & {"validator", "risk_officer", "approver", "admin"}:
                continue
            owner, team = request_holders(uow, uow.requests.row(request.id), request.model)
            try:
                _ensure_independent(principal.name, request, version.created_by, owner, team, specs)
            except _Denied:
                continue
            items.append(RequestResult(request, _report(uow, ctx, request), False))
        return items


def _report(uow: UnitOfWork, ctx: Context, request: TransitionRequest) -> GateReport:
    mid, vid = version_row_id(uow, request.model, request.version)
    current = Stage(uow.versions.row_by_id(vid)["stage"])
    move = lifecycle.make_request(
        model=request.model,
        version=request.version,
        current=current,
        target=request.to_stage,
        actor=request.requested_by,
        justification=request.justification,
    )
    return gates.report_in_uow(uow, ctx, move, mid, vid, request_id=request.id)


def _get(uow: UnitOfWork, request_id: str) -> TransitionRequest:
    found = uow.requests.search(request_id=request_id, limit=1)
    if not found:
        raise NotFound(
            f"No transition request {request_id!r}. See open ones with "
            "`steward approvals inbox` or `steward approvals list`.",
            request=request_id,
        )
    return found[0]
