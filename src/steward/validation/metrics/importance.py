"""Permutation importance with confidence intervals.

Identical to ``sklearn.inspection.permutation_importance`` under the same seed: the seed
``random_state`` draws one int32 seed; every column starts a fresh ``RandomState(seed)`` and,
for each repeat, shuffles an index array in place and permutes the (already permuted) column
with it; importance = baseline score - permuted score. This module takes a *score function*
instead of an estimator, so any model (skops, ONNX, a pyfunc, a plain function) can be
measured::

    def score(X, y, sample_weight):          # higher is better
        return roc_auc(y, model.predict_proba(X)[:, 1], sample_weight=sample_weight)

    imp = permutation_importance(score, X, y, n_repeats=10, random_state=0)

On top of scikit-learn's mean and (population) standard deviation, each feature gets a
Student-t confidence interval for the mean importance over repeats:
``mean ± t_{(1+c)/2, r-1} · sd_{ddof=1} / sqrt(r)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from steward.domain.errors import InvalidInput
from steward.validation.metrics._arrays import FloatArray

ScoreFunction = Callable[[Any, Any, Any], float]


@dataclass(frozen=True)
class FeatureImportance:
    feature: str
    mean: float
    std: float  # population standard deviation over repeats (ddof=0, as scikit-learn)
    ci_low: float  # NaN with a single repeat
    ci_high: float
    importances: tuple[float, ...]  # one per repeat


@dataclass(frozen=True)
class PermutationImportance:
    baseline_score: float
    n_repeats: int
    confidence: float
    seed: int  # the int32 seed every column's RandomState was started from
    features: tuple[FeatureImportance, ...]  # in column order

    @property
    def importances(self) -> FloatArray:
        """(n_features, n_repeats) array, like scikit-learn's ``importances``."""
        return np.array([f.importances for f in self.features], dtype=np.float64)

    @property
    def importances_mean(self) -> FloatArray:
        return np.array([f.mean for f in self.features], dtype=np.float64)

    @property
    def importances_std(self) -> FloatArray:
        return np.array([f.std for f in self.features], dtype=np.float64)

    def ranked(self) -> list[FeatureImportance]:
        """Most important first."""
        return sorted(self.features, key=lambda f: -f.mean)

    def to_dict(self) -> dict[str, Any]:
        def clean(v: float) -> float | None:
            return None if not math.isfinite(v) else v

        return {
            "baseline_score": self.baseline_score,
            "n_repeats": self.n_repeats,
            "confidence": self.confidence,
            "seed": self.seed,
            "features": [
                {"feature": f.feature, "mean": f.mean, "std": f.std, "ci_low": clean(f.ci_low),
                 "ci_high": clean(f.ci_high), "importances": list(f.importances)}
                for f in self.features
            ],
        }


def _random_state(random_state: Any) -> np.random.RandomState:
    """scikit-learn's ``check_random_state``."""
    if random_state is None:
        return np.random.mtrand._rand
    if isinstance(random_state, int | np.integer):
        return np.random.RandomState(int(random_state))
    if isinstance(random_state, np.random.RandomState):
        return random_state
    raise InvalidInput("random_state must be None, an int or a numpy RandomState.")


def _t_quantile(q: float, df: int) -> float:
    from scipy import stats  # type: ignore[import-untyped]  # scikit-learn's own dependency

    return float(stats.t.ppf(q, df))


def permutation_importance(
    score: ScoreFunction,
    X: Any,  # noqa: N803 - scikit-learn's name
    y: Any,
    *,
    n_repeats: int = 5,
    random_state: Any = None,
    sample_weight: Any = None,
    confidence: float = 0.95,
    feature_names: Sequence[str] | None = None,
) -> PermutationImportance:
    """Importance of each column of ``X`` (a 2-D numpy array or a pandas DataFrame)."""
    if n_repeats < 1:
        raise InvalidInput("n_repeats must be at least 1.")
    if not 0.0 < confidence < 1.0:
        raise InvalidInput("confidence must be between 0 and 1, e.g. 0.95.")
    is_frame = hasattr(X, "iloc")
    data: Any = X.copy() if is_frame else np.array(X, copy=True)
    if data.ndim != 2:
        raise InvalidInput(f"X must be two-dimensional (rows x features), not shape {data.shape}.")
    n_rows, n_cols = data.shape
    if len(y) != n_rows:
        raise InvalidInput(f"X has {n_rows:,} rows but y has {len(y):,}; pass one label per row.")
    if feature_names is not None:
        names = [str(f) for f in feature_names]
    elif is_frame:
        names = [str(c) for c in data.columns]
    else:
        names = [f"x{j}" for j in range(n_cols)]
    if len(names) != n_cols:
        raise InvalidInput(f"feature_names has {len(names)} names for {n_cols} columns.")
    seed = int(_random_state(random_state).randint(np.iinfo(np.int32).max + 1))
    baseline = float(score(data, y, sample_weight))

    results = []
    t = _t_quantile((1 + confidence) / 2, n_repeats - 1) if n_repeats > 1 else math.nan
    for j in range(n_cols):
        rng = np.random.RandomState(seed)
        original = data.iloc[:, j].copy() if is_frame else data[:, j].copy()
        shuffling_idx = np.arange(n_rows)
        scores = []
        for _ in range(n_repeats):
            rng.shuffle(shuffling_idx)
            if is_frame:
                col = data.iloc[shuffling_idx, j]
                col.index = data.index
                data[data.columns[j]] = col
            else:
                data[:, j] = data[shuffling_idx, j]
            scores.append(float(score(data, y, sample_weight)))
        if is_frame:
            data[data.columns[j]] = original
        else:
            data[:, j] = original
        imp = baseline - np.asarray(scores)
        mean = float(imp.mean())
        half = (t * float(imp.std(ddof=1)) / math.sqrt(n_repeats)) if n_repeats > 1 else math.nan
        results.append(FeatureImportance(
            feature=names[j], mean=mean, std=float(imp.std()),
            ci_low=mean - half, ci_high=mean + half,
            importances=tuple(float(v) for v in imp),
        ))
    return PermutationImportance(
        baseline_score=baseline, n_repeats=n_repeats, confidence=confidence, seed=seed,
        features=tuple(results),
    )
