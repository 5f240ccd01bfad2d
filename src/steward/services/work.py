"""What waits for one person: the "My work" page's use case.

Each kind of work comes from the service that owns its rule — requests this person may
decide (``approvals.inbox``: roles, independence, already-decided), findings they own,
periodic reviews they may complete (``reviews.completions``), risk assessments of their
models that are missing or stale (``risk.get_assessment``) and their models' open
monitoring alerts — merged and sorted by due date, soonest first; undated work last.

The page shows each kind as a section: its exact count and one page of SECTION_SIZE items
(:func:`section`), so an administrator with a thousand reviews due is not sent a thousand
rows. Notifications and the navigation's count read the whole list.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from steward.domain.errors import InvalidInput
from steward.domain.permissions import Permission, Principal, authorize, ensure
from steward.services import approvals, findings, monitoring, reviews, web_views
from steward.services import risk as risk_service
from steward.services.context import Context

KINDS = ("approval", "finding", "review", "questionnaire", "alert")
REVIEW_WINDOW_DAYS = 30
MAX_OWNED_MODELS = 200
SECTION_SIZE = 25  # items of one kind shown per page of "My work"


@dataclass(frozen=True)
class WorkItem:
    kind: str  # one of KINDS
    model: str
    version: int | None
    ref: str  # the request, finding or alert id; the model name otherwise
    title: str  # as the owning service words it (English)
    due: date | None
    # A finding Steward wrote: its message key and parameters, so a page words it itself.
    message_key: str | None = None
    message_params: dict[str, Any] | None = None


@dataclass(frozen=True)
class MyWork:
    items: list[WorkItem]

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(item.kind for item in self.items)
        return {kind: found[kind] for kind in KINDS}

    @property
    def total(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class Section:
    """One page of one kind of work: ``items`` are those at positions
    ``first``..``first + len(items) - 1`` (1-based) of ``total``, soonest due first."""

    kind: str
    total: int
    items: list[WorkItem]
    page: int
    pages: int
    first: int

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def section(found: MyWork, kind: str, page: int = 1, size: int = SECTION_SIZE) -> Section:
    """Page ``page`` (1-based) of ``found``'s work of ``kind``; a page past the last shows the
    last one."""
    if kind not in KINDS:
        raise InvalidInput(
            f"Unknown section {kind!r}: choose one of {', '.join(KINDS)}.", field="section"
        )
    if page < 1:
        raise InvalidInput("The page number must be 1 or more.", field="page")
    if size < 1:
        raise InvalidInput("The page size must be 1 or more.", field="size")
    of_kind = [item for item in found.items if item.kind == kind]
    pages = max(1, -(-len(of_kind) // size))
    page = min(page, pages)
    start = (page - 1) * size
    return Section(kind, len(of_kind), of_kind[start : start + size], page, pages, start + 1)


def my_work(ctx: Context, principal: Principal) -> MyWork:
    """Everything waiting for ``principal``, soonest due first."""
    ensure(principal, Permission.GOVERNANCE_READ)
    items: list[WorkItem] = []
    for waiting in approvals.inbox(ctx, principal):
        req = waiting.request
        items.append(
            WorkItem(
                "approval",
                req.model,
                req.version,
                req.id,
                f"{req.from_stage.value} → {req.to_stage.value}: {req.justification}",
                req.requested_at.date(),
            )
        )
    assigned = findings.list_findings(ctx, principal, owner=principal.name, limit=200)
    for f in assigned.items:
        items.append(
            WorkItem(
                "finding",
                f.model,
                f.version,
                str(f.id),
                f.title,
                f.due_date,
                f.message_key,
                f.message_params,
            )
        )
    if authorize(principal, Permission.REVIEW_COMPLETE).allowed:
        due = reviews.reviews_due(ctx, principal, within_days=REVIEW_WINDOW_DAYS)
        allowed = reviews.completions(principal, due)
        for r in due:
            if allowed[r.model].allowed:
                items.append(
                    WorkItem("review", r.model, None, r.model, r.status.value, r.next_review_date)
                )
    owned = web_views.inventory(ctx, principal, owner=principal.name, limit=MAX_OWNED_MODELS)
    for row in owned.rows:
        found = risk_service.get_assessment(ctx, principal, row.name)
        if found.assessment is None or found.problem:
            problem = found.problem or "The model has no risk assessment yet."
            items.append(WorkItem("questionnaire", row.name, None, row.name, problem, None))
        if row.open_alerts:
            for alert in monitoring.list_alerts(ctx, principal, model=row.name, limit=100):
                items.append(
                    WorkItem(
                        "alert",
                        row.name,
                        None,
                        alert.id,
                        alert.message,
                        alert.raised_at.date(),
                    )
                )
    items.sort(key=lambda i: (i.due is None, i.due or date.max, i.kind, i.model))
    return MyWork(items)


# The navigation's count is asked on every page. Everything that changes what waits for
# someone is journalled (requests, decisions, findings, reviews, assessments, monitor runs,
# grants) or depends on the date, so the count is remembered per store and person until
# the journal's head or the day changes — and for at most COUNT_FOR seconds, so a rule that
# moves with the clock alone is late by no more than that.
COUNT_FOR = 60.0
_MAX_PEOPLE = 4096
_counts: weakref.WeakKeyDictionary[object, dict[tuple[object, ...], tuple[int, float]]] = (
    weakref.WeakKeyDictionary()
)
_counts_lock = threading.Lock()


def count(ctx: Context, principal: Principal) -> int:
    """How much waits for ``principal``: ``my_work(...).total``, remembered as said above."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        key = (principal.name, principal.roles, uow.audit.max_seq(), uow.now.date())
    now = time.monotonic()
    with _counts_lock:
        found = _counts.get(ctx.uow, {}).get(key)
    if found is not None and now - found[1] < COUNT_FOR:
        return found[0]
    total = my_work(ctx, principal).total
    with _counts_lock:
        store = _counts.setdefault(ctx.uow, {})
        if len(store) >= _MAX_PEOPLE:
            store.clear()
        # One entry per person: an older journal head is never asked for again.
        for old in [k for k in store if k[:2] == key[:2]]:
            del store[old]
        store[key] = (total, now)
    return total
