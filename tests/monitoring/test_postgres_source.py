"""A PostgreSQL table or query as a monitoring source (real server at 127.0.0.1:5432).

The source is read through a server-side cursor in chunks, each chunk reduced and the
parts merged: the numbers must equal those of the same rows given as a DataFrame.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from steward.demo.credit import load_german_credit
from steward.domain.errors import InvalidInput
from steward.monitoring import ColumnSpec, PostgresSource, aggregate, build_profile
from steward.monitoring.postgres import mask
from steward.sdk.client import Steward
from steward.services import monitoring
from steward.services.context import Context
from steward.services.scheduler import run_due, source_of
from tests.conftest import PG_ADMIN_URL, SKIP_PG, _pg_admin

COLUMNS = ["age_in_years", "credit_amount", "duration_in_month", "purpose", "housing"]
pytestmark = pytest.mark.skipif(SKIP_PG, reason="STEWARD_TEST_SKIP_POSTGRES=1")


@pytest.fixture
def credit() -> pd.DataFrame:
    frame = load_german_credit()
    frame["application_id"] = [f"app-{i:04d}" for i in range(len(frame))]
    rng = np.random.default_rng(11)
    frame["score"] = rng.uniform(0, 1, len(frame)).round(3)
    frame["decision"] = (frame["score"] >= 0.5).astype(int)
    frame.loc[frame.index[::9], "credit_amount"] = np.nan  # NULLs in PostgreSQL
    frame["credit_amount"] = frame["credit_amount"].astype(float)
    return frame


@pytest.fixture
def source_db(credit: pd.DataFrame) -> Iterator[str]:
    """A temporary database holding the rows as table ``applications``; its libpq URL."""
    from sqlalchemy import create_engine

    name = f"steward_src_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    engine = create_engine(f"{base}/{name}")
    try:
        credit.to_sql("applications", engine, index=False)
        yield base.replace("postgresql+psycopg://", "postgresql://") + f"/{name}"
    finally:
        engine.dispose()
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("engine", ["duckdb", "numpy"])
def test_chunked_aggregate_equals_the_frames(
    source_db: str, credit: pd.DataFrame, engine: Any
) -> None:
    specs = [ColumnSpec(c) for c in COLUMNS[:3]] + [
        ColumnSpec(c, "categorical") for c in COLUMNS[3:]
    ]
    batch = credit.iloc[600:]
    profile = build_profile(credit.iloc[:600], specs)
    expected = aggregate(batch, profile, engine=engine).to_dict()
    source = PostgresSource(
        source_db,
        query="SELECT * FROM applications WHERE application_id >= 'app-0600'",
        chunk_rows=97,
    )
    got = aggregate(source, profile, engine=engine).to_dict()
    assert got["rows"] == expected["rows"] == 400
    for name, want in expected["columns"].items():
        have = got["columns"][name]
        for key in (
            "rows",
            "missing",
            "nonfinite",
            "n",
            "below",
            "above",
            "hist",
            "min",
            "max",
            "categories",
            "other",
        ):
            assert have[key] == want[key], (name, key)
        assert have["sum"] == pytest.approx(want["sum"], rel=1e-12)
        assert have["sumsq"] == pytest.approx(want["sumsq"], rel=1e-12)


def test_monitor_runs_from_a_table_give_the_numbers_of_the_dataframe(
    ctx: Context,
    local: Steward,
    make_file: Callable[[bytes, str], Path],
    source_db: str,
    credit: pd.DataFrame,
) -> None:
    local.create_model("credit", owner="alice")
    version = local.log_version(
        "credit",
        artifact=make_file(b"model bytes", "model.bin"),
        training_data=credit.iloc[:600],
        capture_git=False,
    ).version
    for stage in ("validation", "approved", "production"):
        local.transition("credit", version, to=stage, justification="test")
    config: dict[str, Any] = {
        "columns": COLUMNS,
        "prediction": "decision",
        "score": "score",
        "label": "risk",
        "sensitive": ["foreign_worker"],
    }
    reference = credit.iloc[:600]
    from_pg = local.create_monitor("credit", version, reference=reference, name="pg", **config)
    from_frame = local.create_monitor(
        "credit", version, reference=reference, name="frame", **config
    )
    where = "WHERE application_id >= 'app-0600'"
    run_pg = local.run_monitor(from_pg.id, f"{source_db}#query=SELECT * FROM applications {where}")
    run_frame = local.run_monitor(from_frame.id, credit.iloc[600:])
    assert run_pg.rows == run_frame.rows == 400
    assert run_pg.source.endswith("#query=SELECT * FROM applications " + where)

    def values(run: Any) -> dict[tuple[str, str], float | None]:
        return {(r.column, r.metric): r.value for r in run.results}

    got, want = values(run_pg), values(run_frame)
    assert got.keys() == want.keys()
    assert ("", "accuracy") in got and ("foreign_worker", "equalized_odds_difference") in got
    for key, expected in want.items():
        assert got[key] == pytest.approx(expected, rel=1e-12, abs=1e-15), key

    # the scheduler reads the same text form from the monitor's source
    local.update_monitor(from_pg.id, schedule_every="1d", source=f"{source_db}#table=applications")
    with ctx.uow.write() as uow:  # due now (its last run was a moment ago)
        uow.monitors.update(from_pg.id, {"next_run_at": uow.now})
        uow.commit()
    report = run_due(ctx, ctx_principal())
    assert report.failed == () and len(report.ran) == 1
    assert monitoring.get_run(ctx, ctx_principal(), report.ran[0]).rows == 1000


def ctx_principal() -> Any:
    from steward.domain.permissions import OPERATOR, Principal

    return Principal(name="alice", roles=frozenset({OPERATOR}))


def test_bad_postgres_sources_are_explained(source_db: str, credit: pd.DataFrame) -> None:
    profile = build_profile(credit.iloc[:600], [ColumnSpec("age_in_years")])
    with pytest.raises(InvalidInput, match=r"no such table.*schema-qualify"):
        aggregate(PostgresSource(source_db, table="nowhere"), profile)
    with pytest.raises(InvalidInput, match="lacks a column"):
        aggregate(PostgresSource(source_db, query="SELECT purpose FROM applications"), profile)
    with pytest.raises(InvalidInput, match=r"Cannot connect to PostgreSQL.*Check the host"):
        aggregate(PostgresSource("postgresql://postgres@127.0.0.1:1/none", table="t"), profile)
    with pytest.raises(InvalidInput, match="returned no rows"):
        aggregate(
            PostgresSource(source_db, query="SELECT * FROM applications WHERE false"), profile
        )
    with pytest.raises(InvalidInput, match="could not run the query"):
        aggregate(PostgresSource(source_db, query="SELECT FROM WHERE"), profile)
    with pytest.raises(InvalidInput, match="not what to read"):
        source_of(source_db)
    with pytest.raises(InvalidInput, match="one of them"):
        PostgresSource(source_db, table="a", query="SELECT 1")
    with pytest.raises(InvalidInput, match="not a table name"):
        PostgresSource(source_db, table="a; DROP TABLE applications")
    with pytest.raises(InvalidInput, match=r"spark\.read\.jdbc"):
        aggregate(PostgresSource(source_db, table="applications"), profile, engine="spark")
    assert mask("postgresql://bob:s3cret@db:5432/x") == "postgresql://bob:***@db:5432/x"
    text = PostgresSource("postgresql://bob:s3cret@db/x", table="public.events").describe()
    assert text == "postgresql://bob:***@db/x#table=public.events" and "s3cret" not in text


def test_a_missing_driver_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from steward.monitoring.postgres import columns

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    with pytest.raises(InvalidInput, match=r"steward\[postgres\]"):
        columns(PostgresSource("postgresql://u@localhost/db", table="events"))


def test_copy_keeps_types_nulls_and_empty_strings(source_db: str) -> None:
    import datetime as dt

    import psycopg

    from steward.monitoring.postgres import chunks

    with psycopg.connect(source_db) as conn:
        conn.execute(
            "CREATE TABLE typed (n numeric, i int, b boolean, d date, ts timestamp, "
            "tz timestamptz, s text)"
        )
        conn.execute(
            "INSERT INTO typed VALUES "
            "(1.25, 7, true, '2026-11-27', '2026-11-27 08:30:00.5', "
            "'2026-11-27 10:30:00+02', ''), "
            "(NULL, NULL, false, NULL, NULL, NULL, NULL), "
            "(-3, 0, NULL, '2026-01-01', '2026-01-01 00:00:00', '2026-01-01 00:00:00+00', "
            "'a,\"b\"\nc')"
        )
    [table] = list(chunks(PostgresSource(source_db, query="SELECT * FROM typed ORDER BY i")))
    rows = table.to_pylist()
    by_i = {r["i"]: r for r in rows}
    assert by_i[7]["n"] == 1.25 and by_i[0]["n"] == -3.0
    assert by_i[7]["b"] is True and by_i[0]["b"] is None
    assert by_i[7]["d"] == dt.date(2026, 11, 27)
    assert by_i[7]["ts"] == dt.datetime(2026, 11, 27, 8, 30, 0, 500000)
    assert by_i[7]["tz"] == dt.datetime(2026, 11, 27, 8, 30, tzinfo=dt.UTC)
    assert by_i[7]["s"] == "" and by_i[0]["s"] == 'a,"b"\nc'
    null_row = by_i[None]
    assert null_row["s"] is None and null_row["n"] is None and null_row["b"] is False
