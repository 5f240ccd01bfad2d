"""Lifecycle use cases: request -> evaluate -> apply, and history as of a time."""

from __future__ import annotations

from datetime import datetime

from steward.domain import lifecycle
from steward.domain.audit import Action, format_time, parse_time
from steward.domain.entities import HistoryEntry, Transition, TransitionResult
from steward.domain.errors import InvalidInput
from steward.domain.lifecycle import Decision, Stage
from steward.domain.permissions import Permission, Principal, ensure
from steward.services.context import Context, model_id, version_row_id
from steward.store.audit_repo import AuditFilter
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


def check_transition(
    ctx: Context,
    principal: Principal,
    model: str,
    version: int,
    to: str,
    justification: str = "dry run",
) -> Decision:
    """Evaluate a move without applying it (what `steward gate check` will print)."""
    ensure(principal, Permission.VERSION_READ)
    with ctx.uow.read() as uow:
        _mid, _vid, request = _request(uow, principal, model, version, to, justification)
    return lifecycle.evaluate(request, ctx.requirements)


def transition(
    ctx: Context, principal: Principal, model: str, version: int, to: str, justification: str
) -> TransitionResult:
    ensure(principal, Permission.VERSION_TRANSITION)
    with ctx.uow.write() as uow:
        # Lock first: the current stage must be read under the model's lock, or two
        # concurrent moves of one version would both start from the same stage.
        uow.models.lock(model_id(uow, model))
        mid, vid, request = _request(uow, principal, model, version, to, justification)
        decision = lifecycle.evaluate(request, ctx.requirements)
        lifecycle.ensure_allowed(decision)
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
                    principal,
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
            principal,
            model,
            version,
            vid,
            request.current,
            request.target,
            request.justification,
            caused_by=None,
        )
        uow.models.touch(mid, uow.now)
        after = uow.versions.hydrate([uow.versions.row_by_id(vid)])[0]
        result = TransitionResult(main, moved, after)
        uow.commit()
    return result


def _apply(
    uow: UnitOfWork,
    principal: Principal,
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
        principal.name,
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
        model, version, source, target, principal.name, justification, moment, event.seq, caused_by
    )
    uow.versions.add_transition(vid, done)
    return done


def transitions(ctx: Context, principal: Principal, model: str, version: int) -> list[Transition]:
    ensure(principal, Permission.VERSION_READ)
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
