"""Data connections (``data_connections``): rows <-> :class:`Connection` entities.

The sealed credentials column never leaves this module inside an entity; ``sealed`` hands
it to the service that unseals it for a read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection as DbConnection
from sqlalchemy.engine import RowMapping

from steward.domain.connections import Connection, ConnectionKind
from steward.store import tables as t

_c = t.data_connections.c


def _connection(row: RowMapping) -> Connection:
    return Connection(
        name=row["name"],
        kind=ConnectionKind(row["kind"]),
        location=row["location"],
        description=row["description"],
        options=dict(row["options"]),
        credential_keys=list(row["credential_keys"]),
        roles=list(row["roles"]),
        teams=list(row["teams"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


class ConnectionRepository:
    def __init__(self, conn: DbConnection) -> None:
        self.conn = conn

    def insert(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(t.data_connections).values(**values))

    def get(self, name: str) -> Connection | None:
        row = self.conn.execute(select(t.data_connections).where(_c.name == name)).mappings()
        found = row.first()
        return None if found is None else _connection(found)

    def sealed(self, name: str) -> str | None:
        return self.conn.execute(select(_c.credentials).where(_c.name == name)).scalar_one_or_none()

    def all(self) -> list[Connection]:
        rows = self.conn.execute(select(t.data_connections).order_by(_c.name)).mappings()
        return [_connection(r) for r in rows]

    def delete(self, name: str) -> None:
        self.conn.execute(delete(t.data_connections).where(_c.name == name))
