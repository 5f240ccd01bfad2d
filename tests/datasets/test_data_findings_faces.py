"""Data findings — failed quality rules of a dataset version — in the findings list of
every face: the service and SDK (embedded and over HTTP), the CLI (`finding list`,
`finding data`), REST (`GET /api/v1/findings/data`) and the web findings page, each
filtered by dataset; a later version that passes resolves them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from steward.api.app import create_app
from steward.domain.errors import InvalidInput, NotFound
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.services import data_quality, datasets, findings, identity, tokens
from steward.services.context import Context
from tests.cli.helpers import as_json, flat, ok, run
from tests.conftest import LiveServer, ensure_user
from tests.web.test_web_pages import PASSWORD, sign_in

ADMIN = Principal(name="root", roles=frozenset({OPERATOR}))
RULES = """rules:
  - kind: not_null
    column: amount
  - kind: range
    column: amount
    min: 0
    max: 100
    severity: medium
"""
GOOD = pd.DataFrame({"id": [1, 2, 3], "amount": [1.0, 2.0, 3.0]})
BAD = pd.DataFrame({"id": [1, 2, 3], "amount": [None, 2.0, 300.0]})


def _two_datasets(ctx: Context) -> None:
    """``loans@1`` fails both rules; ``cards@1`` fails one and ``cards@2`` fixes it."""
    for name in ("loans", "cards"):
        datasets.create_dataset(ctx, ADMIN, name, owner="dana")
        data_quality.set_rules(ctx, ADMIN, name, RULES, "rules.yaml")
        data_quality.snapshot(ctx, ADMIN, name, BAD if name == "loans" else BAD.iloc[[0]])
    data_quality.snapshot(ctx, ADMIN, "cards", GOOD)


def test_the_service_lists_data_findings_by_dataset_status_and_severity(ctx: Context) -> None:
    _two_datasets(ctx)
    active = findings.list_data_findings(ctx, ADMIN)
    assert sorted((f.dataset, f.version, f.rule) for f in active) == [
        ("loans", 1, "not_null:amount"),
        ("loans", 1, "range:amount"),
    ]
    assert {f.rule for f in findings.list_data_findings(ctx, ADMIN, dataset="loans@1")} == {
        "not_null:amount",
        "range:amount",
    }
    assert findings.list_data_findings(ctx, ADMIN, dataset="loans@2") == []
    high = findings.list_data_findings(ctx, ADMIN, severity_at_least="high")
    assert [f.rule for f in high] == ["not_null:amount"]
    # cards@2 passed and resolved cards@1's finding: closed, with the version that did it
    closed = findings.list_data_findings(ctx, ADMIN, dataset="cards", status="closed")
    assert [(f.rule, f.status, f.resolved_by_version) for f in closed] == [
        ("not_null:amount", "resolved", 2)
    ]
    assert len(findings.list_data_findings(ctx, ADMIN, status="all")) == 3
    # a data finding is never in remediation or accepted
    assert findings.list_data_findings(ctx, ADMIN, status="in_remediation") == []
    with pytest.raises(InvalidInput, match="Unknown status filter"):
        findings.list_data_findings(ctx, ADMIN, status="bogus")
    with pytest.raises(NotFound, match="Dataset 'nope' does not exist"):
        findings.list_data_findings(ctx, ADMIN, dataset="nope")
    with pytest.raises(InvalidInput):
        findings.list_data_findings(ctx, ADMIN, dataset="Bad Name")
    reader = Principal(name="nobody", roles=frozenset())
    with pytest.raises(Exception, match="governance:read"):
        findings.list_data_findings(ctx, reader)


def test_the_sdk_lists_data_findings_alike_embedded_and_remote(
    client: Steward, ctx: Context
) -> None:
    _two_datasets(ctx)
    found = client.data_findings("loans")
    assert sorted(f.rule for f in found) == ["not_null:amount", "range:amount"]
    assert all(f.dataset == "loans" and f.version == 1 for f in found)
    assert [f.rule for f in client.data_findings(status="closed")] == ["not_null:amount"]
    with pytest.raises(NotFound):
        client.data_findings("nope")


def test_finding_list_shows_data_findings_filtered_by_dataset(tmp_path: Path) -> None:
    home = tmp_path / "store"
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    bad = tmp_path / "bad.csv"
    BAD.to_csv(bad, index=False)
    for name in ("loans", "cards"):
        ok(home, "dataset", "create", name, "--owner", "dana")
        ok(home, "dataset", "rules", name, "--file", str(rules))
    for name in ("loans", "cards"):  # a snapshot whose rules fail exits non-zero
        failed = run(home, "dataset", "snapshot", name, "--data", str(bad))
        assert failed.exit_code != 0 and "FAIL" in failed.output
    listed = flat(ok(home, "finding", "list", "--dataset", "loans").stdout)
    assert "Data findings" in listed and "loans@1" in listed and "not_null:amount" in listed
    assert "cards@1" not in listed
    everything = flat(ok(home, "finding", "list").stdout)
    assert "loans@1" in everything and "cards@1" in everything
    # narrowed to a model's findings, no data findings
    ok(home, "model", "create", "credit")
    assert "Data findings" not in flat(ok(home, "finding", "list", "--model", "credit").stdout)
    shown = as_json(home, "finding", "data", "--dataset", "cards@1")
    assert sorted(f["rule"] for f in shown) == ["not_null:amount", "range:amount"]
    assert as_json(home, "finding", "data", "--dataset", "cards@1", "--status", "closed") == []
    missing = run(home, "finding", "data", "--dataset", "nope")
    assert missing.exit_code != 0 and "Dataset 'nope' does not exist" in flat(missing.output)


@pytest.fixture
def server(ctx: Context) -> Iterator[LiveServer]:
    with LiveServer(ctx) as live:
        yield live


def test_rest_lists_data_findings_and_refuses_bad_filters(ctx: Context, server: LiveServer) -> None:
    _two_datasets(ctx)
    ensure_user(ctx, "aud", "auditor")
    token = tokens.create_token(ctx, ADMIN, user="aud", name="t").token
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{server.url}/api/v1/findings/data"
    got = httpx.get(url, params={"dataset": "loans@1"}, headers=headers)
    assert got.status_code == 200, got.text
    assert sorted(f["rule"] for f in got.json()) == ["not_null:amount", "range:amount"]
    assert httpx.get(url, params={"status": "all"}, headers=headers).json().__len__() == 3
    bad = httpx.get(url, params={"status": "bogus"}, headers=headers)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert httpx.get(url, params={"dataset": "nope"}, headers=headers).status_code == 404
    assert httpx.get(url).status_code == 401
    # a finding id is still a finding id
    assert httpx.get(f"{server.url}/api/v1/findings/999", headers=headers).status_code == 404


@pytest.fixture
def web(ctx: Context) -> Iterator[TestClient]:
    ensure_user(ctx, "aud", "auditor")
    identity.set_password(ctx, ADMIN, "aud", PASSWORD)
    with TestClient(create_app(ctx)) as client:
        yield client


def test_the_web_findings_page_lists_data_findings_by_dataset(
    web: TestClient, ctx: Context
) -> None:
    _two_datasets(ctx)
    sign_in(web, "aud")
    page = web.get("/findings")
    assert page.status_code == 200
    assert "Data findings (failed quality rules)" in page.text
    assert 'href="/datasets/loans"' in page.text and "range:amount" in page.text
    only = web.get("/findings?dataset=cards&status=closed").text
    assert 'href="/datasets/cards"' in only and 'href="/datasets/loans"' not in only
    assert "Resolved by version 2" in only
    zh = web.get("/findings?dataset=loans", headers={"Accept-Language": "zh-TW"}).text
    assert "資料缺失" in zh and "未通過的品質規則" in zh
    unknown = web.get("/findings?dataset=nope").text
    assert 'class="error" role="alert">Dataset &#39;nope&#39; does not exist' in unknown
