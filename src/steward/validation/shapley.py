"""SHAP values for any loaded model, through the optional ``shap`` package.

:func:`explain` returns one SHAP value per (row, feature) for the quantity a check judges:
the positive-class probability of a classifier with scores, the predicted-positive indicator
of one without, the prediction of a regressor. Three methods, chosen in this order:

* **tree** — ``shap.TreeExplainer`` with interventional perturbation on the background
  sample, when the model object is a tree model whose leaves hold the explained output
  (scikit-learn forests and trees; regressors, XGBoost and LightGBM included) and every
  feature is numeric: exact, and fast. Boosted *classifiers* (log-odds leaves) take the
  model-agnostic path, which explains their probability exactly or by sampling;
* **exact** — ``shap.explainers.Exact`` (all 2^M coalitions) when 2^M is at most
  ``max_evals`` (default 200, so up to 7 features): then it costs no more than the next;
* **permutation** — ``shap.explainers.Permutation`` (antithetic permutations, ``max_evals``
  model calls per row, seeded) otherwise.

The model-agnostic methods need a numeric matrix: categorical / string / boolean columns are
coded as integers for shap and decoded back to their values (and dtypes) before the model
predicts, so any pipeline that takes the original frame can be explained. Every method is
additive — for each row ``base value + Σ_j SHAP_j = model output`` — and the largest deviation
measured on the explained rows is reported as ``additivity_error``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from steward.domain.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]
METHODS = ("auto", "tree", "exact", "permutation")


@dataclass(frozen=True)
class ShapValues:
    features: list[str]
    values: FloatArray  # (rows, features)
    base_values: FloatArray  # (rows,)
    output: FloatArray  # the explained model output on the rows, (rows,)
    output_name: str
    method: str  # "tree" | "exact" | "permutation"
    rows: int
    background: int
    max_evals: int | None = None

    @property
    def mean_abs(self) -> FloatArray:
        return np.asarray(np.abs(self.values).mean(axis=0), dtype=np.float64)

    @property
    def additivity_error(self) -> float:
        total = self.base_values + self.values.sum(axis=1)
        return float(np.max(np.abs(total - self.output))) if len(total) else 0.0

    def ranked(self) -> list[tuple[str, float]]:
        pairs = zip(self.features, self.mean_abs.tolist(), strict=True)
        return sorted(pairs, key=lambda t: (-t[1], t[0]))


class _Codec:
    """Frame ↔ float matrix: numbers as they are, other columns as integer codes."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.columns = list(frame.columns)
        self.dtypes = frame.dtypes.to_dict()
        self.uniques: dict[str, pd.Index] = {}
        for column in self.columns:
            series = frame[column]
            if not _is_number(series):
                _, uniques = pd.factorize(series, use_na_sentinel=True)
                self.uniques[column] = pd.Index(uniques)

    @property
    def numeric(self) -> bool:
        return not self.uniques

    def encode(self, frame: pd.DataFrame) -> FloatArray:
        out = np.empty((len(frame), len(self.columns)), dtype=np.float64)
        for j, column in enumerate(self.columns):
            series = frame[column]
            if column in self.uniques:
                codes = self.uniques[column].get_indexer(pd.Index(series))
                out[:, j] = np.where(codes < 0, np.nan, codes)
            else:
                out[:, j] = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return out

    def decode(self, matrix: Any) -> pd.DataFrame:
        data = np.asarray(matrix, dtype=np.float64).reshape(-1, len(self.columns))
        columns: dict[str, Any] = {}
        for j, column in enumerate(self.columns):
            col = data[:, j]
            if column in self.uniques:
                codes = np.where(np.isnan(col), -1, col).astype(np.int64)
                taken = self.uniques[column].take(np.maximum(codes, 0))
                if (codes < 0).any():
                    values = taken.to_numpy(dtype=object)
                    values[codes < 0] = None
                    columns[column] = pd.Series(values).astype(self.dtypes[column])
                else:  # the common case: no missing value, no conversion
                    columns[column] = pd.Series(taken.array, copy=False)
            else:
                columns[column] = col.astype(self.dtypes[column])
        return pd.DataFrame(columns)


