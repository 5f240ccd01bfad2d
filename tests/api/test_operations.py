"""What a platform team's probes, Prometheus and log shipper get from a Steward server.

/healthz says the process is alive; /readyz says whether a request could be served
(database at this code's schema, artifact store reachable) and why not; /metrics
counts requests by route *template* (never a model name a client typed) and reads
journal and outbox sizes from the store; every response carries a request id that
the access log line repeats with the acting user.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from tests.conftest import LiveServer, ensure_user

from steward.api.observability import JsonFormatter
from steward.domain.permissions import OPERATOR, Principal
from steward.services import models, tokens
from steward.services.context import Context
from steward.store import database

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
OPERATOR_P = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.fixture
def http(ctx: Context) -> Iterator[httpx.Client]:
    with LiveServer(ctx) as server, httpx.Client(base_url=server.url) as client:
        yield client


def _token(ctx: Context, user: str = "olga", role: str = "owner") -> dict[str, str]:
    ensure_user(ctx, user, role)
    secret = tokens.create_token(ctx, OPERATOR_P, user=user, name="ops").token
    return {"authorization": f"Bearer {secret}"}


def _sample(body: str, name: str, **labels: str) -> float | None:
    """The value of one Prometheus sample, or None when it is absent."""
    for line in body.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.rsplit("} ", 1)[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_liveness_and_readiness_need_no_token(http: httpx.Client) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    ready = http.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {"ok": True, "detail": f"schema {database.SCHEMA_HEAD}"}
    assert body["checks"]["artifacts"]["ok"] is True


def test_not_ready_when_the_schema_is_behind_and_says_what_to_run(
    ctx: Context, http: httpx.Client
) -> None:
    older = database.known_revisions()[-2]
    with ctx.uow.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": older})
    ready = http.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["retry-after"] == "5"
    database_check = ready.json()["checks"]["database"]
    assert database_check["ok"] is False
    assert f"schema is at {older}" in database_check["detail"]
    assert "steward init" in database_check["detail"]


@sqlite_only
def test_not_ready_when_the_artifact_store_cannot_be_listed(ctx: Context, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the artifact store should be")
    broken = replace(ctx, artifacts=type(ctx.artifacts)(str(blocker / "artifacts")))
    with LiveServer(broken) as server, httpx.Client(base_url=server.url) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    check = ready.json()["checks"]["artifacts"]
    assert check["ok"] is False
    assert "cannot reach the artifact store" in check["detail"]


@sqlite_only
def test_metrics_count_route_templates_and_read_the_journal(
    ctx: Context, http: httpx.Client
) -> None:
    auth = _token(ctx)
    models.create_model(ctx, OPERATOR_P, "secret-credit-model", owner="olga")
    before = (
        _sample(
            http.get("/metrics").text,
            "steward_http_requests_total",
            method="GET",
            route="/api/v1/models/{name}",
            status="200",
        )
        or 0.0
    )
    for _ in range(3):
        assert http.get("/api/v1/models/secret-credit-model", headers=auth).status_code == 200
    assert http.get("/no/such/path/anywhere").status_code == 404
    scrape = http.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    body = scrape.text
    assert (
        _sample(
            body,
            "steward_http_requests_total",
            method="GET",
            route="/api/v1/models/{name}",
            status="200",
        )
        == before + 3
    )
    assert _sample(body, "steward_http_requests_total", route="unmatched", status="404")
    # what a client typed never becomes a label
    assert "secret-credit-model" not in body
    assert "/no/such/path" not in body
    with ctx.uow.read() as uow:
        events = uow.audit.max_seq()
    assert _sample(body, "steward_journal_events") == events > 0
    assert _sample(body, "steward_webhook_deliveries", status="pending") == 0
    assert _sample(body, "steward_build_info", schema=database.SCHEMA_HEAD) == 1
    assert _sample(
        body,
        "steward_http_request_duration_seconds_count",
        method="GET",
        route="/api/v1/models/{name}",
    )


@sqlite_only
def test_metrics_need_the_configured_token(ctx: Context) -> None:
    guarded = replace(ctx, settings=ctx.settings.with_(metrics_token="scrape-secret-123"))
    with LiveServer(guarded) as server, httpx.Client(base_url=server.url) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert client.get("/metrics", headers={"authorization": "Bearer wrong"}).status_code == 401
        good = client.get("/metrics", headers={"authorization": "Bearer scrape-secret-123"})
        assert good.status_code == 200
        assert "steward_journal_events" in good.text


@sqlite_only
def test_every_response_carries_a_request_id_and_the_access_log_names_the_user(
    ctx: Context, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    auth = _token(ctx, "olga", "owner")
    with caplog.at_level(logging.INFO, logger="steward.access"):
        given = http.get("/api/v1/models", headers=auth | {"x-request-id": "proxy-abc.123"})
        hostile = http.get("/api/v1/models", headers=auth | {"x-request-id": "a b\tc" + "x" * 200})
        anonymous = http.get("/api/v1/models")
    assert given.headers["x-request-id"] == "proxy-abc.123"
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])
    assert anonymous.status_code == 401 and anonymous.headers["x-request-id"]
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "steward.access"]
    entries = [json.loads(line) for line in lines]
    first = next(e for e in entries if e["request_id"] == "proxy-abc.123")
    assert first["user"] == "olga"
    assert (first["method"], first["route"], first["status"]) == ("GET", "/api/v1/models", 200)
    assert first["duration_ms"] >= 0
    refused = next(e for e in entries if e["request_id"] == anonymous.headers["x-request-id"])
    assert (refused["status"], refused["user"]) == (401, None)
