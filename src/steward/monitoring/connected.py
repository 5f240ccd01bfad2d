"""Reading a batch through a data connection: resolved paths, parsed SQL, a locked DuckDB.

What a monitor names inside a connection is never pasted into a reader as it came:

- a ``path`` (file or glob) is joined to the connection's root, every match is resolved
  (``os.path.realpath``, so symbolic links are followed) and must stay under the resolved
  root; s3 object keys must stay under the connection's prefix;
- a ``query`` is parsed by DuckDB's own parser (``json_serialize_sql``: the parser that
  will run it, so the check and the run cannot disagree about what the text means). It must
  be one SELECT whose relations are the connection's (``batch`` for a folder or s3
  connection, CTEs it defines itself, tables for PostgreSQL) and call no table function
  (``read_csv``, ``glob``, …) — anything else is refused. What runs is DuckDB's rendering
  of the checked tree, not the text: comments and trailing statements cannot survive;
- DuckDB runs it on an in-memory connection where Steward first creates ``batch`` over the
  resolved files (``allowed_paths`` lists exactly those) or registers the s3 objects as an
  Arrow dataset, then sets ``enable_external_access=false`` and ``lock_configuration=true``:
  the query can read nothing else and change no setting;
- PostgreSQL queries run through psycopg in a read-only transaction, with the connection's
  (read-only) role: the database's privileges are the second line.
"""

from __future__ import annotations

import glob as globlib
import json
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from steward.domain.connections import (
    BATCH_RELATION,
    ConnectionKind,
    ConnectionSpec,
    Opened,
    check_spec_kind,
    path_problem,
)
from steward.domain.errors import InvalidInput

GLOB_CHARS = "*?["
# Functions a PostgreSQL query may not call even on a read-only role (file and large-object
# access, other databases, settings, XML renderings of whole tables).
_REFUSED_FUNCTIONS = (
    "pg_",
    "lo_",
    "dblink",
    "set_config",
    "current_setting",
    "query_to_",
    "table_to_",
    "cursor_to_",
    "schema_to_",
    "database_to_",
    "read_",
    "getvariable",
    "txid_",
)
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


@dataclass(frozen=True)
class LockedQuery:
    """A batch source: checked SQL over relations Steward prepared, on a locked DuckDB."""

    sql: str  # DuckDB's rendering of the checked query
    description: str
    files: tuple[str, ...] = ()  # resolved local files read as ``batch``
    file_format: str = "parquet"
    dataset: Any = field(default=None, repr=False)  # an Arrow dataset read as ``batch``

    def connect(self) -> tuple[Any, str]:
        """A locked connection and the relation text of the query."""
        from steward.monitoring._duckdb import new_connection

        con = new_connection()
        try:
            if self.files:
                listed = ", ".join(_literal(f) for f in self.files)
                con.execute(f"SET allowed_paths = [{listed}]")
            con.execute("SET enable_external_access = false")
            if self.files:
                reader = "read_parquet" if self.file_format == "parquet" else "read_csv"
                con.execute(
                    f"CREATE TEMP VIEW {BATCH_RELATION} AS SELECT * FROM {reader}([{listed}])"
                )
            elif self.dataset is not None:
                con.register(BATCH_RELATION, self.dataset)
            con.execute("SET lock_configuration = true")
        except Exception as exc:  # an unreadable file: say which source, never a traceback
            con.close()
            raise InvalidInput(
                f"Cannot read {self.description}: {str(exc).splitlines()[0][:300]}",
                field="path",
            ) from None
        return con, f"({self.sql})"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# -- SQL ---------------------------------------------------------------------------------


def check_sql(sql: str, relations: frozenset[str] | None) -> str:
    """DuckDB's rendering of ``sql`` when it is one read-only SELECT over ``relations``
    (None: any table outside the system schemas, for PostgreSQL); else InvalidInput."""
    import duckdb

    fix = (
        "Write one SELECT over the connection's relations ("
        + (f"{', '.join(sorted(relations))}" if relations is not None else "its tables")
        + "), without table functions, COPY, ATTACH, PRAGMA, SET or a second statement."
    )
    con = duckdb.connect(config={"enable_external_access": False})
    try:
        con.execute("SET lock_configuration = true")
        row = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
        assert row is not None
        tree = json.loads(row[0])
        if tree.get("error"):
            raise InvalidInput(
                f"The query is refused: {tree.get('error_message', 'it does not parse')}. {fix}",
                field="query",
            )
        statements = tree.get("statements") or []
        if len(statements) != 1:
            raise InvalidInput(
                f"The query is refused: it holds {len(statements)} statements. {fix}",
                field="query",
            )
        problems: list[str] = []
        ctes: set[str] = set()
        _collect_ctes(statements[0], ctes)
        _walk(statements[0], relations, frozenset(ctes), problems)
        if problems:
            raise InvalidInput(
                f"The query is refused: {'; '.join(dict.fromkeys(problems))}. {fix}",
                field="query",
            )
        rendered = con.execute("SELECT json_deserialize_sql(?)", [row[0]]).fetchone()
    except duckdb.Error as exc:
        raise InvalidInput(f"The query is refused: {exc}. {fix}", field="query") from None
    finally:
        con.close()
    assert rendered is not None
    return str(rendered[0])


