"""The store's schema as the faces see it: which revision this code expects, and upgrading.

Faces (the health route, `steward init`) ask here rather than importing the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from steward.domain.audit_auth import Keyring
from steward.settings import Settings
from steward.store import database
from steward.trust import auditkey


def head() -> str:
    """The schema revision this code is written for."""
    return database.SCHEMA_HEAD


@dataclass(frozen=True)
class Upgrade:
    before: str | None  # None: there was no store
    after: str
    where: str  # the database URL without its credentials


def migrate(settings: Settings) -> Upgrade:
    """Create the store or bring its schema to :func:`head`."""
    engine = database.make_engine(settings.database_url)
    try:
        before, after = upgrade(settings, engine)
    finally:
        engine.dispose()
    return Upgrade(before, after, settings.database_url.split("@")[-1])


def upgrade(settings: Settings, engine: Engine) -> tuple[str | None, str]:
    """Migrate ``engine``, authenticating existing journal events if this adds their MACs."""
    ring = auditkey.for_migration(
        settings.audit_key_path, database.current_revision(engine), database.AUDIT_MAC_REVISION
    )
    mac = None if ring is None else _macs(ring)
    return database.migrate(engine, audit_mac=mac)


def _macs(ring: Keyring) -> Callable[[int, str], str]:
    return lambda _seq, digest: ring.mac(digest)
