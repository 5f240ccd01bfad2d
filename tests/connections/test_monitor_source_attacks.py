"""Issue 12 item 2, as attacks: monitor sources cannot make the server read or write files
or reach hosts; reads go through an admin-registered connection only, and a valid one gives
the same drift numbers as the raw source did."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from steward import bootstrap
from steward.demo.credit import load_german_credit
from steward.domain.errors import InvalidInput
from steward.domain.permissions import OPERATOR, Principal
from steward.monitoring import connected
from steward.monitoring.batches import build_reference
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services import connections, monitoring, tokens
from steward.services.context import Context
from steward.services.scheduler import run_due
from steward.settings import Settings
from tests.conftest import LiveServer, ensure_user
from tests.monitoring.test_postgres_source import source_db

OPERATOR_ALICE = Principal(name="alice", roles=frozenset({OPERATOR}))
__all__ = ["source_db"]  # a fixture shared with the PostgreSQL source tests
ADMIN = Principal(name="root", roles=frozenset({"admin"}))
BOB = Principal(name="bob", roles=frozenset({"owner"}))
COLUMNS = ["age_in_years", "credit_amount", "duration_in_month", "purpose", "housing"]


@pytest.fixture
def store(settings: Settings) -> Iterator[Context]:
    context = bootstrap.build(settings, migrate=True)
    yield context
    context.uow.engine.dispose()


@pytest.fixture
def credit() -> pd.DataFrame:
    return load_german_credit()


@pytest.fixture
def lake(tmp_path: Path, credit: pd.DataFrame) -> Path:
    root = tmp_path / "lake"
    root.mkdir()
    credit.iloc[600:800].to_parquet(root / "batch.parquet")
    return root


@pytest.fixture
def version(store: Context, make_file: Callable[[bytes, str], Path], credit: pd.DataFrame) -> int:
    st = Steward(LocalBackend(store, "alice"))
    st.create_model("credit", owner="bob")  # the attacker monitors a model of his own
    v = st.log_version(
        "credit",
        artifact=make_file(b"model bytes", "model.bin"),
        training_data=credit.iloc[:600],
        capture_git=False,
    ).version
    for stage in ("validation", "approved", "production"):
        st.transition("credit", v, to=stage, justification="test")
    return v


def _create(ctx: Context, who: Principal, reference: pd.DataFrame, name: str, **config: Any) -> str:
    config = {"columns": COLUMNS, "schedule_every": "1d", **config}
    payload = build_reference(reference, monitoring.rules.parse_config(config))
    return monitoring.create_monitor(
        ctx, who, "credit", 1, name=name, config=config, reference=payload
    ).id


def _register(ctx: Context, root: Path) -> None:
    connections.create_connection(
        ctx, ADMIN, "lake", kind="folder", location=str(root), roles=["owner"]
    )


def test_read_csv_of_etc_passwd_is_refused(
    store: Context, version: int, lake: Path, credit: pd.DataFrame
) -> None:
    _register(store, lake)
    with pytest.raises(InvalidInput, match="table function"):
        _create(
            store,
            BOB,
            credit.iloc[:600],
            "passwd",
            connection="lake",
            path="batch.parquet",
            query="SELECT * FROM read_csv('/etc/passwd')",
        )
    # the parser refuses it however it is spelled; and a file named as a table is no relation
    for sql in ("select * from READ_CSV_AUTO('/etc/passwd')", "SELECT * FROM '/etc/passwd'"):
        with pytest.raises(InvalidInput, match="refused"):
            connected.check_sql(sql, frozenset({"batch"}))


def test_statement_injection_is_refused_and_writes_no_file(
    store: Context, version: int, lake: Path, credit: pd.DataFrame, tmp_path: Path
) -> None:
    _register(store, lake)
    target = tmp_path / "x.csv"
    injected = (
        f"SELECT 1 AS a); COPY (SELECT 42 AS answer) TO '{target}'; SELECT * FROM (SELECT 1 AS a"
    )
    with pytest.raises(InvalidInput, match="refused"):
        _create(
            store,
            BOB,
            credit.iloc[:600],
            "inject",
            connection="lake",
            path="batch.parquet",
            query=injected,
        )
    for sql in (
        injected,
        f"SELECT * FROM batch; COPY batch TO '{target}'",
        "PRAGMA version",
        f"COPY (SELECT 1) TO '{target}'",
        "ATTACH '/tmp/other.db'",
        "SET threads=1",
    ):
        with pytest.raises(InvalidInput, match="refused"):
            connected.check_sql(sql, frozenset({"batch"}))
    assert not target.exists()


def test_locked_connection_cannot_read_other_files_even_if_sql_got_through(lake: Path) -> None:
    source = connected.LockedQuery(
        "SELECT * FROM read_csv('/etc/passwd')",
        "test",
        files=(str(lake / "batch.parquet"),),
        file_format="parquet",
    )
    con, relation = source.connect()
    try:
        with pytest.raises(Exception, match=r"disabled by configuration|Permission"):
            con.execute(f"SELECT * FROM {relation}").fetchall()
        with pytest.raises(Exception, match="locked"):
            con.execute("SET enable_external_access = true")
    finally:
        con.close()


def test_paths_climbing_out_or_symlinks_escaping_the_root_are_refused(
    store: Context, version: int, lake: Path, credit: pd.DataFrame, tmp_path: Path
) -> None:
    _register(store, lake)
    with pytest.raises(InvalidInput, match=r"\.\."):
        _create(store, BOB, credit.iloc[:600], "climb", connection="lake", path="../../etc/passwd")
    with pytest.raises(InvalidInput, match="relative"):
        _create(store, BOB, credit.iloc[:600], "abs", connection="lake", path="/etc/passwd")
    outside = tmp_path / "secret.csv"
    outside.write_text("age_in_years\n1\n")
    os.symlink(outside, lake / "evil.csv")
    os.symlink(tmp_path, lake / "up")
    evil = _create(store, BOB, credit.iloc[:600], "evil", connection="lake", path="evil.csv")
    up = _create(store, BOB, credit.iloc[:600], "up", connection="lake", path="up/*.csv")
    report = run_due(store, BOB)
    failed = dict(report.failed)
    assert set(failed) == {evil, up} and report.ran == ()
    assert all("outside the connection's root" in e for e in failed.values())
    with pytest.raises(InvalidInput, match="outside"):
        connected.folder_files(str(lake), "evil.csv")


def test_owner_may_not_use_a_connection_not_open_to_them(
    store: Context, version: int, lake: Path, credit: pd.DataFrame
) -> None:
    connections.create_connection(store, ADMIN, "private", kind="folder", location=str(lake))
    with pytest.raises(Exception, match="may not use connection"):
        _create(store, BOB, credit.iloc[:600], "p", connection="private", path="batch.parquet")


def test_a_server_never_reads_a_raw_source_even_one_set_before(
    store: Context, version: int, lake: Path, credit: pd.DataFrame
) -> None:
    """A monitor with a raw source (set by the embedded operator, or by anyone before data
    connections existed) is not read when a server's caller runs due monitors."""
    legacy = _create(
        store, OPERATOR_ALICE, credit.iloc[:600], "legacy", source=str(lake / "batch.parquet")
    )
    report = run_due(store, ADMIN)
    assert [m for m, _ in report.failed] == [legacy] and report.ran == ()
    assert "register" in report.failed[0][1] and "connection" in report.failed[0][1]
    with pytest.raises(InvalidInput, match="data connection"):
        _create(store, BOB, credit.iloc[:600], "raw", source=str(lake / "batch.parquet"))


