"""What an attacker with write access to the database does to hide an edit from the tree.

The journal's Merkle tree (table audit_tree) is a second record of the journal inside the
database; an attacker who knows about it recomputes it after editing events, exactly as
they recompute the chain. Only a signed checkpoint outside the database then tells.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from steward.domain.audit import event_message
from steward.domain.merkle import CompactRange, leaf_hash


def rebuild_tree(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_tree"))
    compact = CompactRange()
    rows = conn.execute(
        text(
            "SELECT seq, time, actor, action, subject_type, subject_id, payload "
            "FROM audit_events ORDER BY seq"
        )
    ).all()
    nodes = []
    for row in rows:
        nodes += [
            {"l": level, "i": idx, "h": digest.hex()}
            for level, idx, digest in compact.append(leaf_hash(event_message(*row)))
        ]
    if nodes:
        conn.execute(text("INSERT INTO audit_tree (level, idx, hash) VALUES (:l, :i, :h)"), nodes)


def rechain(conn: Connection) -> None:
    """Recompute every chain hash from the first event on: the chain verifies again."""
    from steward.domain.audit import GENESIS, chain_hash

    prev = GENESIS
    rows = conn.execute(
        text(
            "SELECT seq, time, actor, action, subject_type, subject_id, payload "
            "FROM audit_events ORDER BY seq"
        )
    ).all()
    for row in rows:
        digest = chain_hash(prev, event_message(*row))
        conn.execute(
            text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE seq = :s"),
            {"p": prev, "h": digest, "s": row[0]},
        )
        prev = digest
