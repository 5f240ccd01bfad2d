"""The contract every check follows, built-in or third-party.

A check is a small class::

    class MyCheck(Check):
        name = "custom.max_score"             # "<family>.<metric>", lower case
        family = CheckFamily.CUSTOM
        description = "Highest predicted score."
        requires = frozenset({"y_score"})      # inputs it needs (see REQUIREMENTS)
        default_threshold = Threshold("<=", 0.99)
        default_params = {}

        def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
            return Outcome(value=float(ctx.y_score.max()))

``run`` computes **one value** (or ``None``) with a message, details and optional SVG
plots; it never decides pass/fail from a threshold itself — the runner compares the value
with the suite's threshold (or the check's default) so the same check serves every suite.
A check that is pass/fail by nature (a schema match) sets ``Outcome.passed``. Work shared
by several checks (the grouped confusion counts, permutation importance) is memoised on
the context with :meth:`CheckContext.memo`, so a suite makes one pass per computation.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from steward.domain.checks import CheckFamily, Threshold
from steward.validation.loading import LoadedModel

T = TypeVar("T")
Array = npt.NDArray[Any]

# What a check may require. "sensitive" missing is an input error raised before any work;
# any other missing input makes the check report itself as skipped (passed = null) with
# the reason, e.g. model checks in predictions mode or drift without reference data.
REQUIREMENTS: Mapping[str, str] = {
    "model": "a model artifact that Steward can load (not predictions mode)",
    "y_score": "scores/probabilities (a classifier with predict_proba, or a --y-score column)",
    "sensitive": "sensitive features (--sensitive / sensitive_features=)",
    "classification": "a classification task",
    "regression": "a regression task",
    "privileged": "a privileged group (settings.privileged, e.g. foreign_worker: 'no')",
    "reference": "reference (training) data (--reference / reference_data=)",
    "baseline": "a parent or champion version to compare with",
    "profile": "a training-data profile on the version (log_version(training_data=...))",
    "signature": "an input signature on the version",
    "shap": "the optional shap package (pip install 'steward[shap]')",
}



@dataclass(frozen=True)
class Plot:
    name: str  # file name, e.g. "fairness-selection-rate.svg"
    svg: str


@dataclass(frozen=True)
class Outcome:
    value: float | None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    plots: tuple[Plot, ...] = ()
    passed: bool | None = None  # set only by checks that are pass/fail by nature
    skipped: bool = False
    informational: bool = False  # report only: never passes or fails, whatever the threshold


@dataclass
class CheckContext:
    """Everything a check may read; built and validated by the runner."""

    frame: pd.DataFrame  # the evaluation data, as given
    features: list[str]  # model input columns (empty in predictions mode)
    target: str
    task: str  # "classification" | "regression"
    y_true: Array
    y_pred: Array
    y_score: Array | None  # P(positive) for binary classification
    positive_label: Any
    sensitive: list[str]
    groups: pd.DataFrame | None  # sensitive columns after banding (strings)
    bands: dict[str, list[float]]
    model: LoadedModel | None = None
    baseline: LoadedModel | None = None
    baseline_label: str = ""
    reference: pd.DataFrame | None = None
    profile: dict[str, dict[str, Any]] | None = None
    signature: list[tuple[str, str]] | None = None  # (column, type) of the version's inputs
    settings: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    unavailable: dict[str, str] = field(default_factory=dict)  # why an input is missing
    # Predictions mode: columns with a role (labels, predictions, scores, sensitive features,
    # declared ids). They are not features, so data checks leave them out.
    roles: tuple[str, ...] = ()
    score_column: str | None = None  # predictions mode: the column given with --y-score
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        if key not in self._memo:
            self._memo[key] = compute()
        result: T = self._memo[key]
        return result

    def memo_any(self, prefix: str) -> Any:
        """The first memoised value whose key starts with ``prefix`` (any params), or None."""
        return next((v for k, v in self._memo.items() if k.startswith(prefix)), None)

    @property
    def x(self) -> pd.DataFrame:
        return self.frame[self.features]

    def has(self, requirement: str) -> bool:
        return {
            "model": self.model is not None,
            "y_score": self.y_score is not None,
            "sensitive": bool(self.sensitive),
            "classification": self.task == "classification",
            "regression": self.task == "regression",
            "privileged": bool(self.settings.get("privileged")),
            "reference": self.reference is not None,
            "baseline": self.baseline is not None,
            "profile": bool(self.profile),
            "signature": bool(self.signature),
            "shap": importlib.util.find_spec("shap") is not None,
        }.get(requirement, False)

    def score_range(self) -> tuple[float, float] | None:
        """(min, max) of the scores when they are not probabilities (outside [0, 1]), else None.

        A 1-10 risk decile ranks cases as well as a probability does, so rank metrics use it;
        metrics that read a score as a probability (log loss, Brier, calibration) cannot."""
        if self.y_score is None or len(self.y_score) == 0:
            return None
        low, high = float(np.min(self.y_score)), float(np.max(self.y_score))
        return None if low >= 0.0 and high <= 1.0 else (low, high)

    def predict_labels(self, model: LoadedModel, x: pd.DataFrame) -> Array:
        return np.asarray(model.predict(x))

    def predict_scores(self, model: LoadedModel, x: pd.DataFrame) -> Array | None:
        return positive_scores(model, x, self.positive_label)

    def score(self, y_pred: Array, y_score: Array | None) -> float:
        """The task's primary metric (ROC AUC with scores, accuracy without; R² for regression)."""
        from steward.validation.checks import _scoring

        return _scoring.primary(self, y_pred, y_score)


def positive_scores(model: LoadedModel, x: pd.DataFrame, positive: Any) -> Array | None:
    proba = model.predict_proba(x)
    if proba is None:
        return None
    if proba.ndim == 1:
        return proba
    if proba.shape[1] != 2:
        return None
    classes = model.classes or [0, 1]
    column = classes.index(positive) if positive in classes else 1
    return np.asarray(proba[:, column], dtype=np.float64)


class Check:
    name: ClassVar[str]
    family: ClassVar[CheckFamily]
    description: ClassVar[str] = ""
    method: ClassVar[str] = ""  # formula or method, for docs and the JSON summary
    requires: ClassVar[frozenset[str]] = frozenset()
    default_threshold: ClassVar[Threshold | None] = None
    default_params: ClassVar[Mapping[str, Any]] = {}
    # Signed metrics (statistical parity difference, ...) compare |value| with the threshold.
    compare_abs: ClassVar[bool] = False

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        raise NotImplementedError


def compare(value: float, threshold: Threshold) -> bool:
    return threshold.holds(value)