@pytest.mark.parametrize(
    "source",
    [
        "postgresql://postgres@127.0.0.1:5432/postgres#query=SELECT * FROM pg_shadow",
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "/etc/passwd",
        "SELECT * FROM read_csv('/etc/passwd')",
    ],
)
def test_rest_refuses_raw_sources_with_a_problem_naming_the_fix(
    store: Context, version: int, live_server: LiveServer, credit: pd.DataFrame, source: str
) -> None:
    ensure_user(store, "bob", "owner")
    token = tokens.create_token(store, OPERATOR_ALICE, user="bob", name="t").token
    config = {"columns": COLUMNS, "schedule_every": "1d"}
    reference = build_reference(credit.iloc[:600], monitoring.rules.parse_config(config))
    body = {"name": "raw", "config": {**config, "source": source}, "reference": asdict(reference)}
    with httpx.Client(base_url=live_server.url) as http:
        for path, method in (("/api/v1/models/credit/versions/1/monitors", "POST"),):
            answer = http.request(
                method, path, json=body, headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 422, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert "connection" in answer.json()["detail"]
    assert monitoring.list_monitors(store, ADMIN) == []


def test_a_valid_connection_and_select_give_the_same_drift_as_the_raw_source(
    store: Context, version: int, lake: Path, credit: pd.DataFrame
) -> None:
    _register(store, lake)
    raw = _create(
        store, OPERATOR_ALICE, credit.iloc[:600], "raw", source=str(lake / "batch.parquet")
    )
    plain = _create(store, BOB, credit.iloc[:600], "plain", connection="lake", path="batch.parquet")
    query = _create(
        store,
        BOB,
        credit.iloc[:600],
        "query",
        connection="lake",
        path="*.parquet",
        query="WITH b AS (SELECT * FROM batch) SELECT * FROM b WHERE age_in_years IS NOT NULL "
        "OR age_in_years IS NULL -- everything",
    )
    assert run_due(store, OPERATOR_ALICE).failed == ()

    def figures(monitor_id: str) -> dict[tuple[str, str], float]:
        (run,) = monitoring.list_runs(store, ADMIN, monitor_id, with_results=True)
        assert run.rows == 200
        return {(r.column, r.metric): r.value for r in run.results}

    expected = figures(raw)
    assert expected and figures(plain) == expected and figures(query) == expected
    shown = monitoring.get_run(store, ADMIN, monitoring.list_runs(store, ADMIN, query)[0].id)
    assert shown.source.startswith("connection lake, path *.parquet")


# -- the other kinds: PostgreSQL (read-only transaction) and s3 (moto) -----------------------


def test_postgresql_connection_table_and_query_match_the_raw_source(
    store: Context, version: int, credit: pd.DataFrame, source_db: str
) -> None:
    connections.create_connection(
        store, ADMIN, "warehouse", kind="postgresql", location=source_db, roles=["owner"]
    )
    reference = credit.iloc[:600]
    raw = _create(store, OPERATOR_ALICE, reference, "raw", source=f"{source_db}#table=applications")
    table = _create(store, BOB, reference, "table", connection="warehouse", table="applications")
    query = _create(
        store,
        BOB,
        reference,
        "query",
        connection="warehouse",
        query="SELECT * FROM applications WHERE age_in_years >= 0 OR age_in_years IS NULL",
    )
    for sql in (
        "SELECT * FROM pg_catalog.pg_authid",
        "SELECT pg_read_file('/etc/passwd') AS age_in_years",
        "SELECT * FROM applications; DROP TABLE applications",
        "SELECT * FROM dblink('host=169.254.169.254', 'select 1') AS t(a int)",
    ):
        with pytest.raises(InvalidInput, match="refused"):
            _create(store, BOB, reference, "bad", connection="warehouse", query=sql)
    assert run_due(store, OPERATOR_ALICE).failed == ()

    def figures(monitor_id: str) -> dict[tuple[str, str], float]:
        (run,) = monitoring.list_runs(store, ADMIN, monitor_id, with_results=True)
        return {(r.column, r.metric): r.value for r in run.results}

    assert figures(table) == figures(raw) == figures(query)
    (run,) = monitoring.list_runs(store, ADMIN, table)
    assert run.source == "connection warehouse, table applications"


def test_s3_connection_reads_objects_under_its_prefix_only(
    store: Context, version: int, credit: pd.DataFrame, s3_server: str, tmp_path: Path
) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bucket = f"lake-{os.getpid()}-{id(store) % 100000}"
    s3.create_bucket(Bucket=bucket)
    local = tmp_path / "batch.parquet"
    credit.iloc[600:800].to_parquet(local)
    s3.upload_file(str(local), bucket, "monitoring/2026/batch.parquet")
    s3.upload_file(str(local), bucket, "private/secret.parquet")
    connections.create_connection(
        store,
        ADMIN,
        "objects",
        kind="s3",
        location=f"s3://{bucket}/monitoring",
        options={"endpoint_url": s3_server},
        credentials={"key": "testing", "secret": "testing"},
        roles=["owner"],
    )
    reference = credit.iloc[:600]
    raw = _create(store, OPERATOR_ALICE, reference, "raw", source=str(local))
    good = _create(store, BOB, reference, "good", connection="objects", path="2026/*.parquet")
    with pytest.raises(InvalidInput, match=r"\.\."):
        _create(store, BOB, reference, "out", connection="objects", path="../private/*.parquet")
    assert run_due(store, OPERATOR_ALICE).failed == ()

    def figures(monitor_id: str) -> dict[tuple[str, str], float]:
        (run,) = monitoring.list_runs(store, ADMIN, monitor_id, with_results=True)
        return {(r.column, r.metric): r.value for r in run.results}

    assert figures(good) == figures(raw)


def test_an_unreadable_file_fails_that_monitor_only_with_its_reason(
    store: Context, version: int, lake: Path, credit: pd.DataFrame
) -> None:
    _register(store, lake)
    (lake / "garbage.parquet").write_bytes(b"not parquet at all")
    bad = _create(store, BOB, credit.iloc[:600], "bad", connection="lake", path="garbage.parquet")
    good = _create(store, BOB, credit.iloc[:600], "good", connection="lake", path="batch.parquet")
    report = run_due(store, BOB)
    assert [m for m, _ in report.failed] == [bad] and len(report.ran) == 1
    assert "Cannot read connection lake, path garbage.parquet" in report.failed[0][1]
    assert monitoring.list_runs(store, ADMIN, good)[0].rows == 200


def test_rest_refuses_switching_a_monitor_to_a_raw_source(
    store: Context, version: int, live_server: LiveServer, lake: Path, credit: pd.DataFrame
) -> None:
    _register(store, lake)
    monitor = _create(store, BOB, credit.iloc[:600], "m", connection="lake", path="*.parquet")
    ensure_user(store, "bob", "owner")
    token = tokens.create_token(store, OPERATOR_ALICE, user="bob", name="t").token
    patch = {"config": {"connection": None, "path": None, "source": "/etc/passwd"}}
    with httpx.Client(base_url=live_server.url) as http:
        answer = http.patch(
            f"/api/v1/monitors/{monitor}", json=patch, headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 422 and "connection" in answer.json()["detail"]
    assert monitoring.get_monitor(store, ADMIN, monitor).config.source is None
