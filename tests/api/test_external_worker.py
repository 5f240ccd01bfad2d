"""STEWARD_WORKER=external: the API processes leave the webhook outbox to `steward worker`
(no delivery loop of their own); unset, they keep delivering as before."""

from __future__ import annotations

import dataclasses
import time
from datetime import date

import pytest
from fastapi.testclient import TestClient
from tests.trust.receiver import receiver

from steward.api.app import create_app
from steward.domain.permissions import OPERATOR, Principal
from steward.services import models, reviews, webhooks
from steward.services.context import Context
from steward.settings import Settings

ADMIN = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.mark.parametrize("mode", ["internal", "external"])
def test_the_api_delivers_webhooks_only_without_an_external_worker(ctx: Context, mode: str) -> None:
    context = dataclasses.replace(ctx, settings=ctx.settings.with_(worker=mode))
    with receiver() as rx:
        webhooks.create_webhook(context, ADMIN, url=rx.url, events=["review.overdue"])
        models.create_model(
            context, ADMIN, "credit", owner="admin", risk_tier="high", risk_override_reason="t"
        )
        models.update_model(context, ADMIN, "credit", next_review_date=date(2026, 1, 1))
        with TestClient(create_app(context)) as client:
            assert client.get("/healthz").status_code == 200
            # journals review.overdue, which queues a delivery
            reviews.report_overdue(context, ADMIN)
            if mode == "internal":
                assert [r.event for r in rx.wait_for(1)] == ["review.overdue"]
            else:
                time.sleep(3)  # the API's loop would have sent it within about a second
                assert rx.received == []


def test_an_unknown_worker_mode_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match=r"'internal'.*'external'"):
        Settings.from_env(env={"STEWARD_WORKER": "sidecar"}, home="/tmp/x")
    assert Settings.from_env(env={"STEWARD_WORKER": "External"}, home="/tmp/x").worker == (
        "external"
    )


def test_readyz_reports_the_worker_without_taking_the_api_out_of_rotation(ctx: Context) -> None:
    from steward.services import worker as worker_service

    context = dataclasses.replace(ctx, settings=ctx.settings.with_(worker="external"))
    with TestClient(create_app(context)) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200  # a dead worker delays webhooks; the API still serves
        check = ready.json()["checks"]["worker"]
        assert check["ok"] is False and check["required"] is False
        assert "no `steward worker` is running" in check["detail"]
        worker_service.beat(context, worker_service.Identity())
        assert client.get("/readyz").json()["checks"]["worker"]["ok"] is True
    with TestClient(create_app(ctx)) as client:  # internal: nothing to report
        assert "worker" not in client.get("/readyz").json()["checks"]
