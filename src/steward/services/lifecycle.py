"""Lifecycle use cases: request -> evaluate -> apply, and history as of a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from steward.domain import lifecycle
from steward.domain.audit import Action, AuditFilter, format_time, parse_time
from steward.domain.entities import HistoryEntry, Transition, TransitionResult
from steward.domain.errors import InvalidInput
from steward.domain.lifecycle import INITIAL, Decision, Stage
from steward.domain.permissions import Permission, Principal, ensure
from steward.domain.requests import Approval, GateReport, RequestStatus
from steward.services import gates
from steward.services.access import ensure_model
from steward.services.context import Context, model_id, version_row_id
from steward.store.uow import UnitOfWork


def _request(
    uow: UnitOfWork, principal: Principal, model: str, version: int, to: str, justification: str
) -> tuple[int, int, lifecycle.TransitionRequest]:
    mid, vid = version_row_id(uow, model, version)
    current = Stage(uow.versions.row_by_id(vid)["stage"])
    request = lifecycle.make_request(
        model=model,
        version=version,
        current=current,
        target=to,
        actor=principal.name,
        justification=justification,
    )
    return mid, vid, request


def transition(
    ctx: Context, principal: Principal, model: str, version: int, to: str, justification: str
) -> TransitionResult:
    """Apply a move now if the gate allows it; otherwise refuse, naming each unmet requirement.

    Approvals collected on an open request for the same move count; applying the
    move closes that request.
    """
    ensure(principal, Permission.VERSION_TRANSITION)
    refused: GateReport | None = None
    with ctx.uow.write() as uow:
        # Lock first: the current stage must be read under the model's lock, or two
        # concurrent moves of one version would both start from the same stage.
        uow.models.lock(model_id(uow, model))
        ensure_model(uow, principal, Permission.VERSION_TRANSITION, model)
        mid, vid, request = _request(uow, principal, model, version, to, justification)
        report = gates.report_in_uow(uow, ctx, request, mid, vid)
        if report.allowed:
            result = apply_in_uow(uow, ctx, principal.name, mid, vid, request, caused_by=None)
            if report.request is not None:
                uow.requests.close(
                    report.request,
                    RequestStatus.APPLIED,
                    principal.name,
                    uow.now,
                    f"applied by {principal.name}",
                )
            uow.commit()
            return result
        if report.policy is not None and len(report.outcomes) > 1:
            refused = report
        else:
            lifecycle.ensure_allowed(Decision(request, tuple(report.outcomes)))
    assert refused is not None
    record_gate_failure(ctx, principal.name, refused)
    raise gates.refuse(refused)


def record_gate_failure(ctx: Context, actor: str, report: GateReport) -> None:
    """A refused move is journaled in its own transaction (the move itself wrote nothing)."""
    with ctx.uow.write() as uow:
        uow.record(
            actor,
            Action.GATE_FAILED,
            "version",
            f"{report.model}/{report.version}",
            {
                "model": report.model,
                "version": report.version,
                "from": report.from_stage.value,
                "to": report.to_stage.value,
                "policy": report.policy,
                "unmet": [o.requirement for o in report.outcomes if not o.met],
            },
        )
        uow.commit()


def apply_in_uow(
    uow: UnitOfWork,
    ctx: Context,
    actor: str,
    mid: int,
    vid: int,
    request: lifecycle.TransitionRequest,
    *,
    caused_by: str | None,
    approvals: list[dict[str, Any]] | None = None,
    policy: str | None = None,
) -> TransitionResult:
    """Apply an allowed move inside the caller's transaction (displacing, signing)."""
    model, version = request.model, request.version
    current = uow.models.row(model)
    assert current is not None
    displaced = lifecycle.versions_to_displace(
        request.target,
        version,
        [v for _id, v in uow.versions.ids_in_stage(mid, Stage.PRODUCTION)],
        bool(current["allow_multiple_production"]),
    )
    moved: list[Transition] = []
    for other in displaced:
        other_id = int(uow.versions.row(mid, other)["id"])  # type: ignore[index]
        moved.append(
            _apply(
                uow,
                actor,
                model,
                other,
                other_id,
                Stage.PRODUCTION,
                Stage.DEPRECATED,
                f"Replaced in production by version {version}: {request.justification}",
                caused_by=f"{model}/{version}",
            )
        )
    main = _apply(
        uow,
        actor,
        model,
        version,
        vid,
        request.current,
        request.target,
        request.justification,
        caused_by=caused_by,
    )
    if request.target is Stage.PRODUCTION:
        # Under a policy pack a move to production is an approval: sign what was approved.
        # (Without one there is nothing to bind the signature to but the artifact.)
        ref = policy if policy is not None else _active_ref(uow)
        if ref is not None:
            _sign(uow, ctx, actor, model, version, vid, approvals, ref, main.audit_seq)
    uow.models.touch(mid, uow.now)
    after = uow.versions.hydrate([uow.versions.row_by_id(vid)])[0]
    return TransitionResult(main, moved, after)


