"""The monitoring compute engine: formulae vs scipy, engines agree, Evidently 0.7 fixture."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats as sps
from scipy.spatial import distance

from steward.domain.errors import InvalidInput
from steward.monitoring import (
    BatchAggregate,
    ColumnSpec,
    DriftOptions,
    Query,
    ReferenceProfile,
    aggregate,
    build_profile,
    compare,
    compare_exact,
    merge,
    stats,
)
from tests.monitoring.fixtures.make_evidently_fixture import (
    CASES,
    CATEGORICAL,
    NUMERIC,
    fixture_data,
)

FIXTURE = Path(__file__).parent / "fixtures" / "evidently_drift.json"
SPECS = [ColumnSpec("a"), ColumnSpec("e"), ColumnSpec("d"), ColumnSpec("c", "categorical"),
         ColumnSpec("flag", "categorical")]


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(shift, 1, n)
    a[:: 97] = np.nan
    e = rng.exponential(1 + shift, n)
    e[5] = np.inf
    return pd.DataFrame({
        "a": a, "e": e, "d": rng.integers(0, 4 + int(shift > 0), n),
        "c": rng.choice(["x", "y", "z"] + (["new"] if shift else []), n),
        "flag": rng.random(n) < 0.3 + shift / 3,
    })


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame, ReferenceProfile]:
    ref, cur = frame(6000, 1), frame(5000, 2, 0.3)
    return ref, cur, build_profile(ref, SPECS)


# -- formulae vs scipy ------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "m"), [(300, 500), (4000, 4000), (20000, 15000)])
def test_ks_matches_scipy(n: int, m: int) -> None:
    rng = np.random.default_rng(n)
    r, c = rng.normal(0, 1, n), rng.normal(0.05, 1, m).round(2)
    ref = sps.ks_2samp(r, c)
    d = stats.ks_exact(r, c)
    assert d == pytest.approx(ref.statistic, abs=1e-12)
    assert stats.ks_pvalue(d, n, m) == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)


def test_wasserstein_js_chisquare_z_match_scipy() -> None:
    rng = np.random.default_rng(7)
    r, c = rng.gamma(2, 1, 3000), rng.gamma(2.2, 1, 2500)
    assert stats.wasserstein_exact(r, c) / np.std(r) == pytest.approx(
        sps.wasserstein_distance(r, c) / np.std(r), rel=1e-12)
    rc, cc = np.array([50, 30, 15, 5]), np.array([40, 30, 20, 10])
    assert stats.jensenshannon(rc, cc) == pytest.approx(
        distance.jensenshannon(rc / rc.sum(), cc / cc.sum()), rel=1e-12)
    chi, p = stats.chisquare_gof(rc, cc)
    expected = sps.chisquare(cc, rc * cc.sum() / rc.sum())
    assert (chi, p) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-12)
    assert stats.chisquare_gof([10, 0], [5, 5]) == (math.inf, 0.0)  # new category
    z, pz = stats.two_proportion_z(30, 100, 50, 120)
    p1, p2, pool = 0.3, 50 / 120, 80 / 220
    zz = (p1 - p2) / math.sqrt(pool * (1 - pool) * (1 / 100 + 1 / 120))
    assert z == pytest.approx(zz) and pz == pytest.approx(2 * sps.norm.sf(abs(zz)))


def test_psi_formula_and_fills() -> None:
    r, c = np.array([10, 20, 30, 40]), np.array([20, 20, 20, 40])
    rp, cp = r / r.sum(), c / c.sum()
    assert stats.psi(r, c) == pytest.approx(np.sum((cp - rp) * np.log(cp / rp)))
    assert stats.psi(r, c) == pytest.approx(stats.psi(c, r))  # symmetric
    # empty bin: Evidently fill (m > 1e-4 → 1e-4) and an explicit epsilon floor
    r0, c0 = np.array([0, 50, 50]), np.array([10, 45, 45])
    ev = np.array([1e-4, 0.5, 0.5])
    assert stats.psi(r0, c0) == pytest.approx(np.sum((c0 / 100 - ev) * np.log(c0 / 100 / ev)))
    floor = np.array([1e-3, 0.5, 0.5])
    assert stats.psi(r0, c0, fill="epsilon", epsilon=1e-3) == pytest.approx(
        np.sum((c0 / 100 - floor) * np.log(c0 / 100 / floor)))


# -- engines produce the same aggregates ------------------------------------------------------


def _same(a: BatchAggregate, b: BatchAggregate) -> None:
    assert a.rows == b.rows and a.profile_id == b.profile_id
    for name, x in a.columns.items():
        y = b.columns[name]
        for f in ("rows", "missing", "nonfinite", "n", "below", "above", "hist", "categories",
                  "min", "max"):
            assert getattr(x, f) == getattr(y, f), (name, f)
        assert x.sum == pytest.approx(y.sum, rel=1e-12)
        assert x.sumsq == pytest.approx(y.sumsq, rel=1e-12)


def test_duckdb_equals_numpy_on_frames_arrow_and_files(data, tmp_path: Path) -> None:
    ref, cur, profile = data
    by_numpy = aggregate(cur, profile, engine="numpy")
    _same(aggregate(cur, profile), by_numpy)
    _same(aggregate(pa.Table.from_pandas(cur), profile), by_numpy)
    cur.iloc[:2500].to_parquet(tmp_path / "part-1.parquet")
    cur.iloc[2500:].to_parquet(tmp_path / "part-2.parquet")
    _same(aggregate(str(tmp_path / "part-*.parquet"), profile), by_numpy)
    _same(aggregate(Query(f"SELECT * FROM read_parquet('{tmp_path}/*.parquet')"), profile),
          by_numpy)
    # merged partitions = one scan
    parts = [aggregate(cur.iloc[:2500], profile), aggregate(cur.iloc[2500:], profile,
                                                            engine="numpy")]
    _same(merge(parts), by_numpy)
    # the profile built by either engine is the same
    assert build_profile(ref, SPECS, engine="numpy").to_dict()["columns"] == \
        profile.to_dict()["columns"]
    # the stored form round-trips
    again = ReferenceProfile.from_json(profile.to_json())
    assert again.id == profile.id
    _same(BatchAggregate.from_dict(json.loads(json.dumps(by_numpy.to_dict()))), by_numpy)


def test_bins_follow_numpy_rule_at_edges() -> None:
    ref = pd.DataFrame({"v": np.repeat(np.arange(100, dtype=float), 3)})
    profile = build_profile(ref, [ColumnSpec("v")], fine_bins=20)
    cur = pd.DataFrame({"v": np.array(profile.columns["v"].edges["deciles"] + [-1.0, 500.0])})
    a, b = aggregate(cur, profile), aggregate(cur, profile, engine="numpy")
    edges = np.asarray(profile.columns["v"].edges["deciles"])
    expected = np.bincount(np.searchsorted(edges, cur["v"].to_numpy(), "right"),
                           minlength=edges.size + 1).tolist()
    assert a.columns["v"].hist["deciles"] == b.columns["v"].hist["deciles"] == expected


@pytest.mark.skipif(shutil.which("java") is None, reason="PySpark needs Java "
                    "(scripts/venv.sh installs default-jre-headless)")
def test_spark_equals_duckdb(data) -> None:
    pytest.importorskip("pyspark")
    _, cur, profile = data
    _same(aggregate(cur, profile, engine="spark"), aggregate(cur, profile))


# -- drift from aggregates ---------------------------------------------------------------------


def test_drift_from_aggregates_matches_exact(data) -> None:
    ref, cur, profile = data
    batch = aggregate(cur, profile)
    result = compare(profile, batch)
    r = {k: v for k, v in result.columns.items()}
    assert r["a"].method == "wasserstein" and r["e"].method == "wasserstein"
    assert r["d"].method == "jensenshannon" and r["c"].method == "jensenshannon"
    fa_r = ref["a"].dropna().to_numpy()
    fa_c = cur["a"].dropna().to_numpy()
    exact_w = sps.wasserstein_distance(fa_r, fa_c) / np.std(fa_r)
    assert abs(r["a"].score - exact_w) <= r["a"].error_bound
    assert abs(r["a"].score - exact_w) < 0.01
    # discrete column: exact per value
    d_r, d_c = ref["d"].to_numpy(), cur["d"].to_numpy()
    keys = np.union1d(d_r, d_c)
    rc = np.array([(d_r == k).sum() for k in keys])
    cc = np.array([(d_c == k).sum() for k in keys])
    assert r["d"].score == pytest.approx(distance.jensenshannon(rc / rc.sum(), cc / cc.sum()))
    assert r["c"].new_categories == ["new"] and r["c"].new_category_share > 0.2
    assert r["a"].missing_rate == pytest.approx(cur["a"].isna().mean())
    assert r["e"].nonfinite == 1
    assert r["a"].out_of_range_share == pytest.approx(
        np.mean((fa_c < fa_r.min()) | (fa_c > fa_r.max())))
    # KS in sketch mode: the statistic within its bound of scipy's
    ks = compare(profile, batch, DriftOptions(method="ks", methods={"c": "chisquare",
                                                                    "flag": "ztest"}))
    exact_d = sps.ks_2samp(fa_r, fa_c).statistic
    k = ks.columns["a"]
    assert k.statistic <= exact_d + 1e-12 <= k.statistic + k.error_bound + 1e-12
    assert ks.columns["d"].statistic == pytest.approx(sps.ks_2samp(d_r, d_c).statistic)
    assert ks.columns["c"].p_value == 0.0  # a category the reference never had
    assert result.share == pytest.approx(len(result.drifted_columns) / 5)


def test_sketch_bounds_hold_over_many_shifts() -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"x": rng.lognormal(0, 1, 20000)})
    profile = build_profile(ref, [ColumnSpec("x")])
    for shift in (0.0, 0.05, 0.2, 1.0):
        cur = pd.DataFrame({"x": rng.lognormal(shift, 1.1, 7000)})
        batch = aggregate(cur, profile)
        w = compare(profile, batch, DriftOptions(method="wasserstein")).columns["x"]
        exact = sps.wasserstein_distance(ref.x, cur.x) / np.std(ref.x)
        assert abs(w.score - exact) <= w.error_bound
        k = compare(profile, batch, DriftOptions(method="ks")).columns["x"]
        d = sps.ks_2samp(ref.x, cur.x).statistic
        assert k.statistic - 1e-12 <= d <= k.statistic + k.error_bound + 1e-12


# -- Evidently 0.7 fixture -------------------------------------------------------------------

EVIDENTLY_NAMES = {"Wasserstein distance (normed)": "wasserstein",
                   "Jensen-Shannon distance": "jensenshannon", "K-S p_value": "ks",
                   "chi-square p_value": "chisquare", "Z-test p_value": "ztest", "psi": "psi"}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_evidently_fixture(case: str) -> None:
    fixture = json.loads(FIXTURE.read_text())
    assert fixture["evidently"].startswith("0.7")
    n_ref, n_cur = CASES[case]
    ref = pd.DataFrame(fixture_data(n_ref, 1, False))
    cur = pd.DataFrame(fixture_data(n_cur, 2, True))
    specs = [ColumnSpec(c) for c in NUMERIC] + [ColumnSpec(c, "categorical") for c in CATEGORICAL]
    default = compare_exact(ref, cur, specs)
    psi = compare_exact(ref, cur, specs, DriftOptions(method="psi", psi_mode="evidently"))
    checked = 0
    for col, scores in fixture["cases"][case]["scores"].items():
        for name, value in scores.items():
            method = EVIDENTLY_NAMES[name]
            ours = psi.columns[col] if method == "psi" else default.columns[col]
            assert ours.method == method, (col, name)
            assert ours.score == pytest.approx(value, rel=1e-9, abs=1e-12), (col, name)
            checked += 1
    assert checked == 2 * len(specs)


# -- bad input ----------------------------------------------------------------------------------


def test_bad_input_is_explained(data, tmp_path: Path) -> None:
    _, cur, profile = data
    with pytest.raises(InvalidInput, match="no column 'a'"):
        aggregate(cur.drop(columns=["a"]), profile)
    with pytest.raises(InvalidInput, match="should be numeric"):
        aggregate(cur.assign(a=cur["a"].astype(str)), profile)
    with pytest.raises(InvalidInput, match="should be numeric"):
        aggregate(cur.assign(a=cur["a"].astype(str)), profile, engine="numpy")
    with pytest.raises(InvalidInput, match="no rows"):
        aggregate(cur.iloc[:0], profile)
    with pytest.raises(InvalidInput, match="no file matches"):
        aggregate(str(tmp_path / "nothing-*.parquet"), profile)
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(InvalidInput, match="cannot"):
        aggregate(str(tmp_path / "bad.parquet"), profile)
    with pytest.raises(InvalidInput, match="unknown drift method"):
        DriftOptions(method="kl")
    with pytest.raises(InvalidInput, match="categorical"):
        compare(profile, aggregate(cur, profile), DriftOptions(methods={"c": "ks"}))
    other = build_profile(cur, SPECS)
    with pytest.raises(InvalidInput, match="another reference profile"):
        compare(profile, aggregate(cur, other))
    # a column with no values in the batch is a data-quality result, not a crash
    empty = compare(profile, aggregate(cur.assign(a=np.nan), profile)).columns["a"]
    assert empty.score is None and empty.missing_rate == 1.0 and not empty.drifted


@pytest.mark.parametrize("n", [141, 5_000, 200_000])
def test_ks_pvalue_equals_kstwo_where_scipy_sums_smirnov_exactly(n: int) -> None:
    # Large samples with a small real shift (2.2 ≤ n·D² < 370) take scipy's exact Smirnov sum;
    # Steward's vectorised sum must give the same p-value, on both edges of that range too.
    for nx2 in (2.2 + 1e-9, 2.5, 7.0, 40.0, 150.0, 369.0):
        d = math.sqrt(nx2 / n)
        if d >= 0.5:  # scipy's own branch for large D
            continue
        assert stats._smirnov_branch(d, float(n))
        assert 2 * stats._smirnov(n, d) == pytest.approx(
            float(sps.kstwo.sf(d, n)), rel=1e-11, abs=1e-300)
        if 2 * n > stats.KS_EXACT_MAX_N:  # below, ks_2samp takes its exact two-sample route
            assert stats.ks_pvalue(d, 2 * n, 2 * n) == pytest.approx(
                float(sps.kstwo.sf(d, n)), rel=1e-11, abs=1e-300)
    assert not stats._smirnov_branch(math.sqrt(2.1 / n), float(n))
