"""Use cases behind the web UI that no other face needs: the inventory overview and
signing out of a browser session.

A web session *is* a login token (``identity.login`` issues it, 8 hours); the
browser keeps its secret in an HttpOnly cookie. Ending the session revokes that
token — whoever holds the secret may revoke it, whatever their role.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from steward.domain.audit import Action
from steward.domain.errors import InvalidInput
from steward.domain.permissions import Permission, Principal, authorize, ensure
from steward.services.context import Context
from steward.services.models import encode_cursor, model_filter
from steward.services.tokens import hash_token
from steward.store.models_repo import SORTS
from steward.store.web_repo import InventoryRepository, InventoryRow

MAX_PAGE = 200


@dataclass(frozen=True)
class InventoryPage:
    rows: list[InventoryRow]
    next_cursor: str | None
    sort: str
    # False for callers without governance:read (no role, anonymous): the rows then carry
    # no validation results, findings or monitoring state, and the page hides those columns.
    governance: bool = True


def _inventory_only(row: InventoryRow) -> InventoryRow:
    """The row as the inventory alone: validation, findings and monitoring need a role."""
    return replace(
        row,
        last_validation_at=None,
        last_validation_passed=None,
        last_validation_version=None,
        open_findings=0,
        monitoring="",
        open_alerts=0,
    )


def inventory(
    ctx: Context,
    principal: Principal,
    *,
    q: str | None = None,
    owner: str | None = None,
    team: str | None = None,
    risk_tier: str | None = None,
    regulatory_category: str | None = None,
    stage: str | None = None,
    sort: str = "name",
    cursor: str | None = None,
    limit: int = 50,
) -> InventoryPage:
    """One page of the inventory with what the overview shows beside each model."""
    ensure(principal, Permission.MODEL_READ)
    if sort not in SORTS:
        raise InvalidInput(f"Sort by one of: {', '.join(SORTS)}.", field="sort")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.", field="limit")
    # The same filter and cursor as the API's model listing: a cursor names the last model.
    flt = model_filter(
        q=q,
        owner=owner,
        team=team,
        risk_tier=risk_tier,
        regulatory_category=regulatory_category,
        stage=stage,
        cursor=cursor,
    )
    with ctx.uow.read() as uow:
        rows = InventoryRepository(uow.conn).page(flt, sort, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(rows[-1].name) if more else None
    governance = authorize(principal, Permission.GOVERNANCE_READ).allowed
    if not governance:
        rows = [_inventory_only(row) for row in rows]
    return InventoryPage(rows, nxt, sort, governance)


def end_session(ctx: Context, secret: str) -> bool:
    """Revoke the login token behind a browser session; False when it was not active."""
    with ctx.uow.write() as uow:
        info = uow.tokens.by_hash(hash_token(secret))
        if info is None or info.revoked_at is not None:
            return False
        uow.tokens.revoke(info.id, uow.now)
        uow.record(info.user, Action.SESSION_ENDED, "token", info.id, {"user": info.user})
        uow.commit()
    return True