def _sign(
    uow: UnitOfWork,
    ctx: Context,
    actor: str,
    model: str,
    version: int,
    vid: int,
    approvals: list[dict[str, Any]] | None,
    policy: str,
    transition_seq: int,
) -> None:
    """What reaches production is signed: the artifact and a manifest of its approvals."""
    from steward.services import signing  # type: ignore[attr-defined,unused-ignore]

    if approvals is None:
        request_ids = [
            r.id
            for r in uow.requests.search(version_id=vid, limit=50)
            if r.to_stage is Stage.PRODUCTION and r.status is not RequestStatus.REJECTED
        ]
        approvals = [
            approval_json(a)
            for rid in request_ids[:1]
            for a in uow.requests.approvals([rid]).get(rid, [])
        ]
    signing.sign_in_uow(
        uow,
        ctx,
        actor,
        model=model,
        version=version,
        version_id=vid,
        approvals=approvals,
        policy_version=policy,
        transition_seq=transition_seq,
    )


def _active_ref(uow: UnitOfWork) -> str | None:
    row = uow.policies.active()
    return None if row is None else f"{row['name']}@{row['version']}"


def approval_json(a: Approval) -> dict[str, Any]:
    return {
        "id": a.id,
        "approver": a.approver,
        "decision": a.decision.value,
        "roles": sorted(a.roles),
        "teams": sorted(a.teams),
        "comment": a.comment,
        "at": format_time(a.at),
        "artifact_sha256": a.artifact_sha256,
        "policy": a.policy,
    }


def _apply(
    uow: UnitOfWork,
    actor: str,
    model: str,
    version: int,
    vid: int,
    source: Stage,
    target: Stage,
    justification: str,
    *,
    caused_by: str | None,
) -> Transition:
    subject = f"{model}/{version}"
    event = uow.record(
        actor,
        Action.VERSION_TRANSITIONED,
        "version",
        subject,
        {
            "model": model,
            "version": version,
            "from": source.value,
            "to": target.value,
            "justification": justification,
            "caused_by": caused_by,
        },
    )
    # The journal's time is the transition's time, so history(at=transition.at) includes it.
    moment = parse_time(event.time)
    uow.versions.set_stage(vid, target, moment)
    done = Transition(
        model, version, source, target, actor, justification, moment, event.seq, caused_by
    )
    uow.versions.add_transition(vid, done)
    return done


def record_observed_stage(
    uow: UnitOfWork, actor: str, model: str, version: int, vid: int, target: Stage, why: str
) -> Transition:
    """Record the stage another registry already gave a version being brought in.

    No gate is evaluated: Steward did not make this move, it records that MLflow had made
    it (the justification and ``caused_by`` say so). Every later move is gated as usual.
    """
    return _apply(uow, actor, model, version, vid, INITIAL, target, why, caused_by="mlflow")


def transitions(ctx: Context, principal: Principal, model: str, version: int) -> list[Transition]:
    # Who moved it and why is the governance record; the current stage is on the version.
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        _mid, vid = version_row_id(uow, model, version)
        return uow.versions.transitions(vid, model, version)


_HISTORY_ACTIONS = (
    Action.VERSION_CREATED,
    Action.VERSION_TRANSITIONED,
    Action.ALIAS_SET,
    Action.ALIAS_DELETED,
)


def history(
    ctx: Context, principal: Principal, *, at: datetime, model: str | None = None
) -> list[HistoryEntry]:
    """Replay the journal up to ``at``: stages and aliases of each model at that moment.

    Computed from the audit chain, not from current tables, so it answers for
    any past moment, including for versions whose aliases have since moved.
    """
    ensure(principal, Permission.AUDIT_READ)
    if at.tzinfo is None:
        raise InvalidInput("The time must include a zone, e.g. 2026-03-01T00:00Z.", field="at")
    until = format_time(at)
    stages: dict[str, dict[int, Stage]] = {}
    aliases: dict[str, dict[str, int]] = {}
    with ctx.uow.read() as uow:
        if model is not None:
            model_id(uow, model)
        events = uow.audit.stream(
            AuditFilter(
                subject_prefix=model, until=until, actions=tuple(a.value for a in _HISTORY_ACTIONS)
            )
        )
        for event in events:
            data = event.payload_dict()
            name = data["model"]
            if event.action == Action.VERSION_CREATED:
                stages.setdefault(name, {})[data["version"]] = Stage(data["stage"])
            elif event.action == Action.VERSION_TRANSITIONED:
                stages.setdefault(name, {})[data["version"]] = Stage(data["to"])
            elif event.action == Action.ALIAS_SET:
                aliases.setdefault(name, {})[data["alias"]] = data["after"]
            else:
                aliases.setdefault(name, {}).pop(data["alias"], None)
    names = sorted(set(stages) | set(aliases))
    return [
        HistoryEntry(
            model=name,
            at=at,
            production=sorted(v for v, s in stages.get(name, {}).items() if s is Stage.PRODUCTION),
            aliases=dict(sorted(aliases.get(name, {}).items())),
            stages=dict(sorted(stages.get(name, {}).items())),
        )
        for name in names
    ]
