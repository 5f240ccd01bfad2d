"""Silo discovery through the service layer (SQLite and PostgreSQL stores): the tables and
files behind a connection that no dataset covers, with row counts, read from the
connection's own catalogue; only a data steward or an admin allowed on the connection
discovers; links leading outside a folder connection's root are not listed."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from steward.domain.discovery import CatalogueEntry, covers
from steward.domain.errors import Forbidden, InvalidInput, NotFound
from steward.domain.permissions import OPERATOR, Principal
from steward.services import connections, data_discovery, datasets
from steward.services.context import Context
from tests.conftest import PG_ADMIN_URL, SKIP_PG, _pg_admin

ADMIN = Principal(name="root", roles=frozenset({OPERATOR}))
STEVE = Principal(name="steve", roles=frozenset({"data_steward"}))
DANA = Principal(name="dana", roles=frozenset({"owner"}))
FRAME = pd.DataFrame({"id": range(7), "amount": [float(i) for i in range(7)]})


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    (root / "loans").mkdir(parents=True)
    FRAME.to_parquet(root / "loans" / "2026-01.parquet", index=False)
    FRAME.head(3).to_parquet(root / "loans" / "2026-02.parquet", index=False)
    FRAME.head(5).to_csv(root / "customers.csv", index=False)
    (root / "notes.txt").write_text("not data")
    secret = tmp_path / "outside.csv"
    FRAME.to_csv(secret, index=False)
    os.symlink(secret, root / "escape.csv")  # leads outside the root: never listed
    return root


def test_a_folder_connection_lists_its_ungoverned_files_with_row_counts(
    ctx: Context, lake: Path
) -> None:
    connections.create_connection(
        ctx, ADMIN, "lake", kind="folder", location=str(lake), roles=["data_steward"]
    )
    before = data_discovery.discover(ctx, STEVE, "conn:lake")
    assert [(o.name, o.kind, o.rows) for o in before.ungoverned] == [
        ("customers.csv", "file", 5),
        ("loans/2026-01.parquet", "file", 7),
        ("loans/2026-02.parquet", "file", 3),
    ]
    assert before.governed == [] and not before.truncated and before.kind == "folder"
    datasets.create_dataset(ctx, STEVE, "loans", source="conn:lake#path=loans/*.parquet")
    after = data_discovery.discover(ctx, STEVE, "lake")
    assert [o.name for o in after.ungoverned] == ["customers.csv"]
    assert [(o.name, o.covered_by) for o in after.governed] == [
        ("loans/2026-01.parquet", ["loans"]),
        ("loans/2026-02.parquet", ["loans"]),
    ]


def test_only_data_governance_allowed_on_the_connection_discovers(ctx: Context, lake: Path) -> None:
    connections.create_connection(
        ctx, ADMIN, "lake", kind="folder", location=str(lake), roles=["owner"]
    )
    with pytest.raises(Forbidden, match="dataset:approve"):
        data_discovery.discover(ctx, DANA, "conn:lake")  # an owner is not data governance
    with pytest.raises(Forbidden):
        data_discovery.discover(ctx, STEVE, "conn:lake")  # not among the connection's roles
    with pytest.raises(NotFound, match="No data connection"):
        data_discovery.discover(ctx, ADMIN, "conn:nowhere")
    with pytest.raises(InvalidInput, match="conn:NAME"):
        data_discovery.discover(ctx, ADMIN, "conn:lake#path=/etc/*")


@pytest.mark.parametrize(
    ("source", "entry", "expected"),
    [
        ("conn:w#table=applications", CatalogueEntry("public.applications", "table", 1), True),
        (
            "conn:w#table=sales.applications",
            CatalogueEntry("public.applications", "table", 1),
            False,
        ),
        ("conn:x#table=applications", CatalogueEntry("public.applications", "table", 1), False),
        (
            "conn:w#query=SELECT * FROM sales.orders o JOIN items i USING (id)",
            CatalogueEntry("sales.orders", "table", 1),
            True,
        ),
        (
            "conn:w#query=SELECT * FROM orders_2026",
            CatalogueEntry("public.orders", "table", 1),
            False,
        ),
        ("conn:w#path=loans/*.parquet", CatalogueEntry("loans/a.parquet", "file", 1), True),
        ("conn:w#path=loans/*.parquet", CatalogueEntry("other/a.parquet", "file", 1), False),
        ("s3://bucket/loans/a.parquet", CatalogueEntry("loans/a.parquet", "object", 1), False),
    ],
)
def test_which_dataset_sources_cover_which_objects(
    source: str, entry: CatalogueEntry, expected: bool
) -> None:
    assert covers(source, "w", entry) is expected


@pytest.fixture
def warehouse() -> Iterator[str]:
    if SKIP_PG:
        pytest.skip("PostgreSQL is not reachable")
    from sqlalchemy import create_engine

    name = f"steward_silo_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    engine = create_engine(f"{base}/{name}")
    try:
        FRAME.to_sql("applications", engine, index=False)
        FRAME.head(2).to_sql("customers", engine, index=False, schema="public")
        with engine.begin() as conn:
            conn.exec_driver_sql('CREATE SCHEMA "odd schema"')
            conn.exec_driver_sql('CREATE TABLE "odd schema"."x""; DROP TABLE y" (a int)')
            conn.exec_driver_sql("CREATE VIEW big_loans AS SELECT * FROM applications")
        yield base.replace("postgresql+psycopg://", "postgresql://") + f"/{name}"
    finally:
        engine.dispose()
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_postgresql_connection_lists_its_catalogue_with_exact_counts(
    ctx: Context, warehouse: str
) -> None:
    connections.create_connection(ctx, ADMIN, "warehouse", kind="postgresql", location=warehouse)
    datasets.create_dataset(ctx, ADMIN, "apps", source="conn:warehouse#table=applications")
    found = data_discovery.discover(ctx, ADMIN, "conn:warehouse")
    assert [(o.name, o.kind, o.rows) for o in found.ungoverned] == [
        ('odd schema.x"; DROP TABLE y', "table", 0),  # an identifier, quoted, never SQL
        ("public.big_loans", "view", 7),
        ("public.customers", "table", 2),
    ]
    assert [(o.name, o.covered_by) for o in found.governed] == [("public.applications", ["apps"])]


def test_an_s3_connection_lists_the_objects_under_its_prefix_only(
    ctx: Context, s3_server: str, tmp_path: Path
) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bucket = f"silo-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    local = tmp_path / "part.parquet"
    FRAME.to_parquet(local, index=False)
    s3.upload_file(str(local), bucket, "raw/loans/part.parquet")
    s3.upload_file(str(local), bucket, "private/secret.parquet")
    s3.put_object(Bucket=bucket, Key="raw/readme.md", Body=b"# not data")
    connections.create_connection(
        ctx,
        ADMIN,
        "objects",
        kind="s3",
        location=f"s3://{bucket}/raw",
        options={"endpoint_url": s3_server},
        credentials={"key": "testing", "secret": "testing"},
    )
    found = data_discovery.discover(ctx, ADMIN, "conn:objects")
    assert [(o.name, o.kind, o.rows) for o in found.ungoverned] == [
        ("loans/part.parquet", "object", 7)
    ]
