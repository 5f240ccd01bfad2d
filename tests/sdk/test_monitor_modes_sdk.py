"""Exact and sketch modes through the SDK, embedded and over HTTP: the exact reference is
kept with the monitor and served at /monitors/{ref}/reference/exact; an exact run's scores
equal scipy; every stored score states its mode."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from steward.domain.errors import InvalidInput, NotFound
from steward.monitoring import ExactReference
from steward.sdk.client import Steward


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(16)
    ref = pd.DataFrame({"income": rng.normal(50, 10, 5000),
                        "denied": (rng.uniform(size=5000) < 0.047).astype(int)})
    beyond = 800
    cur = pd.DataFrame({"income": np.r_[rng.normal(51, 10, 5000 - beyond),
                                        ref.income.max() + rng.exponential(25, beyond)],
                        "denied": (rng.uniform(size=5000) < 0.101).astype(int)})
    return ref, cur


def _production(client: Steward, make_file: Callable[[bytes, str], Path]) -> None:
    client.create_model("credit", owner="alice")
    client.log_version("credit", artifact=make_file(b"m", "m.bin"), capture_git=False)
    for stage in ("validation", "approved", "production"):
        client.transition("credit", 1, to=stage, justification="test")


def test_exact_by_default_equal_to_scipy_and_sketch_on_request(
    client: Steward, make_file: Callable[[bytes, str], Path]
) -> None:
    ref, cur = _frames()
    _production(client, make_file)
    m = client.create_monitor("credit", 1, reference=ref, method="ks")
    assert m.config.mode == "exact" and m.reference.exact
    kept = ExactReference.from_bytes(client._backend.monitor_exact_reference(m.id))
    assert np.array_equal(kept.columns["income"].values, np.sort(ref.income.to_numpy()))
    run = client.run_monitor(m.id, cur)
    assert run.mode == "exact"
    got = {(r.column, r.metric): r for r in run.results}
    exact = sps.ks_2samp(ref.income, cur.income, method="auto")
    ks = got[("income", "ks")]
    assert ks.value == pytest.approx(exact.statistic, abs=1e-12)
    assert got[("income", "ks_p_value")].value == pytest.approx(exact.pvalue, rel=1e-9)
    assert ks.details["mode"] == "exact" and ks.details["error_bound"] is None
    # PSI of the binary column: by category, not the (collapsed) deciles
    psi = got[("denied", "psi")]
    assert psi.details["bins"] == "categories" and psi.value > 0.02
    sketch = client.run_monitor(m.id, cur, mode="sketch")
    assert sketch.mode == "sketch"
    s = {(r.column, r.metric): r for r in sketch.results}[("income", "ks")]
    assert s.details["mode"] == "sketch"
    assert s.value <= exact.statistic <= s.value + s.details["error_bound"] + 1e-12
    lo, hi = s.details["p_value_interval"]
    assert lo <= exact.pvalue * (1 + 1e-9) and exact.pvalue <= hi * (1 + 1e-9)


def test_sketch_monitor_keeps_no_exact_reference(
    client: Steward, make_file: Callable[[bytes, str], Path]
) -> None:
    ref, cur = _frames()
    _production(client, make_file)
    m = client.create_monitor("credit", 1, reference=ref, mode="sketch")
    assert m.reference.exact is None
    with pytest.raises(NotFound):
        client._backend.monitor_exact_reference(m.id)
    with pytest.raises(InvalidInput):
        client.run_monitor(m.id, cur, mode="exact")
    auto = client.run_monitor(m.id, cur, mode="auto")  # auto without a reference: sketch
    assert auto.mode == "sketch"
    with pytest.raises(InvalidInput):  # nothing to be exact against
        client.update_monitor(m.id, mode="exact")
