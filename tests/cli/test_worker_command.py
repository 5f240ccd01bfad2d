"""`steward worker`: `--once` runs every job one time (cron), a URL is refused, and SIGTERM
in the middle of a webhook pass lets that pass finish and exits 0 with nothing half-done."""

from __future__ import annotations

import collections
import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import select
from tests.cli.helpers import ok, run
from tests.services.test_worker import ADMIN, start_worker, worker_env
from tests.trust.receiver import receiver

from steward import bootstrap
from steward.services import models, webhooks
from steward.services import worker as service
from steward.services.context import Context
from steward.settings import Settings
from steward.store import tables


def _settings(home: Path) -> Settings:
    return Settings.from_env(env={"STEWARD_OUTBOUND_ALLOW": "127.0.0.1"}, home=home)


def _overdue(ctx: Context, name: str) -> None:
    models.create_model(
        ctx, ADMIN, name, owner="admin", risk_tier="high", risk_override_reason="test"
    )
    models.update_model(ctx, ADMIN, name, next_review_date=date(2026, 1, 1))


def test_once_runs_every_job_and_delivers_the_outbox(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok(home, "init")
    ctx = bootstrap.build(_settings(home))
    with receiver() as rx:
        webhooks.create_webhook(ctx, ADMIN, url=rx.url, events=["review.overdue"])
        _overdue(ctx, "credit")
        result = run(home, "worker", "--once", "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        jobs = {o["job"]: o for o in report["outcomes"]}
        assert list(jobs) == [
            "checkpoints",
            "reviews",
            "monitors",
            "mlflow_sync",
            "webhooks",
            "notifications",
            "jobs",
            "programme",
        ]
        assert jobs["mlflow_sync"]["detail"] == "not configured (STEWARD_MLFLOW_TRACKING_URI)"
        assert all(o["ran"] and o["ok"] for o in jobs.values())
        assert jobs["webhooks"]["detail"].startswith("1 delivered")
        # the reviews job journalled review.overdue; the webhooks job of the same pass sent it
        assert jobs["reviews"]["detail"] == "1 overdue review(s) newly journalled"
        assert [r.event for r in rx.received] == ["review.overdue"]
        again = json.loads(ok(home, "worker", "--once", "--json").stdout)
        outcomes = {o["job"]: o for o in again["outcomes"]}
        assert outcomes["webhooks"]["detail"].startswith("0 delivered")
        assert outcomes["jobs"]["detail"] == "ran 0 job(s), 0 failed"
        assert len(rx.received) == 1  # delivered once, not again on the next pass
    assert service.latest_heartbeat(ctx) is None  # it said it stopped
    with ctx.uow.read() as uow:
        assert uow.heartbeats.count() == 2  # one row per worker process run
    ctx.uow.engine.dispose()


def test_once_prints_a_table_of_jobs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok(home, "init")
    out = ok(home, "worker", "--once").stdout
    for job in ("checkpoints", "reviews", "monitors", "mlflow_sync", "webhooks", "jobs"):
        assert job in out


def test_a_server_url_is_refused_with_the_fix(tmp_path: Path) -> None:
    result = run(tmp_path, "--url", "http://127.0.0.1:9", "worker", "--once")
    assert result.exit_code != 0
    assert "STEWARD_DATABASE_URL" in result.output and "runs next to the database" in result.output


class SlowReceiver:
    """Answers each POST after ``delay`` seconds, counting delivery ids."""

    def __init__(self, delay: float) -> None:
        self.seen: collections.Counter[str] = collections.Counter()
        self.first = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.first.set()
                time.sleep(delay)
                outer.seen[self.headers.get("Steward-Delivery", "")] += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                """Quiet: no per-request lines in the test output."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@contextmanager
def slow_receiver(delay: float) -> Iterator[SlowReceiver]:
    rx = SlowReceiver(delay)
    thread = threading.Thread(target=rx.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rx
    finally:
        rx.server.shutdown()
        rx.server.server_close()


def test_sigterm_mid_pass_finishes_the_job_and_exits_0(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok(home, "init")
    settings = _settings(home)
    ctx = bootstrap.build(settings)
    try:
        with slow_receiver(0.4) as rx:
            webhooks.create_webhook(ctx, ADMIN, url=rx.url, events=["review.overdue"])
            for i in range(5):
                _overdue(ctx, f"m{i}")
            worker = start_worker(worker_env(settings), "--interval", "0.2")
            assert rx.first.wait(60), "the worker never started delivering"
            worker.send_signal(signal.SIGTERM)  # while the first of five sends is in flight
            _out, err = worker.communicate(timeout=60)
            assert worker.returncode == 0, err
            assert "SIGTERM: finishing the current job" in err
            with ctx.uow.read() as uow:
                rows = uow.conn.execute(
                    select(tables.webhook_deliveries.c.id, tables.webhook_deliveries.c.status)
                ).all()
            # The claimed pass was finished, not abandoned under its lease: every delivery
            # was sent once and recorded as delivered.
            assert len(rows) == 5 and {status for _, status in rows} == {"delivered"}
            assert dict(rx.seen) == {row_id: 1 for row_id, _ in rows}
        assert service.latest_heartbeat(ctx) is None
    finally:
        ctx.uow.engine.dispose()
