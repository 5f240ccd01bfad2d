"""`POST /mlflow/webhooks`: MLflow's registry webhooks (MLflow 3.3+) ask for a sync; a
forged, stale or replayed delivery is refused. The last test has the real MLflow server
deliver to a running Steward. SQLite and PostgreSQL stores."""

from __future__ import annotations

import dataclasses
import time
import uuid

import pytest
from fastapi.testclient import TestClient

from steward.api.app import create_app
from steward.bridge.mlflow_source import MlflowSource
from steward.domain import mlflow_writeback as wb
from steward.domain.permissions import Principal
from steward.services import mlflow_writeback, versions
from steward.services.context import Context
from tests.conftest import LiveServer, free_port
from tests.mlflow_bridge.conftest import MlflowServer, log_version

SECRET = "webhook-secret-for-tests"
BODY = b'{"entity": "model_version", "action": "created", "data": {"name": "m", "version": "1"}}'


@pytest.fixture
def hooked(ctx: Context) -> Context:
    return dataclasses.replace(
        ctx, settings=dataclasses.replace(ctx.settings, mlflow_webhook_secret=SECRET)
    )


def _headers(
    body: bytes = BODY, *, secret: str = SECRET, delivery: str | None = None, at: int | None = None
) -> dict[str, str]:
    delivery = delivery or str(uuid.uuid4())
    stamp = str(at if at is not None else int(time.time()))
    return {
        "content-type": "application/json",
        "x-mlflow-delivery-id": delivery,
        "x-mlflow-timestamp": stamp,
        "x-mlflow-signature": wb.expected_signature(secret, delivery, stamp, body),
    }


def _asked(ctx: Context) -> int:
    with ctx.uow.read() as uow:
        return uow.mlflow.sync_requested()


def test_a_signed_delivery_asks_for_a_sync_once(hooked: Context) -> None:
    with TestClient(create_app(hooked)) as client:
        headers = _headers()
        answer = client.post("/mlflow/webhooks", content=BODY, headers=headers)
        assert answer.status_code == 202, answer.text
        assert answer.json() == {"accepted": True, "event": "model_version.created"}
        assert _asked(hooked) == 1
        replay = client.post("/mlflow/webhooks", content=BODY, headers=headers)
        assert replay.status_code == 409 and "replay" in replay.json()["detail"]
        assert replay.headers["content-type"].startswith("application/problem+json")
    assert _asked(hooked) == 1


def test_forged_stale_and_unsigned_deliveries_are_refused(hooked: Context, ctx: Context) -> None:
    with TestClient(create_app(hooked)) as client:
        forged = client.post("/mlflow/webhooks", content=BODY, headers=_headers(secret="guess"))
        assert forged.status_code == 401 and "does not match" in forged.json()["detail"]
        tampered = client.post(
            "/mlflow/webhooks", content=BODY.replace(b'"m"', b'"x"'), headers=_headers()
        )
        assert tampered.status_code == 401
        stale = client.post(
            "/mlflow/webhooks", content=BODY, headers=_headers(at=int(time.time()) - 3600)
        )
        assert stale.status_code == 401 and "replay" in stale.json()["detail"]
        bare = client.post("/mlflow/webhooks", content=BODY)
        assert bare.status_code == 401
        not_json = b"[1, 2"
        bad = client.post("/mlflow/webhooks", content=not_json, headers=_headers(not_json))
        assert bad.status_code == 422  # InvalidInput, as elsewhere in the API
    assert _asked(hooked) == 0
    with TestClient(create_app(ctx)) as client:  # no secret configured: nothing is taken
        off = client.post("/mlflow/webhooks", content=BODY, headers=_headers())
        assert off.status_code == 403 and "STEWARD_MLFLOW_WEBHOOK_SECRET" in off.json()["detail"]


def test_mlflow_delivers_a_new_version_and_the_worker_syncs_at_once(
    hooked: Context, alice: Principal, mlflow_server: MlflowServer
) -> None:
    import mlflow

    from steward.services import worker

    url = mlflow_server.url
    name = f"hooked-{free_port()}"
    log_version(url, name, 31)
    configured = dataclasses.replace(
        hooked, settings=dataclasses.replace(hooked.settings, mlflow_tracking_uri=url)
    )
    mlflow_writeback.sync_both_ways(configured, alice, MlflowSource(url), only=[name])
    client = mlflow.MlflowClient(tracking_uri=url, registry_uri=url)
    with LiveServer(configured) as steward:
        hook = client.create_webhook(
            name=f"steward-{free_port()}",
            url=f"{steward.url}/mlflow/webhooks",
            events=["model_version.created"],
            secret=SECRET,
        )
        try:
            time.sleep(1.5)  # MLflow's cached list of webhooks (1 s here) takes it in
            log_version(url, name, 32)  # a data scientist registers version 2
            deadline = time.monotonic() + 60
            while _asked(configured) == 0 and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            client.delete_webhook(hook.webhook_id)
    assert worker._mlflow_sync_asked(configured)
    synced = mlflow_writeback.sync_both_ways(configured, alice, MlflowSource(url), only=[name])
    assert synced.webhook_deliveries >= 1
    assert synced.imported.versions_imported == [f"{name}/2 <- {name} 2"]
    assert versions.get_version(configured, alice, name, 2).stage.value == "development"
    assert not worker._mlflow_sync_asked(configured)