def _is_number(series: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def _tree(
    native: Any, x: pd.DataFrame, background: pd.DataFrame, observed: FloatArray, column: int
) -> tuple[FloatArray, FloatArray] | None:
    """TreeExplainer values of the trees' own output, or None when that is not exactly the
    explained output.

    Only leaf values in the explained units qualify — probabilities (scikit-learn forests and
    trees) or raw values (regressors) — so the Shapley values are exact. Boosted classifiers
    sum log-odds then apply the logistic function; shap's ``model_output="probability"`` for
    them was measured to differ from the Shapley definition (XGBoost 3.2, shap 0.51), so they
    take the model-agnostic path instead. The result must also add up to the model's output.
    """
    import shap  # type: ignore[import-untyped,import-not-found,unused-ignore]

    try:
        explainer = shap.TreeExplainer(
            native, data=background, feature_perturbation="interventional", model_output="raw"
        )
        if getattr(explainer.model, "tree_output", None) not in ("probability", "raw_value"):
            return None
        explanation = explainer(x, check_additivity=False)
    except Exception:  # shap raises many types for models it does not treat as trees
        return None
    values = np.asarray(explanation.values, dtype=np.float64)
    base = np.asarray(explanation.base_values, dtype=np.float64)
    if values.ndim == 3:  # one slice per class (scikit-learn classifiers)
        values = values[:, :, column]
        base = base[:, column] if base.ndim == 2 else base
    if values.shape != x.shape:
        return None
    base = np.broadcast_to(base.reshape(-1), (len(x),)).astype(np.float64)
    scale = max(1.0, float(np.max(np.abs(observed)))) if len(observed) else 1.0
    if np.max(np.abs(base + values.sum(axis=1) - observed), initial=0.0) > 1e-5 * scale:
        return None
    return values, base


def explain(
    model: Any,
    native: Any,
    x: pd.DataFrame,
    background: pd.DataFrame,
    output: Callable[[pd.DataFrame], FloatArray],
    *,
    output_name: str,
    class_column: int = 1,
    seed: int = 0,
    max_evals: int = 200,
    method: str = "auto",
) -> ShapValues:
    """SHAP values of ``output`` (the model's explained output on a frame) for the rows ``x``.

    ``native`` is the underlying model object (for the tree method), ``background`` the rows
    whose average defines the base value, ``class_column`` the positive class's column in a
    scikit-learn classifier's per-class tree output. ``method`` is ``auto``
    (tree when possible, else exact when 2^M <= max_evals, else permutation), ``tree``,
    ``exact`` or ``permutation``.
    """
    if method not in METHODS:
        raise InvalidInput(
            f"Unknown SHAP method {method!r}; use one of {', '.join(METHODS)}.", field="method"
        )
    import shap  # type: ignore[import-untyped,import-not-found,unused-ignore]

    features = [str(c) for c in x.columns]
    if not features:
        raise InvalidInput("SHAP needs at least one model input feature.", field="features")
    if len(background) == 0 or len(x) == 0:
        raise InvalidInput("SHAP needs at least one row of data.", field="data")
    observed = output(x)
    codec = _Codec(pd.concat([background, x], ignore_index=True))
    if method in ("auto", "tree") and native is not None and codec.numeric:
        tree = _tree(native, x, background, observed, class_column)
        if tree is not None:
            values, base = tree
            return ShapValues(
                features, values, base, observed, output_name, "tree", len(x), len(background)
            )
    if method == "tree":
        raise InvalidInput(
            "SHAP method 'tree' needs a tree model whose leaves hold the explained output "
            "(scikit-learn forests and trees, or tree regressors incl. XGBoost/LightGBM) with "
            "numeric inputs; use method 'auto'.",
            field="method",
        )

    def fn(matrix: Any) -> FloatArray:
        # Masked rows repeat often (a row and a background row share most categorical
        # values): predict each distinct row once.
        data = np.asarray(matrix, dtype=np.float64)
        unique, inverse = np.unique(data, axis=0, return_inverse=True)
        return output(codec.decode(unique))[inverse.reshape(-1)]

    masker = shap.maskers.Independent(codec.encode(background), max_samples=len(background))
    evals: int | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "exact" or (method == "auto" and 2 ** len(features) <= max_evals):
            method = "exact"
            explanation = shap.explainers.Exact(fn, masker)(codec.encode(x), silent=True)
        else:
            method = "permutation"
            evals = max(int(max_evals), 2 * len(features) + 1)
            explainer = shap.explainers.Permutation(fn, masker, seed=seed)
            # One model call per explained row (all its masked rows at once).
            explanation = explainer(codec.encode(x), max_evals=evals, batch_size=evals, silent=True)
    values = np.asarray(explanation.values, dtype=np.float64).reshape(len(x), len(features))
    base = np.asarray(explanation.base_values, dtype=np.float64).reshape(-1)
    base = np.broadcast_to(base, (len(x),)).astype(np.float64)
    return ShapValues(
        features, values, base, observed, output_name, method, len(x), len(background), evals
    )


def agreement(
    shap_rank: list[tuple[str, float]], importance: dict[str, float], top_k: int = 5
) -> dict[str, Any]:
    """How far the mean-|SHAP| ranking agrees with permutation importance.

    Spearman's rank correlation over the features both rank, and the share of the top ``k``
    features by mean |SHAP| that are also in the top ``k`` by permutation importance.
    """
    from scipy.stats import spearmanr  # type: ignore[import-untyped,unused-ignore]

    names = [n for n, _ in shap_rank if n in importance]
    k = min(top_k, len(names))
    shap_values = np.array([v for n, v in shap_rank if n in importance], dtype=np.float64)
    perm_values = np.array([importance[n] for n in names], dtype=np.float64)
    rho: float | None = None
    if len(names) >= 2 and np.ptp(shap_values) > 0 and np.ptp(perm_values) > 0:
        value = float(spearmanr(shap_values, perm_values).statistic)
        rho = value if math.isfinite(value) else None
    top_shap = names[:k]
    top_perm = sorted(names, key=lambda n: (-importance[n], n))[:k]
    shared = [n for n in top_shap if n in top_perm]
    return {
        "spearman": rho,
        "top_k": k,
        "top_k_shared": len(shared),
        "top_k_overlap": len(shared) / k if k else None,
        "shared": shared,
        "top_by_shap": top_shap,
        "top_by_permutation": top_perm,
    }
