"""Sketch scores carry a guaranteed bound: on batches shaped like the failures seen on real
data (16 % of the batch beyond the reference max, heavy tails, point masses) the exact scipy
value lies inside [score - bound, score + bound]; the exact path equals scipy to 1e-9."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from steward.monitoring import ColumnSpec, aggregate, build_profile
from steward.monitoring.drift import DriftOptions, compare, compare_exact

N = 60_000


def _cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(2026)
    ref = rng.normal(size=N)
    beyond = int(0.16 * N)
    outliers = np.r_[rng.normal(0.2, 1, N - beyond), ref.max() + rng.exponential(3, beyond)]
    mass_r = rng.normal(size=N)
    mass_r[: N // 3] = 0.0
    mass_c = rng.normal(0.1, 1, N)
    mass_c[: N // 2] = 0.0
    both = np.r_[rng.normal(0, 1, N - 2 * beyond), ref.min() - rng.exponential(2, beyond),
                 ref.max() + rng.exponential(5, beyond)]
    return {
        "outliers beyond the reference max": (ref, outliers),
        "heavy tails": (rng.standard_t(1.5, N), rng.standard_t(1.2, N) * 1.5 + 0.3),
        "point masses": (mass_r, mass_c),
        "lognormal": (rng.lognormal(10, 1, N), rng.lognormal(10.3, 1.4, N)),
        "both tails": (ref, both),
        "identical": (ref, ref.copy()),
    }


@pytest.mark.parametrize("case", list(_cases()))
def test_exact_value_lies_inside_the_sketch_bound(case: str) -> None:
    r, c = _cases()[case]
    ref, cur = pd.DataFrame({"x": r}), pd.DataFrame({"x": c})
    profile = build_profile(ref, [ColumnSpec("x")], engine="numpy")
    batch = aggregate(cur, profile, engine="numpy")
    w = compare(profile, batch, DriftOptions(method="wasserstein")).columns["x"]
    ks = compare(profile, batch, DriftOptions(method="ks")).columns["x"]
    exact_w = sps.wasserstein_distance(r, c) / np.std(r)
    exact = sps.ks_2samp(r, c, method="auto")
    assert w.mode == ks.mode == "sketch"
    assert w.error_bound is not None and ks.error_bound is not None
    assert abs(w.score - exact_w) <= w.error_bound
    assert abs(ks.statistic - exact.statistic) <= ks.error_bound
    # the p-value is labelled approximate and its interval holds the exact one
    lo, hi = ks.p_value_interval
    assert lo <= exact.pvalue <= hi or np.isclose(exact.pvalue, lo) or np.isclose(exact.pvalue, hi)
    assert "approximate" in ks.note


def test_outliers_beyond_the_reference_max_are_estimated_closely() -> None:
    """The reported case: W/std 4.82 with bound 8.7 where scipy says 0.965."""
    r, c = _cases()["outliers beyond the reference max"]
    ref, cur = pd.DataFrame({"x": r}), pd.DataFrame({"x": c})
    profile = build_profile(ref, [ColumnSpec("x")], engine="numpy")
    col = compare(profile, aggregate(cur, profile, engine="numpy"),
                  DriftOptions(method="wasserstein")).columns["x"]
    exact_w = sps.wasserstein_distance(r, c) / np.std(r)
    assert col.error_bound < 0.05 * exact_w
    assert col.score == pytest.approx(exact_w, rel=0.01)


@pytest.mark.parametrize("case", list(_cases()))
def test_exact_mode_equals_scipy_to_1e9(case: str) -> None:
    r, c = _cases()[case]
    ref, cur = pd.DataFrame({"x": r}), pd.DataFrame({"x": c})
    w = compare_exact(ref, cur, [ColumnSpec("x")], DriftOptions(method="wasserstein"))
    ks = compare_exact(ref, cur, [ColumnSpec("x")], DriftOptions(method="ks"))
    col_w, col_ks = w.columns["x"], ks.columns["x"]
    assert col_w.mode == col_ks.mode == "exact" and col_w.error_bound is None
    assert col_w.score == pytest.approx(sps.wasserstein_distance(r, c) / np.std(r), rel=1e-9,
                                        abs=1e-12)
    exact = sps.ks_2samp(r, c, method="auto")
    assert col_ks.statistic == pytest.approx(exact.statistic, abs=1e-12)
    assert col_ks.p_value == pytest.approx(exact.pvalue, rel=1e-9, abs=1e-300)
