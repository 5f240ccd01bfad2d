"""Regression metrics, equal to scikit-learn's on the same arrays (1e-9).

With weights w (all 1 by default) and e = ŷ - y::

    MAE  = Σw|e| / Σw
    RMSE = sqrt(Σw·e² / Σw)
    R²   = 1 - Σw·e² / Σw·(y - ȳ_w)²   (1 when both sums are 0, 0 when only the
                                       denominator is — scikit-learn's force_finite)
    MAPE = Σw·|e| / max(|y|, eps) / Σw  (a fraction, not a percentage; eps = float64
                                       machine epsilon, as scikit-learn)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from steward.validation.metrics._arrays import (
    FloatArray,
    as_1d,
    check_lengths,
    drop_missing,
    missing_mask,
    numeric,
    weighted_mean,
    weights,
)


def _inputs(y_true: Any, y_pred: Any, sample_weight: Any
            ) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    yt = numeric("y_true", as_1d("y_true", y_true))
    yp = numeric("y_pred", as_1d("y_pred", y_pred))
    n = check_lengths(y_true=yt, y_pred=yp)
    return yt, yp, weights(sample_weight, n)


def _mae(yt: FloatArray, yp: FloatArray, w: FloatArray | None) -> float:
    return weighted_mean(np.abs(yp - yt), w)


def _rmse(yt: FloatArray, yp: FloatArray, w: FloatArray | None) -> float:
    e = yp - yt
    return math.sqrt(weighted_mean(e * e, w))


def _r2(yt: FloatArray, yp: FloatArray, w: FloatArray | None) -> float:
    ww = np.ones(len(yt)) if w is None else w
    e = yt - yp
    ss_res = float(np.dot(ww, e * e))
    centred = yt - np.average(yt, weights=ww)
    ss_tot = float(np.dot(ww, centred * centred))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def _mape(yt: FloatArray, yp: FloatArray, w: FloatArray | None) -> float:
    eps = float(np.finfo(np.float64).eps)
    return weighted_mean(np.abs(yp - yt) / np.maximum(np.abs(yt), eps), w)


def mae(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    return _mae(*_inputs(y_true, y_pred, sample_weight))


def rmse(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    return _rmse(*_inputs(y_true, y_pred, sample_weight))


def r2(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    return _r2(*_inputs(y_true, y_pred, sample_weight))


def mape(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    return _mape(*_inputs(y_true, y_pred, sample_weight))


@dataclass(frozen=True)
class RegressionReport:
    rows: int
    rows_dropped: int
    mae: float
    rmse: float
    r2: float
    mape: float
    mean_error: float  # mean(ŷ - y): > 0 means the model over-predicts on average
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def regression_report(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, nan_policy: str = "raise"
) -> RegressionReport:
    """MAE, RMSE, R², MAPE and mean error in one call."""
    yt_raw, yp_raw = as_1d("y_true", y_true), as_1d("y_pred", y_pred)
    n = check_lengths(y_true=yt_raw, y_pred=yp_raw)
    w = weights(sample_weight, n)
    kept, dropped = drop_missing(nan_policy, y_true=yt_raw, y_pred=yp_raw)
    if dropped and w is not None:
        w = w[~(missing_mask(yt_raw) | missing_mask(yp_raw))]
    yt_k, yp_k = kept["y_true"], kept["y_pred"]
    assert yt_k is not None and yp_k is not None
    yt, yp = numeric("y_true", yt_k), numeric("y_pred", yp_k)
    notes = []
    eps = float(np.finfo(np.float64).eps)
    if bool((np.abs(yt) < eps).any()):
        notes.append("y_true contains zeros: MAPE divides by machine epsilon there and is "
                     "dominated by those rows.")
    return RegressionReport(
        rows=len(yt), rows_dropped=dropped, mae=_mae(yt, yp, w), rmse=_rmse(yt, yp, w),
        r2=_r2(yt, yp, w), mape=_mape(yt, yp, w), mean_error=weighted_mean(yp - yt, w),
        notes=tuple(notes),
    )
