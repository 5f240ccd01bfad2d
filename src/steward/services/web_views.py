"""Use cases behind the web UI that no other face needs: the inventory overview and
signing out of a browser session.

A web session *is* a login token (``identity.login`` issues it, 8 hours); the
browser keeps its secret in an HttpOnly cookie. Ending the session revokes that
token — whoever holds the secret may revoke it, whatever their role.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from datetime import date

from steward.domain import specs
from steward.domain.audit import Action
from steward.domain.errors import InvalidInput
from steward.domain.lifecycle import parse_stage
from steward.domain.permissions import Permission, Principal, authorize, ensure
from steward.services.context import Context
from steward.services.tokens import hash_token
from steward.store.web_repo import SORTS, InventoryFilter, InventoryRepository, InventoryRow

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
        open_findings=0,
        monitoring="",
        open_alerts=0,
    )


def _encode(key: str, name: str) -> str:
    raw = json.dumps([key, name], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, sort: str) -> tuple[str, str]:
    problem = InvalidInput(
        "The page cursor is not valid for this listing; start again from the first page.",
        field="cursor",
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, name = json.loads(raw)
    except (ValueError, TypeError):
        raise problem from None
    if not isinstance(key, str) or not isinstance(name, str):
        raise problem
    if sort == "risk" and not key.isdigit():
        raise problem
    if sort == "review":
        try:
            date.fromisoformat(key)
        except ValueError:
            raise problem from None
    return key, name


def _sort_key(row: InventoryRow, sort: str) -> str:
    from steward.store.web_repo import TIER_RANK

    if sort == "risk":
        return str(TIER_RANK.get(row.risk_tier, 0))
    if sort == "review":
        return (row.next_review_date or date(9999, 12, 31)).isoformat()
    return row.name


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
    checked = specs.model_fields(
        {
            k: v
            for k, v in {"risk_tier": risk_tier, "regulatory_category": regulatory_category}.items()
            if v
        }
    )
    flt = InventoryFilter(
        q=(q or "").strip() or None,
        owner=owner or None,
        team=team or None,
        risk_tier=str(getattr(checked.get("risk_tier"), "value", "")) or None,
        regulatory_category=str(getattr(checked.get("regulatory_category"), "value", "")) or None,
        stage=parse_stage(stage, "stage").value if stage else None,
    )
    after = _decode(cursor, sort) if cursor else None
    with ctx.uow.read() as uow:
        rows = InventoryRepository(uow.conn).page(flt, sort, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = _encode(_sort_key(rows[-1], sort), rows[-1].name) if more else None
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
