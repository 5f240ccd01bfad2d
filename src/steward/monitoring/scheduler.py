"""Run due monitors: ``steward monitor schedule`` (cron-friendly) and its ``--worker`` loop.

A monitor is *due* when it has a schedule (``schedule_every``) and its ``next_run_at`` has
passed. Its ``source`` (a path, glob, ``s3://`` URL or SQL query) is read where the
scheduler runs, reduced to an aggregate in the engine, and recorded like any run. A
failing monitor is reported, journalled (``monitor.run_failed``) and retried with
exponential backoff (1 min, 2, 4, … at most its interval); it never stops the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from steward.domain.errors import StewardError
from steward.domain.monitoring import ScheduleReport
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import monitoring
from steward.services.context import Context
from steward.services.monitoring_batches import reduce_batch


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
        monitor = monitoring.get_monitor(ctx, principal, monitor_id)
        try:
            if not monitor.config.source:
                raise StewardError(
                    "no source configured; set one with `steward monitor update "
                    f"{monitor_id} --source PATH_OR_QUERY`"
                )
            profile = monitoring.monitor_reference(ctx, principal, monitor_id)
            exact = (
                monitoring.monitor_exact_reference(ctx, principal, monitor_id)
                if monitor.config.mode != "sketch" and monitor.reference.exact is not None
                else None
            )
            payload = reduce_batch(
                source_of(monitor.config.source),
                profile,
                monitor.config,
                engine=engine,
                exact_reference=exact,
            )
            ran.append(monitoring.record_batch(ctx, principal, monitor_id, payload).id)
        except StewardError as exc:
            failed.append((monitor_id, exc.detail))
            monitoring.postpone(ctx, principal, monitor_id, exc.detail)
    return ScheduleReport(
        ran=tuple(ran), failed=tuple(failed), not_due=max(scheduled - len(due), 0)
    )


def worker(
    ctx: Context,
    principal: Principal,
    *,
    interval: float = 60.0,
    engine: str = "duckdb",
    stop: threading.Event | None = None,
    on_report: Callable[[ScheduleReport], None] | None = None,
) -> None:
    """Run due monitors every ``interval`` seconds until ``stop`` is set."""
    stop = stop or threading.Event()
    while not stop.is_set():
        report = run_due(ctx, principal, engine=engine)
        if on_report is not None:
            on_report(report)
        stop.wait(interval)
