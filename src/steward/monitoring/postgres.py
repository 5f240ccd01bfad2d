"""A PostgreSQL table or query as a batch source, read in bounded chunks.

DuckDB's postgres extension has to be downloaded (``INSTALL postgres``), which an offline or
locked-down machine cannot do, so this source needs nothing but psycopg: the table or query
is read through a *server-side* cursor ``chunk_rows`` rows at a time (100 000 by default),
each chunk becomes an Arrow table with types taken from the result's column types (so every
chunk has the same schema, even one where a column is all NULL), is reduced by the usual
engine on the reference profile, and the chunk aggregates are merged — exactly, as any
partitions — so memory stays bounded by one chunk whatever the table's size. Only the
columns the monitor needs are selected.

Spelling, everywhere a source is text (``steward monitor run --data``, a monitor's scheduled
``source``, ``st.run_monitor``)::

    postgresql://user@host:5432/db#table=public.events
    postgresql://user@host:5432/db#query=SELECT * FROM events WHERE day = current_date - 1

(the part after ``#`` is not sent to the server; the CLI also takes ``--data URL --table T``
or ``--query SQL``). Passwords belong in ``PGPASSWORD`` or ``~/.pgpass``, not in the URL: the
URL is stored with the run and in the journal, with any password masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from steward.domain.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa

    from steward.monitoring.aggregate import BatchAggregate
    from steward.monitoring.profile import ReferenceProfile

SCHEMES = ("postgresql://", "postgres://")
CHUNK_ROWS = 100_000
BLOCK_BYTES = 1 << 20  # Arrow's CSV block; it keeps about 32 blocks in flight
CONNECT_TIMEOUT = 10  # seconds
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")

# PostgreSQL type OIDs → how a chunk column is built (others become text).
_INTEGER = {20, 21, 23, 26}  # int8, int2, int4, oid
_FLOAT = {700, 701, 1700}  # float4, float8, numeric
_BOOL = {16}
_DATE = {1082}
_TIMESTAMP = {1114}
_TIMESTAMPTZ = {1184}


def is_postgres_url(text: str) -> bool:
    return text.strip().lower().startswith(SCHEMES)


@dataclass(frozen=True)
class PostgresSource:
    """A table (``schema.table``) or a ``SELECT`` of a PostgreSQL database."""

    url: str
    table: str | None = None
    query: str | None = None
    chunk_rows: int = CHUNK_ROWS

    def __post_init__(self) -> None:
        if not is_postgres_url(self.url):
            raise InvalidInput(
                f"{mask(self.url)!r} is not a PostgreSQL URL; write "
                "postgresql://user@host:5432/database.",
                field="data",
            )
        if (self.table is None) == (self.query is None):
            raise InvalidInput(
                "Name what to read from PostgreSQL: a table (--table events, or "
                "postgresql://…/db#table=events) or a query (--query 'SELECT …', or "
                "postgresql://…/db#query=SELECT …) — one of them.",
                field="data",
            )
        if self.table is not None and not _TABLE.match(self.table):
            raise InvalidInput(
                f"Table {self.table!r} is not a table name; write table or schema.table "
                "(letters, digits, _), or pass a query instead.",
                field="table",
            )
        if self.query is not None:
            head = self.query.lstrip().split(None, 1)[0].lower() if self.query.strip() else ""
            if head not in ("select", "with", "table", "values"):
                raise InvalidInput(
                    "The PostgreSQL query must be a SELECT (or WITH … SELECT).", field="query"
                )
        if not 1 <= self.chunk_rows <= 10_000_000:
            raise InvalidInput("chunk_rows must be between 1 and 10000000.", field="chunk_rows")

    @classmethod
    def parse(cls, text: str) -> PostgresSource:
        """``postgresql://…/db#table=T`` or ``postgresql://…/db#query=SELECT …``."""
        url, _sep, fragment = text.strip().partition("#")
        key, _eq, value = fragment.partition("=")
        key = key.strip().lower()
        if key == "table":
            return cls(url, table=value.strip())
        if key == "query":
            return cls(url, query=value.strip())
        raise InvalidInput(
            f"{mask(url)!r} names a database but not what to read from it; append "
            "#table=schema.table or #query=SELECT … (or pass --table / --query).",
            field="data",
        )

    def describe(self) -> str:
        """The source as text, password masked (stored with runs and in the journal)."""
        what = f"table={self.table}" if self.table else f"query={' '.join(str(self.query).split())}"
        return f"{mask(self.url)}#{what}"

    def select(self, columns: Sequence[str] | None = None, *, limit: int | None = None) -> Any:
        """The statement that reads the source (only ``columns`` when given)."""
        from psycopg import sql

        if self.table is not None:
            source: Any = sql.SQL(".").join(sql.Identifier(p) for p in self.table.split("."))
        else:
            source = sql.SQL("({}) AS batch").format(sql.SQL(str(self.query)))
        picked: Any = (
            sql.SQL("*")
            if columns is None
            else sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        statement = sql.SQL("SELECT {} FROM {}").format(picked, source)
        if limit is not None:
            statement = sql.SQL("{} LIMIT {}").format(statement, sql.Literal(limit))
        return statement


def mask(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://…"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def _driver() -> Any:
    """The psycopg module, or an error that says how to install it."""
    try:
        import psycopg
    except ModuleNotFoundError:
        raise InvalidInput(
            "Reading PostgreSQL needs the psycopg driver, which this installation lacks: "
            "pip install 'steward[postgres]'.",
            field="data",
        ) from None
    return psycopg


def _connect(source: PostgresSource) -> Any:
    psycopg = _driver()
    try:
        conn = psycopg.connect(source.url, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split())[:300]
        raise InvalidInput(
            f"Cannot connect to PostgreSQL at {mask(source.url)}: {reason}. Check the host, "
            "port and database name in the URL, that the server is running and reachable, "
            "and the credentials (PGPASSWORD or ~/.pgpass).",
            field="data",
        ) from None
    except psycopg.ProgrammingError as exc:  # a malformed URL or option
        raise InvalidInput(
            f"{mask(source.url)!r} is not a usable PostgreSQL URL ({exc}); write "
            "postgresql://user@host:5432/database.",
            field="data",
        ) from None
    conn.read_only = True
    return conn


def _refuse(source: PostgresSource, exc: Exception) -> InvalidInput:
    import psycopg.errors as pe

    reason = " ".join(str(exc).split())[:400]
    if isinstance(exc, pe.UndefinedTable):
        fix = (
            f"check the table name {source.table!r} (schema-qualify it, e.g. public.events) "
            "and that this user may read it"
            if source.table
            else "check the tables your query reads"
        )
        return InvalidInput(
            f"PostgreSQL {mask(source.url)} has no such table: {reason} — {fix}.", field="table"
        )
    if isinstance(exc, pe.UndefinedColumn):
        return InvalidInput(
            f"PostgreSQL refused the columns: {reason} — the table or query lacks a column "
            "the monitor needs; add it to the query or fix the monitor's columns.",
            field="data",
        )
    if isinstance(exc, pe.InsufficientPrivilege):
        return InvalidInput(
            f"PostgreSQL refused to read: {reason} — GRANT SELECT on it to this user.",
            field="data",
        )
    return InvalidInput(
        f"PostgreSQL could not run the query: {reason} — fix the query or table name.",
        field="query" if source.query else "table",
    )


def columns(source: PostgresSource) -> list[str]:
    """The source's column names (the query is planned with LIMIT 0; no rows are read)."""
    psycopg = _driver()

    with _connect(source) as conn, conn.cursor() as cur:
        try:
            cur.execute(source.select(limit=0))
        except psycopg.Error as exc:
            raise _refuse(source, exc) from None
        return [d.name for d in cur.description or ()]


def chunks(source: PostgresSource, columns: Sequence[str] | None = None) -> Iterator[pa.Table]:
    """Arrow tables of about ``source.chunk_rows`` rows, streamed with one ``COPY … TO STDOUT``.

    COPY sends the rows as CSV, which Arrow's streaming reader parses in C a block at a
    time with the column types PostgreSQL reported: about twice as fast as fetching row
    tuples through a cursor, with memory bounded by Arrow's read-ahead and one chunk.
    """
    import pyarrow as pa
    from pyarrow import csv

    psycopg = _driver()
    with _connect(source) as conn:
        with conn.cursor() as cur:
            try:
                cur.execute(source.select(columns, limit=0))  # names and types, no rows
            except psycopg.Error as exc:
                raise _refuse(source, exc) from None
            description = [(d.name, d.type_code) for d in cur.description or ()]
        names = [name for name, _oid in description]
        types = {name: _arrow_type(oid) for name, oid in description}
        options = (
            csv.ReadOptions(column_names=names, block_size=BLOCK_BYTES),
            csv.ParseOptions(newlines_in_values=True),
            csv.ConvertOptions(
                column_types=types,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,  # PostgreSQL writes '' as "" and NULL as nothing
                true_values=["t"],
                false_values=["f"],
            ),
        )
        with conn.cursor() as cur:
            try:
                with cur.copy(_copy_statement(source, description, columns)) as copy:
                    stream = _CopyStream(copy)
                    try:
                        reader = csv.open_csv(stream, *options)
                    except pa.ArrowInvalid:
                        if stream.received == 0:
                            return  # no rows: the caller says the batch is empty
                        raise
                    # Arrow parses small blocks (it reads ~32 ahead, so memory stays near
                    # 32 blocks); they are gathered into tables of about chunk_rows rows so
                    # the engine runs once per chunk, not once per block.
                    gathered: list[pa.RecordBatch] = []
                    rows = 0
                    for batch in reader:
                        gathered.append(batch)
                        rows += batch.num_rows
                        if rows >= source.chunk_rows:
                            yield pa.Table.from_batches(gathered)
                            gathered, rows = [], 0
                    if gathered:
                        yield pa.Table.from_batches(gathered)
            except psycopg.Error as exc:
                raise _refuse(source, exc) from None
            except pa.ArrowInvalid as exc:
                raise InvalidInput(
                    f"Steward could not read the rows of {source.describe()}: {exc}. Cast "
                    "unusual column types to text or numbers in the query.",
                    field="data",
                ) from None


def _arrow_type(oid: int) -> pa.DataType:
    import pyarrow as pa

    if oid in _INTEGER:
        return pa.int64()
    if oid in _FLOAT:
        return pa.float64()
    if oid in _BOOL:
        return pa.bool_()
    if oid in _DATE:
        return pa.date32()
    if oid in _TIMESTAMP:
        return pa.timestamp("us")
    if oid in _TIMESTAMPTZ:
        return pa.timestamp("us", tz="UTC")
    return pa.string()


def _copy_statement(
    source: PostgresSource, description: Sequence[tuple[str, int]], columns: Sequence[str] | None
) -> Any:
    """``COPY (SELECT …) TO STDOUT`` with each column written in a form Arrow parses exactly:
    numerics as float8, timestamps as ISO text in UTC (``timestamptz`` converted)."""
    from psycopg import sql

    iso = sql.Literal('YYYY-MM-DD"T"HH24:MI:SS.US')
    utc = sql.Literal('YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    picked: list[Any] = []
    for name, oid in description:
        column = sql.Identifier(name)
        if oid in _FLOAT:
            picked.append(sql.SQL("{}::float8 AS {}").format(column, column))
        elif oid in _TIMESTAMPTZ:
            picked.append(
                sql.SQL("to_char({} AT TIME ZONE 'UTC', {}) AS {}").format(column, utc, column)
            )
        elif oid in _TIMESTAMP:
            picked.append(sql.SQL("to_char({}, {}) AS {}").format(column, iso, column))
        else:
            picked.append(column)
    return sql.SQL("COPY (SELECT {} FROM ({}) AS source) TO STDOUT WITH (FORMAT csv)").format(
        sql.SQL(", ").join(picked), source.select(columns)
    )


class _CopyStream:
    """A read-only file over ``COPY TO STDOUT`` blocks, as Arrow's reader wants one."""

    def __init__(self, copy: Any) -> None:
        self._copy = copy
        self._pending = b""
        self.received = 0
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        # libpq hands COPY data over about a row at a time: gather, then join once.
        parts, have = [self._pending], len(self._pending)
        while size < 0 or have < size:
            block = self._copy.read()
            if not block:
                break
            parts.append(bytes(block))
            have += len(block)
        data = b"".join(parts)
        self.received += have - len(self._pending)
        if size < 0 or size >= len(data):
            self._pending = b""
            return data
        self._pending = data[size:]
        return data[:size]

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True


def aggregate(
    source: PostgresSource, profile: ReferenceProfile, engine: str = "duckdb"
) -> BatchAggregate:
    """Chunk by chunk in ``engine`` (duckdb or numpy), merged: one pass, bounded memory."""
    from steward.monitoring.aggregate import aggregate as reduce_chunk
    from steward.monitoring.aggregate import merge

    if engine not in ("duckdb", "numpy"):
        raise InvalidInput(
            f"A PostgreSQL source is reduced with the duckdb or numpy engine, not {engine!r}; "
            "for Spark, read the table with spark.read.jdbc and pass the DataFrame.",
            field="engine",
        )
    parts = [
        reduce_chunk(chunk, profile, engine)  # type: ignore[arg-type]
        for chunk in chunks(source, list(profile.columns))
    ]
    if not parts:
        raise InvalidInput(
            f"{source.describe()} returned no rows; an empty batch cannot be compared with "
            "the reference. Check the table or the query's WHERE clause.",
            field="data",
        )
    return merge(parts)
