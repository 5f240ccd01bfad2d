"""Concurrent appenders, each with its own context, build one journal and one Merkle tree.

A small version of bench/audit_concurrency.py (32 writers x 1 000 events on PostgreSQL):
writers append through the service layer while checkpoints are signed, then the journal
must be gapless, verify, be exactly one tree, have one root per checkpoint size, and
prove every event's inclusion in the final signed checkpoint and its consistency with
a checkpoint signed mid-run.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from sqlalchemy import text

from steward import bootstrap
from steward.domain import merkle
from steward.domain.checkpoint import StoredCheckpoint, journal_leaf
from steward.domain.permissions import OPERATOR, Principal
from steward.services import audit, models, transparency
from steward.services.context import Context
from steward.settings import Settings
from steward.trust import log_key

WRITERS = 8
EACH = 30


def test_concurrent_writers_build_one_tree_with_every_event_provable(
    settings: Settings, ctx: Context, alice: Principal
) -> None:
    transparency.verifier_key(ctx, alice)  # the log key, before anyone signs
    barrier = threading.Barrier(WRITERS + 1, timeout=60)
    underway = threading.Event()  # set once writers have appended some events
    first_signed = threading.Event()
    done = threading.Event()
    errors: list[BaseException] = []
    signed: list[StoredCheckpoint] = []

    def writer(worker: int) -> None:
        own = bootstrap.build(settings)  # its own engine, pool and connection
        who = Principal(name=f"writer-{worker}", roles=frozenset({OPERATOR}))
        try:
            barrier.wait()
            for i in range(EACH):
                models.create_model(own, who, f"w{worker}-{i}", purpose="p")
                if worker == 0 and i == EACH // 5:
                    # The others keep writing; this one waits for a checkpoint, so at
                    # least its remaining events come after one signed mid-run.
                    underway.set()
                    assert first_signed.wait(timeout=60)
        except BaseException as exc:
            errors.append(exc)
            underway.set()
        finally:
            own.uow.engine.dispose()

    def signer() -> None:
        own = bootstrap.build(settings)
        try:
            barrier.wait()
            underway.wait(timeout=60)
            while not done.is_set():  # at least one, while the writers still run
                signed.append(transparency.create_checkpoint(own, alice, publish_to=()))
                first_signed.set()
                done.wait(0.05)
        except BaseException as exc:
            errors.append(exc)
            first_signed.set()
        finally:
            own.uow.engine.dispose()

    writers = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    signing = threading.Thread(target=signer)
    for thread in [*writers, signing]:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    signing.join()
    assert not errors, errors
    assert signed
    final = transparency.create_checkpoint(ctx, alice, publish_to=())
    checkpoints = transparency.list_checkpoints(ctx, alice, 1000)
    appended = WRITERS * EACH

    # Exactly the expected events, numbered 1..N without a gap.
    with ctx.uow.engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, action, hash FROM audit_events ORDER BY seq")).all()
        stored = {
            (int(lv), int(ix)): bytes.fromhex(h)
            for lv, ix, h in conn.execute(text("SELECT level, idx, hash FROM audit_tree"))
        }
    total = appended + len(checkpoints)
    assert [r.seq for r in rows] == list(range(1, total + 1))
    assert sum(r.action == "model.created" for r in rows) == appended
    assert sum(r.action == "audit.checkpointed" for r in rows) == len(checkpoints)

    # The chain, MACs, time order, tree and every checkpoint verify.
    result = audit.verify(ctx, alice)
    assert result.ok, result
    assert result.checked == total

    # One tree: its size is the event count and its nodes are the journal's tree.
    rebuilt = merkle.MemoryNodes(journal_leaf(r.hash) for r in rows)
    with ctx.uow.read() as uow:
        assert uow.audit_tree.size() == total
    assert stored == rebuilt.nodes

    # No fork: one root per size, each the journal's root there, each signed by the log key.
    key = transparency._key(ctx)
    roots: dict[int, set[str]] = defaultdict(set)
    for c in checkpoints:
        roots[c.tree_size].add(c.root_hash)
        assert c.root_hash == merkle.root(rebuilt, c.tree_size).hex()
        assert log_key.signature_valid(c.note, key.name, key.public_bytes)
    assert all(len(r) == 1 for r in roots.values())

    # A checkpoint signed mid-run is consistent with the final one.
    early = min(signed, key=lambda c: c.tree_size)
    assert 0 < early.tree_size < appended
    assert transparency.consistency_proof(ctx, alice, early.id, final.id).verify()

    # Every event the final checkpoint covers (all but its own) is provably in it.
    assert final.tree_size == total - 1
    for seq in range(1, final.tree_size + 1):
        proof = transparency.inclusion_proof(ctx, alice, seq, final.id)
        assert proof.root_hash == final.root_hash
        assert proof.verify(), seq
