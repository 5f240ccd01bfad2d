"""The store's schema as the faces see it: which revision this code expects, and upgrading.

Faces (the health route, `steward init`) ask here rather than importing the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from steward.settings import Settings
from steward.store import database


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
        before, after = database.migrate(engine)
    finally:
        engine.dispose()
    return Upgrade(before, after, settings.database_url.split("@")[-1])
