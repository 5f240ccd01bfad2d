"""Helpers for the web UI tests: a demo store with passwords, a live server on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from steward import bootstrap
from steward.domain.permissions import OPERATOR, Principal
from steward.services.context import Context
from steward.settings import Settings

PASSWORD = "correct horse battery staple"
OPERATOR_P = Principal(name="admin", roles=frozenset({OPERATOR}))


@contextmanager
def demo_context(home: Path) -> Iterator[Context]:
    """The real demo inventory in an embedded SQLite store, every demo person with PASSWORD."""
    from steward.demo.load import load_demo
    from steward.demo.passwords import set_demo_passwords
    from steward.sdk.client import Steward
    from steward.sdk.local import LocalBackend

    settings = Settings(
        home=home, database_url=f"sqlite:///{home / 'steward.db'}", artifacts_url=str(home / "a")
    )
    ctx = bootstrap.build(settings, migrate=True)
    try:
        load_demo(Steward(LocalBackend(ctx, "demo")))
        set_demo_passwords(ctx, PASSWORD)
        yield ctx
    finally:
        ctx.uow.engine.dispose()
