"""Personal data through the SDK (embedded and over HTTP: same answers), the CLI, and
REST attacks at the trust boundary (another team's dataset, overrides without a reason)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd
import pytest

from steward.domain.errors import InvalidInput
from steward.sdk.client import Steward
from steward.services.context import Context
from tests.cli.helpers import as_json, flat, ok, run
from tests.conftest import LiveServer
from tests.datasets.test_dataset_faces import _token

FRAME = pd.DataFrame(
    {
        "id": [1, 2, 3],
        "email": ["ann@example.com", "bob@example.org", "cy@example.net"],
        "phone": ["0912-345-678", "0987654321", "+886 2 2345 6789"],
    }
)


def test_the_sdk_scans_and_reviews_alike_embedded_and_remote(client: Steward) -> None:
    client.create_dataset("loans")
    client.snapshot_dataset("loans", FRAME)
    found = client.scan_dataset("loans@1")
    assert {c.column: c.categories for c in found.columns} == {
        "id": [],
        "email": ["email"],
        "phone": ["phone"],
    }
    assert [c.column for c in found.unreviewed] == ["email", "phone"]
    again = client.scan_dataset("loans@1", FRAME)
    assert [c.scan.examples for c in again.columns][1][0] == "a***@***.com"
    confirmed = client.classify_column("loans@1", "email")
    assert confirmed.reviewed and confirmed.review and confirmed.review.decision == "confirmed"
    with pytest.raises(InvalidInput, match="needs a reason"):
        client.classify_column("loans@1", "phone", ["none"])
    overridden = client.classify_column("loans@1", "phone", [], "office switchboard numbers")
    assert not overridden.personal and overridden.review.reason == "office switchboard numbers"
    assert client.dataset_personal_data("loans@1").unreviewed == []


def test_the_cli_scans_and_classifies(tmp_path: Path) -> None:
    home = tmp_path / "store"
    data = tmp_path / "loans.csv"
    FRAME.to_csv(data, index=False)
    ok(home, "dataset", "create", "loans", "--source", str(data))
    ok(home, "dataset", "snapshot", "loans")
    shown = flat(ok(home, "dataset", "scan", "loans@1").stdout)
    assert "email 100%" in shown and "UNREVIEWED" in shown and "2 column(s) to review" in shown
    assert "a***@***.com" in shown and "ann@" not in shown
    rescanned = as_json(home, "dataset", "scan", "loans@1", "--rescan")
    assert [c["scan"]["column"] for c in rescanned["columns"]] == ["id", "email", "phone"]
    assert "Confirmed loans@1 email: email." in flat(
        ok(home, "dataset", "classify", "loans@1", "email", "--confirm").stdout
    )
    refused = run(home, "dataset", "classify", "loans@1", "phone", "--category", "none")
    assert refused.exit_code != 0 and "needs a reason" in flat(refused.output)
    neither = run(home, "dataset", "classify", "loans@1", "phone")
    assert neither.exit_code != 0 and "either --confirm" in flat(neither.output)
    ok(home, "dataset", "classify", "loans@1", "phone", "--category", "none", "--reason", "test")
    assert "to review" not in ok(home, "dataset", "scan", "loans@1").stdout


@pytest.fixture
def server(ctx: Context) -> LiveServer:
    with LiveServer(ctx) as live:
        yield live  # type: ignore[misc]


def test_rest_keeps_other_teams_out_and_refuses_unexplained_overrides(
    ctx: Context, server: LiveServer
) -> None:
    dana = {"Authorization": f"Bearer {_token(ctx, 'dana', 'owner')}"}
    bob = {"Authorization": f"Bearer {_token(ctx, 'bob', 'owner')}"}
    steve = {"Authorization": f"Bearer {_token(ctx, 'steve', 'data_steward')}"}
    base = "/api/v1/datasets/mine/versions/1/personal-data"
    upload = {"data": ("d.csv", FRAME.to_csv(index=False).encode())}
    with httpx.Client(base_url=server.url, timeout=60) as http:
        assert http.post("/api/v1/datasets", json={"name": "mine"}, headers=dana).status_code == 201
        snap = http.post("/api/v1/datasets/mine/versions", files=upload, headers=dana)
        assert snap.status_code == 201
        # another owner's team: reads are governance records, decisions are not theirs
        assert http.get(base, headers=bob).status_code == 200
        review = {"column": "email", "categories": [], "reason": "mine now"}
        assert http.post(base + "/reviews", json=review, headers=bob).status_code == 403
        assert http.post(base + "/scan", files=upload, headers=bob).status_code == 403
        # an override without a reason: a problem naming the fix, nothing stored
        bare = http.post(
            base + "/reviews", json={"column": "email", "categories": []}, headers=dana
        )
        assert bare.status_code == 422
        assert bare.headers["content-type"].startswith("application/problem+json")
        assert "needs a reason" in bare.json()["detail"]
        # a column name is data, never SQL or a path
        odd = http.post(
            base + "/reviews", json={"column": "x'; DROP TABLE datasets; --"}, headers=dana
        )
        assert odd.status_code == 422 and "no scanned column" in odd.json()["detail"]
        # rows that are not the version's are refused
        other = {"data": ("d.csv", b"id\n9\n")}
        assert http.post(base + "/scan", files=other, headers=dana).status_code == 409
        # without an upload the server reads the source — there is none recorded
        assert http.post(base + "/scan", headers=dana).status_code == 422
        assert (
            http.get("/api/v1/datasets/nope/versions/1/personal-data", headers=dana).status_code
            == 404
        )
        listed = http.get(base, headers=dana).json()
        assert all(c["review"] is None for c in listed["columns"])
        made = http.post(base + "/reviews", json={"column": "email"}, headers=steve)
        assert made.status_code == 201 and made.json()["review"]["decision"] == "confirmed"
