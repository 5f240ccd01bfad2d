"""The composition root: the one place that builds engines, stores and services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from steward.artifacts.store import ArtifactStore
from steward.domain.throttle import Limits
from steward.services import schema
from steward.services.context import Context
from steward.settings import Settings
from steward.store import database
from steward.store.uow import UnitOfWorkFactory
from steward.trust import auditkey


def utc_now() -> datetime:
    return datetime.now(UTC)


def build(
    settings: Settings,
    *,
    migrate: bool = False,
    create_if_missing: bool = False,
    clock: Callable[[], datetime] = utc_now,
    check_schema: bool = True,
) -> Context:
    """Wire a context. ``migrate`` upgrades the schema; otherwise an old schema is refused.

    ``create_if_missing`` initialises a brand-new embedded store (what
    ``steward.connect()`` wants) but never upgrades an existing one. ``check_schema=False``
    connects to nothing yet (`steward doctor` reports an unreachable or old database
    itself).
    """
    engine = database.make_engine(settings.database_url)
    if migrate or (create_if_missing and database.current_revision(engine) is None):
        schema.upgrade(settings, engine)
    elif check_schema:
        database.ensure_current(engine)
    return Context(
        settings=settings,
        uow=UnitOfWorkFactory(engine, clock, auditkey.EventAuthenticator(settings.audit_key_path)),
        artifacts=ArtifactStore(settings.artifacts_url),
        login_limits=Limits(
            account_failures=settings.login_max_failures,
            client_failures=settings.login_client_max_failures,
            window=settings.login_window_seconds,
            lockout=settings.login_lockout_seconds,
            lockout_max=settings.login_lockout_max_seconds,
        ),
    )
