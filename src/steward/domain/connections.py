"""Data connections: the only way the server reads data for a user.

A monitor's scheduled run (and, later, a dataset) reads its batch on the server. Letting a
caller name any path, URL or SQL there makes the server read its own key files or reach any
host (issue 12). So an administrator registers **connections** — a name, a kind, where the
data lives, credentials sealed at rest, and the roles and teams allowed to use it — and
server-side reads name a connection plus what to read inside it:

- ``folder``: a local root directory; a monitor names a ``path`` (file or glob) under it;
- ``s3``: ``s3://bucket/prefix``; a monitor names a ``path`` (object key or glob) under it;
- ``postgresql``: a DSN for a *read-only* role; a monitor names a ``table`` or a ``query``.

A ``query`` over a folder or s3 connection reads the files of ``path`` as the relation
``batch``. This module holds the rules (names, locations, who may use one); the
credentials, the filesystem and the SQL parser live in the services and the engine.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from steward.domain.errors import Forbidden, InvalidInput
from steward.domain.permissions import OPERATOR, Principal, Role

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")
MAX_QUERY = 20_000
MAX_PATH = 1_000
BATCH_RELATION = "batch"  # what a query over a folder or s3 connection reads

# What a connection kind accepts in clear (options) and sealed (credentials).
OPTIONS: dict[str, tuple[str, ...]] = {
    "folder": (),
    "s3": ("endpoint_url", "region"),
    "postgresql": (),
}
CREDENTIALS: dict[str, tuple[str, ...]] = {
    "folder": (),
    "s3": ("key", "secret", "token"),
    "postgresql": ("password",),
}


class ConnectionKind(StrEnum):
    FOLDER = "folder"
    S3 = "s3"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True)
class Connection:
    """A registered connection as everyone sees it: never its credentials."""

    name: str
    kind: ConnectionKind
    location: str  # root directory, s3://bucket/prefix, or a DSN without password
    description: str
    options: dict[str, str]
    credential_keys: list[str]  # which credentials are held (sealed), not their values
    roles: list[str]
    teams: list[str]
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class ConnectionSpec:
    """What to read through a connection (a monitor's ``connection`` + one of these)."""

    connection: str
    path: str | None = None
    table: str | None = None
    query: str | None = None

    def describe(self) -> str:
        parts = [f"connection {self.connection}"]
        if self.path:
            parts.append(f"path {self.path}")
        if self.table:
            parts.append(f"table {self.table}")
        if self.query:
            parts.append("query: " + " ".join(self.query.split())[:300])
        return ", ".join(parts)


@dataclass(frozen=True)
class Opened:
    """A connection with its credentials unsealed, for the engine that reads through it."""

    connection: Connection
    credentials: dict[str, str] = field(repr=False, default_factory=dict)


def connection_name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidInput(
            f"Invalid connection name {value!r}: use 1-63 lowercase letters, digits, '.', '_' "
            "or '-', starting with a letter or digit (for example 'lake' or 'warehouse-ro').",
            field="name",
        )
    return value


def parse_kind(value: Any) -> ConnectionKind:
    try:
        return ConnectionKind(str(value).strip().lower())
    except ValueError:
        raise InvalidInput(
            f"Unknown connection kind {value!r}; kinds are "
            f"{', '.join(k.value for k in ConnectionKind)}.",
            field="kind",
        ) from None


def parse_location(kind: ConnectionKind, value: Any) -> str:
    """The location in its stored form; refuses credentials written into it."""
    text = str(value or "").strip()
    if not text or len(text) > 2000:
        raise InvalidInput("A connection needs a location (1-2000 characters).", field="location")
    if kind is ConnectionKind.FOLDER:
        if "://" in text or not text.startswith("/"):
            raise InvalidInput(
                f"A folder connection's location is an absolute directory on the server, like "
                f"/data/monitoring; not {text!r}.",
                field="location",
            )
        return posixpath.normpath(text)
    parts = urlsplit(text)
    if kind is ConnectionKind.S3:
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise InvalidInput(
                f"An s3 connection's location is s3://bucket/prefix, not {text!r}.",
                field="location",
            )
        prefix = parts.path.strip("/")
        if ".." in prefix.split("/"):
            raise InvalidInput("An s3 prefix may not contain '..'.", field="location")
        return f"s3://{parts.netloc}/{prefix}".rstrip("/")
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
        raise InvalidInput(
            f"A postgresql connection's location is postgresql://user@host:5432/database, not "
            f"{text!r}.",
            field="location",
        )
    if parts.password is not None:
        raise InvalidInput(
            "Put no password in the DSN: pass it as the credential password=… so Steward "
            "stores it sealed.",
            field="location",
        )
    if parts.fragment:
        raise InvalidInput(
            "A postgresql connection's DSN names no table or query (#…); monitors name them.",
            field="location",
        )
    return text


def parse_pairs(kind: ConnectionKind, values: dict[str, Any], what: str) -> dict[str, str]:
    allowed = (OPTIONS if what == "options" else CREDENTIALS)[kind.value]
    out: dict[str, str] = {}
    for key, value in (values or {}).items():
        if key not in allowed:
            known = ", ".join(allowed) or "none"
            raise InvalidInput(
                f"A {kind.value} connection takes no {what[:-1]} {key!r}; it takes: {known}.",
                field=what,
            )
        if not isinstance(value, str) or not value or len(value) > 4000:
            raise InvalidInput(f"{what[:-1].capitalize()} {key!r} needs a value.", field=what)
        out[key] = value
    return out


def parse_roles(values: list[str] | None) -> list[str]:
    known = {r.value for r in Role}
    chosen = sorted({v.strip().lower().replace("-", "_") for v in values or [] if v.strip()})
    unknown = [v for v in chosen if v not in known]
    if unknown:
        raise InvalidInput(
            f"Unknown role(s) {', '.join(unknown)}; roles are {', '.join(sorted(known))}.",
            field="roles",
        )
    return chosen


def ensure_may_use(connection: Connection, principal: Principal) -> None:
    """Admins and the embedded operator use every connection; others need a listed role or
    team. Registering a connection is an admin decision; using it is granted per connection."""
    if OPERATOR in principal.roles or Role.ADMIN.value in principal.roles:
        return
    if set(connection.roles) & set(principal.roles) or set(connection.teams) & set(principal.teams):
        return
    allowed = ", ".join(
        [f"role {r}" for r in connection.roles] + [f"team {t}" for t in connection.teams]
    )
    raise Forbidden(
        f"{principal.name} may not use connection {connection.name!r}; it is open to "
        f"{allowed or 'admins only'}. An admin re-creates the connection with --role/--team "
        "to open it.",
        connection=connection.name,
    )


def spec_from_config(raw: dict[str, Any], problems: list[str]) -> ConnectionSpec | None:
    """The ``connection`` + ``path``/``table``/``query`` keys of a monitor configuration."""
    name = raw.get("connection")
    path, table, query = raw.get("path"), raw.get("table"), raw.get("query")
    if name in (None, ""):
        if any(v not in (None, "") for v in (path, table, query)):
            problems.append(
                "path, table and query name what to read inside a connection: set connection too"
            )
        return None
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(f"connection {name!r} is not a connection name")
        return None
    given = {
        k: v for k, v in (("path", path), ("table", table), ("query", query)) if v not in (None, "")
    }
    for key, value in given.items():
        if not isinstance(value, str):
            problems.append(f"{key} must be text")
            return None
    if "table" in given and ("path" in given or "query" in given):
        problems.append("name a table, or a query, not both")
    if not given:
        problems.append(
            "a connection needs what to read: path (folder, s3), table or query (postgresql)"
        )
    if "path" in given:
        problem = path_problem(given["path"])
        if problem:
            problems.append(problem)
    if "table" in given and not _TABLE.match(given["table"]):
        problems.append(f"table {given['table']!r} is not a table name (schema.table)")
    if "query" in given and len(given["query"]) > MAX_QUERY:
        problems.append(f"query is longer than {MAX_QUERY} characters")
    return ConnectionSpec(
        name,
        path=given.get("path"),
        table=given.get("table"),
        query=None if "query" not in given else given["query"].strip(),
    )


def path_problem(path: str) -> str | None:
    """A relative path or glob that stays under the root by its spelling (the engine also
    resolves symlinks); None when it is fine."""
    if len(path) > MAX_PATH or not path.strip():
        return f"path has 1-{MAX_PATH} characters"
    if path.startswith(("/", "\\")) or "://" in path or re.match(r"^[A-Za-z]:", path):
        return (
            f"path {path!r} must be relative to the connection's root (e.g. batches/2026-*.parquet)"
        )
    if ".." in re.split(r"[\\/]", path):
        return f"path {path!r} may not climb out of the connection's root ('..')"
    if "\x00" in path:
        return "path may not contain NUL"
    return None


def check_spec_kind(spec: ConnectionSpec, kind: ConnectionKind) -> None:
    """What a spec names must suit the connection's kind."""
    if kind is ConnectionKind.POSTGRESQL:
        if spec.path:
            raise InvalidInput(
                f"Connection {spec.connection!r} is a PostgreSQL database: name a table or a "
                "query, not a path.",
                field="config",
            )
        return
    if spec.table:
        raise InvalidInput(
            f"Connection {spec.connection!r} is a {kind.value} connection: name a path (file or "
            "glob under its root), optionally with a query over the relation 'batch'.",
            field="config",
        )
    if not spec.path:
        raise InvalidInput(
            f"Connection {spec.connection!r} is a {kind.value} connection: name the path (file "
            "or glob under its root) the query reads as 'batch'.",
            field="config",
        )


RAW_SOURCE_REFUSED = (
    "A monitor on a Steward server reads data only through a data connection an admin has "
    "registered; a raw path, URL or SQL as its source is refused. Ask an admin to register "
    "one (`steward connection create NAME --kind folder|s3|postgresql --location …`) and set "
    "connection=NAME with path=…, table=… or query=… instead of source."
)
