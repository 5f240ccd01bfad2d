"""Audit journal use cases: read, verify, export."""

from __future__ import annotations

import json
from collections.abc import Iterator

from steward.domain import audit
from steward.domain.audit import AuditEvent, Verification
from steward.domain.errors import InvalidInput
from steward.domain.permissions import Permission, Principal, ensure
from steward.services.context import Context
from steward.store.audit_repo import AuditFilter

MAX_EVENTS = 10_000


def list_events(
    ctx: Context, principal: Principal, flt: AuditFilter, limit: int = 100
) -> list[AuditEvent]:
    ensure(principal, Permission.AUDIT_READ)
    if not 1 <= limit <= MAX_EVENTS:
        raise InvalidInput(f"limit must be between 1 and {MAX_EVENTS}.", field="limit")
    with ctx.uow.read() as uow:
        return uow.audit.search(flt, limit)


def verify(ctx: Context, principal: Principal) -> Verification:
    """Recompute the whole chain; name the first broken event and what happened to it."""
    ensure(principal, Permission.AUDIT_READ)
    with ctx.uow.read() as uow:
        return audit.verify(uow.audit.stream_fast(), uow.audit.has_later_successor)


def export_lines(
    ctx: Context, principal: Principal, flt: AuditFilter | None = None
) -> Iterator[str]:
    """JSON Lines, one event per line, in chain order (see docs/audit.md to verify)."""
    ensure(principal, Permission.AUDIT_READ)
    with ctx.uow.read() as uow:
        for event in uow.audit.stream(flt):
            yield json.dumps(event.to_export(), ensure_ascii=False, sort_keys=True) + "\n"
