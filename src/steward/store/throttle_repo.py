"""Sign-in throttle state (``login_throttle``): rows <-> :class:`KeyState`.

``lock`` is the read half of a read-modify-write inside one write transaction: on
PostgreSQL it inserts a missing row first (so two processes counting the same new key
meet on one row) and locks it; on SQLite the write transaction holds the file lock.
"""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection as DbConnection

from steward.domain.throttle import KeyState
from steward.store import tables as t

_t = t.login_throttle
_c = _t.c
_FIELDS = ("window_start", "failures", "locked_until", "lockouts", "journalled", "unjournalled")


class ThrottleRepository:
    def __init__(self, conn: DbConnection) -> None:
        self.conn = conn

    def get(self, kind: str, key: str) -> KeyState | None:
        row = (
            self.conn.execute(
                select(*(_c[f] for f in _FIELDS)).where(_c.kind == kind, _c.key == key)
            )
            .mappings()
            .first()
        )
        return None if row is None else KeyState(**{f: row[f] for f in _FIELDS})

    def lock(self, kind: str, key: str, now: float) -> KeyState:
        """The key's stored state under a row lock, created (fresh) if it had none."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(
                pg_insert(_t)
                .values(kind=kind, key=key, **asdict(KeyState(window_start=now)))
                .on_conflict_do_nothing()
            )
            row = (
                self.conn.execute(
                    select(*(_c[f] for f in _FIELDS))
                    .where(_c.kind == kind, _c.key == key)
                    .with_for_update()
                )
                .mappings()
                .one()
            )
            return KeyState(**{f: row[f] for f in _FIELDS})
        found = self.get(kind, key)
        if found is None:
            found = KeyState(window_start=now)
            self.conn.execute(_t.insert().values(kind=kind, key=key, **asdict(found)))
        return found

    def save(self, kind: str, key: str, state: KeyState) -> None:
        self.conn.execute(
            update(_t).where(_c.kind == kind, _c.key == key).values(**asdict(state))
        )

    def forget(self, kind: str, key: str) -> None:
        self.conn.execute(delete(_t).where(_c.kind == kind, _c.key == key))

    def prune(self, now: float, window: float) -> None:
        """Delete states a fresh one would equal (KeyState.idle): the table stays bounded
        by the keys seen in the last window however many names a flood invents."""
        self.conn.execute(
            delete(_t).where(
                and_(_c.window_start <= now - window, _c.locked_until <= now - window)
            )
        )
