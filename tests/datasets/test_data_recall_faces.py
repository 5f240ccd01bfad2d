"""A data recall through the SDK (embedded and over HTTP), the CLI, and REST attacks: only
a data steward or an admin recalls, unknown fields are refused, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd
import pytest

from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.services import tokens
from steward.services.context import Context
from tests.cli.helpers import as_json, flat, ok, run
from tests.conftest import LiveServer, ensure_user

FRAME = pd.DataFrame({"id": [1, 2, 3], "purpose": ["car", "car", "boat"]})


def test_the_sdk_recalls_alike_embedded_and_remote(client: Steward, tmp_path: Path) -> None:
    client.create_dataset("loans", owner="dana")
    client.snapshot_dataset("loans", FRAME)
    client.create_model("credit")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    client.log_version("credit", artifact, training_data=FRAME)
    recalled = client.recall_dataset("loans@1", "mislabelled rows", severity="critical")
    assert recalled.opened == 1 and recalled.findings[0].model == "credit"
    assert recalled.findings[0].severity.value == "critical"
    listed = client.findings(dataset="loans@1").items
    assert [f.source_ref for f in listed] == ["loans@1/credit@1"]
    assert client.recall_dataset("loans@1", "again").opened == 0


def test_the_cli_recalls_with_impact_open_findings(tmp_path: Path) -> None:
    home = tmp_path / "store"
    data = tmp_path / "loans.csv"
    FRAME.to_csv(data, index=False)
    ok(home, "dataset", "create", "loans", "--owner", "dana")
    ok(home, "dataset", "snapshot", "loans", "--data", str(data))
    ok(home, "model", "create", "credit")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    logged = run(home, "version", "create", "credit", str(artifact), "--training-data", str(data))
    assert logged.exit_code == 0, logged.output
    missing = run(home, "dataset", "impact", "loans@1", "--open-findings")
    assert missing.exit_code != 0 and "needs a reason" in flat(missing.output)
    shown = flat(
        ok(
            home,
            "dataset",
            "impact",
            "loans@1",
            "--open-findings",
            "--severity",
            "high",
            "-m",
            "the extract double-counted arrears",
        ).stdout
    )
    assert "1 finding(s) opened" in shown and "credit" in shown
    listed = flat(ok(home, "finding", "list", "--dataset", "loans").stdout)
    assert "dataset (loans@1/credit@1)" in listed and "Data recall" in listed
    again = as_json(home, "dataset", "impact", "loans@1", "--open-findings", "-m", "again")
    assert again["opened"] == 0 and len(again["findings"]) == 1


@pytest.fixture
def server(ctx: Context) -> LiveServer:
    with LiveServer(ctx) as live:
        yield live  # type: ignore[misc]


def _auth(ctx: Context, user: str, *roles: str) -> dict[str, str]:
    ensure_user(ctx, user, *roles)
    operator = Principal(name="admin", roles=frozenset({OPERATOR}))
    token = tokens.create_token(ctx, operator, user=user, name="t").token
    return {"Authorization": f"Bearer {token}"}


def test_rest_recall_refuses_owners_and_unknown_fields(
    ctx: Context, server: LiveServer, tmp_path: Path
) -> None:
    import steward

    dana = _auth(ctx, "dana", "owner")
    steve = _auth(ctx, "steve", "data_steward")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert (
            http.post("/api/v1/datasets", json={"name": "loans"}, headers=dana).status_code == 201
        )
        upload = {"data": ("d.csv", FRAME.to_csv(index=False).encode())}
        assert (
            http.post("/api/v1/datasets/loans/versions", files=upload, headers=dana).status_code
            == 201
        )
        sdk = steward.connect(server.url, token=dana["Authorization"].split()[1])
        sdk.create_model("credit")
        artifact = tmp_path / "model.bin"
        artifact.write_bytes(b"weights")
        sdk.log_version("credit", artifact, training_data=FRAME)
        sdk.close()
        url = "/api/v1/datasets/loans/versions/1/recall"
        # the dataset's owner (an owner role) may not recall: 403, nothing opened
        refused = http.post(url, json={"reason": "mine"}, headers=dana)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        # a field the route does not know is refused, never passed on
        sneaky = http.post(url, json={"reason": "x", "source": "manual"}, headers=steve)
        assert sneaky.status_code == 422
        bad = http.post(url, json={"reason": "x", "severity": "apocalyptic"}, headers=steve)
        assert bad.status_code == 422 and "Unknown severity" in bad.json()["detail"]
        ghost = http.post(
            "/api/v1/datasets/loans/versions/7/recall", json={"reason": "x"}, headers=steve
        )
        assert ghost.status_code == 404
        assert http.get("/api/v1/findings?dataset=loans", headers=steve).json()["items"] == []
        done = http.post(url, json={"reason": "corrupt", "severity": "high"}, headers=steve)
        assert done.status_code == 201 and done.json()["opened"] == 1
        listed = http.get("/api/v1/findings", params={"dataset": "loans@1"}, headers=dana)
        assert [f["source_ref"] for f in listed.json()["items"]] == ["loans@1/credit@1"]
        wild = http.get("/api/v1/findings", params={"dataset": "l%"}, headers=dana)
        assert wild.status_code == 422
