"""`steward audit verify` in one streamed pass: chunks of the journal checked in parallel
processes (chain, MAC, time order and Merkle leaves per row) and their trees folded.

The fast path may only ever say "intact"; every tampering must still reach the exact
passes, which name it. Chunks are made tiny here so a small journal spans many of them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.attacker import rebuild_tree, rechain, remac

from steward import bootstrap
from steward.domain import audit as chain
from steward.domain import journal_scan, merkle
from steward.domain.audit import Tampering
from steward.domain.audit_auth import Keyring
from steward.domain.checkpoint import journal_leaf
from steward.domain.permissions import Principal
from steward.services import audit, models, transparency
from steward.settings import Settings

AUDITOR = Principal("ada", roles=frozenset({"auditor"}))
KEY = bytes(range(32))


def _rows(n: int, ring: Keyring, *, macs_from: int = 1) -> list[journal_scan.ScanRow]:
    rows: list[journal_scan.ScanRow] = []
    prev = chain.GENESIS
    for seq in range(1, n + 1):
        event = chain.seal(
            seq=seq,
            time=f"2026-01-01T00:00:{seq:02d}.000000Z",
            actor="alice",
            action="model.created",
            subject_type="model",
            subject_id=f"m{seq}",
            payload={"name": f"m{seq}", "note": 'quote " and é'},
            prev_hash=prev,
        )
        prev = event.hash
        mac = ring.mac(event.hash) if seq >= macs_from else None
        rows.append((*chain._as_row(event), mac))
    return rows


def _scan_all(
    rows: list[journal_scan.ScanRow], ring: Keyring, sizes: list[int]
) -> journal_scan.Fold | None:
    fold = journal_scan.Fold()
    for first, last in journal_scan.chunks(len(rows)):
        part = rows[max(first - 2, 0) : last]
        got = journal_scan.scan(
            part,
            first=first,
            last=last,
            keyring=ring,
            sizes=[s for s in sizes if first <= s <= last],
        )
        if got is None:
            return None
        fold.add(got)
    return fold


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_scan, "CHUNK", 4)


@pytest.mark.usefixtures("tiny_chunks")
def test_folded_chunks_give_every_tree_head_of_the_journal() -> None:
    ring = Keyring(1, (KEY,))
    for n in (1, 3, 4, 5, 8, 13, 16, 17, 31, 40):
        rows = _rows(n, ring)
        fold = _scan_all(rows, ring, list(range(1, n + 1)))
        assert fold is not None and fold.size == n and fold.last_hash == rows[-1][8]
        leaves = merkle.MemoryNodes(journal_leaf(r[8]) for r in rows)
        for size in range(1, n + 1):
            assert fold.roots[size] == merkle.root(leaves, size), (n, size)
        assert fold.root() == merkle.root(leaves, n)


@pytest.mark.usefixtures("tiny_chunks")
@pytest.mark.parametrize(
    "tamper",
    ["content", "mac", "no_mac", "other_key", "backdated", "gap", "tail", "link"],
)
def test_the_fast_path_accepts_nothing_the_exact_passes_reject(tamper: str) -> None:
    ring = Keyring(1, (KEY,))
    rows = [list(r) for r in _rows(11, ring)]
    victim = rows[6]  # event 7, inside the second chunk
    if tamper == "content":
        victim[6] = victim[6].replace("m7", "m8")
    elif tamper == "mac":
        victim[9] = ring.mac(rows[5][8])
    elif tamper == "no_mac":
        victim[9] = None
    elif tamper == "other_key":
        victim[9] = Keyring(1, (bytes(32),)).mac(victim[8])
    elif tamper == "backdated":
        victim[1] = "2025-01-01T00:00:00.000000Z"
    elif tamper == "gap":
        del rows[6]
    elif tamper == "tail":
        del rows[-1]
        assert _scan_all([tuple(r) for r in rows], ring, []) is not None  # shorter is fine…
        chunk = journal_scan.scan([tuple(r) for r in rows[7:]], first=9, last=11, keyring=ring)
        assert chunk is None  # …but not a chunk that stops before its end
        return
    elif tamper == "link":
        victim[7] = rows[4][8]
    assert _scan_all([tuple(r) for r in rows], ring, []) is None  # type: ignore[misc]


@pytest.mark.usefixtures("tiny_chunks")
def test_events_older_than_the_key_file_are_reported_unauthenticated() -> None:
    ring = Keyring(6, (KEY,))
    fold = _scan_all(_rows(10, ring, macs_from=6), ring, [])
    assert fold is not None and fold.unauthenticated_before == 6
    # After `since` a missing MAC is a forgery, not an old event.
    assert _scan_all(_rows(10, ring, macs_from=8), ring, []) is None


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch, tiny_chunks: None) -> None:
    monkeypatch.setattr(audit, "PARALLEL_MIN_EVENTS", 1)


@pytest.mark.usefixtures("parallel")
def test_parallel_one_pass_verify_and_its_fallback(
    settings: Settings, alice: Principal, tmp_path: Path
) -> None:
    published = tmp_path / "published"
    ctx = bootstrap.build(replace(settings, checkpoint_publish=(str(published),)), migrate=True)
    try:
        for i in range(9):
            models.create_model(ctx, alice, f"m{i}", purpose="p")
        transparency.create_checkpoint(ctx, AUDITOR)
        for i in range(6):
            models.create_model(ctx, alice, f"n{i}", purpose="p")
        transparency.create_checkpoint(ctx, AUDITOR)
        fast = audit._verify_one_pass(ctx, 2, ())
        assert fast is not None and fast.ok, fast
        assert (
            fast == audit.verify(ctx, AUDITOR, workers=1) == audit.verify(ctx, AUDITOR, workers=2)
        )
        exact = audit._verify_sequential(ctx.uow)
        assert (fast.checked, fast.head_seq, fast.head_hash) == (
            exact.checked,
            exact.head_seq,
            exact.head_hash,
        )
        # A complete rewrite (chain, MACs and tree recomputed) inside the first checkpoint:
        # the fast path declines, the exact passes name it.
        with ctx.uow.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 5"))
            rechain(conn)
            remac(conn, ctx.settings.audit_key_path)
            rebuild_tree(conn)
        assert audit._verify_one_pass(ctx, 2, ()) is None
        result = audit.verify(ctx, AUDITOR, workers=2)
        assert not result.ok and result.kind is Tampering.REWRITTEN and result.broken_seq == 1
    finally:
        ctx.uow.engine.dispose()
