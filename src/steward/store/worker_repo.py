"""`steward worker` bookkeeping: per-job locks and heartbeats.

Job locks keep two workers (or a worker and a cron'd pass) from running the same job
at the same time. They are *try* locks: a worker that finds a job taken skips it this
pass rather than queueing behind it.

- PostgreSQL: ``pg_try_advisory_xact_lock`` with a stable key per job kind, held by a
  transaction open for the job's duration on a connection of its own; it is released
  when that transaction ends, so a killed worker never leaves a job locked.
- SQLite: a non-blocking ``flock`` of a file beside the database (what every process
  sharing that database sees); the kernel drops it when the process dies.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

try:
    import fcntl
except ImportError:  # Windows: SQLite there is single-process in practice
    fcntl = None  # type: ignore[assignment]

from steward.store import tables as t

_h = t.worker_heartbeats
_c = _h.c


def job_lock_key(kind: str) -> int:
    """A stable signed 64-bit advisory-lock key per job kind (same in every process)."""
    digest = hashlib.sha256(f"steward.worker.job:{kind}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def job_lock(engine: Engine, kind: str) -> Iterator[bool]:
    """Yield True when this process holds ``kind``'s lock, False when another one does."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn, conn.begin() as tx:
            got = bool(
                conn.execute(
                    text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": job_lock_key(kind)}
                ).scalar()
            )
            try:
                yield got
            finally:
                tx.rollback()  # ends the transaction, so releases the lock
        return
    database = engine.url.database
    if fcntl is None or not database or database == ":memory:":
        yield True  # one process owns an in-memory database
        return
    fd = os.open(f"{database}.job-{kind}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


class HeartbeatRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def beat(
        self, worker_id: str, host: str, pid: int, started_at: datetime, now: datetime
    ) -> None:
        values = {
            "worker_id": worker_id,
            "host": host,
            "pid": pid,
            "started_at": started_at,
            "seen_at": now,
            "stopped_at": None,
            "beats": 1,
        }
        insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        statement = insert(_h).values(**values)
        self.conn.execute(
            statement.on_conflict_do_update(
                index_elements=[_c.worker_id],
                set_={"seen_at": now, "stopped_at": None, "beats": _c.beats + 1},
            )
        )

    def stopped(self, worker_id: str, now: datetime) -> None:
        self.conn.execute(
            update(_h).where(_c.worker_id == worker_id).values(seen_at=now, stopped_at=now)
        )

    def latest(self) -> dict[str, object] | None:
        """The most recently seen worker that has not stopped, if any."""
        row = (
            self.conn.execute(
                select(_h).where(_c.stopped_at.is_(None)).order_by(_c.seen_at.desc()).limit(1)
            )
            .mappings()
            .first()
        )
        return None if row is None else dict(row)

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(_h)).scalar_one())
