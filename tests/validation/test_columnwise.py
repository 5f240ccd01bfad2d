"""The per-value cache of a pipeline's column-wise preprocessing predicts exactly what the
pipeline itself predicts, and steps aside for anything it cannot prove column-wise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from steward.demo.credit import TrainedCreditModel, train_credit_model
from steward.validation import loading
from steward.validation.columnwise import Columnwise


@pytest.fixture(scope="module", params=["logistic", "forest", "gbm"])
def trained(request: pytest.FixtureRequest) -> TrainedCreditModel:
    return train_credit_model(seed=42, model_kind=request.param)


def _mixed(trained: TrainedCreditModel, seed: int) -> pd.DataFrame:
    """Rows whose columns are shuffled independently, as SHAP's masked rows are."""
    frame = trained.test[trained.feature_columns]
    rows = frame.sample(600, replace=True, random_state=seed).reset_index(drop=True)
    for i, column in enumerate(rows.columns):
        rows[column] = rows[column].sample(frac=1, random_state=seed + i).to_numpy()
    return rows


def test_predictions_are_the_pipelines_own_bit_for_bit(trained: TrainedCreditModel) -> None:
    fast = Columnwise.of(trained.model)
    assert fast is not None
    for seed in range(4):
        rows = _mixed(trained, seed)
        if seed == 2:
            rows["age_in_years"] += 1  # values the cache has not seen
            rows["credit_history"] = "a category never seen in training"
        assert np.array_equal(fast.predict_proba(rows), trained.model.predict_proba(rows))
        assert np.array_equal(fast.predict(rows), trained.model.predict(rows))
    assert len(fast.columns) == len(trained.feature_columns)
    # the cache holds each column's distinct values, not rows
    assert max(len(c.seen) for c in fast.columns) < 300


def test_loaded_models_use_it_and_missing_values_go_through_the_pipeline(
    trained: TrainedCreditModel,
) -> None:
    loaded = loading.from_object(trained.model)
    rows = _mixed(trained, 7)
    rows.loc[::5, "duration_in_month"] = np.nan
    try:  # forests take missing values, logistic regression refuses them
        expected = trained.model.predict_proba(rows)
    except ValueError as exc:
        with pytest.raises(ValueError, match="NaN"):  # the pipeline's own error
            loaded.predict_proba(rows)
        assert "NaN" in str(exc)
    else:
        assert np.array_equal(np.asarray(loaded.predict_proba(rows)), expected)
    clean = _mixed(trained, 8)
    expected = trained.model.predict_proba(clean)
    assert np.array_equal(np.asarray(loaded.predict_proba(clean)), expected)


def test_pipelines_it_cannot_prove_column_wise_are_left_alone() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0] * 5, "b": ["x", "y"] * 10})
    y = np.array([0, 1] * 10)
    mixing = Pipeline(
        [
            ("pre", ColumnTransformer([("num", PCA(n_components=1), ["a"])])),
            ("clf", LogisticRegression()),
        ]
    ).fit(frame, y)
    dropped = Pipeline(
        [
            ("pre", ColumnTransformer([("cat", OneHotEncoder(drop="first"), ["b"])])),
            ("clf", LogisticRegression()),
        ]
    ).fit(frame, y)
    sparse = Pipeline(
        [
            ("pre", ColumnTransformer([("cat", OneHotEncoder(), ["b"])], sparse_threshold=1.0)),
            ("clf", RandomForestClassifier(n_estimators=3, random_state=0)),
        ]
    ).fit(frame, y)
    plain = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame[["a"]], y)
    for estimator in (mixing, dropped, sparse, plain, LogisticRegression().fit(frame[["a"]], y)):
        assert Columnwise.of(estimator) is None
