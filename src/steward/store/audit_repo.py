"""Reading the audit journal (appending lives in the unit of work)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from steward.domain.audit import AuditEvent, AuditFilter, EventRow
from steward.store import tables as t

_COLS = (
    t.audit_events.c.seq,
    t.audit_events.c.time,
    t.audit_events.c.actor,
    t.audit_events.c.action,
    t.audit_events.c.subject_type,
    t.audit_events.c.subject_id,
    t.audit_events.c.payload,
    t.audit_events.c.prev_hash,
    t.audit_events.c.hash,
)


def _event(row: Any) -> AuditEvent:
    return AuditEvent(*row)


class AuditRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _filtered(self, f: AuditFilter) -> Select[tuple[object, ...]]:
        e = t.audit_events.c
        query = select(*_COLS)
        if f.subject_type:
            query = query.where(e.subject_type == f.subject_type)
        if f.subject_id:
            query = query.where(e.subject_id == f.subject_id)
        if f.subject_prefix:
            query = query.where(
                (e.subject_id == f.subject_prefix)
                # autoescape: '_' is legal in model names and a LIKE wildcard.
                | e.subject_id.startswith(f.subject_prefix + "/", autoescape=True)
            )
        if f.actor:
            query = query.where(e.actor == f.actor)
        if f.action:
            query = query.where(e.action == f.action)
        if f.actions:
            query = query.where(e.action.in_(f.actions))
        if f.since:
            query = query.where(e.time >= f.since)
        if f.until:
            query = query.where(e.time <= f.until)
        if f.after_seq is not None:
            query = query.where(e.seq > f.after_seq)
        return query

    def search(self, f: AuditFilter, limit: int) -> list[AuditEvent]:
        query = self._filtered(f).order_by(t.audit_events.c.seq).limit(limit)
        return [_event(r) for r in self.conn.execute(query)]

    def stream(self, f: AuditFilter | None = None, batch: int = 5000) -> Iterator[AuditEvent]:
        """All matching events in seq order, fetched in keyset batches."""
        base = f or AuditFilter()
        after = base.after_seq or 0
        while True:
            query = self._filtered(AuditFilter(**{**base.__dict__, "after_seq": after}))
            rows = self.conn.execute(query.order_by(t.audit_events.c.seq).limit(batch)).all()
            for row in rows:
                yield _event(row)
            if len(rows) < batch:
                return
            after = int(rows[-1].seq)

    def stream_rows(
        self, first: int | None = None, last: int | None = None, batch: int = 20_000
    ) -> Iterator[EventRow]:
        """The whole journal as plain tuples in seq order, straight off the driver's cursor.

        Used by verify, where per-row object construction would cost more than
        the hashing itself; PostgreSQL streams through a server-side cursor.
        """
        raw: Any = self.conn.connection.dbapi_connection
        postgres = self.conn.dialect.name == "postgresql"
        cursor = raw.cursor(name="steward_audit_verify") if postgres else raw.cursor()
        try:
            if postgres:
                cursor.itersize = batch
            where = ""
            if first is not None and last is not None:
                where = f" WHERE seq BETWEEN {int(first)} AND {int(last)}"
            cursor.execute(
                "SELECT seq, time, actor, action, subject_type, subject_id, payload, "
                f"prev_hash, hash FROM audit_events{where} ORDER BY seq"
            )
            while rows := cursor.fetchmany(batch):
                yield from rows
        finally:
            cursor.close()

    def hash_at(self, seq: int) -> str | None:
        found = self.conn.execute(
            select(t.audit_events.c.hash).where(t.audit_events.c.seq == seq)
        ).scalar_one_or_none()
        return None if found is None else str(found)

    def max_seq(self) -> int:
        found = self.conn.execute(select(func.max(t.audit_events.c.seq))).scalar_one_or_none()
        return int(found or 0)

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.audit_events)).scalar_one())

    def has_later_successor(self, prev_hash: str, seq: int) -> bool:
        e = t.audit_events.c
        found = self.conn.execute(
            select(e.seq).where(e.prev_hash == prev_hash, e.seq > seq).limit(1)
        ).first()
        return found is not None

    def head(self) -> AuditEvent | None:
        row = self.conn.execute(
            select(*_COLS).order_by(t.audit_events.c.seq.desc()).limit(1)
        ).first()
        return None if row is None else _event(row)
