"""Datasets through the SDK (embedded and over HTTP: same answers), the CLI, and REST
attacks at the trust boundary."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd
import pytest

from steward.domain.errors import Forbidden, InvalidInput
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.services import tokens
from steward.services.context import Context
from tests.cli.helpers import as_json, flat, ok, run
from tests.conftest import LiveServer, ensure_user

FRAME = pd.DataFrame({"id": [1, 2, 3], "purpose": ["car", "car", "boat"]})
RULES = "rules:\n  - kind: allowed_values\n    column: purpose\n    values: [car]\n"


def test_the_sdk_governs_a_dataset_alike_embedded_and_remote(
    client: Steward, tmp_path: Path
) -> None:
    made = client.create_dataset(
        "loans", owner="dana", classification="confidential", tags=["credit"]
    )
    assert made.owner == "dana" and made.tags == ["credit"]
    assert client.update_dataset("loans", retention="7y").retention == "7y"
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    assert client.set_dataset_rules("loans", rules).revision == 1
    failed = client.snapshot_dataset("loans", FRAME)
    assert failed.quality.value == "failed"
    assert failed.results[0].failing_rows == 1 and failed.results[0].samples == [
        {"purpose": "boat"}
    ]
    passed = client.snapshot_dataset("loans", FRAME.head(2))
    assert passed.version == 2 and passed.quality.value == "passed"
    approved = client.approve_dataset("loans@2", "fit for credit models")
    assert [a.approver for a in approved.approvals] == [client.actor]
    assert client.get_dataset_version("loans@2").approved
    assert [v.version for v in client.dataset_versions("loans")] == [2, 1]
    assert [f.status for f in client.dataset_findings("loans")] == ["resolved"]
    assert client.dataset_impact("loans@1").models == []
    assert [d.name for d in client.list_datasets(classification="confidential")] == ["loans"]
    client.create_model("credit")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    version = client.log_version(
        "credit", artifact, training_data=FRAME.head(2), evaluation_data=FRAME
    )
    lineage = client.version_datasets("credit", version.version)
    assert (lineage.training, lineage.evaluation) == (["loans@2"], ["loans@1"])
    assert [(m.model, m.role) for m in client.dataset_impact("loans@2").models] == [
        ("credit", "training")
    ]
    with pytest.raises(InvalidInput, match="Unknown classification"):
        client.update_dataset("loans", classification="secret")


def test_the_cli_registers_snapshots_checks_approves_and_shows_impact(tmp_path: Path) -> None:
    home = tmp_path / "store"
    data = tmp_path / "loans.csv"
    FRAME.to_csv(data, index=False)
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    made = as_json(
        home,
        "dataset",
        "create",
        "loan-applications",
        "--owner",
        "dana",
        "--classification",
        "confidential",
        "--legal-basis",
        "contract (PDPA Art. 19)",
        "--retention",
        "7y",
        "--licence",
        "internal",
        "--source",
        str(data),
    )
    assert made["classification"] == "confidential" and made["source"] == str(data)
    changed = as_json(
        home, "dataset", "update", "loan-applications", "--tag", "credit", "--retention", "5y"
    )
    assert (changed["tags"], changed["retention"], changed["owner"]) == (["credit"], "5y", "dana")
    assert "title" in ok(home, "dataset", "update", "loan-applications", "--title", "Loans").stdout
    assert (
        "Stored revision 1"
        in ok(home, "dataset", "rules", "loan-applications", "--file", str(rules)).stdout
    )
    failed = run(home, "dataset", "snapshot", "loan-applications")
    assert failed.exit_code == 1, failed.output  # a failing rule fails the command
    assert "FAIL" in failed.stdout and "1 of 3 rows fail" in flat(failed.stdout)
    refused = run(home, "dataset", "approve", "loan-applications@1", "-c", "no")
    assert refused.exit_code != 0 and "failed its quality rules" in flat(refused.output)
    FRAME.head(2).to_csv(data, index=False)
    ok(home, "dataset", "snapshot", "loan-applications")
    ok(home, "dataset", "approve", "loan-applications@2", "-c", "fit for credit models")
    shown = flat(ok(home, "dataset", "show", "loan-applications").stdout)
    assert "loan-applications@2" in shown and "passed" in shown and "alice" in shown
    one = flat(ok(home, "dataset", "show", "loan-applications@1").stdout)
    assert "allowed_values:purpose" in one and "FAIL" in one
    assert "loan-applications" in flat(ok(home, "dataset", "list").stdout)
    assert (
        "No model version was built on"
        in ok(home, "dataset", "impact", "loan-applications@2").stdout
    )
    bad = run(home, "dataset", "create", "x", "--classification", "secret")
    assert bad.exit_code != 0 and "public, internal, confidential, restricted" in flat(bad.output)
    missing = run(
        home, "dataset", "rules", "loan-applications", "--file", str(tmp_path / "no.yaml")
    )
    assert missing.exit_code != 0 and "No rules file" in flat(missing.output)


@pytest.fixture
def server(ctx: Context) -> LiveServer:
    with LiveServer(ctx) as live:
        yield live  # type: ignore[misc]


def _token(ctx: Context, user: str, *roles: str) -> str:
    ensure_user(ctx, user, *roles)
    operator = Principal(name="admin", roles=frozenset({OPERATOR}))
    return tokens.create_token(ctx, operator, user=user, name="t").token


def test_rest_refuses_server_paths_and_strangers_uploads(ctx: Context, server: LiveServer) -> None:
    dana = {"Authorization": f"Bearer {_token(ctx, 'dana', 'owner')}"}
    bob = {"Authorization": f"Bearer {_token(ctx, 'bob', 'owner')}"}
    with httpx.Client(base_url=server.url, timeout=30) as http:
        # a caller's string is never a server path
        answer = http.post(
            "/api/v1/datasets", json={"name": "etc", "source": "/etc/passwd"}, headers=dana
        )
        assert answer.status_code == 422
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "never reads a file path" in answer.json()["detail"]
        assert http.get("/api/v1/datasets/etc", headers=dana).status_code == 404
        made = http.post("/api/v1/datasets", json={"name": "mine"}, headers=dana)
        assert made.status_code == 201
        # someone else's dataset: 403 before the upload is looked at, nothing stored
        upload = {"data": ("d.csv", b"a\n1\n")}
        assert (
            http.post("/api/v1/datasets/mine/versions", files=upload, headers=bob).status_code
            == 403
        )
        hostile = http.patch("/api/v1/datasets/mine", json={"classification": "x"}, headers=bob)
        assert hostile.status_code == 403
        assert http.get("/api/v1/datasets/mine/versions", headers=dana).json() == []
        # without an upload and without a source the server reads nothing
        empty = http.post("/api/v1/datasets/mine/versions", headers=dana)
        assert empty.status_code == 422 and "records no source" in empty.json()["detail"]
        # an upload is data, never a path: a non-data file name is refused
        exe = http.post(
            "/api/v1/datasets/mine/versions", files={"data": ("x.pkl", b"\x80\x04")}, headers=dana
        )
        assert exe.status_code == 422
        snap = http.post("/api/v1/datasets/mine/versions", files=upload, headers=dana)
        assert snap.status_code == 201 and snap.json()["version"] == 1
        # the owner cannot approve; nor can an owner-role user approve anything
        assert (
            http.post(
                "/api/v1/datasets/mine/versions/1/approvals", json={}, headers=dana
            ).status_code
            == 403
        )
        steward = {"Authorization": f"Bearer {_token(ctx, 'steve', 'data_steward')}"}
        ok_ = http.post(
            "/api/v1/datasets/mine/versions/1/approvals", json={"comment": "ok"}, headers=steward
        )
        assert ok_.status_code == 201 and ok_.json()["approvals"][0]["approver"] == "steve"


def test_an_owner_cannot_approve_their_own_dataset_even_as_data_steward(local: Steward) -> None:
    local.create_dataset("own", owner="alice")
    local.snapshot_dataset("own", FRAME)
    with pytest.raises(Forbidden, match="segregation of duties"):
        local.approve_dataset("own@1")
