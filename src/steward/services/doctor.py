"""`steward doctor`: check the service, and find (with ``fix``, remove) crash leftovers.

The checks, each with a one-line fix: the configuration parsed (and which config file
it came from; a file holding a secret must be private) and STEWARD_HOME is writable;
key files are private (0600) and present where the data needs them; the database
answers at this code's schema; the artifact store can be listed; with
STEWARD_WORKER=external, a `steward worker` heartbeat is fresh; single sign-on, when
configured, answers as its issuer with rules that parse (and someone can sign in at all).

The leftovers:

- Spool files of processes that no longer run ($STEWARD_HOME/spool).
- Artifact objects no row refers to, older than ``artifact_gc_grace_hours``: an
  upload writes its blob before the version row commits, so a crash in between
  leaves an orphan; the grace keeps uploads in flight safe.

"Referenced" is judged conservatively: any 64-hex digest that appears anywhere in
the database (versions, signatures, check-run evidence, even the journal) keeps its
object. A fix is one journalled event listing what was removed.
"""

from __future__ import annotations

import os
import re
import stat
import time
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from steward.artifacts import spool
from steward.domain.audit import Action
from steward.domain.doctor import DoctorCheck, DoctorReport
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import health, sso
from steward.services.context import Context
from steward.settings import ConfigError, config_secrets, load_config_file
from steward.store import tables

_DIGEST = re.compile(r"[0-9a-f]{64}")


def _referenced(ctx: Context) -> set[str]:
    found: set[str] = set()
    with ctx.uow.engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                found.update(_DIGEST.findall(repr(tuple(row)).lower()))
    return found


