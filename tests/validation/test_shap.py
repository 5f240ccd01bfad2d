"""The SHAP explainability check (optional ``shap`` extra) on the German Credit demo model and on
tree models, checked against a brute-force Shapley computation and across explainers."""

from __future__ import annotations

import importlib.util
import itertools
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from steward.demo.credit import TARGET, TrainedCreditModel, train_credit_model
from steward.domain.errors import InvalidInput
from steward.validation import loading, runner, shapley
from steward.validation.suites import parse_suite

pytest.importorskip("shap")

CATEGORICAL = ["status_of_existing_checking_account", "credit_history"]
NUMERIC = ["duration_in_month", "age_in_years"]


@pytest.fixture(scope="module")
def trained() -> TrainedCreditModel:
    return train_credit_model(seed=42, model_kind="logistic")


@pytest.fixture(scope="module")
def numeric_columns(trained: TrainedCreditModel) -> list[str]:
    return [c for c in trained.feature_columns if trained.train[c].dtype.kind in "if"]


def _suite(shap_params: str = "") -> Any:
    params = f"\n    params: {{{shap_params}}}" if shap_params else ""
    return parse_suite(
        "suite: t\nversion: '1'\ntask: classification\nchecks:\n"
        "  - check: explainability.permutation_importance\n"
        f"  - check: explainability.shap{params}\n",
        "t.yaml",
    )


def _run(model: Any, test: pd.DataFrame, train: pd.DataFrame, params: str = "") -> Any:
    return runner.run_suite(
        _suite(params),
        runner.RunInputs(
            data=test, target=TARGET, model=loading.from_object(model), reference=train
        ),
    )


def test_shap_on_the_german_credit_demo_model(trained: TrainedCreditModel) -> None:
    out = _run(trained.model, trained.test, trained.train)
    result = out.result("explainability.shap")
    details = result.details
    assert result.passed is None and "explainability.shap" not in out.summary["skipped"]
    # 20 mixed-type inputs (13 text columns): model-agnostic permutation SHAP of P(risk=1).
    assert details["explainer"] == "permutation"
    assert details["explained"] == "P(risk=1)"
    assert (details["rows"], details["background_rows"]) == (50, 20)
    assert details["background_source"] == "reference"
    shap_means = details["mean_abs_shap"]
    assert set(shap_means) == set(trained.feature_columns)
    assert all(v >= 0 for v in shap_means.values())
    assert result.value == max(shap_means.values())
    # Additive: base value + Σ SHAP = the model's probability on every explained row.
    assert details["additivity_error"] < 1e-9
    # The checking-account status dominates the German Credit models, by either measure.
    perm = out.result("explainability.permutation_importance").details["ranking"]
    assert details["ranking"][0] == "status_of_existing_checking_account" == perm[0]
    agree = details["agreement_with_permutation_importance"]
    assert agree["top_k"] == 5 and 1 <= agree["top_k_shared"] <= 5
    assert agree["top_by_permutation"] == perm[:5]
    assert agree["spearman"] is not None and 0.3 < agree["spearman"] <= 1
    assert "Agreement with permutation importance" in result.message
    svg = dict((e.name, e.content) for e in out.evidence)["explainability-shap.svg"]
    assert ET.fromstring(svg).tag.endswith("svg")
    assert b"Mean |SHAP value|" in svg and b"over 50 rows (permutation)" in svg


