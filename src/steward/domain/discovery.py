"""Silo discovery: what lies behind a data connection that no registered dataset covers.

A data office registers the tables and files it governs as datasets; everything else a
connection reaches is ungoverned. The rule deciding whether a dataset *covers* an object
lives here, once: a dataset covers an object of its own connection when its source names
that table (``#table=``; a bare name is in PostgreSQL's ``public`` schema), when its path or
glob (``#path=``) matches that file, or when its query (``#query=``) names the table as a
word. Files and s3 objects are named by their path under the connection's root or prefix.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass, field

from steward.domain.datasets import parse_source
from steward.domain.errors import InvalidInput

MAX_OBJECTS = 1_000  # objects listed per discovery; more are reported as truncated


@dataclass(frozen=True)
class CatalogueEntry:
    """One table, view, file or object a connection's own catalogue lists."""

    name: str  # schema.table, or a path under the connection's root or prefix
    kind: str  # table | view | file | object
    rows: int | None  # None: the count could not be taken (timed out, unreadable)


@dataclass(frozen=True)
class DiscoveredObject:
    name: str
    kind: str
    rows: int | None
    covered_by: list[str] = field(default_factory=list)  # dataset names covering it


@dataclass(frozen=True)
class Discovery:
    connection: str
    kind: str  # the connection's kind
    ungoverned: list[DiscoveredObject]  # no registered dataset covers them
    governed: list[DiscoveredObject]
    truncated: bool  # the catalogue listed more than MAX_OBJECTS


def connection_arg(text: str) -> str:
    """``conn:NAME`` or ``NAME`` → the connection's name."""
    name = str(text or "").strip()
    name = name.removeprefix("conn:")
    if not name or "#" in name:
        raise InvalidInput(
            f"{text!r} does not name a data connection: write conn:NAME (an admin lists them "
            "with `steward connection list`).",
            field="connection",
        )
    return name


def _table_key(name: str) -> str:
    lowered = name.strip().lower()
    return lowered if "." in lowered else f"public.{lowered}"


def covers(source_text: str, connection: str, entry: CatalogueEntry) -> bool:
    """Whether a dataset recorded with ``source_text`` covers ``entry`` of ``connection``."""
    try:
        source = parse_source(source_text)
    except InvalidInput:
        return False  # an unparseable source (recorded by an older release) covers nothing
    spec = source.connection
    if spec is None or spec.connection != connection:
        return False
    if entry.kind in ("table", "view"):
        if spec.table:
            return _table_key(spec.table) == _table_key(entry.name)
        if spec.query:
            qualified = re.escape(entry.name.lower())
            bare = re.escape(entry.name.lower().split(".", 1)[-1])
            text = spec.query.lower()
            if re.search(rf"(?<![\w.]){qualified}(?!\w)", text):
                return True
            return entry.name.lower().startswith("public.") and bool(
                re.search(rf"(?<![\w.]){bare}(?!\w)", text)
            )
        return False
    if spec.path:
        pattern = posixpath.normpath(spec.path.lstrip("/"))
        return fnmatch.fnmatchcase(entry.name, pattern)
    return False


def discovery(
    connection: str,
    kind: str,
    entries: list[CatalogueEntry],
    sources: list[tuple[str, str]],
    truncated: bool,
) -> Discovery:
    """Split ``entries`` into governed and ungoverned by the datasets' ``(name, source)``."""
    ungoverned: list[DiscoveredObject] = []
    governed: list[DiscoveredObject] = []
    for entry in entries:
        by = sorted(name for name, text in sources if covers(text, connection, entry))
        found = DiscoveredObject(entry.name, entry.kind, entry.rows, by)
        (governed if by else ungoverned).append(found)
    return Discovery(connection, kind, ungoverned, governed, truncated)
