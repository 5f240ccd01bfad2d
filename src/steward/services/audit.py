"""Audit journal use cases: read, verify, export."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

from steward.domain import audit
from steward.domain.audit import AuditEvent, AuditFilter, Verification
from steward.domain.errors import InvalidInput
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import transparency
from steward.services.context import Context
from steward.settings import Settings
from steward.store import database
from steward.store.uow import UnitOfWorkFactory

MAX_EVENTS = 10_000
# Below this, starting worker processes costs more than it saves.
PARALLEL_MIN_EVENTS = 200_000


def list_events(
    ctx: Context, principal: Principal, flt: AuditFilter, limit: int = 100
) -> list[AuditEvent]:
    ensure(principal, Permission.AUDIT_READ)
    if not 1 <= limit <= MAX_EVENTS:
        raise InvalidInput(f"limit must be between 1 and {MAX_EVENTS}.", field="limit")
    flt = _normalised(flt)
    with ctx.uow.read() as uow:
        return uow.audit.search(flt, limit)


def _normalised(flt: AuditFilter) -> AuditFilter:
    """Accept any zoned ISO 8601 time and compare in the journal's canonical form."""
    since = audit.normalise_time(flt.since, "since") if flt.since else None
    until = audit.normalise_time(flt.until, "until") if flt.until else None
    return replace(flt, since=since, until=until)


def verify(
    ctx: Context,
    principal: Principal,
    *,
    workers: int = 1,
    anchors: Sequence[str] = (),
    checkpoints: Sequence[tuple[str, str]] = (),
) -> Verification:
    """Recompute the whole chain; name the first broken event and what happened to it.

    With ``workers > 1`` (the CLI on a multi-core host) segments are checked in
    parallel processes, each linking to the stored hash before it; any
    failure is then re-walked sequentially so the report is exact.

    ``anchors`` are ``SEQ:HASH`` heads recorded outside the database earlier: the
    chain alone cannot reveal its newest events being deleted or the whole tail
    being rewritten, a recorded head can. Signed checkpoints do the same without
    anything typed by hand: every stored and published one is checked, and
    ``checkpoints`` adds (name, text) of checkpoint files given by the caller.
    """
    ensure(principal, Permission.AUDIT_READ)
    expected = [parse_anchor(a) for a in anchors]
    result: Verification | None = None
    if workers > 1:
        fast = _verify_parallel(ctx, workers)
        if fast is not None and fast.ok:
            result = fast
    if result is None:
        result = _verify_sequential(ctx.uow)
    if result.ok and expected:
        with ctx.uow.read() as uow:
            result = audit.check_anchors(result, expected, uow.audit.hash_at)
    if not result.ok:
        return result
    with ctx.uow.read() as uow:
        return transparency.check_checkpoints(ctx, result, uow.audit.stream_rows(), checkpoints)


def parse_anchor(text: str) -> tuple[int, str]:
    seq, sep, digest = text.strip().partition(":")
    digest = digest.strip().lower()
    if (
        not sep
        or not seq.strip().isdigit()
        or len(digest) != 64
        or any(c not in "0123456789abcdef" for c in digest)
    ):
        raise InvalidInput(
            f"Invalid anchor {text!r}: use SEQ:HASH as printed by `steward audit verify` "
            "(head_seq and head_hash), e.g. 1024:3f5a...",
            field="anchor",
        )
    return int(seq), digest


def _verify_sequential(factory: UnitOfWorkFactory) -> Verification:
    with factory.read() as uow:
        return audit.verify(uow.audit.stream_rows(), uow.audit.has_later_successor)


def _verify_parallel(ctx: Context, workers: int) -> Verification | None:
    with ctx.uow.read() as uow:
        last = uow.audit.max_seq()
        if last < PARALLEL_MIN_EVENTS:
            return None
        size = -(-last // workers)
        segments: list[tuple[int, int, str]] = []
        for first in range(1, last + 1, size):
            start_hash = audit.GENESIS if first == 1 else uow.audit.hash_at(first - 1)
            if start_hash is None:
                return None  # a missing boundary event: let the sequential walk explain it
            segments.append((first, min(first + size - 1, last), start_hash))
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=len(segments), mp_context=fork) as pool:
        results = list(pool.map(_verify_segment, [ctx.settings] * len(segments), segments))
    for (first, end, _), result in zip(segments, results, strict=True):
        if not result.ok or result.head_seq != end or result.checked != end - first + 1:
            return None
    return Verification(True, last, last, results[-1].head_hash)


def _verify_segment(settings: Settings, segment: tuple[int, int, str]) -> Verification:
    first, last, start_hash = segment
    engine = database.make_engine(settings.database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            from steward.store.audit_repo import AuditRepository

            rows = AuditRepository(conn).stream_rows(first, last)
            return audit.verify(rows, start_seq=first, start_hash=start_hash)
    finally:
        engine.dispose()


def export_lines(
    ctx: Context, principal: Principal, flt: AuditFilter | None = None
) -> Iterator[str]:
    """JSON Lines, one event per line, in chain order (see docs/audit.md to verify)."""
    ensure(principal, Permission.AUDIT_READ)
    flt = _normalised(flt) if flt else None
    with ctx.uow.read() as uow:
        for event in uow.audit.stream(flt):
            yield json.dumps(event.to_export(), ensure_ascii=False, sort_keys=True) + "\n"
