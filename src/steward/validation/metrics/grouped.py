"""One grouped count pass: per-group confusion counts from a single ``bincount``.

Every fairness number Steward reports comes from the table this module builds: the rows are
coded by group (the combination of all sensitive features — intersectional groups), then one
``np.bincount`` over ``group_code * 4 + y_true * 2 + y_pred`` gives, per group, the weighted
counts of true negatives, false positives, false negatives and true positives. Rates,
differences and ratios are arithmetic on those few numbers. This is the same recipe a database
runs as one ``GROUP BY group, y_true, y_pred`` (metrics-reference.md §2.7).

Group encoding: each sensitive feature is factorised to integer codes (booleans and small
integer ranges by a presence table, other numbers by ``np.unique``, strings and objects by
``pandas.factorize`` — hash-based, much faster than sorting strings). Columns that are already
coded — pandas categoricals, Arrow dictionary arrays — are not factorised again: their codes
are used as they are and only their few categories are ordered. The codes are combined in
mixed radix and compressed to the combinations that actually occur. Groups are ordered by their
values feature by feature, as Fairlearn's ``MetricFrame.by_group`` orders them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from steward.domain.errors import InvalidInput
from steward.validation.metrics._arrays import (
    FloatArray,
    IntArray,
    as_1d,
    binary,
    check_lengths,
    missing_mask,
    one_of,
    weights,
)

MissingPolicy = Literal["raise", "group"]
MISSING_LABEL = "(missing)"
_PRESENCE_TABLE_LIMIT = 1 << 22  # value ranges up to ~4 M use a bincount presence table


@dataclass(frozen=True)
class Groups:
    """The rows' group codes and what each code means.

    ``features`` names the sensitive features; ``keys[g]`` holds group ``g``'s value for each
    feature (in the same order); ``codes[i]`` is row ``i``'s group, ``0 <= codes[i] < size``.
    """

    features: tuple[str, ...]
    keys: tuple[tuple[Any, ...], ...]
    codes: IntArray

    @property
    def size(self) -> int:
        return len(self.keys)

    @property
    def labels(self) -> tuple[str, ...]:
        """``"female"`` for one feature, ``"sex=female, age=25-40"`` for several."""
        if len(self.features) == 1:
            return tuple(str(key[0]) for key in self.keys)
        return tuple(
            ", ".join(f"{f}={v}" for f, v in zip(self.features, key, strict=True))
            for key in self.keys
        )


# A sensitive feature: a 1-D array, or a pandas Categorical kept coded (see _coded).
Column = NDArray[Any] | pd.Categorical


def _coded(values: Any) -> pd.Categorical | None:
    """``values`` as a pandas Categorical when they arrive already coded, else None.

    A categorical Series, Index or array, or an Arrow dictionary array (chunked or not):
    their integer codes are the factorisation; a pandas string column is coded by its own
    (Arrow) factorize, so converting them to values only to hash
    the values again would spend most of a fairness report's time on nothing.
    """
    if isinstance(values, pd.Categorical):
        return values
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        return pd.Categorical(values)
    arrow_type = getattr(values, "type", None)
    if arrow_type is not None and type(arrow_type).__name__ == "DictionaryType":
        converted = values.to_pandas()  # Arrow dictionary -> pandas categorical, codes kept
        return pd.Categorical(converted)
    if isinstance(getattr(values, "dtype", None), pd.StringDtype):
        # pandas' text columns (Arrow-backed by default since pandas 3): their own factorize
        # codes them in Arrow without a Python object per row, which np.asarray would make.
        codes, uniques = pd.factorize(values, sort=False)
        return pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object))
    return None


def _as_column(name: str, values: Any) -> Column:
    coded = _coded(values)
    if coded is None:
        return as_1d(f"sensitive feature {name!r}", values)
    if len(coded) == 0:
        raise InvalidInput(f"sensitive feature {name!r} is empty; metrics need at least one row.")
    return coded


def _columns(sensitive_features: Any) -> dict[str, Column]:
    """Named 1-D columns from a mapping, a DataFrame, a 2-D array or a single column."""
    if sensitive_features is None:
        raise InvalidInput("sensitive_features is missing; pass one or more group columns.")
    if isinstance(sensitive_features, Mapping):
        items = list(sensitive_features.items())
    elif hasattr(sensitive_features, "columns") and hasattr(sensitive_features, "__getitem__"):
        items = [(str(c), sensitive_features[c]) for c in sensitive_features.columns]
    elif _coded(sensitive_features) is not None:
        name = getattr(sensitive_features, "name", None) or getattr(
            sensitive_features, "_name", None
        )
        items = [(str(name) if name is not None else "sensitive_feature_0", sensitive_features)]
    else:
        to_numpy = getattr(sensitive_features, "to_numpy", None)
        name = getattr(sensitive_features, "name", None)
        array = np.asarray(to_numpy() if callable(to_numpy) else sensitive_features)
        if array.ndim == 2 and array.shape[1] > 1:
            items = [(f"sensitive_feature_{i}", array[:, i]) for i in range(array.shape[1])]
        else:
            items = [(str(name) if name is not None else "sensitive_feature_0", array)]
    if not items:
        raise InvalidInput("sensitive_features has no columns; pass at least one group column.")
    return {str(name): _as_column(str(name), col) for name, col in items}


def _missing_message(name: str, count: int) -> str:
    return (
        f"sensitive feature {name!r} has {count:,} missing values; fill them with an explicit "
        f"label (for example 'unknown') or pass missing='group' to report them as a group "
        f"named {MISSING_LABEL!r}."
    )


def code_dtype(limit: int) -> np.dtype[Any]:
    """The narrowest signed integer type that holds 0..limit: group codes and count cells
    are computed in it, a quarter of int64's memory traffic for the usual few groups."""
    for candidate in (np.int8, np.int16, np.int32):
        if limit <= np.iinfo(candidate).max:
            return np.dtype(candidate)
    return np.dtype(np.int64)


