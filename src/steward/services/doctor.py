"""`steward doctor`: find (and with ``fix``, remove) what crashes leave behind.

- Spool files of processes that no longer run ($STEWARD_HOME/spool).
- Artifact objects no row refers to, older than ``artifact_gc_grace_hours``: an
  upload writes its blob before the version row commits, so a crash in between
  leaves an orphan; the grace keeps uploads in flight safe.

"Referenced" is judged conservatively: any 64-hex digest that appears anywhere in
the database (versions, signatures, check-run evidence, even the journal) keeps its
object. A fix is one journalled event listing what was removed.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select

from steward.artifacts import spool
from steward.domain.audit import Action
from steward.domain.doctor import DoctorReport
from steward.domain.permissions import Permission, Principal, ensure
from steward.services.context import Context
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
    """What is left over (and, with ``fix``, remove it and journal the removal)."""
    ensure(principal, Permission.USER_MANAGE)  # an administrator's job
    grace = ctx.settings.artifact_gc_grace_hours * 3600
    leftovers = spool.leftovers(ctx.settings.spool_dir, grace)
    orphans = _orphans(ctx, grace)
    report = DoctorReport(
        spool_files=tuple(p.name for p in leftovers),
        orphan_objects=tuple(d for d, _ in orphans),
        orphan_bytes=sum(s for _, s in orphans),
        fixed=fix,
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
    return DoctorReport(report.spool_files, tuple(removed), report.orphan_bytes, True)
