"""`steward monitor run --data postgresql://… --table/--query` against the real PostgreSQL
server, and the per-window history that merges the runs of one window."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from tests.cli.helpers import as_json, flat, ok, run
from tests.conftest import PG_ADMIN_URL, SKIP_PG, _pg_admin

import steward
from steward.demo.credit import load_german_credit

COLUMNS = ["age_in_years", "credit_amount", "purpose"]
pytestmark = pytest.mark.skipif(SKIP_PG, reason="STEWARD_TEST_SKIP_POSTGRES=1")


@pytest.fixture
def credit() -> pd.DataFrame:
    return load_german_credit()


@pytest.fixture
def source_url(credit: pd.DataFrame) -> Iterator[str]:
    """A temporary database whose table ``applications`` holds rows 600-999."""
    from sqlalchemy import create_engine

    name = f"steward_cli_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    engine = create_engine(f"{base}/{name}")
    try:
        credit.iloc[600:].to_sql("applications", engine, index=False)
        yield base.replace("postgresql+psycopg://", "postgresql://") + f"/{name}"
    finally:
        engine.dispose()
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def store(tmp_path: Path, credit: pd.DataFrame) -> Path:
    home = tmp_path / "store"
    reference = tmp_path / "reference.parquet"
    credit.iloc[:600].to_parquet(reference)
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    ok(home, "model", "create", "credit", "--owner", "alice")
    ok(home, "version", "create", "credit", str(artifact), "--no-git")
    client = steward.connect(home=str(home), actor="alice")
    try:
        for stage in ("validation", "approved", "production"):
            client.transition("credit", 1, to=stage, justification="test")
    finally:
        client.close()
    cols = [a for c in COLUMNS for a in ("--column", c)]
    ok(home, "monitor", "create", "credit", "1", "--name", "daily", "--reference",
       str(reference), *cols, "--window", "daily")
    return home


def _metric(run_json: dict[str, object], column: str, metric: str = "drift_score") -> float:
    results = run_json["results"]
    assert isinstance(results, list)
    found = [r for r in results if r["column"] == column and r["metric"] == metric]
    assert found, results
    return float(found[0]["value"])


def test_a_table_and_a_query_are_read_as_batches(
    store: Path, source_url: str, tmp_path: Path, credit: pd.DataFrame
) -> None:
    from_table = as_json(store, "monitor", "run", "credit", "--data", source_url,
                         "--table", "applications")
    query = "SELECT * FROM applications WHERE age_in_years >= 30"
    from_query = as_json(store, "monitor", "run", "credit", "--data", source_url,
                         "--query", query)
    assert from_table["rows"] == 400
    assert from_query["rows"] == int((credit.iloc[600:]["age_in_years"] >= 30).sum())

    # The same rows from a file give the same numbers.
    frame_file = tmp_path / "batch.parquet"
    credit.iloc[600:].to_parquet(frame_file)
    from_file = as_json(store, "monitor", "run", "credit", "--data", str(frame_file))
    for column in COLUMNS:
        assert _metric(from_table, column) == pytest.approx(_metric(from_file, column), abs=1e-12)


def test_history_by_window_merges_the_runs_of_a_day(
    store: Path, source_url: str, tmp_path: Path, credit: pd.DataFrame
) -> None:
    half = "SELECT * FROM applications WHERE credit_amount {} 2500"
    ok(store, "monitor", "run", "credit", "--data", source_url, "--query", half.format("<"))
    ok(store, "monitor", "run", "credit", "--data", source_url, "--query", half.format(">="))
    whole = tmp_path / "whole.parquet"
    credit.iloc[600:].to_parquet(whole)
    reference = as_json(store, "monitor", "run", "credit", "--data", str(whole))

    windows = as_json(store, "monitor", "history", "credit", "--by", "window",
                      "--metric", "psi", "--column", "age_in_years")
    points = windows["points"] if isinstance(windows, dict) else windows
    assert len(points) == 1, points  # all three runs are in today's window
    # The window merges the two halves and the whole batch: two copies of the batch, whose
    # bin proportions -- and so PSI -- equal one copy's. (A KS p-value would not: it
    # depends on the sample size.)
    assert len(points[0]["details"]["runs"]) == 3
    assert points[0]["value"] == pytest.approx(_metric(reference, "age_in_years", "psi"), abs=1e-9)


def test_bad_postgres_sources_are_refused_with_the_fix(store: Path, source_url: str) -> None:
    no_table = run(store, "monitor", "run", "credit", "--data", source_url,
                   "--table", "nowhere")
    assert no_table.exit_code != 0
    assert "nowhere" in flat(no_table.output)

    table_without_url = run(store, "monitor", "run", "credit", "--data", "batch.parquet",
                            "--table", "applications")
    assert table_without_url.exit_code != 0
    assert "postgresql://" in flat(table_without_url.output)

    neither = run(store, "monitor", "run", "credit", "--data", source_url)
    assert neither.exit_code != 0
    assert "--table" in flat(neither.output) or "#table=" in flat(neither.output)
    # Nothing was recorded by the refused runs.
    assert as_json(store, "monitor", "history", "credit", "--metric", "drift_score") in (
        [], {"points": []}
    )