def _brute_force(
    model: Any, x: pd.DataFrame, background: pd.DataFrame
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Interventional Shapley values by enumerating every coalition (the definition)."""
    columns = list(x.columns)
    m = len(columns)
    out = np.zeros((len(x), m))
    for r in range(len(x)):
        value: dict[frozenset[int], float] = {}
        for size in range(m + 1):
            for subset in itertools.combinations(range(m), size):
                mixed = background.copy()
                for j in subset:
                    cell: Any = x.iloc[r, j]
                    mixed[columns[j]] = cell
                value[frozenset(subset)] = float(model.predict_proba(mixed)[:, 1].mean())
        for j in range(m):
            for s, v in value.items():
                if j in s:
                    continue
                weight = math.factorial(len(s)) * math.factorial(m - len(s) - 1) / math.factorial(m)
                out[r, j] += weight * (value[s | {j}] - v)
    return out


def test_model_agnostic_values_equal_the_shapley_definition(trained: TrainedCreditModel) -> None:
    # A pipeline on two text and two numeric columns: the coded matrix shap sees must decode
    # back to the original values for these numbers to match.
    columns = CATEGORICAL + NUMERIC
    pipe = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)],
                    remainder="passthrough",
                ),
            ),
            ("clf", LogisticRegression(max_iter=2000)),
        ]
    ).fit(trained.train[columns], trained.train[TARGET])
    x = trained.test[columns].iloc[:8].reset_index(drop=True)
    background = trained.train[columns].iloc[:15].reset_index(drop=True)
    model = loading.from_object(pipe)

    def output(frame: pd.DataFrame) -> Any:
        proba = model.predict_proba(frame)
        assert proba is not None
        return proba[:, 1]

    expected = _brute_force(pipe, x, background)
    for method in ("exact", "permutation"):
        got = shapley.explain(model, None, x, background, output, output_name="p", method=method)
        assert got.method == method
        assert got.additivity_error < 1e-12
        if method == "exact":
            np.testing.assert_allclose(got.values, expected, atol=1e-12)
    # Permutation SHAP is exact for 4 features up to sampling of the orderings: close.
    perm = shapley.explain(
        model,
        None,
        x,
        background,
        output,
        output_name="p",
        method="permutation",
        max_evals=400,
    )
    np.testing.assert_allclose(perm.values, expected, atol=0.02)


def test_tree_model_uses_tree_shap_equal_to_exact_shap(
    trained: TrainedCreditModel, numeric_columns: list[str]
) -> None:
    forest = RandomForestClassifier(n_estimators=40, max_depth=5, random_state=0)
    forest.fit(trained.train[numeric_columns], trained.train[TARGET])
    test = trained.test[[*numeric_columns, TARGET]]
    train = trained.train[[*numeric_columns, TARGET]]
    tree = _run(forest, test, train).result("explainability.shap").details
    exact = _run(forest, test, train, "method: exact").result("explainability.shap").details
    assert (tree["explainer"], exact["explainer"]) == ("tree", "exact")
    # Both are the interventional Shapley values on the same rows and background.
    for name, value in exact["mean_abs_shap"].items():
        assert tree["mean_abs_shap"][name] == pytest.approx(value, abs=1e-6)
    assert tree["additivity_error"] < 1e-6
    assert tree["ranking"][0] == "duration_in_month"


def test_native_xgboost_boosters(
    tmp_path: Path, trained: TrainedCreditModel, numeric_columns: list[str]
) -> None:
    """A regression booster is explained by Tree SHAP (its leaves hold the prediction), a
    binary one by the model-agnostic path (its leaves hold log-odds): both equal exact SHAP."""
    xgboost = pytest.importorskip("xgboost")
    train = trained.train[[*numeric_columns, TARGET]].copy()
    test = trained.test[[*numeric_columns, TARGET]].copy()
    for frame in (train, test):  # a continuous target for the regressor
        frame["amount"] = frame["credit_amount"] / 1000.0
    features = [c for c in numeric_columns if c != "credit_amount"]
    cases = [
        ("regression", xgboost.XGBRegressor, "amount", "tree"),
        ("classification", xgboost.XGBClassifier, TARGET, "exact"),
    ]
    for task, cls, target, expected in cases:
        est = cls(n_estimators=30, max_depth=3, random_state=0).fit(train[features], train[target])
        path = tmp_path / f"{task}.ubj"
        est.get_booster().save_model(str(path))
        booster = loading.load_model(path, "xgboost")
        assert booster.native is not None
        inputs = runner.RunInputs(
            data=test[[*features, target]],
            target=target,
            model=booster,
            reference=train[[*features, target]],
        )

        def suite(params: str, task: str = task) -> Any:
            return parse_suite(
                f"suite: t\nversion: '1'\ntask: {task}\nchecks:\n"
                "  - check: explainability.permutation_importance\n"
                f"  - check: explainability.shap\n    params: {{{params}}}\n",
                "t.yaml",
            )

        auto = runner.run_suite(suite("top_k: 3"), inputs).result("explainability.shap").details
        exact = runner.run_suite(suite("method: exact"), inputs).result("explainability.shap")
        assert auto["explainer"] == expected, task
        for name, value in exact.details["mean_abs_shap"].items():
            assert auto["mean_abs_shap"][name] == pytest.approx(value, abs=1e-5), (task, name)
        assert auto["additivity_error"] < 1e-4


def test_tree_method_on_a_pipeline_with_text_columns_is_refused(
    trained: TrainedCreditModel,
) -> None:
    with pytest.raises(
        InvalidInput, match="needs a tree model whose leaves hold the explained output"
    ):
        _run(trained.model, trained.test, trained.train, "method: tree")
    with pytest.raises(InvalidInput, match="use one of auto, tree, exact, permutation"):
        _run(trained.model, trained.test, trained.train, "method: kernel")


def test_without_shap_the_check_is_skipped_with_the_reason(
    trained: TrainedCreditModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name == "shap" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    out = _run(trained.model, trained.test, trained.train)
    result = out.result("explainability.shap")
    assert "explainability.shap" in out.summary["skipped"]
    assert result.passed is None and result.value is None
    assert (
        result.message == "skipped: needs the optional shap package (pip install 'steward[shap]')"
    )