def _modified(info: dict[str, Any]) -> float:
    for key in ("mtime", "LastModified", "last_modified", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
    return time.time()  # unknown age: treat as new, never delete it


def _orphans(ctx: Context, grace_seconds: float) -> list[tuple[str, int]]:
    store = ctx.artifacts
    base = f"{store.root}/sha256"
    if not store.fs.exists(base):
        return []
    referenced = _referenced(ctx)
    now = time.time()
    orphans = []
    for key, info in store.fs.find(base, detail=True).items():
        digest = key.rsplit("/", 1)[-1]
        if not _DIGEST.fullmatch(digest) or digest in referenced:
            continue  # partial copies are the store's own business; unknown names stay
        if now - _modified(info) > grace_seconds:
            orphans.append((digest, int(info.get("size") or 0)))
    return sorted(orphans)


def check(ctx: Context, principal: Principal, *, fix: bool = False) -> DoctorReport:
    """The service's checks and what is left over (with ``fix``, remove the leftovers
    and journal the removal)."""
    ensure(principal, Permission.USER_MANAGE)  # an administrator's job
    checks = [_configuration(ctx), *_config_file(ctx), _home(ctx)]
    database = health.database_probe(ctx)
    artifacts = health.artifacts_probe(ctx)
    checks.extend(_keys(ctx, database_ok=database.ok))
    checks.append(_from_probe(database, _database_fix(database)))
    checks.append(
        _from_probe(artifacts, "check STEWARD_ARTIFACTS_URL, the disk or the bucket's credentials")
    )
    checks.append(_worker(ctx, database_ok=database.ok))
    checks.append(sso.doctor_check(ctx.settings))
    checks.append(_email(ctx, database_ok=database.ok))
    if not (database.ok and artifacts.ok):
        skipped = DoctorCheck("leftovers", True, "not looked for: the store is unreachable")
        return DoctorReport((), (), 0, False, (*checks, skipped))
    grace = ctx.settings.artifact_gc_grace_hours * 3600
    leftovers = spool.leftovers(ctx.settings.spool_dir, grace)
    orphans = _orphans(ctx, grace)
    found = bool(leftovers or orphans)
    checks.append(
        DoctorCheck(
            "leftovers",
            True,  # housekeeping, not a fault
            f"{len(leftovers)} dead upload spool file(s), {len(orphans)} unreferenced "
            f"artifact object(s) older than {ctx.settings.artifact_gc_grace_hours} h",
            "run `steward doctor --fix` to remove them" if found and not fix else "",
        )
    )
    report = DoctorReport(
        spool_files=tuple(p.name for p in leftovers),
        orphan_objects=tuple(d for d, _ in orphans),
        orphan_bytes=sum(s for _, s in orphans),
        fixed=fix,
        checks=tuple(checks),
    )
    if not fix or not (leftovers or orphans):
        return report
    with ctx.uow.write() as uow:
        # Re-check under the write transaction: a version committed since the scan keeps
        # its object.
        still = _referenced(ctx)
        removed = [d for d, _ in orphans if d not in still]
        for digest in removed:
            ctx.artifacts.delete(digest)
        for path in leftovers:
            path.unlink(missing_ok=True)
        uow.record(
            principal.name,
            Action.STORE_CLEANED,
            "store",
            "leftovers",
            {
                "spool_files": list(report.spool_files),
                "artifact_objects": removed,
                "bytes": sum(s for d, s in orphans if d in removed),
                "grace_hours": ctx.settings.artifact_gc_grace_hours,
            },
        )
        uow.commit()
    return DoctorReport(
        report.spool_files, tuple(removed), report.orphan_bytes, True, report.checks
    )


def _from_probe(probe: health.Probe, fix: str) -> DoctorCheck:
    return DoctorCheck(probe.name, probe.ok, probe.detail, "" if probe.ok else fix)


def _database_fix(probe: health.Probe) -> str:
    if "steward init" in probe.detail:
        return "run `steward init` (back up the database first)"
    return "check STEWARD_DATABASE_URL and that the database server is up and reachable"


def _configuration(ctx: Context) -> DoctorCheck:
    settings = ctx.settings
    backend = "SQLite (single node)" if settings.is_sqlite else "PostgreSQL"
    scheme = (
        settings.artifacts_url.split("://", 1)[0] if "://" in settings.artifacts_url else "file"
    )
    source = (
        f"config file {settings.config_file} and the environment"
        if settings.config_file
        else "the environment (no config file)"
    )
    # Never the URLs themselves: a database URL may carry a password.
    return DoctorCheck(
        "configuration",
        True,
        f"settings parsed from {source}: {backend} database, {scheme} artifact store, "
        f"STEWARD_WORKER={settings.worker}",
    )


def _config_file(ctx: Context) -> list[DoctorCheck]:
    """The config file, when one was read: one holding a secret must be readable by the
    service account only (like the key files)."""
    path = ctx.settings.config_file
    if path is None:
        return []
    try:
        secrets = config_secrets(load_config_file(path))
        mode = stat.S_IMODE(path.stat().st_mode)
    except (ConfigError, OSError) as exc:  # changed or removed since the settings were read
        detail = exc.detail if isinstance(exc, ConfigError) else f"{path}: {exc.strerror}"
        return [DoctorCheck("config file", False, detail, "correct it, then restart Steward")]
    if secrets and mode & 0o044:
        return [
            DoctorCheck(
                "config file",
                False,
                f"{path} holds {', '.join(secrets)} and is readable by group or others "
                f"(mode {mode:04o})",
                f"chmod 600 {path} (owned by the service account)",
            )
        ]
    held = f"holds {', '.join(secrets)}" if secrets else "holds no secret"
    return [DoctorCheck("config file", True, f"{path} read, mode {mode:04o}, {held}")]


def _home(ctx: Context) -> DoctorCheck:
    home = ctx.settings.home
    if not home.is_dir():
        return DoctorCheck(
            "home",
            False,
            f"STEWARD_HOME {home} does not exist",
            f"create it for the service user (mkdir -p {home}) or set STEWARD_HOME",
        )
    if not os.access(home, os.W_OK | os.X_OK):
        return DoctorCheck(
            "home",
            False,
            f"STEWARD_HOME {home} is not writable by this user",
            f"give the service user write access (chown or chmod u+w {home})",
        )
    return DoctorCheck("home", True, f"{home} is writable")


def _keys(ctx: Context, *, database_ok: bool) -> list[DoctorCheck]:
    """Key files: private when present; missing ones are made on first use, except where
    data already needs them (every process must share the same key)."""
    settings = ctx.settings
    needed = _keys_needed(ctx) if database_ok else set()
    checks = []
    for label, path in (
        ("audit", settings.audit_key_path),
        ("secrets", settings.secrets_key_path),
        ("signing", settings.signing_key_path),
        ("log", settings.log_key_path),
    ):
        name = f"{label} key"
        if not path.exists():
            if label in needed:
                checks.append(
                    DoctorCheck(
                        name,
                        False,
                        f"{path} is missing but stored data needs it",
                        "copy the key from the machine that wrote the data (every Steward "
                        "process must share it) or restore it from a backup",
                    )
                )
            else:
                checks.append(
                    DoctorCheck(name, True, f"{path} not created yet (made on first use)")
                )
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            checks.append(
                DoctorCheck(
                    name,
                    False,
                    f"{path} is readable by others (mode {mode:04o})",
                    f"chmod 600 {path}",
                )
            )
        else:
            checks.append(DoctorCheck(name, True, f"{path} present, mode {mode:04o}"))
    return checks


def _keys_needed(ctx: Context) -> set[str]:
    with ctx.uow.read() as uow:
        events = uow.ops.journal_size()
        hooks = uow.conn.execute(select(func.count()).select_from(tables.webhooks)).scalar_one()
    return ({"audit"} if events else set()) | ({"secrets"} if hooks else set())


def _email(ctx: Context, *, database_ok: bool) -> DoctorCheck:
    """Notification e-mail: configured or not, and whether the outbox holds failures."""
    if not ctx.settings.smtp_host:
        return DoctorCheck(
            "e-mail", True, "not configured (STEWARD_SMTP_HOST): notifications stay in the UI"
        )
    if not database_ok:
        return DoctorCheck(
            "e-mail", False, "not checked: the database is unreachable", "fix the database first"
        )
    with ctx.uow.read() as uow:
        counts = uow.notifications.outbox_counts()
        retrying = sum(1 for r in uow.notifications.troubled(100) if r["status"] == "pending")
    where = f"{ctx.settings.smtp_host}:{ctx.settings.smtp_port}"  # never the sign-in
    detail = (
        f"{where}: {counts.get('sent', 0)} sent, {counts.get('pending', 0)} pending "
        f"({retrying} retrying), {counts.get('failed', 0)} failed"
    )
    if counts.get("failed", 0):
        return DoctorCheck(
            "e-mail",
            False,
            detail,
            "see `steward notify status` for the mail server's answer; check STEWARD_SMTP_*",
        )
    return DoctorCheck("e-mail", True, detail)


def _worker(ctx: Context, *, database_ok: bool) -> DoctorCheck:
    if ctx.settings.worker != "external":
        return DoctorCheck(
            "worker",
            True,
            "not required (STEWARD_WORKER=internal): the API processes deliver webhooks; "
            "scheduled jobs run under `steward worker`",
        )
    if not database_ok:
        return DoctorCheck(
            "worker",
            False,
            "not checked: the database is unreachable",
            "fix the database check first",
        )
    probe = health.worker_probe(ctx)
    return _from_probe(
        probe, "start `steward worker` (see docs/deployment.md) or look at why it stopped"
    )
