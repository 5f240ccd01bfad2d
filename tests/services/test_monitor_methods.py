"""A drift method that cannot test a watched column is refused when the monitor is created
(or its method changed), naming the methods that fit — not accepted and then failing, or
silently testing the first category, at the first run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from steward.domain.errors import InvalidInput
from steward.domain.permissions import OPERATOR, Principal
from steward.monitoring.batches import build_reference
from steward.sdk.client import Steward
from steward.services import monitoring
from steward.services.context import Context

ALICE = Principal(name="alice", roles=frozenset({OPERATOR}))


def _frame(rows: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame(
        {
            "income": rng.lognormal(10, 0.5, rows),  # continuous
            "grade": rng.choice(["A", "B", "C"], rows),  # three categories
            "denied": (rng.uniform(size=rows) < 0.05).astype(int),  # binary numeric
        }
    )


def _production(client: Steward, make_file: Callable[[bytes, str], Path]) -> int:
    client.create_model("credit", owner="alice")
    v = client.log_version(
        "credit", artifact=make_file(b"model", "m.bin"), training_data=_frame(), capture_git=False
    ).version
    for stage in ("validation", "approved", "production"):
        client.transition("credit", v, to=stage, justification="test")
    return v


def _create(ctx: Context, version: int, name: str = "default", **config: object) -> str:
    payload = build_reference(_frame(), monitoring.rules.parse_config(config))
    return monitoring.create_monitor(
        ctx, ALICE, "credit", version, name=name, config=config, reference=payload
    ).id


def test_chisquare_on_a_continuous_column_is_refused_with_the_methods_that_fit(
    ctx: Context, local: Steward, make_file: Callable[[bytes, str], Path]
) -> None:
    v = _production(local, make_file)
    with pytest.raises(InvalidInput) as err:
        _create(ctx, v, columns=["income"], method="chisquare")
    text = err.value.detail
    assert "'income'" in text and "psi, ks, wasserstein, jensenshannon" in text
    assert monitoring.list_monitors(ctx, ALICE) == []  # nothing half-written


def test_ztest_on_three_categories_is_refused_and_on_a_binary_column_accepted(
    ctx: Context, local: Steward, make_file: Callable[[bytes, str], Path]
) -> None:
    v = _production(local, make_file)
    with pytest.raises(InvalidInput) as err:
        _create(ctx, v, columns=["grade"], method="ztest")
    assert "'grade' has 3 categories" in err.value.detail
    assert "psi, jensenshannon, chisquare" in err.value.detail
    _create(ctx, v, name="binary", columns=["denied"], method="ztest")
    # changing the method later is checked the same way
    mid = _create(ctx, v, name="income", columns=["income"], method="ks")
    with pytest.raises(InvalidInput):
        monitoring.update_monitor(ctx, ALICE, mid, config={"method": "chisquare"})
    with pytest.raises(InvalidInput):
        _create(ctx, v, columns=["income", "denied"], method="ztest")


def test_rest_refuses_with_problem_json(
    remote: Steward, live_server: object, token: str, make_file: Callable[[bytes, str], Path]
) -> None:
    v = _production(remote, make_file)
    config = {"columns": ["income"], "method": "chisquare"}
    payload = build_reference(_frame(), monitoring.rules.parse_config(config))
    from steward import wire

    response = httpx.post(
        f"{live_server.url}/api/v1/models/credit/versions/{v}/monitors",  # type: ignore[attr-defined]
        json={"config": config, "reference": wire.dump(payload)},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "methods that fit" in response.json()["detail"]
