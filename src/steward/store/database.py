"""Engines, pragmas and schema migrations for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from steward.domain.errors import SchemaOutOfDate, StewardError

# Bumped with each migration; a test asserts it equals Alembic's head.
SCHEMA_HEAD = "0033"
# The revision that adds event MACs (a store upgraded past it keeps its key file).
AUDIT_MAC_REVISION = "0018"
MIGRATIONS = Path(__file__).parent / "migrations"


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Objects Alembic should compare: not the SQLite full-text index and its shadows."""
    return not (type_ == "table" and name is not None and name.startswith("models_fts"))


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    try:
        return create_engine(url, pool_size=pool_size, max_overflow=16, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise StewardError(
            f"The database driver for {url.split(':', 1)[0]} is not installed ({exc.name}). "
            "Install it with: pip install 'steward[postgres]'"
        ) from exc


def _sqlite_engine(url: str) -> Engine:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 60},
        pool_size=16,
        max_overflow=16,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        # Manage transactions ourselves so writers can take the lock up front.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # BEGIN IMMEDIATE for writers: two deferred transactions that both try to
        # upgrade to a write lock would otherwise fail with "database is locked".
        write = conn.get_execution_options().get("steward_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
            return None if row is None else str(row[0])
    except OperationalError as exc:
        raise StewardError(f"Cannot open the database: {exc.orig}") from exc


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached (down, restarting, a dropped
    connection) rather than that a statement was wrong."""
    return isinstance(exc, (OperationalError, InterfaceError))


def known_revisions() -> list[str]:
    """Every revision this code can upgrade from, oldest first, ending at SCHEMA_HEAD."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _newer_schema(revision: str) -> SchemaOutOfDate:
    # Alembic would fail with "Can't locate revision"; an operator needs to know
    # the database was written by another Steward and that we never downgrade.
    return SchemaOutOfDate(
        f"The database schema is at revision {revision}, which this Steward does not know: "
        f"it was written by a newer (or different) Steward, and this one only goes up to "
        f"{SCHEMA_HEAD}. Install the Steward release that wrote it, or restore a backup taken "
        "before that upgrade; Steward never downgrades a schema."
    )


def migrate(
    engine: Engine, *, audit_mac: Callable[[int, str], str] | None = None
) -> tuple[str | None, str]:
    """Apply pending migrations; returns (revision before, revision after).

    ``audit_mac(seq, hash)`` authenticates existing journal events when the
    revision adding MACs runs (None: they stay unauthenticated).
    """
    before = current_revision(engine)
    if before == SCHEMA_HEAD:
        return before, SCHEMA_HEAD  # nothing to do: skip importing Alembic
    if before is not None and before not in known_revisions():
        raise _newer_schema(before)
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        config.attributes["audit_mac"] = audit_mac
        command.upgrade(config, "head")
    return before, SCHEMA_HEAD


def create_at(conn: Connection, revision: str) -> None:
    """Create a schema at ``revision`` (not head) in ``conn``'s transaction: restoring a backup."""
    if revision not in known_revisions():
        raise _newer_schema(revision)
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    config.attributes["audit_mac"] = None
    command.upgrade(config, revision)


def upgrade_in(conn: Connection, audit_mac: Callable[[int, str], str] | None) -> None:
    """Bring a schema created by :func:`create_at` to head, in the same transaction."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    config.attributes["audit_mac"] = audit_mac
    command.upgrade(config, "head")


def ensure_current(engine: Engine) -> None:
    revision = current_revision(engine)
    if revision == SCHEMA_HEAD:
        return
    if revision is None:
        raise SchemaOutOfDate(
            "This Steward store is not initialised. Run `steward init` to create it."
        )
    if revision not in known_revisions():
        raise _newer_schema(revision)
    raise SchemaOutOfDate(
        f"The database schema is at revision {revision} but this Steward needs {SCHEMA_HEAD}. "
        "Run `steward init` to upgrade it (back up the database first)."
    )
