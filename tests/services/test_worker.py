"""`steward worker` underneath: per-job locks keep concurrent workers from running one job
at the same time, heartbeats tell whether a worker is alive, and two real worker processes
against one PostgreSQL database run every due job exactly once."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.conftest import PG_ADMIN_URL, SKIP_PG, TEST_OUTBOUND_ALLOW, _pg_admin
from tests.trust.receiver import receiver

from steward import bootstrap
from steward.demo.credit import load_german_credit
from steward.domain.audit import AuditFilter
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.worker import Job
from steward.monitoring.batches import build_reference
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services import audit, models, monitoring, transparency, webhooks
from steward.services import worker as service
from steward.services.context import Context
from steward.settings import Settings
from steward.store import tables

ADMIN = Principal(name="admin", roles=frozenset({OPERATOR}))
SRC = str(Path(__file__).resolve().parents[2] / "src")
ROOT = str(Path(__file__).resolve().parents[2])


class NoSender:
    """A sender for passes with nothing to deliver: any call is a test failure."""

    def __call__(self, outgoing: object, timestamp: int) -> tuple[int | None, str | None]:
        raise AssertionError("nothing should have been sent")


def test_job_locks_exclude_each_other_and_are_released(ctx: Context) -> None:
    with ctx.uow.job_lock("monitors") as first:
        assert first
        with ctx.uow.job_lock("monitors") as second:
            assert not second  # another holder (connection or file descriptor) is refused
        with ctx.uow.job_lock("webhooks") as other_kind:
            assert other_kind  # one lock per job kind, not one for the whole worker
    with ctx.uow.job_lock("monitors") as again:
        assert again


def test_a_pass_skips_the_job_another_worker_holds_and_beats(ctx: Context) -> None:
    identity = service.Identity()
    with ctx.uow.job_lock(Job.REVIEWS.value):
        report = service.run_pass(
            ctx, ADMIN, (Job.CHECKPOINTS, Job.REVIEWS, Job.MONITORS), NoSender(), identity=identity
        )
    by_job = {o.job: o for o in report.outcomes}
    assert not by_job[Job.REVIEWS].ran and by_job[Job.REVIEWS].detail == "held by another worker"
    assert by_job[Job.MONITORS].ran and by_job[Job.CHECKPOINTS].ran and report.ok
    beat = service.latest_heartbeat(ctx)
    assert beat is not None and beat.worker_id == identity.worker_id and beat.pid == os.getpid()
    assert beat.beats == 3  # one beat per job
    assert beat.fresh(ctx.uow.clock())


def test_once_runs_every_job_and_marks_the_worker_stopped(ctx: Context) -> None:
    reports = []
    service.run(ctx, ADMIN, NoSender(), once=True, on_pass=reports.append)
    assert [o.job for o in reports[0].outcomes] == list(Job)
    assert all(o.ran and o.ok for o in reports[0].outcomes)
    assert service.latest_heartbeat(ctx) is None  # stopped gracefully: not counted as alive
    with ctx.uow.read() as uow:
        assert uow.heartbeats.count() == 1


# --- two real worker processes on one PostgreSQL database --------------------------------


@pytest.fixture
def pg_settings(tmp_path: Path) -> Iterator[Settings]:
    if SKIP_PG:
        pytest.skip("STEWARD_TEST_SKIP_POSTGRES=1")
    name = f"steward_test_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield Settings(
            home=tmp_path / "home",
            database_url=PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}",
            artifacts_url=str(tmp_path / "artifacts"),
            outbound_allow=TEST_OUTBOUND_ALLOW,
            checkpoint_every_events=1,
        )
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env.update(
        PYTHONPATH=os.pathsep.join([SRC, ROOT]),
        STEWARD_HOME=str(settings.home),
        STEWARD_DATABASE_URL=settings.database_url,
        STEWARD_ARTIFACTS_URL=settings.artifacts_url,
        STEWARD_OUTBOUND_ALLOW=",".join(TEST_OUTBOUND_ALLOW),
        STEWARD_CHECKPOINT_EVERY_EVENTS=str(settings.checkpoint_every_events),
        **extra,
    )
    return env


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from steward.cli.main import main; main()", "worker", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _due_monitors(ctx: Context, make_file: Callable[[bytes, str], Path], tmp: Path) -> list[str]:
    credit = load_german_credit()
    st = Steward(LocalBackend(ctx, "admin"))
    st.create_model("credit", owner="admin")
    v = st.log_version(
        "credit",
        artifact=make_file(b"model bytes", "model.bin"),
        training_data=credit.iloc[:600],
        capture_git=False,
    ).version
    for stage in ("validation", "approved", "production"):
        st.transition("credit", v, to=stage, justification="test")
    batch = tmp / "batch.parquet"
    credit.iloc[600:800].to_parquet(batch)
    config = {"columns": ["age_in_years", "credit_amount"], "schedule_every": "1d"}
    reference = build_reference(credit.iloc[:600], monitoring.rules.parse_config(config))
    return [
        monitoring.create_monitor(
            ctx,
            ADMIN,
            "credit",
            v,
            name=f"m{i}",
            config={**config, "source": str(batch)},
            reference=reference,
        ).id
        for i in range(3)
    ]


@pytest.mark.postgres
def test_two_worker_processes_run_each_due_job_exactly_once(
    pg_settings: Settings, make_file: Callable[[bytes, str], Path], tmp_path: Path
) -> None:
    ctx = bootstrap.build(pg_settings, migrate=True)
    try:
        with receiver() as rx:
            webhooks.create_webhook(ctx, ADMIN, url=rx.url, events=["*"])
            monitor_ids = _due_monitors(ctx, make_file, tmp_path)
            for i in range(3):  # overdue periodic reviews: one review.overdue each
                models.create_model(
                    ctx,
                    ADMIN,
                    f"overdue-{i}",
                    owner="admin",
                    risk_tier="high",
                    risk_override_reason="test",
                )
                models.update_model(ctx, ADMIN, f"overdue-{i}", next_review_date=date(2026, 1, 1))
            env = worker_env(pg_settings)
            args = ("--interval", "0.2", "--schedule-interval", "1")
            workers = [start_worker(env, *args), start_worker(env, *args)]
            time.sleep(12)  # both start, race for every job several times
            for w in workers:
                w.send_signal(signal.SIGTERM)
            results = [w.communicate(timeout=60) for w in workers]
            for w, (_out, err) in zip(workers, results, strict=True):
                assert w.returncode == 0, err

            with ctx.uow.read() as uow:
                rows = uow.conn.execute(
                    select(tables.webhook_deliveries.c.id, tables.webhook_deliveries.c.status)
                ).all()
            assert rows and {status for _, status in rows} == {"delivered"}
            sent = collections.Counter(r.delivery for r in rx.received)
            assert set(sent) == {row_id for row_id, _ in rows}
            assert set(sent.values()) == {1}  # every delivery sent once, none twice

        for monitor_id in monitor_ids:  # due once (every 1d): run exactly once
            assert len(monitoring.list_runs(ctx, ADMIN, monitor_id)) == 1
        overdue = [
            e.subject_id
            for e in audit.list_events(ctx, ADMIN, AuditFilter(action="review.overdue"), 1000)
        ]
        assert sorted(overdue) == ["overdue-0", "overdue-1", "overdue-2"]
        sizes = [c.tree_size for c in transparency.list_checkpoints(ctx, ADMIN)]
        assert sizes and len(sizes) == len(set(sizes))  # never two checkpoints of one tree
        assert service.latest_heartbeat(ctx) is None  # both stopped gracefully
        with ctx.uow.read() as uow:
            assert uow.heartbeats.count() == 2
    finally:
        ctx.uow.engine.dispose()