def _factorize(name: str, values: Column, missing: str) -> tuple[IntArray, list[Any]]:
    """Integer codes (0..k-1, ordered by value) and the distinct values."""
    if isinstance(values, pd.Categorical):
        # Already coded: the codes are the factorisation (-1 marks a missing value). Unused
        # categories keep a code; encode_groups reports only the groups that occur.
        cat_codes = np.asarray(values.codes)  # int8 for up to 127 categories: kept narrow
        categories = values.categories.tolist()
        absent = cat_codes < 0
        if absent.any():
            if missing == "raise":
                raise InvalidInput(_missing_message(name, int(absent.sum())))
            cat_codes = np.where(absent, len(categories), cat_codes)
            categories.append(MISSING_LABEL)
        return _sorted_codes(cat_codes, categories)
    kind = values.dtype.kind
    if kind not in "biuf":  # strings and objects: hash-based, -1 marks a missing value
        codes, found = pd.factorize(values, sort=False)
        uniques = list(found)
        if (codes < 0).any():
            if missing == "raise":
                raise InvalidInput(_missing_message(name, int((codes < 0).sum())))
            codes = np.where(codes < 0, len(uniques), codes)
            uniques.append(MISSING_LABEL)
        return _sorted_codes(codes.astype(np.int64), uniques)
    mask = missing_mask(values)
    if mask.any():
        if missing == "raise":
            raise InvalidInput(_missing_message(name, int(mask.sum())))
        filled = values.astype(object)
        filled[mask] = MISSING_LABEL
        filled_codes, filled_found = pd.factorize(filled, sort=False)
        return _sorted_codes(filled_codes.astype(np.int64), list(filled_found))
    is_bool = kind == "b"
    if is_bool:
        values = values.astype(np.int8)
        kind = "i"
    if kind in "iu":
        low, high = int(values.min()), int(values.max())
        if high - low < _PRESENCE_TABLE_LIMIT:
            shifted = (values - low).astype(np.intp, copy=False)
            present = np.bincount(shifted, minlength=high - low + 1) > 0
            remap = np.cumsum(present, dtype=np.int64) - 1
            uniques_i = np.flatnonzero(present) + low
            out = [bool(v) for v in uniques_i] if is_bool else uniques_i.tolist()
            return remap[shifted], out
    uniq, inverse = np.unique(values, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1), uniq.tolist()


def _sorted_codes(codes: IntArray, uniques: list[Any]) -> tuple[IntArray, list[Any]]:
    """Reorder factorised codes so that code order follows value order (where comparable)."""
    try:
        order = sorted(range(len(uniques)), key=lambda i: uniques[i])
    except TypeError:  # mixed, non-comparable values: order by their text
        order = sorted(range(len(uniques)), key=lambda i: str(uniques[i]))
    if order == sorted(order):  # already in value order (sorted categories): nothing to remap
        return codes, uniques
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[order] = np.arange(len(uniques), dtype=np.int64)
    return rank[codes], [uniques[i] for i in order]


