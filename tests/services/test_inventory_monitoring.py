"""The inventory overview says, per model, whether what runs in production is watched:
not in production, not monitored (a production version without an active monitor),
monitored, or alerting (open alerts) — SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient
from tests.conftest import ensure_user
from tests.web.test_web_pages import PASSWORD, sign_in

from steward.api.app import create_app
from steward.demo.credit import load_german_credit
from steward.domain.permissions import OPERATOR, Principal
from steward.monitoring.batches import build_reference, reduce_batch
from steward.sdk.client import Steward
from steward.services import identity, monitoring, web_views
from steward.services.context import Context

ALICE = Principal(name="alice", roles=frozenset({OPERATOR}))
COLUMNS = ["age_in_years", "credit_amount", "purpose"]


def _in_production(local: Steward, make_file: Callable[[bytes, str], Path], name: str) -> int:
    local.create_model(name, owner="alice")
    version = local.log_version(
        name, artifact=make_file(name.encode(), "m.bin"), capture_git=False
    ).version
    for stage in ("validation", "approved", "production"):
        local.transition(name, version, to=stage, justification="test")
    return version


def _monitor(
    ctx: Context, name: str, version: int, reference: pd.DataFrame, **extra: object
) -> str:
    config = {"columns": COLUMNS, **extra}
    payload = build_reference(reference, monitoring.rules.parse_config(config))
    return monitoring.create_monitor(ctx, ALICE, name, version, config=config, reference=payload).id


def test_inventory_marks_unmonitored_production_models_and_open_alerts(
    ctx: Context, local: Steward, make_file: Callable[[bytes, str], Path]
) -> None:
    credit = load_german_credit()
    local.create_model("draft", owner="alice")
    _in_production(local, make_file, "bare")
    watched = _in_production(local, make_file, "watched")
    _monitor(ctx, "watched", watched, credit.iloc[:600])
    alarmed = _in_production(local, make_file, "alarmed")
    rule = {
        "id": "age",
        "metric": "psi",
        "column": "age_in_years",
        "op": ">=",
        "threshold": 0.25,
        "severity": "high",
    }
    mid = _monitor(ctx, "alarmed", alarmed, credit.iloc[:600], rules=[rule])
    young = credit[credit.age_in_years <= 28].sample(300, replace=True, random_state=1)
    monitor = monitoring.get_monitor(ctx, ALICE, mid)
    profile = monitoring.monitor_reference(ctx, ALICE, mid)
    exact = monitoring.monitor_exact_reference(ctx, ALICE, mid)
    run = monitoring.record_batch(
        ctx,
        ALICE,
        mid,
        reduce_batch(young, profile, monitor.config, engine="numpy", exact_reference=exact),
    )
    assert len(run.alerts) == 1

    rows = {r.name: r for r in web_views.inventory(ctx, ALICE).rows}
    assert (rows["draft"].monitoring, rows["draft"].open_alerts) == ("not_in_production", 0)
    assert rows["bare"].monitoring == "unmonitored"
    assert rows["watched"].monitoring == "monitored"
    assert (rows["alarmed"].monitoring, rows["alarmed"].open_alerts) == ("alerting", 1)

    # A deleted monitor no longer counts: the model is unwatched again.
    monitoring.delete_monitor(ctx, ALICE, _monitor(ctx, "bare", 1, credit.iloc[:600]))
    rows = {r.name: r for r in web_views.inventory(ctx, ALICE).rows}
    assert rows["bare"].monitoring == "unmonitored"

    # The web inventory shows the column, highlights the unwatched production model and
    # links the alerts; in zh-TW too.
    ensure_user(ctx, "val", "validator")
    identity.set_password(ctx, ALICE, "val", PASSWORD)
    with TestClient(create_app(ctx)) as web:
        sign_in(web, "val")
        html = web.get("/").text
        assert '<th scope="col">Monitoring</th>' in html
        assert html.count('<td class="monitoring-unmonitored">') == 1  # the "bare" row
        assert html.count(' unmonitored">') == 1  # and its row is highlighted
        assert 'href="/models/alarmed/monitoring">alerting (1)</a>' in html
        web.get("/lang/zh-TW?next=/")
        zh = web.get("/").text
        assert "未受監控" in zh and "有警示" in zh
