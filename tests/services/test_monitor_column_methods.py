"""A drift method per column: a monitor holds one for each column it names (the others use
the monitor's method), refused at creation when it does not fit its column (the rule that
refuses chi-square on a continuous column and the Z-test on more than two values), used by
every run — exact and sketch — and shown per column in each run's results. The SDK (both
backends), REST and the CLI carry it; another team's model is refused before the config is
judged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from tests.cli.helpers import flat, ok, run
from tests.conftest import ensure_user

import steward
from steward import wire
from steward.domain import monitoring as rules
from steward.domain.errors import InvalidInput
from steward.domain.permissions import OPERATOR, Principal
from steward.monitoring.batches import build_reference
from steward.sdk.client import Steward
from steward.services import monitoring, tokens
from steward.services.context import Context

ALICE = Principal(name="alice", roles=frozenset({OPERATOR}))


def _frame(rows: int = 800, seed: int = 5, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "income": rng.lognormal(10 + shift, 0.5, rows),  # continuous
            "grade": rng.choice(["A", "B", "C"], rows),  # three categories
            "denied": (rng.uniform(size=rows) < 0.05 + shift / 4).astype(int),  # binary
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
    payload = build_reference(_frame(), rules.parse_config(config))
    return monitoring.create_monitor(
        ctx, ALICE, "credit", version, name=name, config=config, reference=payload
    ).id


def test_the_domain_parses_methods_in_every_spelling_and_refuses_unknown_ones() -> None:
    assert rules.parse_config({"methods": {"income": "ks"}}).methods == {"income": "ks"}
    assert rules.parse_config({"methods": "income=ks, grade=psi"}).methods == {
        "income": "ks",
        "grade": "psi",
    }
    parsed = rules.parse_config({"method": "psi", "methods": ["income=ks"]})
    assert parsed.method_for("income") == "ks" and parsed.method_for("grade") == "psi"
    with pytest.raises(InvalidInput) as err:
        rules.parse_config({"methods": {"income": "t-test"}})
    assert "method 't-test' of column 'income' is unknown" in err.value.detail
    with pytest.raises(InvalidInput):
        rules.parse_config({"methods": ["income"]})
    assert rules.method_options(["psi", "income=ks"]) == ("psi", ["income=ks"])
    with pytest.raises(InvalidInput) as err:
        rules.method_options(["psi", "ks"])
    assert "give one" in err.value.detail


def test_each_column_is_tested_with_its_own_method_and_the_results_say_which(
    ctx: Context, local: Steward, make_file: Callable[[bytes, str], Path]
) -> None:
    v = _production(local, make_file)
    mid = _create(
        ctx, v, columns=["income", "grade", "denied"], method="psi",
        methods={"income": "ks", "denied": "ztest"},
    )
    made = monitoring.get_monitor(ctx, ALICE, mid)
    assert made.config.methods == {"income": "ks", "denied": "ztest"}
    assert rules.config_json(made.config)["methods"] == {"income": "ks", "denied": "ztest"}
    batch = _frame(500, seed=9, shift=0.2)
    ran = local.run_monitor(mid, batch)  # exact mode (the default)
    scores = {r.column: r for r in ran.results if r.metric == "drift_score"}
    assert {c: r.details["method"] for c, r in scores.items()} == {
        "income": "ks",
        "grade": "psi",
        "denied": "ztest",
    }
    expected = sps.ks_2samp(_frame()["income"], batch["income"], method="auto").pvalue
    assert scores["income"].value == pytest.approx(expected, rel=1e-9)
    # sketch mode uses the same per-column methods, computed on the server
    sketch = local.run_monitor(mid, batch, mode="sketch")
    methods = {r.column: r.details["method"] for r in sketch.results if r.metric == "drift_score"}
    assert methods == {"income": "ks", "grade": "psi", "denied": "ztest"}


def test_a_column_method_that_does_not_fit_is_refused_naming_the_column(
    ctx: Context, local: Steward, make_file: Callable[[bytes, str], Path]
) -> None:
    v = _production(local, make_file)
    with pytest.raises(InvalidInput) as err:
        _create(ctx, v, columns=["income", "grade"], methods={"income": "chisquare"})
    text = err.value.detail
    assert "column 'income' (method chisquare) has" in text
    assert "psi, ks, wasserstein, jensenshannon" in text
    assert err.value.extra["field"] == "methods" and err.value.extra["columns"] == ["income"]
    with pytest.raises(InvalidInput) as err:
        _create(ctx, v, columns=["grade"], methods={"grade": "ztest"})
    assert "'grade' (method ztest) has 3 categories" in err.value.detail
    with pytest.raises(InvalidInput) as err:
        _create(ctx, v, columns=["income"], methods={"grade": "psi"})
    assert "'grade', which this monitor does not watch" in err.value.detail
    assert monitoring.list_monitors(ctx, ALICE) == []  # nothing half-written
    # changing a column's method later is judged the same way
    mid = _create(ctx, v, columns=["income", "denied"], methods={"denied": "ztest"})
    with pytest.raises(InvalidInput):
        monitoring.update_monitor(ctx, ALICE, mid, config={"methods": {"income": "ztest"}})
    changed = monitoring.update_monitor(ctx, ALICE, mid, config={"methods": {"income": "psi"}})
    assert changed.config.methods == {"income": "psi"}


def test_rest_and_the_remote_sdk_carry_methods_and_refuse_another_teams_model(
    ctx: Context,
    remote: Steward,
    live_server: object,
    token: str,
    make_file: Callable[[bytes, str], Path],
) -> None:
    v = _production(remote, make_file)
    made = remote.create_monitor(
        "credit", v, reference=_frame(), columns=["income", "grade"], methods={"income": "ks"}
    )
    assert made.config.methods == {"income": "ks"}
    url = live_server.url  # type: ignore[attr-defined]
    shown = httpx.get(
        f"{url}/api/v1/monitors/{made.id}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert shown["config"]["methods"] == {"income": "ks"}
    config = {"columns": ["income"], "methods": {"income": "chisquare"}}
    payload = wire.dump(build_reference(_frame(), rules.parse_config(config)))
    refused = httpx.post(
        f"{url}/api/v1/models/credit/versions/{v}/monitors",
        json={"name": "other", "config": config, "reference": payload},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "column 'income' (method chisquare)" in refused.json()["detail"]
    # an owner of another team may not configure monitors on credit: 403 before the config
    ensure_user(ctx, "olga", "owner")
    op = Principal(name="admin", roles=frozenset({OPERATOR}))
    olga = tokens.create_token(ctx, op, user="olga", name="t").token
    stranger = httpx.post(
        f"{url}/api/v1/models/credit/versions/{v}/monitors",
        json={"name": "mine", "config": {"methods": {"income": "nonsense"}}, "reference": payload},
        headers={"Authorization": f"Bearer {olga}"},
    )
    assert stranger.status_code == 403, stranger.text
    assert "olga may monitor:manage only on models they own" in stranger.json()["detail"]


def test_the_cli_takes_method_and_column_methods(tmp_path: Path) -> None:
    home = tmp_path / "store"
    ref = tmp_path / "reference.parquet"
    _frame(3000).to_parquet(ref)
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    ok(home, "model", "create", "credit", "--owner", "alice")
    ok(home, "version", "create", "credit", str(artifact), "--no-git")
    client = steward.connect(home=str(home), actor="alice")
    try:
        for stage in ("validation", "approved", "production"):
            client.transition("credit", 1, to=stage, justification="test")
    finally:
        client.close()
    refused = run(home, "monitor", "create", "credit", "1", "--reference", str(ref),
                  "--method", "psi", "--method", "income=chisquare")
    assert refused.exit_code != 0
    assert "column 'income' (method chisquare)" in flat(refused.output)
    made = ok(home, "monitor", "create", "credit", "1", "--reference", str(ref),
              "--method", "psi", "--method", "income=ks", "--method", "denied=ztest")
    text = flat(made.output)
    assert "column methods income=ks, denied=ztest" in text
    batch = tmp_path / "batch.parquet"
    _frame(2000, seed=3, shift=0.3).to_parquet(batch)
    ran = flat(ok(home, "monitor", "run", "credit", "--data", str(batch)).output)
    assert "income ks" in ran and "grade psi" in ran and "denied ztest" in ran
    twice = run(home, "monitor", "create", "credit", "1", "--reference", str(ref),
                "--name", "two", "--method", "psi", "--method", "ks")
    assert twice.exit_code != 0 and "give one" in flat(twice.output)
