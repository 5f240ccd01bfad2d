"""`steward doctor`'s checks of the service: each failure is named with a one-line fix;
a healthy store passes every check."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.conftest import Clock

from steward import bootstrap
from steward.domain.doctor import DoctorCheck
from steward.domain.errors import Forbidden
from steward.domain.permissions import OPERATOR, Principal
from steward.services import doctor, models
from steward.services import worker as worker_service
from steward.services.context import Context
from steward.settings import Settings
from steward.store import database

ADMIN = Principal(name="admin", roles=frozenset({OPERATOR}))


def _check(ctx: Context, name: str) -> DoctorCheck:
    found = {c.name: c for c in doctor.check(ctx, ADMIN).checks}
    return found[name]


def _external(ctx: Context) -> Context:
    return dataclasses.replace(ctx, settings=ctx.settings.with_(worker="external"))


def test_a_healthy_store_passes_every_check(ctx: Context) -> None:
    report = doctor.check(ctx, ADMIN)
    assert report.ok
    assert [c.name for c in report.checks] == [
        "configuration",
        "home",
        "audit key",
        "secrets key",
        "signing key",
        "log key",
        "database",
        "artifacts",
        "worker",
        "single sign-on",
        "e-mail",
        "leftovers",
    ]
    assert all(c.fix == "" for c in report.checks)
    config = report.checks[0].detail
    assert "STEWARD_WORKER=internal" in config
    assert ctx.settings.database_url not in config  # never the URL (it may hold a password)


def test_only_administrators_run_it(ctx: Context) -> None:
    with pytest.raises(Forbidden):
        doctor.check(ctx, Principal(name="bob", roles=frozenset({"viewer"})))


def test_an_external_worker_must_have_a_fresh_heartbeat(settings: Settings, clock: Clock) -> None:
    ctx = _external(bootstrap.build(settings, migrate=True, clock=clock))
    try:
        missing = _check(ctx, "worker")
        assert not missing.ok and "no `steward worker` is running" in missing.detail
        assert "start `steward worker`" in missing.fix
        assert not doctor.check(ctx, ADMIN).ok

        worker_service.beat(ctx, worker_service.Identity())
        alive = _check(ctx, "worker")
        assert alive.ok and alive.fix == ""

        clock.advance(minutes=6)  # past domain.worker.HEARTBEAT_STALE
        stale = _check(ctx, "worker")
        assert not stale.ok and "last seen 360 s ago" in stale.detail
    finally:
        ctx.uow.engine.dispose()


def test_a_key_readable_by_others_is_named_with_chmod(ctx: Context) -> None:
    models.create_model(ctx, ADMIN, "credit", owner="admin")  # the audit key now exists
    key = ctx.settings.audit_key_path
    key.chmod(0o644)
    check = _check(ctx, "audit key")
    assert not check.ok and "mode 0644" in check.detail
    assert check.fix == f"chmod 600 {key}"
    key.chmod(0o600)
    assert _check(ctx, "audit key").ok


def test_a_missing_audit_key_fails_only_once_the_journal_needs_it(ctx: Context) -> None:
    key = ctx.settings.audit_key_path
    key.unlink(missing_ok=True)
    with ctx.uow.read() as uow:
        empty = uow.ops.journal_size() == 0
    if empty:
        assert _check(ctx, "audit key").ok  # made on first use
    models.create_model(ctx, ADMIN, "credit", owner="admin")
    key.unlink()
    check = _check(ctx, "audit key")
    assert not check.ok and "stored data needs it" in check.detail
    assert "copy the key" in check.fix


def test_an_old_schema_fails_with_steward_init_and_skips_the_leftovers(ctx: Context) -> None:
    older = database.known_revisions()[-2]
    with ctx.uow.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": older})
    report = doctor.check(ctx, ADMIN)
    checks = {c.name: c for c in report.checks}
    assert not report.ok and not checks["database"].ok
    assert checks["database"].fix == "run `steward init` (back up the database first)"
    assert "not looked for" in checks["leftovers"].detail


def test_a_missing_home_and_an_unreachable_artifact_store_are_named(
    ctx: Context, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where folders should be")
    broken = dataclasses.replace(
        ctx,
        settings=ctx.settings.with_(home=blocker / "home"),
        artifacts=type(ctx.artifacts)(str(blocker / "artifacts")),
    )
    checks = {c.name: c for c in doctor.check(broken, ADMIN).checks}
    assert not checks["home"].ok and "mkdir -p" in checks["home"].fix
    assert not checks["artifacts"].ok and "STEWARD_ARTIFACTS_URL" in checks["artifacts"].fix
