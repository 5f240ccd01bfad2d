"""Reading every table in one snapshot, and loading rows into an empty schema.

Rows travel as JSON values, typed by column "kind" (datetime, date, bytes, json,
value), so a dump from one database kind loads into the other.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, LargeBinary, MetaData, Table, inspect, select, text
from sqlalchemy import tuple_ as sql_tuple
from sqlalchemy.engine import Connection, Engine

from steward.store import tables

BATCH = 1000


def has_tables(conn: Connection) -> list[str]:
    """The tables already in the database (a restore needs none)."""
    return sorted(inspect(conn).get_table_names())


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """One read transaction that sees one moment for every table.

    PostgreSQL: REPEATABLE READ, READ ONLY. SQLite (WAL): a read transaction keeps
    the snapshot its first read took while writers go on appending to the WAL.
    """
    conn = engine.connect()
    try:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET TRANSACTION READ ONLY"))
            yield conn
    finally:
        conn.close()


def dumped_tables() -> list[Table]:
    """Every table of the schema, parents before children."""
    return list(tables.metadata.sorted_tables)


def kinds(table: Table) -> dict[str, str]:
    found = {}
    for column in table.columns:
        kind = "value"
        col_type: Any = column.type
        impl = getattr(col_type, "impl", col_type)
        if isinstance(impl, DateTime):
            kind = "datetime"
        elif isinstance(impl, Date):
            kind = "date"
        elif isinstance(impl, LargeBinary):
            kind = "bytes"
        elif isinstance(impl, JSON):
            kind = "json"
        found[column.name] = kind
    return found


def _encode(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        assert isinstance(value, datetime)
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if kind == "date":
        assert isinstance(value, date)
        return value.isoformat()
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def stream_rows(conn: Connection, table: Table, batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """Every row as JSON-ready values, in primary-key (keyset) order, ``batch`` at a time."""
    table_kinds = kinds(table)
    pk = list(table.primary_key.columns)
    last: tuple[Any, ...] | None = None
    while True:
        query = select(table).order_by(*pk).limit(batch)
        if last is not None:
            query = query.where(sql_tuple(*pk) > sql_tuple(*last))
        rows = conn.execute(query).mappings().all()
        for row in rows:
            yield {name: _encode(row[name], table_kinds[name]) for name in table_kinds}
        if len(rows) < batch:
            return
        last = tuple(rows[-1][c.name] for c in pk)


def _decode(value: Any, kind: str, column_type: Any, sqlite: bool) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        moment = datetime.fromisoformat(value)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        # SQLite keeps naive UTC (see tables.UTCDateTime); PostgreSQL a timestamptz.
        return moment.astimezone(UTC).replace(tzinfo=None) if sqlite else moment
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "bytes":
        return base64.b64decode(value)
    if kind == "json" and not isinstance(column_type, JSON):
        return json.dumps(value)
    return value


class Loader:
    """Loads a backup's rows into a schema just created for them, inside ``conn``'s transaction."""

    def __init__(self, conn: Connection, names: Iterable[str]) -> None:
        self.conn = conn
        self.meta = MetaData()
        present = set(inspect(conn).get_table_names())
        self.meta.reflect(conn, only=[n for n in names if n in present])
        self.sqlite = conn.dialect.name == "sqlite"

    def missing(self, names: Iterable[str]) -> list[str]:
        return [n for n in names if n not in self.meta.tables]

    def order(self) -> list[str]:
        """Parents before children (foreign keys)."""
        return [t.name for t in self.meta.sorted_tables]

    def clear(self) -> None:
        """Drop rows the migrations seeded (e.g. built-in roles): the backup has its own."""
        for table in reversed(self.meta.sorted_tables):
            self.conn.execute(table.delete())

    def load(self, name: str, table_kinds: dict[str, str], rows: Iterable[dict[str, Any]]) -> int:
        table = self.meta.tables[name]
        types = {c.name: c.type for c in table.columns}
        unknown = set(table_kinds) - set(types)
        if unknown:
            raise ValueError(f"table {name} has no column(s) {', '.join(sorted(unknown))}")
        count = 0
        pending: list[dict[str, Any]] = []
        for row in rows:
            strange = set(row) - set(types)
            if strange:
                raise ValueError(f"a row of {name} has unknown column(s) {sorted(strange)}")
            pending.append(
                {
                    k: _decode(v, table_kinds.get(k, "value"), types[k], self.sqlite)
                    for k, v in row.items()
                }
            )
            if len(pending) >= BATCH:
                self.conn.execute(table.insert(), pending)
                count += len(pending)
                pending = []
        if pending:
            self.conn.execute(table.insert(), pending)
            count += len(pending)
        return count

    def reset_sequences(self) -> None:
        """PostgreSQL: move each serial/identity sequence past the loaded ids."""
        if self.conn.dialect.name != "postgresql":
            return  # SQLite's rowid allocation follows the largest id by itself
        for table in self.meta.sorted_tables:
            for column in table.primary_key.columns:
                seq = self.conn.execute(
                    text("SELECT pg_get_serial_sequence(:t, :c)"),
                    {"t": f'"{table.name}"', "c": column.name},
                ).scalar()
                if seq is None:
                    continue
                top = self.conn.execute(select(column).order_by(column.desc()).limit(1)).scalar()
                self.conn.execute(
                    text("SELECT setval(CAST(:s AS regclass), :v, :called)"),
                    {"s": seq, "v": top if top is not None else 1, "called": top is not None},
                )


def revision(conn: Connection) -> str:
    return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
