"""The web monitoring page states how each drift score was computed: the monitor's mode,
each window's mode (exact or sketch) and a sketch score with ± its guaranteed bound."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient
from tests.conftest import ensure_user
from tests.web.test_web_pages import PASSWORD, sign_in

from steward.api.app import create_app
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.services import identity
from steward.services.context import Context

OP = Principal(name="admin", roles=frozenset({OPERATOR}))


def test_monitor_page_shows_exact_and_sketch_scores(
    ctx: Context, local: Steward, make_file: Callable[[bytes, str], Path]
) -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"income": rng.normal(50, 10, 3000)})
    cur = pd.DataFrame(
        {"income": np.r_[rng.normal(52, 10, 2500), ref.income.max() + rng.exponential(20, 500)]}
    )
    local.create_model("credit", owner="alice")
    local.log_version("credit", artifact=make_file(b"m", "m.bin"), capture_git=False)
    for stage in ("validation", "approved", "production"):
        local.transition("credit", 1, to=stage, justification="test")
    m = local.create_monitor("credit", 1, reference=ref, method="wasserstein")
    local.run_monitor(m.id, cur, observed_at=datetime(2026, 3, 2, tzinfo=UTC))
    day2 = datetime(2026, 3, 3, tzinfo=UTC)
    sketch = local.run_monitor(m.id, cur, mode="sketch", observed_at=day2)
    bound = next(r for r in sketch.results if r.metric == "drift_score").details["error_bound"]
    assert bound and bound > 0
    ensure_user(ctx, "aud", "auditor")
    identity.set_password(ctx, OP, "aud", PASSWORD)
    with TestClient(create_app(ctx)) as web:
        sign_in(web, "aud")
        page = web.get("/models/credit/monitoring?metric=drift_score")
    assert page.status_code == 200
    text = page.text
    assert "Drift statistics: exact." in text
    assert "<td>exact</td>" in text and "<td>sketch</td>" in text
    assert " ± " in text
