"""`steward worker`: the scheduler and the webhook outbox in one process of their own.

A pass runs each job under its own lock (``uow.job_lock``: a PostgreSQL advisory lock or
a file lock beside a SQLite database), so any number of workers may run at once: a job
another worker holds is skipped this pass, never run twice at the same time. Webhook
deliveries are additionally claimed row by row with a lease (``SKIP LOCKED`` on
PostgreSQL), which is what keeps API processes that still deliver (``STEWARD_WORKER``
unset) from sending one delivery twice.

Stopping (SIGTERM/SIGINT set ``stop``) lets the job in hand finish — each of its steps is
its own transaction, so nothing is left half-written — and skips the rest.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from steward.domain.errors import StewardError
from steward.domain.permissions import Permission, Principal, authorize
from steward.domain.worker import (
    EVERY_INTERVAL,
    SCHEDULED,
    UNLOCKED,
    Heartbeat,
    Job,
    JobOutcome,
    PassReport,
)
from steward.services import reviews, scheduler, transparency, webhooks
from steward.services.context import Context
from steward.store import database

log = logging.getLogger("steward.worker")


def _log_failure(message: str, exc: BaseException, *args: object) -> None:
    """A traceback for what needs a developer; one line while the database is away (a
    restart or a failover), since every pass meets it again until it is back."""
    if database.unavailable(exc):
        log.warning(
            message + ": database unavailable (%s); the next pass retries",
            *args,
            str(getattr(exc, "orig", exc)).splitlines()[0][:200],
        )
    else:
        log.exception(message, *args)


@dataclass
class Identity:
    """This process as the heartbeat table knows it."""

    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    started_at: datetime | None = None
    # Two runs in one process within a second (tests, an embedding host) are two workers.
    nonce: str = field(default_factory=lambda: secrets.token_hex(4))

    @property
    def worker_id(self) -> str:
        started = self.started_at.strftime("%Y%m%dT%H%M%S") if self.started_at else "-"
        return f"{self.host}:{self.pid}:{started}:{self.nonce}"[:200]


def _run_job(
    ctx: Context,
    principal: Principal,
    job: Job,
    sender: webhooks.Sender,
    engine: str,
    identity: Identity | None = None,
    stop: threading.Event | None = None,
) -> str:
    if job is Job.JOBS:
        from steward.services import jobs  # what a job runs loads on demand, as below

        worker_id = identity.worker_id if identity is not None else Identity().worker_id
        return jobs.run_queued(ctx, worker_id, stop=stop).describe()
    if job is Job.CHECKPOINTS:
        if not authorize(principal, Permission.AUDIT_CHECKPOINT).allowed:
            return "not permitted"
        made = transparency.tick(ctx, principal)
        return "no checkpoint due" if made is None else f"signed checkpoint {made.id}"
    if job is Job.REVIEWS:
        reported = reviews.report_overdue(ctx, principal)
        return f"{len(reported)} overdue review(s) newly journalled"
    if job is Job.MLFLOW_SYNC:
        if not ctx.settings.mlflow_tracking_uri:
            return "not configured (STEWARD_MLFLOW_TRACKING_URI)"
        from steward.bridge.mlflow_source import MlflowSource
        from steward.services import mlflow_writeback

        outcome = mlflow_writeback.sync_both_ways(
            ctx, principal, MlflowSource(ctx.settings.mlflow_tracking_uri)
        )
        if outcome.failed:  # the job reports failure; the next pass retries those
            raise StewardError(f"{outcome.summary}; failed: {'; '.join(outcome.failed)}"[:2000])
        return outcome.summary
    if job is Job.NOTIFICATIONS:
        from steward.mailer import SmtpMailer
        from steward.services import notifications

        told = notifications.run(ctx, principal, SmtpMailer.from_settings(ctx.settings))
        mail = (
            f"{told.queued} e-mail(s) queued, {told.sent} sent, {told.retrying} to retry, "
            f"{told.failed} failed"
            if ctx.settings.smtp_host
            else "e-mail not configured (STEWARD_SMTP_HOST)"
        )
        return f"{told.created} new notification(s); {mail}"
    if job is Job.PROGRAMME:
        if not authorize(principal, Permission.GOVERNANCE_READ).allowed:
            return "not permitted"
        from steward.services import compliance

        done = compliance.refresh_programmes(ctx, principal)
        return f"recomputed {len(done)} compliance programme(s)"
    if job is Job.MONITORS:
        report = scheduler.run_due(ctx, principal, engine=engine)
        return f"ran {len(report.ran)} monitor(s), {len(report.failed)} failed"
    delivered = webhooks.deliver_due(ctx, sender)
    return (
        f"{delivered.delivered} delivered, {delivered.retrying} to retry, {delivered.failed} failed"
    )


def run_pass(
    ctx: Context,
    principal: Principal,
    jobs: tuple[Job, ...],
    sender: webhooks.Sender,
    *,
    identity: Identity,
    engine: str = "duckdb",
    stop: threading.Event | None = None,
) -> PassReport:
    """Run ``jobs`` once each (those another worker holds are skipped), beating after each."""
    outcomes: list[JobOutcome] = []
    for job in jobs:
        if stop is not None and stop.is_set():
            break
        try:
            lock = contextlib.nullcontext(True) if job in UNLOCKED else ctx.uow.job_lock(job.value)
            with lock as held:
                outcomes.append(_attempt(ctx, principal, job, sender, engine, held, identity, stop))
        except Exception as exc:  # taking or releasing the lock met a database that went away
            _log_failure("worker could not lock job %s", exc, job.value)
            outcomes.append(
                JobOutcome(job, ran=False, ok=False, detail=f"database unavailable: {exc!r}"[:300])
            )
        beat(ctx, identity)
    return PassReport(tuple(outcomes))


def _attempt(
    ctx: Context,
    principal: Principal,
    job: Job,
    sender: webhooks.Sender,
    engine: str,
    held: bool,
    identity: Identity | None = None,
    stop: threading.Event | None = None,
) -> JobOutcome:
    if not held:
        return JobOutcome(job, ran=False, detail="held by another worker")
    try:
        detail = _run_job(ctx, principal, job, sender, engine, identity, stop)
        return JobOutcome(job, ran=True, detail=detail)
    except StewardError as exc:
        return JobOutcome(job, ran=True, ok=False, detail=exc.detail)
    except Exception as exc:  # the database may be briefly away: the next pass retries
        _log_failure("worker job %s failed", exc, job.value)
        return JobOutcome(job, ran=True, ok=False, detail=repr(exc)[:300])


def _mlflow_sync_asked(ctx: Context) -> bool:
    if not ctx.settings.mlflow_tracking_uri:
        return False
    try:
        with ctx.uow.read() as uow:
            return uow.mlflow.sync_requested() > 0
    except Exception as exc:  # the database may be briefly away: the scheduled pass syncs
        _log_failure("could not read MLflow sync requests", exc)
        return False


def beat(ctx: Context, identity: Identity) -> None:
    try:
        with ctx.uow.write() as uow:
            if identity.started_at is None:
                identity.started_at = uow.now
            uow.heartbeats.beat(
                identity.worker_id, identity.host, identity.pid, identity.started_at, uow.now
            )
            uow.commit()
    except Exception as exc:  # a missed beat is not worth stopping the jobs for
        _log_failure("worker heartbeat failed", exc)


def run(
    ctx: Context,
    principal: Principal,
    sender: webhooks.Sender,
    *,
    interval: float = 2.0,
    schedule_interval: float = 60.0,
    once: bool = False,
    engine: str = "duckdb",
    stop: threading.Event | None = None,
    on_pass: Callable[[PassReport], None] | None = None,
) -> None:
    """Drain the outbox every ``interval`` seconds and run the scheduled jobs every
    ``schedule_interval`` seconds until ``stop`` is set (``once``: a single full pass).
    ``sender`` posts the webhooks (``steward.webhooks.deliver.HttpSender``)."""
    stop = stop or threading.Event()
    identity = Identity()
    beat(ctx, identity)
    last_schedule: float | None = None
    try:
        while not stop.is_set():
            now = time.monotonic()
            due: tuple[Job, ...] = EVERY_INTERVAL
            if last_schedule is None or now - last_schedule >= schedule_interval:
                # Every job, in the enum's order (the order a pass runs them).
                due = tuple(j for j in Job if j in SCHEDULED or j in EVERY_INTERVAL)
                last_schedule = now
            elif _mlflow_sync_asked(ctx):  # an MLflow webhook arrived: sync now
                due = tuple(j for j in Job if j is Job.MLFLOW_SYNC or j in EVERY_INTERVAL)
            report = run_pass(
                ctx, principal, due, sender, identity=identity, engine=engine, stop=stop
            )
            if on_pass is not None:
                on_pass(report)
            if once:
                break
            stop.wait(interval)
    finally:
        try:
            with ctx.uow.write() as uow:
                uow.heartbeats.stopped(identity.worker_id, uow.now)
                uow.commit()
        except Exception:
            log.exception("could not record the worker's stop")


def latest_heartbeat(ctx: Context) -> Heartbeat | None:
    """The most recently seen running worker (None when none has ever beaten)."""
    with ctx.uow.read() as uow:
        row = uow.heartbeats.latest()
    if row is None:
        return None
    return Heartbeat(
        worker_id=str(row["worker_id"]),
        host=str(row["host"]),
        pid=int(row["pid"]),  # type: ignore[call-overload]
        started_at=row["started_at"],  # type: ignore[arg-type]
        seen_at=row["seen_at"],  # type: ignore[arg-type]
        beats=int(row["beats"]),  # type: ignore[call-overload]
    )
