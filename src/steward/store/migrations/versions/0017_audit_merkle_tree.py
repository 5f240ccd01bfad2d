"""The audit journal becomes a transparency log: Merkle tree nodes and signed checkpoints.

``audit_tree`` holds the hash of every complete subtree of the RFC 9162 tree whose leaves
are the journal's events in seq order (leaf data: the event's canonical message, the same
bytes its chain hash covers, see ``steward.domain.audit.event_message``). Existing journals
are backfilled here, streamed in seq order: memory stays O(log n) whatever the journal size.

``audit_checkpoints`` holds the signed tree heads Steward creates and publishes.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from steward.domain.audit import event_message
from steward.domain.merkle import CompactRange, leaf_hash

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "audit_tree",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_audit_tree")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("published_to", sa.JSON(), nullable=False),
        sa.Column("publish_error", sa.Text(), nullable=True),
        sa.Column("publish_attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    op.create_index("ix_audit_checkpoints_size", "audit_checkpoints", ["tree_size"])
    _backfill(op.get_bind())


def _backfill(conn: sa.engine.Connection) -> None:
    tree = sa.table("audit_tree", sa.column("level"), sa.column("idx"), sa.column("hash"))
    compact = CompactRange()
    pending: list[dict[str, Any]] = []
    after = 0
    while True:
        # Keyset pages: a plain cursor would hold the driver's whole result on some backends.
        rows = conn.execute(
            sa.text(
                "SELECT seq, time, actor, action, subject_type, subject_id, payload "
                "FROM audit_events WHERE seq > :after ORDER BY seq LIMIT :n"
            ),
            {"after": after, "n": _BATCH},
        ).all()
        for row in rows:
            # Leaves are the rows in seq order, as appends will continue them; in an
            # intact journal leaf i is event i + 1 (a damaged one is named by verify).
            leaf = leaf_hash(event_message(*row))
            pending.extend(
                {"level": level, "idx": idx, "hash": digest.hex()}
                for level, idx, digest in compact.append(leaf)
            )
        if pending:
            conn.execute(sa.insert(tree), pending)
            pending = []
        if len(rows) < _BATCH:
            return
        after = int(rows[-1][0])


def downgrade() -> None:
    op.drop_index("ix_audit_checkpoints_size", table_name="audit_checkpoints")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_tree")
