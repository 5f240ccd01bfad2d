"""Silo discovery through the SDK (embedded and over HTTP), the CLI, and REST attacks: an
owner is refused, a name is never a path, an unknown connection is a 404."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd

from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.services import connections, tokens
from steward.services.context import Context
from tests.cli.helpers import as_json, flat, ok, run
from tests.conftest import LiveServer, ensure_user

ADMIN = Principal(name="root", roles=frozenset({OPERATOR}))
FRAME = pd.DataFrame({"id": [1, 2, 3]})


def _lake(tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    root.mkdir()
    FRAME.to_parquet(root / "loans.parquet", index=False)
    FRAME.head(1).to_csv(root / "leads.csv", index=False)
    return root


def test_the_sdk_discovers_alike_embedded_and_remote(
    client: Steward, ctx: Context, tmp_path: Path
) -> None:
    connections.create_connection(ctx, ADMIN, "lake", kind="folder", location=str(_lake(tmp_path)))
    client.create_dataset("loans", source="conn:lake#path=loans.parquet")
    found = client.discover_datasets("conn:lake")
    assert [(o.name, o.rows) for o in found.ungoverned] == [("leads.csv", 1)]
    assert [(o.name, o.rows, o.covered_by) for o in found.governed] == [
        ("loans.parquet", 3, ["loans"])
    ]


def test_the_cli_discovers_ungoverned_files(tmp_path: Path) -> None:
    home = tmp_path / "store"
    lake = _lake(tmp_path)
    ok(home, "connection", "create", "lake", "--kind", "folder", "--location", str(lake))
    shown = flat(ok(home, "dataset", "discover", "conn:lake").stdout)
    assert "Ungoverned in lake (folder): 2 of 2" in shown and "leads.csv file 1" in shown
    ok(home, "dataset", "create", "loans", "--source", "conn:lake#path=loans.parquet")
    found = as_json(home, "dataset", "discover", "conn:lake")
    assert [o["name"] for o in found["ungoverned"]] == ["leads.csv"]
    missing = run(home, "dataset", "discover", "conn:nowhere")
    assert missing.exit_code != 0 and "No data connection" in flat(missing.output)


def test_rest_discovery_refuses_owners_and_paths(ctx: Context, tmp_path: Path) -> None:
    connections.create_connection(
        ctx, ADMIN, "lake", kind="folder", location=str(_lake(tmp_path)), roles=["owner"]
    )
    operator = Principal(name="admin", roles=frozenset({OPERATOR}))
    auth = {}
    for user, role in (("dana", "owner"), ("steve", "data_steward"), ("ada", "admin")):
        ensure_user(ctx, user, role)
        token = tokens.create_token(ctx, operator, user=user, name="t").token
        auth[user] = {"Authorization": f"Bearer {token}"}
    with LiveServer(ctx) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        # an owner may read through the connection but is not data governance
        refused = http.get("/api/v1/connections/lake/discovery", headers=auth["dana"])
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        # a data steward the connection is not open to
        assert (
            http.get("/api/v1/connections/lake/discovery", headers=auth["steve"]).status_code == 403
        )
        for hostile in ("..%2F..%2Fetc", "lake%23path%3D%2Fetc%2F*", "nowhere"):
            answer = http.get(f"/api/v1/connections/{hostile}/discovery", headers=auth["ada"])
            assert answer.status_code in (404, 422), (hostile, answer.text)
            assert "passwd" not in answer.text
        found = http.get("/api/v1/connections/lake/discovery", headers=auth["ada"])
        assert found.status_code == 200
        assert [o["name"] for o in found.json()["ungoverned"]] == ["leads.csv", "loans.parquet"]
        assert http.get("/api/v1/connections/lake/discovery").status_code == 401
