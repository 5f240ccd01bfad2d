"""Classification and regression kernels against scikit-learn on the same arrays (1e-9)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as sm
from sklearn.calibration import calibration_curve

from steward.domain.errors import InvalidInput
from steward.validation import metrics as vm

TOL = 1e-9


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    rng = np.random.default_rng(21)
    n = 5000
    y = rng.integers(0, 2, n)
    score = np.clip(rng.beta(2, 3, n) + 0.25 * y, 0, 1)
    return {
        "y": y,
        "score": score,
        "tied": np.round(score, 1),  # heavy ties
        "pred": (score >= 0.5).astype(int),
        "w": rng.uniform(0.1, 4.0, n),
    }


@pytest.mark.parametrize("weighted", [False, True])
def test_confusion_metrics_equal_sklearn(data: dict[str, Any], weighted: bool) -> None:
    y, p = data["y"], data["pred"]
    w = data["w"] if weighted else None
    assert vm.accuracy(y, p, sample_weight=w) == pytest.approx(
        sm.accuracy_score(y, p, sample_weight=w), abs=TOL)
    assert vm.precision(y, p, sample_weight=w) == pytest.approx(
        sm.precision_score(y, p, sample_weight=w), abs=TOL)
    assert vm.recall(y, p, sample_weight=w) == pytest.approx(
        sm.recall_score(y, p, sample_weight=w), abs=TOL)
    assert vm.f1(y, p, sample_weight=w) == pytest.approx(
        sm.f1_score(y, p, sample_weight=w), abs=TOL)
    np.testing.assert_allclose(vm.confusion_matrix(y, p, sample_weight=w),
                               sm.confusion_matrix(y, p, sample_weight=w), atol=TOL)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("scores", ["score", "tied"])
def test_ranking_metrics_equal_sklearn(data: dict[str, Any], weighted: bool, scores: str) -> None:
    y, s = data["y"], data[scores]
    w = data["w"] if weighted else None
    auc = sm.roc_auc_score(y, s, sample_weight=w)
    assert vm.roc_auc(y, s, sample_weight=w) == pytest.approx(auc, abs=TOL)
    assert vm.gini(y, s, sample_weight=w) == pytest.approx(2 * auc - 1, abs=TOL)
    assert vm.average_precision(y, s, sample_weight=w) == pytest.approx(
        sm.average_precision_score(y, s, sample_weight=w), abs=TOL)
    fpr, tpr, _ = sm.roc_curve(y, s, sample_weight=w)
    assert vm.ks_statistic(y, s, sample_weight=w) == pytest.approx(
        float(np.max(tpr - fpr)), abs=TOL)


def test_auc_tie_formula_by_hand() -> None:
    # scores: pos at 0.8 and 0.5, neg at 0.5 and 0.2: pairs (0.8>0.5), (0.8>0.2), (0.5=0.5 -> ½),
    # (0.5>0.2) -> 3.5 / 4
    assert vm.roc_auc([1, 1, 0, 0], [0.8, 0.5, 0.5, 0.2]) == pytest.approx(0.875, abs=TOL)


@pytest.mark.parametrize("weighted", [False, True])
def test_probabilistic_metrics_equal_sklearn(data: dict[str, Any], weighted: bool) -> None:
    y, s = data["y"], data["score"]
    w = data["w"] if weighted else None
    assert vm.log_loss(y, s, sample_weight=w) == pytest.approx(
        sm.log_loss(y, s, sample_weight=w), abs=TOL)
    assert vm.brier_score(y, s, sample_weight=w) == pytest.approx(
        sm.brier_score_loss(y, s, sample_weight=w), abs=TOL)
    extreme = np.r_[s[:-2], 0.0, 1.0]  # clipping to [eps, 1 - eps]
    y2 = np.r_[y[:-2], 1, 0]
    assert vm.log_loss(y2, extreme) == pytest.approx(sm.log_loss(y2, extreme), abs=TOL)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_reliability_curve_equals_calibration_curve(data: dict[str, Any], strategy: str) -> None:
    y, s = data["y"], data["score"]
    s = np.r_[s, 0.3, 0.7]  # values exactly on inner edges go to the lower bin
    y = np.r_[y, 1, 0]
    cal = vm.calibration(y, s, n_bins=10, strategy=strategy)
    prob_true, prob_pred = calibration_curve(y, s, n_bins=10, strategy=strategy)
    np.testing.assert_allclose(cal.observed_rate, prob_true, atol=TOL)
    np.testing.assert_allclose(cal.mean_predicted, prob_pred, atol=TOL)
    # ECE by its definition, from sklearn's curve and the bin counts
    ids = np.searchsorted(np.asarray(cal.edges)[1:-1], s)
    counts = np.bincount(ids, minlength=10)
    counts = counts[counts > 0]
    ece = float(np.sum(counts * np.abs(prob_true - prob_pred)) / len(s))
    assert cal.expected_calibration_error == pytest.approx(ece, abs=TOL)
    assert cal.maximum_calibration_error == pytest.approx(
        float(np.max(np.abs(prob_true - prob_pred))), abs=TOL)
    assert vm.expected_calibration_error(y, s, strategy=strategy) == pytest.approx(ece, abs=TOL)


def test_classification_report_in_one_call(data: dict[str, Any]) -> None:
    y, s, w = data["y"], data["score"], data["w"]
    rep = vm.classification_report(y, y_score=s, sample_weight=w, threshold=0.4)
    pred = (s >= 0.4).astype(int)
    assert rep.threshold == 0.4 and rep.threshold_op == ">="
    assert rep.f1 == pytest.approx(sm.f1_score(y, pred, sample_weight=w), abs=TOL)
    assert rep.accuracy == pytest.approx(sm.accuracy_score(y, pred, sample_weight=w), abs=TOL)
    assert rep.roc_auc == pytest.approx(sm.roc_auc_score(y, s, sample_weight=w), abs=TOL)
    assert rep.log_loss == pytest.approx(sm.log_loss(y, s, sample_weight=w), abs=TOL)
    assert rep.calibration is not None
    tn, _, _, tp = sm.confusion_matrix(y, pred, sample_weight=w).ravel()
    assert (rep.confusion.tn, rep.confusion.tp) == pytest.approx((tn, tp), abs=TOL)
    strict = vm.classification_report(y, y_score=np.round(s, 1), threshold=0.5, threshold_op=">")
    assert strict.recall == pytest.approx(sm.recall_score(y, np.round(s, 1) > 0.5), abs=TOL)
    labels_only = vm.classification_report(y, y_pred=data["pred"])
    assert labels_only.roc_auc is None and labels_only.threshold is None
    json.dumps(rep.to_dict())


def test_string_labels_and_pos_label(data: dict[str, Any]) -> None:
    y = np.where(data["y"] == 1, "default", "repaid")
    p = np.where(data["pred"] == 1, "default", "repaid")
    assert vm.precision(y, p, pos_label="default") == pytest.approx(
        sm.precision_score(y, p, pos_label="default"), abs=TOL)
    assert vm.roc_auc(y, data["score"], pos_label="default") == pytest.approx(
        sm.roc_auc_score(data["y"], data["score"]), abs=TOL)
    np.testing.assert_array_equal(vm.confusion_matrix(y, p), sm.confusion_matrix(y, p))
    three = np.array(["a", "b", "c", "a", "c"])
    np.testing.assert_array_equal(
        vm.confusion_matrix(three, three[::-1]), sm.confusion_matrix(three, three[::-1]))
    np.testing.assert_array_equal(
        vm.confusion_matrix(three, three[::-1], labels=["c", "a"]),
        sm.confusion_matrix(three, three[::-1], labels=["c", "a"]))


def test_single_class_is_explained_not_crashed() -> None:
    y = np.ones(10, dtype=int)
    s = np.linspace(0.1, 0.9, 10)
    with pytest.raises(InvalidInput, match=r"needs both classes.*every row is positive"):
        vm.roc_auc(y, s)
    rep = vm.classification_report(y, y_score=s)
    assert rep.roc_auc is None and rep.average_precision is None
    assert any("undefined" in note for note in rep.notes)
    assert rep.log_loss == pytest.approx(sm.log_loss(y, s, labels=[0, 1]), abs=TOL)
    none_selected = vm.classification_report([0, 1, 0], y_pred=[0, 0, 0])
    assert none_selected.precision == 0.0 and none_selected.f1 == 0.0
    assert any("No positive predictions" in note for note in none_selected.notes)


def test_missing_and_invalid_inputs() -> None:
    y = np.array([0, 1, 1, 0, 1.0])
    s = np.array([0.2, np.nan, 0.7, 0.1, 0.9])
    with pytest.raises(InvalidInput, match=r"y_score has 1 missing.*nan_policy='omit'"):
        vm.classification_report(y, y_score=s)
    rep = vm.classification_report(y, y_score=s, nan_policy="omit")
    assert rep.rows == 4 and rep.rows_dropped == 1
    assert rep.roc_auc == pytest.approx(sm.roc_auc_score(y[[0, 2, 3, 4]], s[[0, 2, 3, 4]]))
    with pytest.raises(InvalidInput, match=r"probabilities in \[0, 1\].*predict_proba"):
        vm.log_loss([0, 1], [-0.5, 2.0])
    with pytest.raises(InvalidInput, match=r"Pass y_pred"):
        vm.classification_report([0, 1])
    with pytest.raises(InvalidInput, match=r"op must be one of"):
        vm.binarize([0.1, 0.9], op="=>")
    np.testing.assert_array_equal(vm.binarize([0.1, 0.5, 0.9]), [0, 1, 1])
    np.testing.assert_array_equal(vm.binarize([0.1, 0.5, 0.9], op=">"), [0, 0, 1])
    with pytest.raises(InvalidInput, match=r"non-negative"):
        vm.accuracy([0, 1], [0, 1], sample_weight=[1.0, -1.0])


@pytest.mark.parametrize("weighted", [False, True])
def test_regression_metrics_equal_sklearn(weighted: bool) -> None:
    rng = np.random.default_rng(4)
    y = rng.normal(50, 10, 2000)
    y[:3] = 0.0  # MAPE's epsilon branch
    pred = y + rng.normal(0, 3, 2000)
    w = rng.uniform(0.5, 2, 2000) if weighted else None
    assert vm.mae(y, pred, sample_weight=w) == pytest.approx(
        sm.mean_absolute_error(y, pred, sample_weight=w), abs=TOL)
    assert vm.rmse(y, pred, sample_weight=w) == pytest.approx(
        sm.root_mean_squared_error(y, pred, sample_weight=w), abs=TOL)
    assert vm.r2(y, pred, sample_weight=w) == pytest.approx(
        sm.r2_score(y, pred, sample_weight=w), abs=TOL)
    assert vm.mape(y, pred, sample_weight=w) == pytest.approx(
        sm.mean_absolute_percentage_error(y, pred, sample_weight=w), rel=1e-12)
    rep = vm.regression_report(y, pred, sample_weight=w)
    assert rep.r2 == pytest.approx(sm.r2_score(y, pred, sample_weight=w), abs=TOL)
    assert any("zeros" in note for note in rep.notes)


def test_regression_edge_cases() -> None:
    const = np.full(5, 3.0)
    assert vm.r2(const, const) == sm.r2_score(const, const) == 1.0
    assert vm.r2(const, const + 1) == sm.r2_score(const, const + 1) == 0.0
    y = np.array([1.0, 2.0, np.nan, 4.0])
    with pytest.raises(InvalidInput, match=r"y_true has 1 missing"):
        vm.regression_report(y, y)
    rep = vm.regression_report(y, np.array([1.5, 2.0, 3.0, 4.0]), nan_policy="omit")
    assert rep.rows_dropped == 1
    assert rep.mae == pytest.approx(0.5 / 3, abs=TOL)
    assert not math.isnan(rep.rmse)
