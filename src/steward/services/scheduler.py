"""Run due monitors: ``steward monitor schedule`` (cron-friendly) and its ``--worker`` loop.

A monitor is *due* when it has a schedule (``schedule_every``) and its ``next_run_at`` has
passed. What it reads — through its data connection (a path, table or checked query inside
it; ``steward.monitoring.connected``), or, for the embedded store's operator only, its raw
``source`` — is read where the scheduler runs, reduced to an aggregate in the engine, and
recorded like any run. A
failing monitor is reported, journalled (``monitor.run_failed``) and retried with
exponential backoff (1 min, 2, 4, … at most its interval); it never stops the others.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import replace

from steward.domain.connections import RAW_SOURCE_REFUSED
from steward.domain.errors import InvalidInput, StewardError
from steward.domain.monitoring import MonitorConfig, MonitorRun, ScheduleReport
from steward.domain.permissions import OPERATOR, Permission, Principal, authorize, ensure
from steward.monitoring.batches import reduce_batch
from steward.services import monitoring, transparency
from steward.services.context import Context


def source_of(text: str) -> object:
    """A monitor's ``source``: SQL (run by DuckDB) when it starts with SELECT/WITH, a
    PostgreSQL table or query for ``postgresql://…/db#table=T`` / ``#query=SELECT …``, else
    a path, glob or URL."""
    from steward.monitoring import PostgresSource, Query
    from steward.monitoring.postgres import is_postgres_url

    if is_postgres_url(text):
        return PostgresSource.parse(text)
    head = text.lstrip().split(None, 1)[0].lower() if text.strip() else ""
    return Query(text) if head in ("select", "with") else text


def batch_source(ctx: Context, principal: Principal, config: MonitorConfig) -> object:
    """What a scheduled run reads: through the monitor's data connection, or — for the
    embedded store's operator only — its raw ``source``. A server never reads a raw source,
    whoever configured it (monitors configured before data connections existed included)."""
    if config.connection is not None:
        from steward.monitoring import connected
        from steward.services import connections

        opened = connections.open_connection(ctx, principal, config.connection.connection)
        return connected.source(opened, config.connection)
    if not config.source:
        raise StewardError(
            "no source configured; name a data connection with "
            "`steward monitor update MONITOR --connection NAME --path GLOB` "
            "(or --table / --query)"
        )
    if OPERATOR not in principal.roles:
        raise InvalidInput(RAW_SOURCE_REFUSED, field="config.source")
    return source_of(config.source)


def run_due(
    ctx: Context, principal: Principal, *, limit: int = 100, engine: str = "duckdb"
) -> ScheduleReport:
    ensure(principal, Permission.MONITOR_RUN)
    with ctx.uow.read() as uow:
        due = uow.monitors.due(ctx.uow.clock(), limit)
        scheduled = uow.monitors.count_scheduled()
    ran: list[str] = []
    failed: list[tuple[str, str]] = []
    for monitor_id in due:
        try:
            ran.append(run_one(ctx, principal, monitor_id, engine=engine).id)
        except StewardError as exc:
            failed.append((monitor_id, exc.detail))
            monitoring.postpone(ctx, principal, monitor_id, exc.detail)
    return ScheduleReport(
        ran=tuple(ran), failed=tuple(failed), not_due=max(scheduled - len(due), 0)
    )


def run_one(
    ctx: Context, principal: Principal, monitor_id: str, *, engine: str = "duckdb"
) -> MonitorRun:
    """Read one monitor's batch where this process runs, reduce it and record the run (a
    scheduled run, and a "Run now" job, see services/jobs.py)."""
    monitor = monitoring.get_monitor(ctx, principal, monitor_id)
    data = batch_source(ctx, principal, monitor.config)
    profile = monitoring.monitor_reference(ctx, principal, monitor_id)
    exact = (
        monitoring.monitor_exact_reference(ctx, principal, monitor_id)
        if monitor.config.mode != "sketch" and monitor.reference.exact is not None
        else None
    )
    payload = reduce_batch(data, profile, monitor.config, engine=engine, exact_reference=exact)
    if monitor.config.connection is not None:  # never a DSN, even with its password masked
        payload = replace(payload, source=monitor.config.connection.describe())
    return monitoring.record_batch(ctx, principal, monitor_id, payload)


def worker(
    ctx: Context,
    principal: Principal,
    *,
    interval: float = 60.0,
    engine: str = "duckdb",
    stop: threading.Event | None = None,
    on_report: Callable[[ScheduleReport], None] | None = None,
) -> None:
    """Run due monitors every ``interval`` seconds until ``stop`` is set.

    Each round also signs an audit checkpoint when one is due and retries failed
    checkpoint publications (``steward.services.transparency.tick``), when the
    principal may.
    """
    stop = stop or threading.Event()
    checkpoints = authorize(principal, Permission.AUDIT_CHECKPOINT).allowed
    while not stop.is_set():
        if checkpoints:
            # e.g. an unreadable log key: monitors still run, and verify reports the gap.
            with contextlib.suppress(StewardError):
                transparency.tick(ctx, principal)
        report = run_due(ctx, principal, engine=engine)
        if on_report is not None:
            on_report(report)
        stop.wait(interval)
