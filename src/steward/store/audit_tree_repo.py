"""The journal's Merkle tree nodes (table audit_tree) and signed checkpoints."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from steward.domain import merkle
from steward.domain.audit import AuditEvent
from steward.domain.checkpoint import StoredCheckpoint, Witness, journal_leaf
from steward.domain.errors import IntegrityError
from steward.store import tables as t
from steward.store.audit_repo import stream_raw

T = TypeVar("T")
_NODE = t.audit_tree.c
_CP = t.audit_checkpoints.c
_W = t.audit_witnesses.c
_CS = t.audit_cosignatures.c
# Node keys per query (a proof needs about 2 log2(n), under 100 for any journal).
_FETCH_CHUNK = 200
# Built once: every audited write runs these, and building a SQLAlchemy statement per
# call cost more than the SQLite work itself (a third of a create-model request).
_NODE_HASH = select(_NODE.hash).where(
    _NODE.level == bindparam("level"), _NODE.idx == bindparam("idx")
)
_SIZE = select(func.max(_NODE.idx)).where(_NODE.level == 0)
_INSERT_NODES = insert(t.audit_tree)


class TreeDamaged(IntegrityError):
    """A node the tree needs is missing from the database (someone removed it)."""


class _Nodes:
    """NodeReader over the table, one query per node (appends read ~1 node)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def node(self, level: int, index: int) -> bytes:
        found = self.conn.execute(_NODE_HASH, {"level": level, "idx": index}).scalar_one_or_none()
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
        found = self.conn.execute(_SIZE).scalar_one_or_none()
        return 0 if found is None else int(found) + 1

    def append(self, event: AuditEvent) -> int:
        """Add ``event`` as the next leaf (same transaction as the event); its leaf index."""
        index = self.size()
        leaf = journal_leaf(event.hash)
        nodes = merkle.new_nodes(index, leaf, _Nodes(self.conn))
        self.conn.execute(
            _INSERT_NODES, [{"level": lv, "idx": ix, "hash": h.hex()} for lv, ix, h in nodes]
        )
        return index

    def journal_hashes(self, batch: int = 50_000) -> Iterator[str]:
        """The events' chain hashes in seq order, straight off the driver's cursor.

        Only the hash column: the tree pass of verify needs nothing else, and reading
        whole rows again would cost more than the hashing.
        """
        for (digest,) in stream_raw(
            self.conn, "steward_audit_tree", "SELECT hash FROM audit_events ORDER BY seq", batch
        ):
            yield digest

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
        nodes = store.nodes
        raw: Any = self.conn.connection.dbapi_connection
        for start in range(0, len(keys), _FETCH_CHUNK):
            chunk = keys[start : start + _FETCH_CHUNK]
            # OR of primary-key lookups, answered from the index by SQLite and PostgreSQL.
            # Plain SQL: building SQLAlchemy expressions cost more than the query. The
            # numbers are ints the tree functions computed, never caller input.
            where = " OR ".join(f"(level = {int(lv)} AND idx = {int(ix)})" for lv, ix in chunk)
            # On the driver's cursor: SQLAlchemy's result machinery cost more per proof
            # than SQLite's lookups (a consistency proof reads ~30 rows).
            cursor = raw.cursor()
            try:
                cursor.execute(f"SELECT level, idx, hash FROM audit_tree WHERE {where}")
                for level, idx, digest in cursor.fetchall():
                    nodes[(int(level), int(idx))] = bytes.fromhex(str(digest))
            finally:
                cursor.close()
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
        return None if row is None else self._attach([_checkpoint(row)])[0]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        row = self.conn.execute(
            select(t.audit_checkpoints).order_by(_CP.tree_size.desc(), _CP.id.desc()).limit(1)
        ).first()
        return None if row is None else self._attach([_checkpoint(row)])[0]

    def checkpoints(self, limit: int | None = None) -> list[StoredCheckpoint]:
        """Newest first."""
        query = select(t.audit_checkpoints).order_by(_CP.id.desc())
        if limit is not None:
            query = query.limit(limit)
        return self._attach([_checkpoint(r) for r in self.conn.execute(query)])

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

    def _attach(self, found: list[StoredCheckpoint]) -> list[StoredCheckpoint]:
        """The checkpoints with the names of the witnesses that cosigned each."""
        if not found:
            return found
        by_id: dict[int, list[str]] = {}
        rows = self.conn.execute(
            select(_CS.checkpoint_id, _CS.witness)
            .where(_CS.checkpoint_id.in_([c.id for c in found]))
            .order_by(_CS.witness)
        )
        for checkpoint_id, witness in rows:
            by_id.setdefault(int(checkpoint_id), []).append(str(witness))
        return [replace(c, cosigners=tuple(by_id.get(c.id, ()))) for c in found]

    # --- witnesses and cosignatures ---

    def add_witness(self, name: str, verifier_key: str, at: datetime, by: str) -> Witness:
        self.conn.execute(
            insert(t.audit_witnesses).values(
                name=name, verifier_key=verifier_key, created_at=at, created_by=by
            )
        )
        return Witness(name, verifier_key, at, by)

    def witness(self, name: str) -> Witness | None:
        row = self.conn.execute(select(t.audit_witnesses).where(_W.name == name)).first()
        return None if row is None else _witness(row)

    def witnesses(self) -> list[Witness]:
        rows = self.conn.execute(select(t.audit_witnesses).order_by(_W.name))
        return [_witness(r) for r in rows]

    def remove_witness(self, name: str) -> None:
        """The witness goes; cosignatures it made stay (they were valid when checked)."""
        self.conn.execute(delete(t.audit_witnesses).where(_W.name == name))

    def add_cosignature(
        self, checkpoint_id: int, witness: str, line: str, at: datetime, by: str
    ) -> bool:
        """Store a checked cosignature; False if this witness's one is already stored."""
        exists = self.conn.execute(
            select(_CS.witness).where(_CS.checkpoint_id == checkpoint_id, _CS.witness == witness)
        ).first()
        if exists is not None:
            return False
        self.conn.execute(
            insert(t.audit_cosignatures).values(
                checkpoint_id=checkpoint_id,
                witness=witness,
                signature_line=line,
                created_at=at,
                created_by=by,
            )
        )
        return True

    def latest_cosigned(self) -> dict[str, StoredCheckpoint]:
        """Each witness's most recently signed cosigned checkpoint (the highest id)."""
        newest = (
            select(_CS.witness, func.max(_CS.checkpoint_id).label("id"))
            .group_by(_CS.witness)
            .subquery()
        )
        rows = self.conn.execute(
            select(newest.c.witness, t.audit_checkpoints).join(
                t.audit_checkpoints, _CP.id == newest.c.id
            )
        ).all()
        found = self._attach([_checkpoint(r) for r in rows])
        return {str(r.witness): c for r, c in zip(rows, found, strict=True)}

    def cosignature_lines(self, checkpoint_id: int) -> list[tuple[str, str]]:
        """(witness, signature line) of every stored cosignature of a checkpoint."""
        rows = self.conn.execute(
            select(_CS.witness, _CS.signature_line)
            .where(_CS.checkpoint_id == checkpoint_id)
            .order_by(_CS.witness)
        )
        return [(str(w), str(line)) for w, line in rows]

    def checkpoints_of_size(self, tree_size: int) -> list[StoredCheckpoint]:
        rows = self.conn.execute(
            select(t.audit_checkpoints).where(_CP.tree_size == tree_size).order_by(_CP.id)
        )
        return self._attach([_checkpoint(r) for r in rows])


def _witness(row: Any) -> Witness:
    return Witness(str(row.name), str(row.verifier_key), row.created_at, str(row.created_by))


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
