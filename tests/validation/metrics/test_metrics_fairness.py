"""Fairness kernels against Fairlearn 0.15 on the same arrays (to 1e-9), plus edge cases."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from fairlearn import metrics as fm
from sklearn.metrics import (
    accuracy_score,
    mean_absolute_error,
    precision_score,
    recall_score,
    root_mean_squared_error,
)

from steward.domain.errors import InvalidInput
from steward.validation import metrics as vm

TOL = 1e-9


def _data(n: int = 4000, seed: int = 7) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    sex = rng.choice(np.array(["female", "male", "other"], dtype=object), n, p=[0.45, 0.45, 0.1])
    band = rng.integers(0, 5, n)
    y = rng.integers(0, 2, n)
    bias = np.where(sex == "female", -0.08, 0.0) + band * 0.02
    score = np.clip(rng.random(n) * 0.8 + 0.2 * y + bias, 0, 1)
    y_pred = (score >= 0.5).astype(int)
    return {"y": y, "p": y_pred, "sf": {"sex": sex, "band": band},
            "w": rng.uniform(0.2, 3.0, n)}


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return _data()


def _frame(d: dict[str, Any], weighted: bool) -> fm.MetricFrame:
    metrics = {
        "count": fm.count,
        "selection_rate": fm.selection_rate,
        "true_positive_rate": fm.true_positive_rate,
        "false_positive_rate": fm.false_positive_rate,
        "precision": lambda yt, yp, **kw: precision_score(yt, yp, zero_division=0, **kw),
        "accuracy": accuracy_score,
    }
    params = {k: {"sample_weight": d["w"]} for k in metrics if k != "count"} if weighted else None
    return fm.MetricFrame(metrics=metrics, y_true=d["y"], y_pred=d["p"],
                          sensitive_features=d["sf"], sample_params=params)


@pytest.mark.parametrize("weighted", [False, True])
def test_by_group_table_equals_metricframe(data: dict[str, Any], weighted: bool) -> None:
    w = data["w"] if weighted else None
    rep = vm.fairness_report(data["y"], data["p"], data["sf"], sample_weight=w)
    mf = _frame(data, weighted)
    by_group = mf.by_group
    assert len(rep.groups) == len(by_group) == 15
    for row, (key, expected) in zip(rep.groups, by_group.iterrows(), strict=True):
        assert row.key == key
        assert row.rows == expected["count"]
        for name in ("selection_rate", "true_positive_rate", "false_positive_rate",
                     "precision", "accuracy"):
            assert getattr(row, name) == pytest.approx(expected[name], abs=TOL), name
    for name in ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy"):
        assert rep.overall[name] == pytest.approx(mf.overall[name], abs=TOL)
    assert rep.group("sex=female, band=3").key == ("female", 3)


@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
@pytest.mark.parametrize("weighted", [False, True])
def test_aggregates_equal_fairlearn(data: dict[str, Any], method: str, weighted: bool) -> None:
    kw: dict[str, Any] = {"sensitive_features": data["sf"], "method": method,
                          "sample_weight": data["w"] if weighted else None}
    y, p = data["y"], data["p"]
    rep = vm.fairness_report(y, p, data["sf"], method=method, sample_weight=kw["sample_weight"])
    pairs = [
        ("demographic_parity_difference", fm.demographic_parity_difference),
        ("demographic_parity_ratio", fm.demographic_parity_ratio),
        ("equalized_odds_difference", fm.equalized_odds_difference),
        ("equalized_odds_ratio", fm.equalized_odds_ratio),
        ("equal_opportunity_difference", fm.equal_opportunity_difference),
        ("equal_opportunity_ratio", fm.equal_opportunity_ratio),
    ]
    for name, reference in pairs:
        expected = reference(y, p, **kw)
        assert getattr(rep, name) == pytest.approx(expected, abs=TOL), name
        assert getattr(vm, name)(y, p, **kw) == pytest.approx(expected, abs=TOL), name
    for agg in ("worst_case", "mean"):
        assert vm.equalized_odds_difference(y, p, agg=agg, **kw) == pytest.approx(
            fm.equalized_odds_difference(y, p, agg=agg, **kw), abs=TOL)
        assert vm.equalized_odds_ratio(y, p, agg=agg, **kw) == pytest.approx(
            fm.equalized_odds_ratio(y, p, agg=agg, **kw), abs=TOL)


def test_single_feature_forms_and_string_labels(data: dict[str, Any]) -> None:
    sex = data["sf"]["sex"]
    y = np.where(data["y"] == 1, "bad", "good")
    p = np.where(data["p"] == 1, "bad", "good")
    expected = fm.demographic_parity_ratio(data["y"], data["p"], sensitive_features=sex)
    rep = vm.fairness_report(y, p, list(sex), pos_label="bad")
    assert rep.features == ("sensitive_feature_0",)
    assert rep.demographic_parity_ratio == pytest.approx(expected, abs=TOL)
    assert [g.group for g in rep.groups] == ["female", "male", "other"]
    import pandas as pd

    series = pd.Series(sex, name="sex")
    rep2 = vm.fairness_report(data["y"], data["p"], series)
    assert rep2.features == ("sex",)
    assert rep2.demographic_parity_ratio == pytest.approx(expected, abs=TOL)
    frame = pd.DataFrame(data["sf"])
    rep3 = vm.fairness_report(data["y"], data["p"], frame)
    assert rep3.features == ("sex", "band")
    assert len(rep3.groups) == 15


def test_group_without_positives_matches_fairlearn_and_is_marked() -> None:
    y = np.array([0, 0, 0, 1, 1, 0, 1, 0, 0, 0])
    p = np.array([1, 0, 1, 1, 0, 0, 1, 1, 0, 0])
    g = np.array(["a", "a", "a", "b", "b", "b", "c", "c", "c", "c"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eod = fm.equalized_odds_difference(y, p, sensitive_features=g)
        eor = fm.equalized_odds_ratio(y, p, sensitive_features=g)
        tpr_a = fm.MetricFrame(metrics=fm.true_positive_rate, y_true=y, y_pred=p,
                               sensitive_features=g).by_group["a"]
    rep = vm.fairness_report(y, p, g, min_group_size=1)
    row = rep.group("a")
    assert row.true_positive_rate == tpr_a == 0.0
    assert "true_positive_rate" in row.undefined
    assert rep.equalized_odds_difference == pytest.approx(eod, abs=TOL)
    assert rep.equalized_odds_ratio == pytest.approx(eor, abs=TOL)
    assert any("undefined" in note for note in rep.notes)


def test_single_class_and_single_group() -> None:
    y = np.zeros(8, dtype=int)
    p = np.array([0, 1, 0, 1, 0, 0, 1, 1])
    g = np.array(["a"] * 4 + ["b"] * 4)
    rep = vm.fairness_report(y, p, g, min_group_size=1)
    assert rep.demographic_parity_difference == pytest.approx(
        fm.demographic_parity_difference(y, p, sensitive_features=g), abs=TOL)
    assert rep.equal_opportunity_difference == 0.0  # TPR undefined everywhere -> 0 (Fairlearn)
    one = vm.fairness_report(y, p, np.array(["all"] * 8), min_group_size=1)
    assert one.demographic_parity_difference == 0.0
    assert one.demographic_parity_ratio == 1.0
    assert any("Only one group" in note for note in one.notes)


def test_no_positive_predictions_gives_nan_ratio_like_fairlearn() -> None:
    y = np.array([0, 1, 0, 1])
    p = np.zeros(4, dtype=int)
    g = np.array(["a", "a", "b", "b"])
    rep = vm.fairness_report(y, p, g, min_group_size=1)
    assert math.isnan(fm.demographic_parity_ratio(y, p, sensitive_features=g))
    assert math.isnan(rep.demographic_parity_ratio)
    assert math.isnan(rep.four_fifths.min_impact_ratio)
    assert rep.four_fifths.flagged == ()
    assert rep.to_dict()["demographic_parity_ratio"] is None


def test_missing_sensitive_values_raise_or_form_a_group() -> None:
    y = np.array([0, 1, 1, 0, 1, 0])
    p = np.array([0, 1, 0, 0, 1, 1])
    g = np.array(["a", None, "a", "b", "b", None], dtype=object)
    with pytest.raises(InvalidInput, match=r"missing values.*missing='group'"):
        vm.fairness_report(y, p, {"region": g})
    rep = vm.fairness_report(y, p, {"region": g}, missing="group", min_group_size=1)
    assert [r.group for r in rep.groups] == ["(missing)", "a", "b"]
    assert rep.group("(missing)").rows == 2
    floats = np.array([1.0, np.nan, 1.0, 2.0, 2.0, np.nan])
    with pytest.raises(InvalidInput, match=r"'region' has 2 missing"):
        vm.fairness_report(y, p, {"region": floats})


def test_missing_labels_raise_or_are_omitted(data: dict[str, Any]) -> None:
    y = data["y"].astype(float)
    y[[3, 10, 11]] = np.nan
    with pytest.raises(InvalidInput, match=r"y_true has 3 missing.*nan_policy='omit'"):
        vm.fairness_report(y, data["p"], data["sf"])
    rep = vm.fairness_report(y, data["p"], data["sf"], nan_policy="omit")
    keep = ~np.isnan(y)
    expected = fm.equalized_odds_difference(
        y[keep], data["p"][keep],
        sensitive_features={k: v[keep] for k, v in data["sf"].items()})
    assert rep.rows_dropped == 3
    assert rep.rows == len(y) - 3
    assert rep.equalized_odds_difference == pytest.approx(expected, abs=TOL)


def test_small_groups_flagged_not_merged_and_optionally_excluded() -> None:
    rng = np.random.default_rng(3)
    g = np.array(["big1"] * 500 + ["big2"] * 500 + ["tiny"] * 5)
    y = rng.integers(0, 2, len(g))
    p = np.r_[rng.integers(0, 2, 1000), np.ones(5, dtype=int)]
    rep = vm.fairness_report(y, p, g, min_group_size=30)
    assert [r.group for r in rep.groups] == ["big1", "big2", "tiny"]
    assert [r.small for r in rep.groups] == [False, False, True]
    assert rep.demographic_parity_difference == pytest.approx(
        fm.demographic_parity_difference(y, p, sensitive_features=g), abs=TOL)
    excluded = vm.fairness_report(y, p, g, min_group_size=30, small_groups="exclude")
    big = g != "tiny"
    assert excluded.demographic_parity_difference == pytest.approx(
        fm.demographic_parity_difference(y[big], p[big], sensitive_features=g[big]), abs=TOL)
    assert "tiny (5 rows)" in excluded.notes[0]
    with pytest.raises(InvalidInput, match=r"lower min_group_size"):
        vm.fairness_report(y, p, g, min_group_size=10_000, small_groups="exclude")


def test_four_fifths_rule() -> None:
    # selection rates: a 0.5, b 0.45 (IR 0.9), c 0.3 (IR 0.6 -> flagged)
    def block(n: int, selected: int) -> np.ndarray:
        return np.r_[np.ones(selected, dtype=int), np.zeros(n - selected, dtype=int)]

    p = np.r_[block(200, 100), block(200, 90), block(200, 60)]
    y = np.tile([0, 1], 300)
    g = np.repeat(["a", "b", "c"], 200)
    rep = vm.fairness_report(y, p, g)
    ff = rep.four_fifths
    assert ff.reference_group == "a"
    assert ff.flagged == ("c",)
    assert not ff.passed
    assert ff.min_impact_ratio == pytest.approx(0.6, abs=TOL)
    assert ff.min_impact_ratio == pytest.approx(rep.demographic_parity_ratio, abs=TOL)
    assert rep.group("b").impact_ratio == pytest.approx(0.9, abs=TOL)
    # pooled two-proportion z-test, c (60/200) vs a (100/200)
    pooled = 160 / 400
    z = (0.3 - 0.5) / math.sqrt(pooled * (1 - pooled) * (2 / 200))
    assert rep.group("c").z_pvalue == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), abs=TOL)
    assert rep.group("b").z_pvalue is None


def test_privileged_comparison_matches_aif360_definitions(data: dict[str, Any]) -> None:
    y, p, sf = data["y"], data["p"], data["sf"]
    rep = vm.fairness_report(y, p, sf, privileged={"sex": "male"})
    cmp = rep.privileged
    assert cmp is not None
    priv = sf["sex"] == "male"
    unpriv = ~priv

    def sr(m: np.ndarray) -> float:
        return float(p[m].mean())

    def tpr(m: np.ndarray) -> float:
        return float(recall_score(y[m], p[m]))

    def fpr(m: np.ndarray) -> float:
        return float(((p == 1) & (y == 0) & m).sum() / ((y == 0) & m).sum())

    assert cmp.privileged_rows == int(priv.sum())
    assert cmp.statistical_parity_difference == pytest.approx(sr(unpriv) - sr(priv), abs=TOL)
    assert cmp.disparate_impact == pytest.approx(sr(unpriv) / sr(priv), abs=TOL)
    assert cmp.equal_opportunity_difference == pytest.approx(tpr(unpriv) - tpr(priv), abs=TOL)
    assert cmp.average_odds_difference == pytest.approx(
        0.5 * ((fpr(unpriv) - fpr(priv)) + (tpr(unpriv) - tpr(priv))), abs=TOL)
    with pytest.raises(InvalidInput, match=r"No rows belong to the privileged group"):
        vm.fairness_report(y, p, sf, privileged={"sex": "mail"})
    with pytest.raises(InvalidInput, match=r"not a sensitive feature"):
        vm.fairness_report(y, p, sf, privileged={"gender": "male"})
    single = vm.fairness_report(y, p, sf["sex"], privileged="male")
    assert single.privileged is not None
    assert single.privileged.disparate_impact == pytest.approx(cmp.disparate_impact, abs=TOL)


def test_banding_given_and_automatic() -> None:
    rng = np.random.default_rng(5)
    age = rng.integers(18, 80, 3000)
    y = rng.integers(0, 2, 3000)
    p = rng.integers(0, 2, 3000)
    rep = vm.fairness_report(y, p, {"age": age}, bands={"age": [25, 40, 60]})
    assert [r.group for r in rep.groups] == ["< 25", "[25, 40)", "[40, 60)", ">= 60"]
    assert rep.bands[0].edges == (25.0, 40.0, 60.0)
    assert rep.bands[0].rule == "given edges"
    labels = np.select([age < 25, age < 40, age < 60], ["1", "2", "3"], "4")
    assert rep.demographic_parity_difference == pytest.approx(
        fm.demographic_parity_difference(y, p, sensitive_features=labels), abs=TOL)
    assert rep.group("[25, 40)").rows == int(((age >= 25) & (age < 40)).sum())
    auto = vm.fairness_report(y, p, {"age": age})
    assert len(auto.groups) == 5
    assert "quantile bands" in auto.bands[0].rule
    assert auto.bands[0].edges == vm.quantile_edges(age)
    few = vm.fairness_report(y, p, {"grade": rng.integers(0, 4, 3000)})
    assert few.bands == ()
    with pytest.raises(InvalidInput, match=r"strictly increasing"):
        vm.fairness_report(y, p, {"age": age}, bands={"age": [40, 25]})
    with pytest.raises(InvalidInput, match=r"not a sensitive feature"):
        vm.fairness_report(y, p, {"age": age}, bands={"income": [1000]})


def test_regression_group_gaps_equal_metricframe() -> None:
    rng = np.random.default_rng(11)
    n = 3000
    g = rng.choice(np.array(["north", "south", "east"]), n)
    y = rng.normal(100, 20, n)
    pred = y + rng.normal(0, 5, n) + np.where(g == "south", 4.0, 0.0)
    w = rng.uniform(0.5, 2.0, n)
    for weight in (None, w):
        params = None if weight is None else {k: {"sample_weight": weight}
                                              for k in ("mae", "rmse")}
        mf = fm.MetricFrame(metrics={"mae": mean_absolute_error,
                                     "rmse": root_mean_squared_error},
                            y_true=y, y_pred=pred, sensitive_features=g, sample_params=params)
        rep = vm.regression_group_gaps(y, pred, g, sample_weight=weight)
        for row in rep.groups:
            assert row.mae == pytest.approx(mf.by_group.loc[row.group, "mae"], abs=TOL)
            assert row.rmse == pytest.approx(mf.by_group.loc[row.group, "rmse"], abs=TOL)
        assert rep.mae_difference == pytest.approx(mf.difference()["mae"], abs=TOL)
        assert rep.rmse_ratio == pytest.approx(mf.ratio()["rmse"], abs=TOL)
        assert rep.overall["rmse"] == pytest.approx(mf.overall["rmse"], abs=TOL)
    assert rep.worst_mae_group == "south"
    south = next(row for row in rep.groups if row.group == "south")
    assert south.mean_error > 3.0  # the model over-predicts for this group
    assert rep.to_dict()["worst_mae_group"] == "south"


def test_bad_inputs_are_refused_with_the_fix() -> None:
    with pytest.raises(InvalidInput, match=r"differ in length.*y_pred has 2 rows"):
        vm.fairness_report([0, 1, 1], [0, 1], ["a", "b", "a"])
    with pytest.raises(InvalidInput, match=r"must be binary.*pos_label"):
        vm.fairness_report([0, 1, 2], [0, 1, 1], ["a", "b", "a"])
    with pytest.raises(InvalidInput, match=r"method must be one of"):
        vm.fairness_report([0, 1], [0, 1], ["a", "b"], method="pairwise")
    with pytest.raises(InvalidInput, match=r"sample_weight has 1 values"):
        vm.fairness_report([0, 1], [0, 1], ["a", "b"], sample_weight=[1.0])
    with pytest.raises(InvalidInput, match=r"sensitive_features is missing"):
        vm.fairness_report([0, 1], [0, 1], None)


def test_report_to_dict_is_json_ready(data: dict[str, Any]) -> None:
    import json

    rep = vm.fairness_report(data["y"], data["p"], data["sf"], privileged={"sex": "male"})
    out = json.loads(json.dumps(rep.to_dict()))
    assert out["demographic_parity_ratio"] == pytest.approx(rep.demographic_parity_ratio)
    assert len(out["groups"]) == 15
    assert out["four_fifths_passed"] == rep.four_fifths.passed


def test_equalized_odds_ratio_ignores_an_undefined_component() -> None:
    """The one documented departure from Fairlearn: TPR ratio 0/0 does not hide the FPR ratio.

    Fairlearn takes Python's ``min([tpr_ratio, fpr_ratio])``, which returns NaN when the TPR
    component comes first and is NaN, but the FPR value when only that one is NaN.
    """
    y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    g = np.array(list("aaaabbbb"))
    no_true_positives = np.array([0, 0, 1, 0, 0, 0, 1, 1])  # TPR 0/0 ratio, FPR 0.5 / 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(fm.equalized_odds_ratio(y, no_true_positives, sensitive_features=g))
    ours = vm.equalized_odds_ratio(y, no_true_positives, sensitive_features=g)
    assert ours == pytest.approx(0.5, abs=TOL)
    no_false_positives = np.array([1, 0, 0, 0, 1, 1, 0, 0])  # FPR 0/0 ratio: both use TPR
    assert vm.equalized_odds_ratio(y, no_false_positives, sensitive_features=g) == pytest.approx(
        fm.equalized_odds_ratio(y, no_false_positives, sensitive_features=g), abs=TOL)


# -- already-coded group columns: pandas categoricals and Arrow dictionaries -----------------


def _coded_forms(sf: dict[str, Any]) -> list[Any]:
    import pandas as pd
    import pyarrow as pa

    # Unused categories, in an order that is not the values' order, must change nothing.
    sex_cat = pd.Categorical(sf["sex"], categories=["other", "unused", "male", "female"])
    frame = pd.DataFrame({"sex": sex_cat, "band": pd.Categorical(sf["band"])})
    arrow = {
        "sex": pa.array(sf["sex"], type=pa.string()).dictionary_encode(),
        "band": pa.chunked_array(
            [pa.array(sf["band"][:1000]), pa.array(sf["band"][1000:])]
        ).dictionary_encode(),
    }
    return [frame, {"sex": pd.Series(sex_cat), "band": sf["band"]}, arrow]


@pytest.mark.parametrize("form", range(3))
def test_coded_group_columns_give_the_same_report(data: dict[str, Any], form: int) -> None:
    plain = vm.fairness_report(data["y"], data["p"], data["sf"], sample_weight=data["w"],
                               interval_replicates=100)
    coded = vm.fairness_report(data["y"], data["p"], _coded_forms(data["sf"])[form],
                               sample_weight=data["w"], interval_replicates=100)
    assert coded.to_dict() == plain.to_dict()
    assert [g.key for g in coded.groups] == [g.key for g in plain.groups]
    assert coded.demographic_parity_difference == pytest.approx(
        fm.demographic_parity_difference(data["y"], data["p"], sensitive_features=data["sf"],
                                         sample_weight=data["w"]), abs=TOL)


def test_coded_missing_values_raise_or_form_a_group() -> None:
    import pandas as pd
    import pyarrow as pa

    y = np.array([0, 1, 1, 0, 1, 0])
    p = np.array([0, 1, 0, 0, 1, 1])
    values = ["a", None, "a", "b", "b", None]
    for g in (pd.Categorical(values), pa.array(values).dictionary_encode()):
        with pytest.raises(InvalidInput, match=r"'region' has 2 missing"):
            vm.fairness_report(y, p, {"region": g})
        rep = vm.fairness_report(y, p, {"region": g}, missing="group", min_group_size=1)
        assert [r.group for r in rep.groups] == ["(missing)", "a", "b"]
        assert rep.group("(missing)").rows == 2


def test_a_single_coded_column_keeps_its_name() -> None:
    import pandas as pd

    y = np.array([0, 1, 1, 0])
    p = np.array([0, 1, 0, 1])
    rep = vm.fairness_report(y, p, pd.Series(pd.Categorical(["x", "y", "x", "y"]), name="site"),
                             min_group_size=1)
    assert rep.features == ("site",) and [g.group for g in rep.groups] == ["x", "y"]
