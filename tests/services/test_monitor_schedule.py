"""`steward monitor schedule` underneath: due monitors run from their sources (files, globs,
``s3://`` through the moto server), a failing source never stops the others and is retried
at its next slot, the worker loop stops after a bounded number of passes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.conftest import Clock

from steward import bootstrap
from steward.demo.credit import load_german_credit
from steward.domain.permissions import OPERATOR, Principal
from steward.monitoring.batches import build_reference
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services import monitoring
from steward.services.context import Context
from steward.services.scheduler import run_due, worker
from steward.settings import Settings

ALICE = Principal(name="alice", roles=frozenset({OPERATOR}))
COLUMNS = ["age_in_years", "credit_amount", "duration_in_month", "purpose", "housing"]


@pytest.fixture
def timed(settings: Settings, clock: Clock) -> Iterator[Context]:
    context = bootstrap.build(settings, migrate=True, clock=clock)
    yield context
    context.uow.engine.dispose()


@pytest.fixture
def credit() -> pd.DataFrame:
    return load_german_credit()


@pytest.fixture
def version(timed: Context, make_file: Callable[[bytes, str], Path], credit: pd.DataFrame) -> int:
    st = Steward(LocalBackend(timed, "alice"))
    st.create_model("credit", owner="alice")
    v = st.log_version(
        "credit",
        artifact=make_file(b"model bytes", "model.bin"),
        training_data=credit.iloc[:600],
        capture_git=False,
    ).version
    for stage in ("validation", "approved", "production"):
        st.transition("credit", v, to=stage, justification="test")
    return v


def _create(ctx: Context, version: int, reference: pd.DataFrame, name: str, **config: Any) -> str:
    config = {"columns": COLUMNS, **config}
    payload = build_reference(reference, monitoring.rules.parse_config(config))
    return monitoring.create_monitor(
        ctx, ALICE, "credit", version, name=name, config=config, reference=payload
    ).id


def _runs(ctx: Context, monitor_id: str) -> int:
    return len(monitoring.list_runs(ctx, ALICE, monitor_id))


def _rows(ctx: Context, monitor_id: str) -> set[int]:
    return {r.rows for r in monitoring.list_runs(ctx, ALICE, monitor_id)}


def test_due_monitors_run_and_a_failing_source_does_not_stop_the_others(
    timed: Context, clock: Clock, version: int, credit: pd.DataFrame, tmp_path: Path
) -> None:
    batches = tmp_path / "batches"
    batches.mkdir()
    credit.iloc[600:800].to_parquet(batches / "2026-01-01.parquet")
    credit.iloc[800:900].to_parquet(batches / "2026-01-02.parquet")
    reference = credit.iloc[:600]
    broken = _create(
        timed,
        version,
        reference,
        "broken",
        schedule_every="1d",
        source=str(tmp_path / "nowhere" / "*.parquet"),
    )
    good = _create(
        timed, version, reference, "good", schedule_every="1d", source=str(batches / "*.parquet")
    )
    query = _create(
        timed,
        version,
        reference,
        "query",
        schedule_every="12h",
        source=f"SELECT * FROM read_parquet('{batches}/2026-01-01.parquet')",
    )
    manual = _create(timed, version, reference, "manual")  # no schedule: never due

    report = run_due(timed, ALICE)
    assert len(report.ran) == 2  # run ids, one per working monitor
    assert [m for m, _ in report.failed] == [broken]
    assert "Cannot read" in report.failed[0][1] and "Check the path" in report.failed[0][1]
    assert report.not_due == 0
    assert _runs(timed, good) == 1 and _runs(timed, query) == 1 and _runs(timed, manual) == 0
    assert _rows(timed, good) == {300}  # the glob's two files, one scan
    assert _rows(timed, query) == {200}
    assert {monitoring.get_run(timed, ALICE, r).monitor_id for r in report.ran} == {good, query}

    # Nothing is due right after: the failing one is retried with backoff, not in a loop.
    again = run_due(timed, ALICE)
    assert again.ran == () and again.failed == () and again.not_due == 3
    shown = monitoring.get_monitor(timed, ALICE, broken)
    assert shown.failures == 1 and "Cannot read" in (shown.last_error or "")
    assert shown.last_failed_at is not None and shown.next_run_at is not None
    assert shown.next_run_at - shown.last_failed_at == timedelta(minutes=1)
    for attempt in (2, 3, 4):  # 1 min, 2, 4: the delay doubles
        clock.advance(minutes=2 ** (attempt - 2))
        retried = run_due(timed, ALICE)
        assert retried.ran == () and [m for m, _ in retried.failed] == [broken]
        shown = monitoring.get_monitor(timed, ALICE, broken)
        assert shown.failures == attempt
        assert shown.last_failed_at is not None and shown.next_run_at is not None
        assert shown.next_run_at - shown.last_failed_at == timedelta(minutes=2 ** (attempt - 1))
    st = Steward(LocalBackend(timed, "alice"))
    journal = [e for e in st.audit_events(limit=500) if e.action == "monitor.run_failed"]
    assert {e.subject_id for e in journal} == {broken}
    payloads = sorted((e.payload_dict() for e in journal), key=lambda p: p["attempt"])
    assert [p["attempt"] for p in payloads] == [1, 2, 3, 4]
    assert all("Cannot read" in p["error"] for p in payloads)
    assert payloads[-1]["next_attempt_at"] == shown.next_run_at.isoformat()
    # the backoff never exceeds the schedule's interval
    assert monitoring.retry_delay(11, timedelta(days=1)) == timedelta(minutes=1024)
    assert monitoring.retry_delay(12, timedelta(days=1)) == timedelta(days=1)
    assert monitoring.retry_delay(500, timedelta(hours=12)) == timedelta(hours=12)

    clock.advance(hours=13)  # the 12-hourly monitor, and the broken one's retry
    half = run_due(timed, ALICE)
    assert len(half.ran) == 1 and [m for m, _ in half.failed] == [broken]
    assert half.not_due == 1  # the daily good one
    assert _runs(timed, query) == 2

    clock.advance(hours=12)  # everything scheduled is due again; the broken one fails again
    day = run_due(timed, ALICE)
    assert len(day.ran) == 2 and [m for m, _ in day.failed] == [broken]
    assert _runs(timed, good) == 2
    assert monitoring.get_monitor(timed, ALICE, broken).failures == 6

    # Fixed source: the next attempt runs it and the failure streak is over.
    monitoring.update_monitor(timed, ALICE, broken, config={"source": str(batches / "*.parquet")})
    clock.advance(days=1)
    fixed = run_due(timed, ALICE)
    assert fixed.failed == () and len(fixed.ran) == 3
    assert _runs(timed, broken) == 1
    healthy = monitoring.get_monitor(timed, ALICE, broken)
    assert (healthy.failures, healthy.last_error, healthy.last_failed_at) == (0, None, None)


def test_worker_keeps_running_until_stopped(
    timed: Context, clock: Clock, version: int, credit: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "batch.parquet"
    credit.iloc[600:700].to_parquet(path)
    mon = _create(
        timed, version, credit.iloc[:600], "hourly", schedule_every="1h", source=str(path)
    )
    stop = threading.Event()
    reports = []

    def on_report(report: Any) -> None:
        reports.append(report)
        clock.advance(hours=1, minutes=1)  # the next pass finds the monitor due again
        if len(reports) == 3:
            stop.set()

    worker(timed, ALICE, interval=0.01, stop=stop, on_report=on_report)
    assert [len(r.ran) for r in reports] == [1, 1, 1]
    assert _runs(timed, mon) == 3


def test_s3_source_through_the_moto_server(
    timed: Context,
    version: int,
    credit: pd.DataFrame,
    s3_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    s3 = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    s3.create_bucket(Bucket="logs")
    shifted = credit.iloc[600:].copy()
    rng = np.random.default_rng(3)
    shifted["age_in_years"] = rng.integers(19, 26, len(shifted))  # a genuinely younger batch
    for i, part in enumerate([shifted.iloc[:200], shifted.iloc[200:]]):
        path = tmp_path / f"part-{i}.parquet"
        part.to_parquet(path)
        s3.upload_file(str(path), "logs", f"2026-11/part-{i}.parquet")
    mon = _create(
        timed,
        version,
        credit.iloc[:600],
        "s3",
        schedule_every="1d",
        source="s3://logs/2026-11/*.parquet",
    )
    report = run_due(timed, ALICE)
    assert report.failed == () and len(report.ran) == 1
    assert _rows(timed, mon) == {400}
    psi = monitoring.history(timed, ALICE, mon, column="age_in_years", metric="psi")
    assert psi[-1].value is not None and psi[-1].value > 1.0
    # An S3 glob that matches nothing is a clear failure of that monitor only.
    monitoring.update_monitor(timed, ALICE, mon, config={"source": "s3://logs/2027-*/*.parquet"})
    with timed.uow.write() as uow:  # due now
        uow.monitors.update(mon, {"next_run_at": uow.now})
        uow.commit()
    failed = run_due(timed, ALICE)
    assert failed.ran == () and failed.failed[0][0] == mon
    assert "no object matches" in failed.failed[0][1]
