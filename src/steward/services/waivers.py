"""Waivers: a risk officer excuses one policy requirement on one version, until a date."""

from __future__ import annotations

from datetime import date, datetime

from steward.domain import findings as rules
from steward.domain.audit import Action, format_time
from steward.domain.entities import Page
from steward.domain.errors import Conflict, InvalidInput, NotFound
from steward.domain.findings import Waiver
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import policies
from steward.services.context import Context, model_id, version_row_id
from steward.store.uow import UnitOfWork

MAX_PAGE = 1000


def _subject(waiver: Waiver) -> str:
    return f"{waiver.model}/{waiver.version}/waivers/{waiver.id}"


def _check_requirement(uow: UnitOfWork, requirement: str) -> str:
    rid = rules.requirement_id(requirement)
    known = policies.requirement_ids(uow)
    if known is not None and rid not in known:
        raise InvalidInput(
            f"The active policy pack has no requirement {rid!r}. Known requirements: "
            f"{', '.join(sorted(known)) or '(none)'}.",
            field="requirement",
        )
    return rid


def grant_waiver(
    ctx: Context,
    principal: Principal,
    model: str,
    version: int,
    *,
    requirement: str,
    reason: str,
    expires: datetime | date | str,
) -> Waiver:
    """Excuse ``requirement`` for this exact version until ``expires`` (in the future)."""
    ensure(principal, Permission.WAIVER_GRANT)
    why = rules.text_field(reason, "reason", required=True)
    with ctx.uow.write() as uow:
        _mid, vid = version_row_id(uow, model, version)
        expires_at = rules.waiver_expiry(expires, uow.now)
        rid = _check_requirement(uow, requirement)
        for active in uow.waivers.active_for_version(vid, uow.now):
            if active.requirement == rid:
                raise Conflict(
                    f"Waiver {active.id} already excuses {rid} on {model} version {version} "
                    f"until {active.expires_at:%Y-%m-%d %H:%M} UTC. Revoke it first "
                    f"(`steward waiver revoke {active.id}`) to grant a different one.",
                    waiver=active.id,
                )
        waiver_id = uow.waivers.insert(
            {
                "version_id": vid,
                "requirement": rid,
                "reason": why,
                "granted_by": principal.name,
                "granted_at": uow.now,
                "expires_at": expires_at,
            }
        )
        waiver = uow.waivers.get(waiver_id)
        assert waiver is not None
        uow.record(
            principal.name,
            Action.WAIVER_GRANTED,
            "waiver",
            _subject(waiver),
            {
                "id": waiver_id,
                "model": model,
                "version": version,
                "requirement": rid,
                "reason": why,
                "expires_at": format_time(expires_at),
            },
        )
        uow.commit()
    return waiver


def revoke_waiver(ctx: Context, principal: Principal, waiver_id: int, reason: str) -> Waiver:
    """End a waiver now; the requirement counts again at the next gate evaluation."""
    ensure(principal, Permission.WAIVER_GRANT)
    why = rules.text_field(reason, "reason", required=True)
    with ctx.uow.write() as uow:
        waiver = _get(uow, waiver_id)
        if waiver.revoked_at is not None:
            raise Conflict(
                f"Waiver {waiver_id} was already revoked by {waiver.revoked_by} on "
                f"{waiver.revoked_at:%Y-%m-%d %H:%M} UTC.",
                waiver=waiver_id,
            )
        if waiver.expires_at <= uow.now:
            raise Conflict(
                f"Waiver {waiver_id} already expired on {waiver.expires_at:%Y-%m-%d %H:%M} UTC; "
                "it no longer counts, so there is nothing to revoke.",
                waiver=waiver_id,
            )
        uow.waivers.revoke(waiver_id, principal.name, why, uow.now)
        uow.record(
            principal.name,
            Action.WAIVER_REVOKED,
            "waiver",
            _subject(waiver),
            {
                "id": waiver_id,
                "model": waiver.model,
                "version": waiver.version,
                "requirement": waiver.requirement,
                "reason": why,
            },
        )
        revoked = _get(uow, waiver_id)
        uow.commit()
    return revoked


def _get(uow: UnitOfWork, waiver_id: int) -> Waiver:
    found = uow.waivers.get(waiver_id)
    if found is None:
        raise NotFound(
            f"No waiver with id {waiver_id}. List them with `steward waiver list`.",
            waiver=waiver_id,
        )
    return found


def get_waiver(ctx: Context, principal: Principal, waiver_id: int) -> Waiver:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        return _get(uow, waiver_id)


def list_waivers(
    ctx: Context,
    principal: Principal,
    *,
    model: str | None = None,
    version: int | None = None,
    active_only: bool = False,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[Waiver]:
    """Waivers oldest first; ``active_only`` leaves out expired and revoked ones."""
    ensure(principal, Permission.GOVERNANCE_READ)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.", field="limit")
    if version is not None and model is None:
        raise InvalidInput("A version filter needs the model too.", field="version")
    if cursor is not None and not cursor.isdigit():
        raise InvalidInput(
            "Invalid cursor: pass the next_cursor value from the previous page unchanged.",
            field="cursor",
        )
    with ctx.uow.read() as uow:
        mid = vid = None
        if model is not None:
            if version is not None:
                mid, vid = version_row_id(uow, model, version)
            else:
                mid = model_id(uow, model)
        items = uow.waivers.search(
            model_id=mid,
            version_id=vid,
            active_at=uow.now if active_only else None,
            limit=limit + 1,
            after_id=int(cursor) if cursor else None,
        )
    more = len(items) > limit
    items = items[:limit]
    return Page(items, str(items[-1].id) if more else None)
