"""The journal's Merkle tree nodes (table audit_tree) and signed checkpoints."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, insert, select, tuple_, update
from sqlalchemy.engine import Connection

from steward.domain import merkle
from steward.domain.audit import AuditEvent, event_message
from steward.domain.checkpoint import StoredCheckpoint
from steward.store import tables as t

T = TypeVar("T")
_NODE = t.audit_tree.c
_CP = t.audit_checkpoints.c
# PostgreSQL and SQLite both take row-value IN; keep the lists short anyway.
_FETCH_CHUNK = 400


class TreeDamaged(merkle.ProofError):
    """A node the tree needs is missing from the database."""


class _Nodes:
    """NodeReader over the table, one query per node (appends read ~1 node)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def node(self, level: int, index: int) -> bytes:
        found = self.conn.execute(
            select(_NODE.hash).where(_NODE.level == level, _NODE.idx == index)
        ).scalar_one_or_none()
        if found is None:
            raise TreeDamaged(
                f"the audit tree has no node at level {level}, index {index}: run "
                "`steward audit verify` to see what happened to the journal"
            )
        return bytes.fromhex(str(found))


class AuditTreeRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- tree ---

    def size(self) -> int:
        found = self.conn.execute(
            select(func.max(_NODE.idx)).where(_NODE.level == 0)
        ).scalar_one_or_none()
        return 0 if found is None else int(found) + 1

    def append(self, event: AuditEvent) -> int:
        """Add ``event`` as the next leaf (same transaction as the event); its leaf index."""
        index = self.size()
        leaf = merkle.leaf_hash(
            event_message(
                event.seq,
                event.time,
                event.actor,
                event.action,
                event.subject_type,
                event.subject_id,
                event.payload,
            )
        )
        nodes = merkle.new_nodes(index, leaf, _Nodes(self.conn))
        self.conn.execute(
            insert(t.audit_tree),
            [{"level": lv, "idx": ix, "hash": h.hex()} for lv, ix, h in nodes],
        )
        return index

    def leaves(self, batch: int = 5000) -> Iterator[bytes]:
        """Stored leaf hashes in order (keyset pages)."""
        after = -1
        while True:
            rows = self.conn.execute(
                select(_NODE.idx, _NODE.hash)
                .where(_NODE.level == 0, _NODE.idx > after)
                .order_by(_NODE.idx)
                .limit(batch)
            ).all()
            for _, digest in rows:
                yield bytes.fromhex(str(digest))
            if len(rows) < batch:
                return
            after = int(rows[-1][0])

    def compute(self, fn: Callable[[merkle.NodeReader], T]) -> T:
        """Run a tree function (root, proof) with every node it needs fetched in one go."""
        keys = sorted(set(merkle.nodes_needed(fn)))
        store = merkle.MemoryNodes()
        for start in range(0, len(keys), _FETCH_CHUNK):
            chunk = keys[start : start + _FETCH_CHUNK]
            rows = self.conn.execute(
                select(_NODE.level, _NODE.idx, _NODE.hash).where(
                    tuple_(_NODE.level, _NODE.idx).in_(chunk)
                )
            )
            for level, idx, digest in rows:
                store.nodes[(int(level), int(idx))] = bytes.fromhex(str(digest))
        missing = [k for k in keys if k not in store.nodes]
        if missing:
            level, idx = missing[0]
            raise TreeDamaged(
                f"the audit tree has no node at level {level}, index {idx}: run "
                "`steward audit verify` to see what happened to the journal"
            )
        return fn(store)

    def root(self, size: int) -> bytes:
        return self.compute(lambda r: merkle.root(r, size))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return self.compute(lambda r: merkle.inclusion_proof(r, index, size))

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return self.compute(lambda r: merkle.consistency_proof(r, old, new))

    # --- checkpoints ---

    def add_checkpoint(
        self, *, tree_size: int, root_hash: str, note: str, at: datetime, by: str
    ) -> StoredCheckpoint:
        new_id = self.conn.execute(
            insert(t.audit_checkpoints)
            .values(
                tree_size=tree_size,
                root_hash=root_hash,
                note=note,
                created_at=at,
                created_by=by,
                published_to=[],
                publish_error=None,
                publish_attempts=0,
            )
            .returning(_CP.id)
        ).scalar_one()
        found = self.checkpoint(int(new_id))
        assert found is not None
        return found

    def checkpoint(self, checkpoint_id: int) -> StoredCheckpoint | None:
        row = self.conn.execute(select(t.audit_checkpoints).where(_CP.id == checkpoint_id)).first()
        return None if row is None else _checkpoint(row)

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        row = self.conn.execute(
            select(t.audit_checkpoints).order_by(_CP.tree_size.desc(), _CP.id.desc()).limit(1)
        ).first()
        return None if row is None else _checkpoint(row)

    def checkpoints(self, limit: int | None = None) -> list[StoredCheckpoint]:
        """Newest first."""
        query = select(t.audit_checkpoints).order_by(_CP.id.desc())
        if limit is not None:
            query = query.limit(limit)
        return [_checkpoint(r) for r in self.conn.execute(query)]

    def all_checkpoints(self) -> Iterable[StoredCheckpoint]:
        """Oldest tree first: the order verify walks them."""
        query = select(t.audit_checkpoints).order_by(_CP.tree_size, _CP.id)
        return [_checkpoint(r) for r in self.conn.execute(query)]

    def unpublished(self) -> list[StoredCheckpoint]:
        rows = self.conn.execute(
            select(t.audit_checkpoints).where(_CP.publish_error.is_not(None)).order_by(_CP.id)
        )
        return [_checkpoint(r) for r in rows]

    def mark_published(
        self, checkpoint_id: int, published_to: list[str], error: str | None
    ) -> None:
        self.conn.execute(
            update(t.audit_checkpoints)
            .where(_CP.id == checkpoint_id)
            .values(
                published_to=published_to,
                publish_error=error,
                publish_attempts=_CP.publish_attempts + 1,
            )
        )


def _checkpoint(row: Any) -> StoredCheckpoint:
    return StoredCheckpoint(
        id=int(row.id),
        tree_size=int(row.tree_size),
        root_hash=str(row.root_hash),
        note=str(row.note),
        created_at=row.created_at,
        created_by=str(row.created_by),
        published_to=tuple(row.published_to or ()),
        publish_error=row.publish_error,
        publish_attempts=int(row.publish_attempts),
    )
