"""Audit journal use cases: read, verify, export."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any

from steward.domain import audit, audit_auth, journal_scan
from steward.domain.audit import AuditEvent, AuditFilter, Verification
from steward.domain.errors import InvalidInput
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import transparency
from steward.services.context import Context
from steward.settings import Settings
from steward.store import database
from steward.store.uow import UnitOfWorkFactory
from steward.trust import auditkey

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
    fast = _verify_one_pass(ctx, workers, checkpoints)
    if fast is not None:
        if fast.ok and expected:
            with ctx.uow.read() as uow:
                fast = audit.check_anchors(fast, expected, uow.audit.hash_at)
        return fast
    # Something does not hold: the exact passes, one after the other, say what.
    result: Verification | None = None
    if workers > 1:
        parallel = _verify_parallel(ctx, workers)
        if parallel is not None and parallel.ok:
            result = parallel
    if result is None:
        result = _verify_sequential(ctx.uow)
    if result.ok:
        # The chain holds; now what it cannot show (forged, replayed, backdated events).
        from steward.services import reconcile

        result = reconcile.authenticate(ctx, result)
    if result.ok and expected:
        with ctx.uow.read() as uow:
            result = audit.check_anchors(result, expected, uow.audit.hash_at)
    if not result.ok:
        return result
    with ctx.uow.read() as uow:
        return transparency.check_checkpoints(
            ctx, result, uow.audit_tree.journal_hashes(), checkpoints
        )


def _verify_one_pass(
    ctx: Context, workers: int, files: Sequence[tuple[str, str]]
) -> Verification | None:
    """Chain, MACs, time order and the Merkle tree in one read of the journal.

    Chunks of the journal are scanned in ``workers`` processes when it is large, and
    their trees folded in order. Returns the (intact) verdict when everything holds
    against every checkpoint; None when anything does not, for the exact passes to
    explain.
    """
    keyring = auditkey.load(ctx.settings.audit_key_path)
    with ctx.uow.read() as uow:
        last = uow.audit.max_seq()
    if last == 0 or keyring is None:
        return None  # an empty journal over populated tables, or nothing to check MACs with
    whole = Verification(True, last, last, "")
    plan = transparency.plan_checks(ctx, whole, files)
    if isinstance(plan, Verification):
        return None  # forged, split or beyond the journal: the exact passes order the blame
    tasks = [
        (first, end, [s for s in plan.sizes if first <= s <= end])
        for first, end in journal_scan.chunks(last)
    ]
    fold = journal_scan.Fold()
    if workers > 1 and last >= PARALLEL_MIN_EVENTS:
        fork = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=fork,
            initializer=_scan_worker_init,
            initargs=(ctx.settings.database_url, keyring),
        ) as pool:
            for chunk in pool.map(_scan_chunk, tasks):
                if chunk is None:
                    pool.shutdown(cancel_futures=True)
                    return None
                fold.add(chunk)
    else:
        with ctx.uow.read() as uow:
            for first, end, sizes in tasks:
                with uow.audit.scan_rows(first, end) as rows:
                    chunk = journal_scan.scan(
                        rows, first=first, last=end, keyring=keyring, sizes=sizes
                    )
                if chunk is None:
                    return None
                fold.add(chunk)
    result = Verification(
        True, last, last, fold.last_hash, unauthenticated_before=fold.unauthenticated_before
    )
    checked = transparency.check_roots(ctx, result, plan, fold.roots, fold.size, fold.root())
    return checked if checked.ok else None


_scan_state: dict[str, Any] = {}


def _scan_worker_init(url: str, keyring: audit_auth.Keyring) -> None:
    _scan_state["engine"] = database.make_engine(url, pool_size=1)
    _scan_state["keyring"] = keyring


def _scan_chunk(task: tuple[int, int, list[int]]) -> journal_scan.ChunkScan | None:
    from steward.store.audit_repo import AuditRepository

    first, last, sizes = task
    with (
        _scan_state["engine"].connect() as conn,
        AuditRepository(conn).scan_rows(first, last) as rows,
    ):
        return journal_scan.scan(
            rows, first=first, last=last, keyring=_scan_state["keyring"], sizes=sizes
        )


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