def encode_groups(sensitive_features: Any, *, missing: str = "raise") -> Groups:
    """Code every row by its (intersectional) group over all sensitive features.

    ``sensitive_features``: one column (array, list, Series), a mapping ``name -> column``, a
    DataFrame or a 2-D array. ``missing``: ``"raise"`` (the default, as Fairlearn) or
    ``"group"`` to report missing values as their own group ``"(missing)"``.
    """
    one_of("missing", missing, ("raise", "group"))
    columns = _columns(sensitive_features)
    check_lengths(**{f"sensitive feature {n!r}": c for n, c in columns.items()})
    features = tuple(columns)
    factorised = [_factorize(name, col, missing) for name, col in columns.items()]
    radices = [len(uniques) for _, uniques in factorised]
    total = int(np.prod(radices, dtype=np.float64))
    # Room for confusion_counts' cells (code * 4 + 3) in the same narrow type.
    narrow = code_dtype(4 * total)
    combined = factorised[0][0].astype(narrow)
    for codes, uniques in factorised[1:]:
        combined *= len(uniques)
        combined += codes
    if total <= _PRESENCE_TABLE_LIMIT:
        present = np.bincount(combined, minlength=total) > 0
        occurring = np.flatnonzero(present)
        if present.all():  # every combination occurs: the codes are already dense
            codes_out = combined
        else:
            remap = (np.cumsum(present, dtype=np.int64) - 1).astype(narrow)
            codes_out = remap[combined]
    else:
        occurring, inverse = np.unique(combined, return_inverse=True)
        codes_out = inverse.astype(np.int64).reshape(-1)
    keys: list[tuple[Any, ...]] = []
    for value in occurring.tolist():
        parts: list[Any] = []
        for _, uniques in reversed(factorised):
            value, digit = divmod(value, len(uniques))
            parts.append(uniques[digit])
        keys.append(tuple(reversed(parts)))
    return Groups(features=features, keys=tuple(keys), codes=codes_out)


@dataclass(frozen=True)
class ConfusionCounts:
    """Per-group (weighted) confusion counts — everything the fairness metrics need.

    Arrays are indexed by group code; ``rows`` counts rows, the others sum weights (equal to
    row counts without weights).
    """

    groups: Groups
    rows: IntArray
    tn: FloatArray
    fp: FloatArray
    fn: FloatArray
    tp: FloatArray

    @property
    def n(self) -> FloatArray:
        return self.tn + self.fp + self.fn + self.tp

    @property
    def positives(self) -> FloatArray:  # y_true == 1
        return self.fn + self.tp

    @property
    def negatives(self) -> FloatArray:  # y_true == 0
        return self.tn + self.fp

    @property
    def selected(self) -> FloatArray:  # y_pred == 1
        return self.fp + self.tp

    def total(self) -> tuple[float, float, float, float]:
        """Overall (tn, fp, fn, tp)."""
        return (
            float(self.tn.sum()),
            float(self.fp.sum()),
            float(self.fn.sum()),
            float(self.tp.sum()),
        )

    def merged(self, members: Sequence[bool] | NDArray[np.bool_]) -> tuple[float, ...]:
        """(tn, fp, fn, tp) summed over the groups where ``members`` is true."""
        m = np.asarray(members, dtype=np.bool_)
        return (
            float(self.tn[m].sum()),
            float(self.fp[m].sum()),
            float(self.fn[m].sum()),
            float(self.tp[m].sum()),
        )


def confusion_counts(
    groups: Groups,
    y_true: NDArray[np.int8],
    y_pred: NDArray[np.int8],
    sample_weight: FloatArray | None = None,
) -> ConfusionCounts:
    """The grouped count pass over already-binarised labels (0/1) and validated weights."""
    g = groups.size
    cell = groups.codes.astype(code_dtype(g * 4))  # a copy, in the narrowest type that fits
    cell *= 4
    cell += y_true
    cell += y_true
    cell += y_pred
    minlength = g * 4
    raw = np.bincount(cell, minlength=minlength)
    rows = raw.reshape(g, 4).sum(axis=1).astype(np.int64)
    counted = raw if sample_weight is None else np.bincount(cell, sample_weight, minlength)
    table: FloatArray = counted.astype(np.float64, copy=False).reshape(g, 4)
    return ConfusionCounts(
        groups=groups,
        rows=rows,
        tn=table[:, 0].copy(),
        fp=table[:, 1].copy(),
        fn=table[:, 2].copy(),
        tp=table[:, 3].copy(),
    )


def grouped_confusion(
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    *,
    sample_weight: Any = None,
    pos_label: Any = 1,
    missing: str = "raise",
) -> ConfusionCounts:
    """Validate, binarise and count in one call (see :func:`confusion_counts`)."""
    yt = as_1d("y_true", y_true)
    yp = as_1d("y_pred", y_pred)
    groups = encode_groups(sensitive_features, missing=missing)
    n = check_lengths(y_true=yt, y_pred=yp, sensitive_features=groups.codes)
    return confusion_counts(
        groups,
        binary("y_true", yt, pos_label),
        binary("y_pred", yp, pos_label),
        weights(sample_weight, n),
    )


def group_sums(groups: Groups, values: FloatArray, sample_weight: FloatArray | None) -> FloatArray:
    """Per-group (weighted) sums of ``values`` — one ``bincount``."""
    w = values if sample_weight is None else values * sample_weight
    return np.bincount(groups.codes, w, minlength=groups.size).astype(np.float64, copy=False)