def _collect_ctes(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            for entry in cte_map.get("map") or []:
                found.add(str(entry.get("key", "")).lower())
        for value in node.values():
            _collect_ctes(value, found)
    elif isinstance(node, list):
        for value in node:
            _collect_ctes(value, found)


def _walk(
    node: Any, relations: frozenset[str] | None, ctes: frozenset[str], problems: list[str]
) -> None:
    if isinstance(node, list):
        for value in node:
            _walk(value, relations, ctes, problems)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "TABLE_FUNCTION":
        problems.append("it calls a table function (such as read_csv or glob)")
    elif kind == "BASE_TABLE":
        _check_table(node, relations, ctes, problems)
    if node.get("class") == "FUNCTION":
        name = str(node.get("function_name", "")).lower()
        if name.startswith(_REFUSED_FUNCTIONS) or node.get("schema") in _SYSTEM_SCHEMAS:
            problems.append(f"it calls {name}(), which reaches beyond the data")
    for value in node.values():
        _walk(value, relations, ctes, problems)


def _check_table(
    node: dict[str, Any],
    relations: frozenset[str] | None,
    ctes: frozenset[str],
    problems: list[str],
) -> None:
    name = str(node.get("table_name", ""))
    schema = str(node.get("schema_name", "") or "")
    catalog = str(node.get("catalog_name", "") or "")
    if not schema and not catalog and name.lower() in ctes:
        return
    if catalog:
        problems.append(f"it names another database ({catalog})")
    elif relations is not None:
        if schema or name.lower() not in relations:
            problems.append(
                f"it reads {'.'.join(p for p in (schema, name) if p)!r}, which is not "
                "a relation of the connection"
            )
    elif schema.lower() in _SYSTEM_SCHEMAS or name.lower().startswith("pg_"):
        problems.append(f"it reads the system catalog ({'.'.join(p for p in (schema, name) if p)})")


# -- paths -------------------------------------------------------------------------------


def _format_of(paths: list[str], shown: str) -> str:
    lowered = [p.lower() for p in paths]
    if all(p.endswith((".parquet", ".pq")) for p in lowered):
        return "parquet"
    if all(p.endswith((".csv", ".csv.gz", ".tsv", ".txt")) for p in lowered):
        return "csv"
    raise InvalidInput(
        f"Cannot tell one format for {shown!r}: name .parquet or .csv files (one format).",
        field="path",
    )


def resolved_root(root: str) -> str:
    """A folder connection's root with its links resolved; it must be a directory."""
    real_root = os.path.realpath(root)
    if not Path(real_root).is_dir():
        raise InvalidInput(
            f"The connection's root {root} is not a directory on this server; an admin fixes "
            "the connection.",
            field="connection",
        )
    return real_root


def folder_files(root: str, pattern: str) -> list[str]:
    """The resolved files ``pattern`` matches under ``root``; refuses any that resolve outside
    it (``..``, absolute paths, symbolic links pointing out)."""
    problem = path_problem(pattern)
    if problem:
        raise InvalidInput(f"The path is refused: {problem}.", field="path")
    real_root = resolved_root(root)
    joined = str(Path(real_root) / pattern)
    if any(ch in pattern for ch in GLOB_CHARS):
        matches = sorted(globlib.glob(joined))  # noqa: PTH207 (absolute patterns)
    else:
        matches = [joined] if os.path.lexists(joined) else []
    files: list[str] = []
    for match in matches:
        real = os.path.realpath(match)
        if os.path.commonpath([real_root, real]) != real_root:
            raise InvalidInput(
                f"The path {pattern!r} leads outside the connection's root (through a symbolic "
                "link); it is refused.",
                field="path",
            )
        if Path(real).is_file():
            files.append(real)
    if not files:
        raise InvalidInput(
            f"No file matches {pattern!r} under the connection's root; check the path or glob.",
            field="path",
        )
    return files


def s3_dataset(opened: Opened, pattern: str) -> tuple[Any, str]:
    """An Arrow dataset of the objects ``pattern`` matches under the connection's prefix."""
    import pyarrow.dataset as ds

    problem = path_problem(pattern)
    if problem:
        raise InvalidInput(f"The path is refused: {problem}.", field="path")
    conn = opened.connection
    prefix = s3_prefix(opened)
    target = posixpath.normpath(posixpath.join(prefix, pattern))
    if not (target + "/").startswith(prefix + "/"):
        raise InvalidInput(
            f"The path {pattern!r} leads outside the connection's prefix.", field="path"
        )
    try:
        fs = s3_filesystem(opened)
        found = sorted(fs.glob(target)) if any(c in pattern for c in GLOB_CHARS) else [target]
        files = [f for f in found if (f + "/").startswith(prefix + "/") and fs.isfile(f)]
    except Exception as exc:  # fsspec raises many kinds (credentials, network, protocol)
        raise InvalidInput(
            f"Cannot list {pattern!r} in connection {conn.name!r}: {str(exc)[:300]}",
            field="path",
        ) from None
    if not files:
        raise InvalidInput(
            f"No object matches {pattern!r} in connection {conn.name!r}.", field="path"
        )
    fmt = _format_of(files, pattern)
    try:
        return ds.dataset(files, filesystem=fs, format=fmt), fmt
    except Exception as exc:  # pyarrow raises many kinds for unreadable objects
        raise InvalidInput(
            f"Cannot read {pattern!r} in connection {conn.name!r}: {str(exc)[:300]}",
            field="path",
        ) from None


def s3_prefix(opened: Opened) -> str:
    """``bucket/prefix`` of an s3 connection (no trailing slash)."""
    parts = urlsplit(opened.connection.location)
    return posixpath.join(parts.netloc, parts.path.strip("/")).rstrip("/")


def s3_filesystem(opened: Opened) -> Any:
    """An fsspec S3 filesystem with the connection's credentials and options."""
    import fsspec

    conn, creds = opened.connection, opened.credentials
    options: dict[str, Any] = {}
    if "key" in creds:
        options["key"] = creds["key"]
    if "secret" in creds:
        options["secret"] = creds["secret"]
    if "token" in creds:
        options["token"] = creds["token"]
    client: dict[str, Any] = {}
    if "endpoint_url" in conn.options:
        client["endpoint_url"] = conn.options["endpoint_url"]
    if "region" in conn.options:
        client["region_name"] = conn.options["region"]
    if client:
        options["client_kwargs"] = client
    return fsspec.filesystem("s3", **options)


# -- sources -----------------------------------------------------------------------------


def source(opened: Opened, spec: ConnectionSpec) -> Any:
    """The engine source that reads ``spec`` through ``opened`` (a :class:`LockedQuery`
    or a :class:`~steward.monitoring.postgres.PostgresSource`)."""
    conn = opened.connection
    check_spec_kind(spec, conn.kind)
    if conn.kind is ConnectionKind.POSTGRESQL:
        from steward.monitoring.postgres import PostgresSource

        url = postgres_url(opened)
        if spec.table:
            return PostgresSource(url, table=spec.table)
        return PostgresSource(url, query=check_sql(str(spec.query), None))
    assert spec.path is not None
    sql = (
        "SELECT * FROM batch"
        if not spec.query
        else check_sql(spec.query, frozenset({BATCH_RELATION}))
    )
    if conn.kind is ConnectionKind.FOLDER:
        files = folder_files(conn.location, spec.path)
        return LockedQuery(
            sql, spec.describe(), files=tuple(files), file_format=_format_of(files, spec.path)
        )
    dataset, fmt = s3_dataset(opened, spec.path)
    return LockedQuery(sql, spec.describe(), dataset=dataset, file_format=fmt)


def postgres_url(opened: Opened) -> str:
    """The connection's DSN with its sealed password put back (never stored or shown)."""
    parts = urlsplit(opened.connection.location)
    password = opened.credentials.get("password")
    if password is None:
        return opened.connection.location
    user = quote(parts.username or "", safe="")
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


def check_spec(spec: ConnectionSpec, kind: ConnectionKind) -> None:
    """What can be checked when a monitor is configured (the files may not exist yet)."""
    check_spec_kind(spec, kind)
    if spec.query:
        relations = None if kind is ConnectionKind.POSTGRESQL else frozenset({BATCH_RELATION})
        check_sql(spec.query, relations)
