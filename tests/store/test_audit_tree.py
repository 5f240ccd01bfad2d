"""The journal's Merkle tree is written with every event and backfilled by migration 0017."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import insert, text

from steward.domain import merkle
from steward.domain.audit import GENESIS, AuditFilter, event_message, seal
from steward.domain.permissions import Principal
from steward.domain.specs import VersionSpec
from steward.services import audit, models, versions
from steward.services.context import Context
from steward.store import database
from steward.store import tables as t

MakeFile = Callable[[bytes, str], Path]


def _leaves(ctx: Context, who: Principal) -> list[bytes]:
    return [
        merkle.leaf_hash(
            event_message(e.seq, e.time, e.actor, e.action, e.subject_type, e.subject_id, e.payload)
        )
        for e in audit.list_events(ctx, who, AuditFilter(), 10_000)
    ]


def _stored_nodes(engine_conn: object) -> dict[tuple[int, int], bytes]:
    rows = engine_conn.execute(text("SELECT level, idx, hash FROM audit_tree"))  # type: ignore[attr-defined]
    return {(int(lv), int(ix)): bytes.fromhex(h) for lv, ix, h in rows}


def test_every_append_writes_exactly_the_complete_subtrees(
    ctx: Context, alice: Principal, make_file: MakeFile
) -> None:
    models.create_model(ctx, alice, "credit", purpose="Approve consumer loans")
    for n in range(1, 12):
        versions.create_version(ctx, alice, "credit", VersionSpec(), make_file(b"w%d" % n, "m.bin"))
    leaves = _leaves(ctx, alice)
    expected = merkle.MemoryNodes(leaves)
    with ctx.uow.engine.connect() as conn:
        assert _stored_nodes(conn) == expected.nodes
    with ctx.uow.read() as uow:
        assert uow.audit_tree.size() == len(leaves)
        for size in range(1, len(leaves) + 1):
            assert uow.audit_tree.root(size) == merkle.root(expected, size)
        for i in range(len(leaves)):
            proof = uow.audit_tree.inclusion_proof(i, len(leaves))
            assert merkle.verify_inclusion(
                i, len(leaves), leaves[i], proof, merkle.root(expected, len(leaves))
            )


def test_a_rolled_back_event_leaves_no_tree_node(ctx: Context, alice: Principal) -> None:
    models.create_model(ctx, alice, "credit", purpose="p")
    with ctx.uow.write() as uow:
        from steward.domain.audit import Action

        uow.record("alice", Action.MODEL_UPDATED, "model", "credit", {"x": 1})
        # no commit
    with ctx.uow.read() as uow:
        assert uow.audit_tree.size() == 1


def test_migration_0017_backfills_the_tree_of_an_existing_journal(database_url: str) -> None:
    engine = database.make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(database.MIGRATIONS))
    migration = __import__(
        "steward.store.migrations.versions.0017_audit_merkle_tree", fromlist=["_BATCH"]
    )
    count = 2 * migration._BATCH + 37  # several keyset pages, and a ragged last one
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0016")
            prev, rows, leaves = GENESIS, [], []
            for seq in range(1, count + 1):
                event = seal(
                    seq=seq,
                    time=f"2026-01-01T00:00:00.{seq:06d}Z",
                    actor="alice",
                    action="model.updated",
                    subject_type="model",
                    subject_id="credit",
                    payload={"n": seq, "名": "é"},
                    prev_hash=prev,
                )
                prev = event.hash
                rows.append({c.name: getattr(event, c.name) for c in t.audit_events.c})
                leaves.append(
                    merkle.leaf_hash(
                        event_message(
                            seq,
                            event.time,
                            "alice",
                            "model.updated",
                            "model",
                            "credit",
                            event.payload,
                        )
                    )
                )
            conn.execute(insert(t.audit_events), rows)
            command.upgrade(config, "head")
            stored = _stored_nodes(conn)
        assert stored == merkle.MemoryNodes(leaves).nodes
    finally:
        engine.dispose()
