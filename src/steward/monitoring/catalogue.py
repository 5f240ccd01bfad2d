"""A data connection's own catalogue: its tables, or its data files, with row counts.

Nothing a caller types is read here: the connection alone says where to look.

- ``postgresql``: ``information_schema.tables`` (base tables and views outside the system
  schemas) in a read-only transaction with the connection's read-only role; each count is an
  exact ``count(*)`` on a quoted identifier under a statement timeout, taken inside a
  savepoint so one slow or unreadable table leaves the others counted (its rows: unknown);
- ``folder``: the Parquet and CSV files under the resolved root, symbolic links leading
  outside it skipped; counted by DuckDB on a locked connection that may read that file only
  (Parquet counts come from the file footer);
- ``s3``: the Parquet and CSV objects under the prefix; counted by Arrow (footers again).
"""

from __future__ import annotations

import os
from pathlib import Path

from steward.domain.connections import ConnectionKind, Opened
from steward.domain.discovery import MAX_OBJECTS, CatalogueEntry
from steward.domain.errors import InvalidInput
from steward.monitoring.connected import (
    LockedQuery,
    postgres_url,
    resolved_root,
    s3_filesystem,
    s3_prefix,
)

PARQUET = (".parquet", ".pq")
CSV = (".csv", ".csv.gz", ".tsv")
COUNT_TIMEOUT_MS = 10_000  # per PostgreSQL table

_TABLES = """
SELECT table_schema, table_name, table_type
FROM information_schema.tables
WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
  AND left(table_schema, 3) <> 'pg_'
  AND table_type IN ('BASE TABLE', 'VIEW')
ORDER BY table_schema, table_name
LIMIT %(limit)s
"""


def _format(name: str) -> str | None:
    lowered = name.lower()
    if lowered.endswith(PARQUET):
        return "parquet"
    if lowered.endswith(CSV):
        return "csv"
    return None


def catalogue(opened: Opened) -> tuple[list[CatalogueEntry], bool]:
    """The connection's tables or data files (at most MAX_OBJECTS) and whether more exist."""
    kind = opened.connection.kind
    if kind is ConnectionKind.POSTGRESQL:
        return _postgres(opened)
    if kind is ConnectionKind.FOLDER:
        return _folder(opened.connection.location)
    return _s3(opened)


def _postgres(opened: Opened) -> tuple[list[CatalogueEntry], bool]:
    from psycopg import sql

    from steward.monitoring.postgres import PostgresSource, _connect

    # the table named here only satisfies the source's check; the catalogue is what is read
    conn = _connect(PostgresSource(postgres_url(opened), table="information_schema.tables"))
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET LOCAL statement_timeout = {COUNT_TIMEOUT_MS}")
            cur.execute(_TABLES, {"limit": MAX_OBJECTS + 1})
            listed = cur.fetchall()
            entries = []
            for schema, table, kind in listed[:MAX_OBJECTS]:
                rows: int | None = None
                try:
                    with conn.transaction():
                        cur.execute(
                            sql.SQL("SELECT count(*) FROM {}.{}").format(
                                sql.Identifier(schema), sql.Identifier(table)
                            )
                        )
                        rows = int(cur.fetchone()[0])
                except Exception:  # no privilege, a broken view, the timeout: rows unknown
                    rows = None
                entries.append(
                    CatalogueEntry(f"{schema}.{table}", "view" if kind == "VIEW" else "table", rows)
                )
    except InvalidInput:
        raise
    except Exception as exc:  # psycopg raises many kinds (network, privileges)
        raise InvalidInput(
            f"Cannot read the catalogue of connection {opened.connection.name!r}: "
            f"{' '.join(str(exc).split())[:300]}",
            field="connection",
        ) from None
    finally:
        conn.close()
    return entries, len(listed) > MAX_OBJECTS


def _count_file(path: str, fmt: str) -> int | None:
    query = LockedQuery("SELECT count(*) FROM batch", path, files=(path,), file_format=fmt)
    try:
        con, _ = query.connect()
    except InvalidInput:
        return None
    try:
        found = con.execute("SELECT count(*) FROM batch").fetchone()
        return int(found[0]) if found else None
    except Exception:  # an unreadable or malformed file: rows unknown, still listed
        return None
    finally:
        con.close()


def _folder(root: str) -> tuple[list[CatalogueEntry], bool]:
    real_root = resolved_root(root)
    found: list[tuple[str, str, str]] = []
    truncated = False
    for here, dirs, files in os.walk(real_root):  # never follows directory links
        dirs.sort()
        for name in sorted(files):
            fmt = _format(name)
            if fmt is None:
                continue
            path = str(Path(here) / name)
            real = os.path.realpath(path)
            if os.path.commonpath([real_root, real]) != real_root:
                continue  # a link leading outside the root is not the connection's data
            if len(found) == MAX_OBJECTS:
                truncated = True
                break
            relative = os.path.relpath(path, real_root)
            found.append((relative.replace(os.sep, "/"), real, fmt))
        if truncated:
            break
    return [CatalogueEntry(rel, "file", _count_file(real, fmt)) for rel, real, fmt in found], (
        truncated
    )


def _s3(opened: Opened) -> tuple[list[CatalogueEntry], bool]:
    import pyarrow.dataset as ds

    prefix = s3_prefix(opened)
    try:
        fs = s3_filesystem(opened)
        keys = sorted(k for k in fs.find(prefix) if _format(k) is not None)
    except Exception as exc:  # fsspec raises many kinds (credentials, network, protocol)
        raise InvalidInput(
            f"Cannot list connection {opened.connection.name!r}: {str(exc)[:300]}",
            field="connection",
        ) from None
    entries = []
    for key in keys[:MAX_OBJECTS]:
        rows: int | None
        try:
            rows = int(ds.dataset([key], filesystem=fs, format=_format(key)).count_rows())
        except Exception:  # an unreadable object: rows unknown, still listed
            rows = None
        entries.append(CatalogueEntry(key[len(prefix) :].lstrip("/"), "object", rows))
    return entries, len(keys) > MAX_OBJECTS
