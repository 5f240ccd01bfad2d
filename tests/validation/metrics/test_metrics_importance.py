"""Permutation importance: the same numbers as scikit-learn's under the same seed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.inspection import permutation_importance as sk_permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from steward.domain.errors import InvalidInput
from steward.validation import metrics as vm

TOL = 1e-9


@pytest.fixture(scope="module")
def fitted() -> dict[str, Any]:
    rng = np.random.default_rng(8)
    n = 600
    x = rng.normal(size=(n, 4))
    logits = 2.0 * x[:, 0] - 1.0 * x[:, 1] + 0.1 * x[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-logits))).astype(int)
    model = LogisticRegression().fit(x, y)
    return {"x": x, "y": y, "model": model, "w": rng.uniform(0.5, 2, n)}


def _accuracy(model: Any) -> vm.importance.ScoreFunction:
    def score(x: Any, y: Any, w: Any) -> float:
        return vm.accuracy(y, model.predict(x), sample_weight=w)

    return score


@pytest.mark.parametrize("seed", [0, 42])
def test_equals_sklearn_on_arrays(fitted: dict[str, Any], seed: int) -> None:
    x, y, model = fitted["x"], fitted["y"], fitted["model"]
    ours = vm.permutation_importance(_accuracy(model), x, y, n_repeats=7, random_state=seed)
    ref = sk_permutation_importance(model, x, y, scoring="accuracy", n_repeats=7,
                                    random_state=seed)
    np.testing.assert_allclose(ours.importances, ref.importances, atol=TOL)
    np.testing.assert_allclose(ours.importances_mean, ref.importances_mean, atol=TOL)
    np.testing.assert_allclose(ours.importances_std, ref.importances_std, atol=TOL)
    assert ours.ranked()[0].feature == "x0"
    np.testing.assert_array_equal(x, fitted["x"])  # the caller's data is untouched


def test_equals_sklearn_on_dataframe_with_weights_and_auc(fitted: dict[str, Any]) -> None:
    frame = pd.DataFrame(fitted["x"], columns=["income", "debt", "tenure", "noise"])
    y, w = fitted["y"], fitted["w"]
    model = LogisticRegression().fit(frame, y)

    def auc(x: Any, y: Any, sample_weight: Any) -> float:
        return vm.roc_auc(y, model.predict_proba(x)[:, 1], sample_weight=sample_weight)

    ours = vm.permutation_importance(auc, frame, y, n_repeats=5, random_state=3, sample_weight=w)
    ref = sk_permutation_importance(model, frame, y, scoring="roc_auc", n_repeats=5,
                                    random_state=3, sample_weight=w)
    np.testing.assert_allclose(ours.importances, ref.importances, atol=TOL)
    assert ours.baseline_score == pytest.approx(
        roc_auc_score(y, model.predict_proba(frame)[:, 1], sample_weight=w), abs=TOL)
    assert [f.feature for f in ours.features] == ["income", "debt", "tenure", "noise"]
    assert ours.ranked()[0].feature == "income"


def test_random_state_instance_matches(fitted: dict[str, Any]) -> None:
    x, y, model = fitted["x"], fitted["y"], fitted["model"]
    ours = vm.permutation_importance(_accuracy(model), x, y, n_repeats=3,
                                    random_state=np.random.RandomState(5))
    ref = sk_permutation_importance(model, x, y, scoring="accuracy", n_repeats=3,
                                    random_state=np.random.RandomState(5))
    np.testing.assert_allclose(ours.importances, ref.importances, atol=TOL)


def test_confidence_interval(fitted: dict[str, Any]) -> None:
    x, y, model = fitted["x"], fitted["y"], fitted["model"]
    ours = vm.permutation_importance(_accuracy(model), x, y, n_repeats=10, random_state=1,
                                    confidence=0.9)
    top = ours.features[0]
    values = np.array(top.importances)
    half = stats.t.ppf(0.95, 9) * values.std(ddof=1) / np.sqrt(10)
    assert top.ci_low == pytest.approx(values.mean() - half, abs=TOL)
    assert top.ci_high == pytest.approx(values.mean() + half, abs=TOL)
    assert top.ci_low > 0  # the strongest feature's interval excludes 0
    single = vm.permutation_importance(_accuracy(model), x, y, n_repeats=1, random_state=1)
    assert single.to_dict()["features"][0]["ci_low"] is None


def test_bad_arguments(fitted: dict[str, Any]) -> None:
    score = _accuracy(fitted["model"])
    with pytest.raises(InvalidInput, match=r"n_repeats"):
        vm.permutation_importance(score, fitted["x"], fitted["y"], n_repeats=0)
    with pytest.raises(InvalidInput, match=r"one label per row"):
        vm.permutation_importance(score, fitted["x"], fitted["y"][:10])
    with pytest.raises(InvalidInput, match=r"two-dimensional"):
        vm.permutation_importance(score, fitted["x"][:, 0], fitted["y"])
