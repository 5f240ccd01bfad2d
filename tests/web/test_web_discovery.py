"""Silo discovery in the web UI: a data steward allowed on a folder connection sees its
ungoverned files with row counts and the ones a dataset covers; an owner is refused (403);
an unknown connection is explained on the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.conftest import TEST_OUTBOUND_ALLOW
from tests.web.test_web_pages import PASSWORD, sign_in

from steward import bootstrap
from steward.api.app import create_app
from steward.domain.permissions import OPERATOR, Principal
from steward.services import connections, datasets, identity
from steward.settings import Settings

OP = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.fixture
def web(tmp_path: Path) -> Iterator[TestClient]:
    ctx = bootstrap.build(
        Settings(
            home=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'steward.db'}",
            artifacts_url=str(tmp_path / "artifacts"),
            outbound_allow=TEST_OUTBOUND_ALLOW,
        ),
        migrate=True,
    )
    lake = tmp_path / "lake"
    lake.mkdir()
    pd.DataFrame({"id": range(4)}).to_parquet(lake / "loans.parquet", index=False)
    pd.DataFrame({"id": range(2)}).to_csv(lake / "leads.csv", index=False)
    identity.create_user(ctx, OP, "steve", roles=("data_steward",), password=PASSWORD)
    identity.create_user(ctx, OP, "olive", roles=("owner",), password=PASSWORD)
    connections.create_connection(
        ctx, OP, "lake", kind="folder", location=str(lake), roles=["data_steward", "owner"]
    )
    datasets.create_dataset(ctx, OP, "loans", source="conn:lake#path=loans.parquet")
    with TestClient(create_app(ctx)) as client:
        yield client
    ctx.uow.engine.dispose()


def test_a_data_steward_discovers_and_an_owner_is_refused(web: TestClient) -> None:
    sign_in(web, "steve")
    listing = web.get("/datasets")
    assert 'href="/datasets/discover"' in listing.text
    page = web.get("/datasets/discover", params={"connection": "lake"})
    assert page.status_code == 200
    text = page.text
    assert "Ungoverned in lake: 1 of 2" in text
    assert "<code>leads.csv</code>" in text and 'href="/datasets/loans"' in text
    missing = web.get("/datasets/discover", params={"connection": "nowhere"})
    assert missing.status_code == 200 and "No data connection" in missing.text
    web.post("/logout", data={})
    web.cookies.clear()
    sign_in(web, "olive")
    assert 'href="/datasets/discover"' not in web.get("/datasets").text
    refused = web.get("/datasets/discover", params={"connection": "lake"})
    assert refused.status_code == 403 and "leads.csv" not in refused.text
