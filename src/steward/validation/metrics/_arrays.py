"""Input coercion shared by the metric kernels: 1-D arrays, binary labels, weights, missing values.

Every problem is reported as :class:`~steward.domain.errors.InvalidInput` naming the argument,
what is wrong with it and how to fix it, before any heavy work starts.
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from steward.domain.errors import InvalidInput

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

NanPolicy = Literal["raise", "omit"]
NAN_POLICIES: tuple[str, ...] = ("raise", "omit")

_MAX_LISTED_ROWS = 5


def as_1d(name: str, values: Any) -> NDArray[Any]:
    """``values`` as a 1-D numpy array (lists, numpy arrays, pandas/Polars series, Arrow arrays)."""
    if values is None:
        raise InvalidInput(f"{name} is missing; pass one value per row.")
    to_numpy = getattr(values, "to_numpy", None)
    array = np.asarray(to_numpy() if callable(to_numpy) else values)
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)
    if array.ndim != 1:
        raise InvalidInput(
            f"{name} must be one-dimensional (one value per row) but has shape {array.shape}; "
            "pass a single column."
        )
    if array.size == 0:
        raise InvalidInput(f"{name} is empty; metrics need at least one row.")
    return array


def check_lengths(**arrays: Sized | None) -> int:
    """The common length of the given arrays, or InvalidInput naming each length."""
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {n:,} rows" for name, n in lengths.items())
        raise InvalidInput(f"Inputs differ in length: {described}; pass one value per row in each.")
    return next(iter(lengths.values()))


def _rows(mask: BoolArray) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(int(r)) for r in rows[:_MAX_LISTED_ROWS])
    more = f" and {len(rows) - _MAX_LISTED_ROWS:,} more" if len(rows) > _MAX_LISTED_ROWS else ""
    return f"rows {shown}{more}"


def missing_mask(values: NDArray[Any]) -> BoolArray:
    """True where a value is NaN, ±inf or None."""
    if values.dtype.kind in "fc":
        bad: BoolArray = ~np.isfinite(values)
        return bad
    if values.dtype.kind == "O":  # None, NaN, pandas NA / NaT (vectorised)
        out: BoolArray = np.asarray(pd.isna(values), dtype=np.bool_)
        return out
    return np.zeros(len(values), dtype=np.bool_)


def check_nan_policy(nan_policy: str) -> None:
    if nan_policy not in NAN_POLICIES:
        raise InvalidInput(
            f"nan_policy must be one of {', '.join(NAN_POLICIES)}, not {nan_policy!r}."
        )


def drop_missing(
    nan_policy: str, **arrays: NDArray[Any] | None
) -> tuple[dict[str, NDArray[Any] | None], int]:
    """Apply ``nan_policy`` over the rows of several arrays at once.

    ``"raise"``: InvalidInput naming the first column with missing values and where;
    ``"omit"``: drop every row with a missing value in any array (pairwise deletion) and
    return how many rows were dropped.
    """
    check_nan_policy(nan_policy)
    bad: BoolArray | None = None
    for name, array in arrays.items():
        if array is None:
            continue
        mask = missing_mask(array)
        if not mask.any():
            continue
        if nan_policy == "raise":
            raise InvalidInput(
                f"{name} has {int(mask.sum()):,} missing or infinite values ({_rows(mask)}); "
                "remove those rows or pass nan_policy='omit' to drop them."
            )
        bad = mask if bad is None else bad | mask
    if bad is None:
        return dict(arrays), 0
    keep = ~bad
    if not keep.any():
        raise InvalidInput("Every row has a missing value; nothing is left to measure.")
    kept = {name: (None if a is None else a[keep]) for name, a in arrays.items()}
    return kept, int(bad.sum())


def binary(name: str, values: NDArray[Any], pos_label: Any = 1) -> NDArray[np.int8]:
    """0/1 codes for a binary column: 1 where the value equals ``pos_label``.

    The column may hold at most two distinct values; booleans use ``True`` as positive.
    """
    if values.dtype.kind == "b":
        return values.astype(np.int8)
    if values.dtype.kind in "iu" and isinstance(pos_label, int | np.integer):
        low, high = int(values.min()), int(values.max())
        if pos_label in (low, high) and high - low <= 1:
            # 0/1-style integer labels: two reductions prove the column binary, without
            # the copies the general check below makes (most of its time on large data).
            is_positive: NDArray[np.bool_] = values == pos_label
            return is_positive.view(np.int8)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise InvalidInput(
            f"{name} has missing or infinite values ({_rows(~np.isfinite(values))}); "
            "remove those rows first."
        )
    positive = values == pos_label
    if not isinstance(positive, np.ndarray):  # comparison not supported elementwise
        raise InvalidInput(f"{name} cannot be compared with pos_label={pos_label!r}.")
    negatives = values[~positive]
    if negatives.size:
        other = negatives[0]
        stray = negatives != other
        if stray.any():
            found = sorted({str(v) for v in (other, *negatives[stray][:3])})
            raise InvalidInput(
                f"{name} must be binary (the positive class {pos_label!r} and one other value) "
                f"but holds at least {', '.join(found)} besides {pos_label!r}; "
                "binarise it first or pass the right pos_label."
            )
    return positive.astype(np.int8)


def probabilities(name: str, values: NDArray[Any]) -> FloatArray:
    """Float scores in [0, 1] (predicted probability of the positive class)."""
    scores = scores_1d(name, values)
    low, high = float(scores.min()), float(scores.max())
    if low < 0.0 or high > 1.0:
        raise InvalidInput(
            f"{name} must be probabilities in [0, 1] but ranges from {low:g} to {high:g}; "
            "pass predict_proba(...)[:, 1] rather than a raw score."
        )
    return scores


def scores_1d(name: str, values: NDArray[Any]) -> FloatArray:
    if values.dtype.kind not in "biuf":
        raise InvalidInput(f"{name} must be numeric but has dtype {values.dtype}.")
    scores = values.astype(np.float64, copy=False)
    finite = np.isfinite(scores)
    if not finite.all():
        raise InvalidInput(
            f"{name} has missing or infinite values ({_rows(~finite)}); "
            "remove those rows or pass nan_policy='omit'."
        )
    return scores


def numeric(name: str, values: NDArray[Any]) -> FloatArray:
    return scores_1d(name, values)


def weights(sample_weight: Any, n: int) -> FloatArray | None:
    """Validated non-negative finite float weights, or None."""
    if sample_weight is None:
        return None
    w = as_1d("sample_weight", sample_weight)
    if len(w) != n:
        raise InvalidInput(
            f"sample_weight has {len(w):,} values but the data has {n:,} rows; "
            "pass one weight per row."
        )
    if w.dtype.kind not in "biuf":
        raise InvalidInput(f"sample_weight must be numeric but has dtype {w.dtype}.")
    out = w.astype(np.float64, copy=False)
    if not np.isfinite(out).all() or (out < 0).any():
        raise InvalidInput("sample_weight must be finite and non-negative; fix or drop those rows.")
    if float(out.sum()) <= 0.0:
        raise InvalidInput("sample_weight sums to zero; at least one row must have weight > 0.")
    return out


def weighted_mean(values: FloatArray, w: FloatArray | None) -> float:
    if w is None:
        return float(np.mean(values))
    return float(np.dot(values, w) / w.sum())


def safe_div(num: FloatArray, den: FloatArray, zero: float = 0.0) -> FloatArray:
    """num / den, with ``zero`` where den == 0 (Fairlearn/scikit-learn ``zero_division``)."""
    out = np.full(np.shape(num), zero, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def one_of(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")
