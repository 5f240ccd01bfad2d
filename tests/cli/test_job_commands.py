"""`steward check run --background` and `steward job list|show|wait|cancel` on an embedded
store, with the worker's pass run by `steward worker --once` or by a worker thread."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from tests.cli.helpers import as_json, flat, ok, run

import steward
from steward import bootstrap
from steward.demo.credit import TARGET, train_credit_model
from steward.services import jobs
from steward.settings import Settings

ARGS = ("--target", TARGET, "--sensitive", "age_in_years", "--positive-means", "adverse")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    where = tmp_path / "store"
    st = steward.connect(home=str(where), actor="alice")
    trained = train_credit_model(seed=42, model_kind="logistic")
    st.create_model("credit", title="Credit")
    st.log_version(
        "credit", trained.model, training_data=trained.train, target=TARGET, capture_git=False
    )
    st.close()
    trained.test.to_parquet(tmp_path / "holdout.parquet", index=False)
    return where


def test_queue_run_by_the_worker_then_wait_show_and_list(home: Path) -> None:
    data = str(home.parent / "holdout.parquet")
    queued = as_json(
        home, "check", "run", "credit", "1", "--data", data, *ARGS, "--background", "--no-wait"
    )
    assert queued["status"] == "queued" and queued["kind"] == "validation"
    listed = as_json(home, "job", "list", "--model", "credit")
    assert [j["id"] for j in listed] == [queued["id"]]
    worker = ok(home, "worker", "--once", actor="steward-worker")
    assert "ran 1 job(s), 0 failed" in flat(worker.stdout)
    waited = ok(home, "job", "wait", queued["id"])
    assert "succeeded" in flat(waited.stdout) and "check_run=" in flat(waited.stdout)
    shown = as_json(home, "job", "show", queued["id"])
    assert shown["progress"] == 1.0 and shown["result"]["check_run"].startswith("run_")
    # a finished job cannot be cancelled; an unknown one is named
    refused = run(home, "job", "cancel", queued["id"])
    assert refused.exit_code == 1 and "already succeeded" in flat(refused.output)
    missing = run(home, "job", "show", "job_nope")
    assert missing.exit_code == 1 and "steward job list" in flat(missing.output)


def test_background_follows_the_job_until_the_worker_has_run_it(home: Path) -> None:
    ctx = bootstrap.build(Settings.from_env(home=home))
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            jobs.run_queued(ctx, "thread-worker")
            stop.wait(0.2)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    try:
        data = str(home.parent / "holdout.parquet")
        result = run(home, "check", "run", "credit", "1", "--data", data, *ARGS, "--background")
    finally:
        stop.set()
        thread.join(timeout=60)
        ctx.uow.engine.dispose()
    assert result.exit_code in (0, 2), result.output  # 2: stored, a check failed
    assert "fairness" in flat(result.stdout)


def test_no_wait_without_background_is_refused(home: Path) -> None:
    data = str(home.parent / "holdout.parquet")
    refused = run(home, "check", "run", "credit", "1", "--data", data, "--no-wait")
    assert refused.exit_code == 1 and "--background" in flat(refused.output)
