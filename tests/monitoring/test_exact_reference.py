"""Exact mode on a reference prepared once: one merge per column, equal to scipy and to the
on-the-fly path; the prepared reference survives save/load; bad input is explained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from steward.domain.errors import InvalidInput
from steward.monitoring import (
    ColumnSpec,
    DriftOptions,
    ExactReference,
    compare_exact,
    prepare_exact,
    stats,
)
from steward.monitoring._numpy import category_counts, category_values

SPECS = [ColumnSpec("a"), ColumnSpec("d"), ColumnSpec("c", "categorical"),
         ColumnSpec("flag", "categorical"), ColumnSpec("f", "categorical")]


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(shift, 1, n)
    a[::53] = np.nan
    a[7] = np.inf
    return pd.DataFrame({
        "a": a, "d": rng.integers(0, 4 + int(shift > 0), n).astype(float),
        "c": rng.choice(["x", "y", "z"] + (["new"] if shift else []), n),
        "flag": rng.random(n) < 0.3 + shift / 3,
        "f": rng.choice([0.5, 1.0, np.nan], n),
    })


CASES = [
    (np.random.default_rng(1).normal(0, 1, 3000), np.random.default_rng(2).normal(0.1, 1, 2000)),
    (np.random.default_rng(3).integers(0, 5, 3000).astype(float),
     np.random.default_rng(4).integers(0, 7, 1200).astype(float)),  # ties across samples
    (np.array([1.0, 1.0, 2.0]), np.array([1.0, 2.0, 2.0, 2.0])),
    (np.array([3.0]), np.array([1.0, 2.0])),                        # disjoint
    (np.random.default_rng(5).normal(0, 1, 20000).round(1),
     np.random.default_rng(6).normal(0.3, 2, 15000).round(1)),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_one_merge_equals_scipy(case: int) -> None:
    r, c = CASES[case]
    d, w1 = stats.ks_wasserstein_sorted(np.sort(r), np.sort(c))
    assert d == pytest.approx(sps.ks_2samp(r, c).statistic, abs=1e-15)
    assert w1 == pytest.approx(sps.wasserstein_distance(r, c), rel=1e-12, abs=1e-15)
    assert stats.ks_exact(r, c) == d
    assert stats.wasserstein_exact(r, c) == w1


_rng = np.random.default_rng(11)
# sizes where one divides the other (the quantile path) and where neither does (the merge),
# with point masses, ties across samples and 16 % of the batch beyond the reference max
SIZE_CASES = [
    (_rng.normal(0, 1, 4000), _rng.normal(0.3, 1, 4000)),
    (_rng.integers(0, 5, 3000).astype(float), _rng.integers(0, 7, 9000).astype(float)),
    (_rng.normal(0, 1, 6000).round(1), _rng.normal(0.2, 2, 2000).round(1)),
    (np.r_[np.zeros(500), _rng.lognormal(0, 2, 1500)], np.r_[_rng.normal(0, 1, 1680),
                                                             _rng.normal(12, 1, 320)]),
    (_rng.standard_t(1.5, 3001), _rng.standard_t(1.5, 2000)),
    (np.array([2.0]), np.array([1.0, 2.0, 2.0, 9.0])),
]


@pytest.mark.parametrize("case", range(len(SIZE_CASES)))
def test_wasserstein_quantile_path_equals_scipy_and_the_merge(case: int) -> None:
    r, c = SIZE_CASES[case]
    expected = sps.wasserstein_distance(r, c)
    for a, b in ((r, c), (c, r)):
        w1 = stats.wasserstein_sorted(np.sort(a), np.sort(b))
        assert w1 == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert w1 == pytest.approx(stats.ks_wasserstein_sorted(np.sort(a), np.sort(b))[1],
                                   rel=1e-12, abs=1e-15)
    with pytest.raises(ValueError, match="at least one value"):
        stats.wasserstein_sorted(np.array([]), np.array([1.0]))


def test_empty_sample_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        stats.ks_wasserstein_sorted(np.array([]), np.array([1.0]))


@pytest.mark.parametrize("n_ref", [800, 6000])  # KS/χ²/Z below 1000 rows, W1/JS above
def test_prepared_reference_equals_raw_and_scipy(n_ref: int) -> None:
    ref, cur = frame(n_ref, 1), frame(n_ref - 300, 2, 0.4)
    raw = compare_exact(ref, cur, SPECS)
    prepared = prepare_exact(ref, SPECS)
    assert prepared.columns["a"].values is not None
    assert np.all(np.diff(prepared.columns["a"].values) >= 0)
    again = compare_exact(prepared, cur)
    assert raw.to_dict() == again.to_dict()
    r = ref["a"].to_numpy()
    c = cur["a"].to_numpy()
    r, c = r[np.isfinite(r)], c[np.isfinite(c)]
    col = again.columns["a"]
    if n_ref <= 1000:
        assert col.method == "ks"
        assert col.statistic == pytest.approx(sps.ks_2samp(r, c).statistic, abs=1e-15)
        assert col.p_value == pytest.approx(sps.ks_2samp(r, c).pvalue, rel=1e-9)
    else:
        assert col.method == "wasserstein"
        assert col.score == pytest.approx(sps.wasserstein_distance(r, c) / np.std(r), rel=1e-12)
    assert col.missing_rate == pytest.approx(np.isnan(cur["a"]).mean())
    assert col.out_of_range_share == pytest.approx(np.mean((c < r.min()) | (c > r.max())))
    assert again.columns["c"].new_categories == ["new"]
    assert again.columns["c"].new_category_share == pytest.approx((cur["c"] == "new").mean())
    assert again.columns["f"].missing_rate == pytest.approx(cur["f"].isna().mean())
    psi = compare_exact(prepared, cur, options=DriftOptions(method="psi", psi_mode="evidently"))
    assert psi.to_dict() == compare_exact(
        ref, cur, SPECS, DriftOptions(method="psi", psi_mode="evidently")).to_dict()


def test_save_load_round_trip_and_bad_files(tmp_path: Path) -> None:
    ref, cur = frame(3000, 1), frame(2500, 2, 0.4)
    prepared = prepare_exact(ref, SPECS)
    path = tmp_path / "reference.npz"
    prepared.save(path)
    loaded = ExactReference.load(path)
    assert compare_exact(loaded, cur).to_dict() == compare_exact(prepared, cur).to_dict()
    (tmp_path / "bad.npz").write_bytes(b"not an npz")
    with pytest.raises(InvalidInput, match="cannot read the exact reference"):
        ExactReference.load(tmp_path / "bad.npz")
    with pytest.raises(InvalidInput, match="cannot read the exact reference"):
        ExactReference.load(tmp_path / "missing.npz")


def test_bad_input_is_explained() -> None:
    ref, cur = frame(500, 1), frame(400, 2)
    prepared = prepare_exact(ref, SPECS)
    with pytest.raises(InvalidInput, match="needs the columns"):
        compare_exact(ref, cur)
    with pytest.raises(InvalidInput, match="no column 'zzz'"):
        compare_exact(prepared, cur, [ColumnSpec("zzz")])
    with pytest.raises(InvalidInput, match="is numeric in the exact reference"):
        compare_exact(prepared, cur, [ColumnSpec("a", "categorical")])
    with pytest.raises(InvalidInput, match="no column 'a'"):
        compare_exact(prepared, cur.drop(columns=["a"]))
    with pytest.raises(InvalidInput, match="should be numeric"):
        compare_exact(prepared, cur.assign(a=cur["a"].astype(str)))
    with pytest.raises(InvalidInput, match="no finite values"):
        prepare_exact(ref.assign(a=np.nan), SPECS)
    empty = compare_exact(prepared, cur.assign(a=np.nan))
    assert empty.columns["a"].score is None
    assert empty.columns["a"].note == "no values in the batch"


def test_category_counts_spell_like_category_values() -> None:
    s = pd.Series([True, False, True, None], dtype="boolean")
    mixed = pd.Series(["1", 1, "x", None, 1.5], dtype=object)
    floats = pd.Series([0.5, 1.0, np.nan, 1.0])
    for series in (s, mixed, floats, pd.Series(["b", "a", "b"])):
        expected = category_values(pd.DataFrame({"v": series}), "v").value_counts()
        assert category_counts(series) == {str(k): int(v) for k, v in expected.items()}
