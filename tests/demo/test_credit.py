"""Tests for the bundled German Credit data and the demo credit-model trainer."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.pipeline import Pipeline

from steward.demo.credit import (
    DATA_PATH,
    MODEL_KINDS,
    SENSITIVE_COLUMNS,
    TARGET,
    TrainedCreditModel,
    load_german_credit,
    train_credit_model,
)

CSV_SHA256 = "2c0bae00275c028fc853a1ea72cc7a68002c3f6876c41300c5c948711540c8c6"
METRIC_NAMES = {"accuracy", "roc_auc", "f1", "precision", "recall", "log_loss", "brier"}
JSON_SCALARS = (str, int, float, bool, type(None))


@pytest.fixture(scope="module", params=MODEL_KINDS)
def trained(request: pytest.FixtureRequest) -> TrainedCreditModel:
    return train_credit_model(model_kind=request.param)


def test_csv_is_the_documented_file() -> None:
    assert DATA_PATH.name == "german_credit.csv"
    assert hashlib.sha256(DATA_PATH.read_bytes()).hexdigest() == CSV_SHA256
    raw = pd.read_csv(DATA_PATH)
    assert raw.shape == (1000, 21)
    assert raw.columns[-1] == "creditability"
    assert set(SENSITIVE_COLUMNS) <= set(raw.columns)
    assert not raw.isna().any().any()
    assert (DATA_PATH.parent / "NOTICE.md").is_file()


def test_load_maps_target_to_risk() -> None:
    raw = pd.read_csv(DATA_PATH)
    data = load_german_credit()
    assert data.shape == (1000, 21)
    assert "creditability" not in data.columns
    assert list(data.columns) == [*raw.columns[:-1], TARGET]
    assert data[TARGET].dtype == np.int64
    assert data[TARGET].value_counts().to_dict() == {0: 700, 1: 300}
    assert ((data[TARGET] == 1) == (raw["creditability"] == "bad")).all()
    pd.testing.assert_frame_equal(data.drop(columns=[TARGET]), raw.drop(columns=["creditability"]))


def test_trained_model_shape(trained: TrainedCreditModel) -> None:
    assert isinstance(trained.model, Pipeline)
    assert trained.target == TARGET
    assert trained.feature_columns == [c for c in load_german_credit().columns if c != TARGET]
    assert len(trained.train) == 700
    assert len(trained.test) == 300
    assert not set(trained.train.index) & set(trained.test.index)
    for part in (trained.train, trained.test):
        assert TARGET in part.columns
        assert part[TARGET].mean() == pytest.approx(0.3)  # stratified
    assert set(trained.metrics) == METRIC_NAMES
    assert all(isinstance(v, float) for v in trained.metrics.values())
    assert trained.params["seed"] == 42
    assert trained.params["test_size"] == 0.3
    assert trained.params["model_kind"] in MODEL_KINDS
    assert all(isinstance(v, JSON_SCALARS) for v in trained.params.values())


def test_metrics_match_sklearn_on_test_set(trained: TrainedCreditModel) -> None:
    x_test = trained.test[trained.feature_columns]
    y_true = trained.test[TARGET]
    y_pred = trained.model.predict(x_test)
    p_bad = trained.model.predict_proba(x_test)[:, 1]
    assert list(trained.model.classes_) == [0, 1]
    expected = {
        "accuracy": accuracy_score(y_true, y_pred),
        "roc_auc": roc_auc_score(y_true, p_bad),
        "f1": f1_score(y_true, y_pred),
        "precision": precision_score(y_true, y_pred),
        "recall": recall_score(y_true, y_pred),
        "log_loss": log_loss(y_true, p_bad),
        "brier": brier_score_loss(y_true, p_bad),
    }
    for name, value in expected.items():
        assert trained.metrics[name] == pytest.approx(float(value), rel=1e-12, abs=1e-12), name
    assert trained.metrics["roc_auc"] > 0.65


def test_logistic_roc_auc_above_0_7() -> None:
    assert train_credit_model(model_kind="logistic").metrics["roc_auc"] > 0.7


def test_skops_round_trip_predicts_identically(trained: TrainedCreditModel) -> None:
    payload = sio.dumps(trained.model)
    untrusted = sio.get_untrusted_types(data=payload)
    # Whatever skops does not trust by default must come from scikit-learn itself.
    assert all(name.startswith("sklearn.") for name in untrusted), untrusted
    restored = sio.loads(payload, trusted=untrusted)
    x_test = trained.test[trained.feature_columns]
    np.testing.assert_array_equal(restored.predict(x_test), trained.model.predict(x_test))
    np.testing.assert_array_equal(
        restored.predict_proba(x_test), trained.model.predict_proba(x_test)
    )


@pytest.mark.parametrize("model_kind", MODEL_KINDS)
def test_training_is_deterministic(model_kind: str) -> None:
    first = train_credit_model(seed=7, model_kind=model_kind)
    second = train_credit_model(seed=7, model_kind=model_kind)
    assert first.metrics == second.metrics
    assert first.params == second.params
    assert list(first.test.index) == list(second.test.index)


def test_seed_changes_the_split() -> None:
    a = train_credit_model(seed=1)
    b = train_credit_model(seed=2)
    assert list(a.test.index) != list(b.test.index)


def test_invalid_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="model_kind"):
        train_credit_model(model_kind="svm")
    with pytest.raises(ValueError, match="test_size"):
        train_credit_model(test_size=1.5)
