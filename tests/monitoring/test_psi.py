"""PSI has one definition (``steward.monitoring.stats``) used by validation, monitoring (exact
and sketch paths) and so the model card; low-cardinality columns are binned by category."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steward.monitoring import ColumnSpec, aggregate, build_profile
from steward.monitoring.drift import DriftOptions, compare, compare_exact
from steward.validation.checks import data_quality


def _hand_psi(r: np.ndarray, c: np.ndarray, eps: float = 1e-4) -> float:
    """The documented definition, written out: shares, empty bins → eps, Σ (c-r)·ln(c/r)."""
    r = r / r.sum()
    c = c / c.sum()
    r = np.where(r == 0, eps, r)
    c = np.where(c == 0, eps, c)
    return float(np.sum((c - r) * np.log(c / r)))


def _hand_deciles(ref: np.ndarray, cur: np.ndarray) -> float:
    # reference deciles as values of the data (numpy "inverted_cdf" = quantile_disc),
    # duplicates merged, bins [e_i, e_{i+1}) with open outer bins
    edges = np.unique(np.quantile(ref, np.arange(1, 10) / 10, method="inverted_cdf"))
    rb = np.bincount(np.searchsorted(edges, ref, "right"), minlength=edges.size + 1)
    cb = np.bincount(np.searchsorted(edges, cur, "right"), minlength=edges.size + 1)
    return _hand_psi(rb.astype(float), cb.astype(float))


def _three_paths(ref: pd.DataFrame, cur: pd.DataFrame, spec: ColumnSpec) -> list[tuple[float, str]]:
    profile = build_profile(ref, [spec], engine="numpy")
    sketch = compare(profile, aggregate(cur, profile, engine="numpy"), DriftOptions(method="psi"))
    exact = compare_exact(ref, cur, [spec], DriftOptions(method="psi"))
    validation = data_quality.psi(ref[spec.name], cur[spec.name])
    out = []
    for found in (sketch, exact):
        col = found.columns[spec.name]
        assert col.method == "psi"
        out.append((col.score, col.bins))
    out.append(validation)
    return out


def test_continuous_column_same_psi_everywhere_equal_to_the_definition() -> None:
    rng = np.random.default_rng(7)
    ref = pd.DataFrame({"x": rng.normal(size=20_000)})
    cur = pd.DataFrame({"x": rng.normal(0.3, 1.2, size=15_000)})
    expected = _hand_deciles(ref["x"].to_numpy(), cur["x"].to_numpy())
    for value, bins in _three_paths(ref, cur, ColumnSpec("x")):
        assert bins == "deciles"
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_binary_minority_shift_is_not_zero() -> None:
    """The mortgage case: a 0/1 column with a 4.7 % minority moving to 10.1 % read PSI 0 on
    reference deciles (every edge at 0)."""
    ref = pd.DataFrame({"denied": np.r_[np.ones(470), np.zeros(9530)]})
    cur = pd.DataFrame({"denied": np.r_[np.ones(1010), np.zeros(8990)]})
    r, c = np.array([0.953, 0.047]), np.array([0.899, 0.101])
    expected = float(np.sum((c - r) * np.log(c / r)))
    assert expected > 0.04
    for value, bins in _three_paths(ref, cur, ColumnSpec("denied")):
        assert bins == "categories"
        assert value == pytest.approx(expected, rel=1e-12)


def test_boolean_and_categorical_columns_use_categories() -> None:
    ref = pd.DataFrame({"flag": np.r_[np.ones(47, bool), np.zeros(953, bool)]})
    cur = pd.DataFrame({"flag": np.r_[np.ones(101, bool), np.zeros(899, bool)]})
    expected = _hand_psi(np.array([953.0, 47.0]), np.array([899.0, 101.0]))
    for value, bins in _three_paths(ref, cur, ColumnSpec("flag", "categorical")):
        assert bins == "categories"
        assert value == pytest.approx(expected, rel=1e-12)


def test_low_cardinality_numeric_up_to_twenty_values_is_binned_by_value() -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"grade": rng.integers(1, 21, size=5000).astype(float)})  # 20 values
    cur = pd.DataFrame({"grade": rng.integers(3, 21, size=4000).astype(float)})
    keys = np.arange(1, 21)
    expected = _hand_psi(
        np.array([(ref["grade"] == k).sum() for k in keys], float),
        np.array([(cur["grade"] == k).sum() for k in keys], float),
    )
    for value, bins in _three_paths(ref, cur, ColumnSpec("grade")):
        assert bins == "categories"
        assert value == pytest.approx(expected, rel=1e-12)
    # 21 distinct reference values: deciles
    ref21 = pd.DataFrame({"grade": np.arange(21.0).repeat(10)})
    assert data_quality.psi(ref21["grade"], cur["grade"])[1] == "deciles"
