"""Predict with a scikit-learn pipeline whose preprocessing works column by column, transforming
each distinct input value once.

Validation calls a model thousands of times on frames built from a few hundred rows: SHAP's
masked rows mix an explained row with background rows, permutation importance shuffles one
column, robustness perturbs one. With ``Pipeline([ColumnTransformer(...), ..., estimator])``
most of each call used to go to the ColumnTransformer (one-hot encoding of text columns costs
about 10 ms even for a few rows), although every value it sees has been transformed before.

When every output column of the pipeline's first step depends on exactly one input column —
the ColumnTransformer holds only transformers that work value by value (one-hot and ordinal
encoders without dropped or infrequent categories, the standard, min-max, max-abs and robust
scalers, ``"passthrough"``, ``"drop"``) and its output is a dense array — the output row for a
frame is assembled from each column's output for that column's value. :class:`Columnwise`
keeps those per-column outputs, computed by the fitted ColumnTransformer itself on a small
frame of the values not seen before, and hands the assembled matrix to the rest of the
pipeline. The result is the pipeline's own: the same transformer arithmetic on the same values
(element-wise, so bit for bit), then the same estimator. Anything else — another transformer,
a sparse output, missing values, a change of column dtype — goes through the pipeline as is.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

Array = npt.NDArray[Any]
# A column's cache is emptied before it would hold more values than this (continuous data
# perturbed at random keeps bringing new ones).
MAX_CACHED = 50_000

_ONE_OUTPUT_PER_COLUMN = frozenset(
    {
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.preprocessing._data.MinMaxScaler",
        "sklearn.preprocessing._data.MaxAbsScaler",
        "sklearn.preprocessing._data.RobustScaler",
        "sklearn.preprocessing._encoders.OrdinalEncoder",
    }
)
_ONE_HOT = "sklearn.preprocessing._encoders.OneHotEncoder"


def _qualname(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _widths(transformer: Any, columns: list[str]) -> list[int] | None:
    """Output columns per input column of a fitted transformer, or None if not value-wise."""
    if isinstance(transformer, str):
        return [1] * len(columns) if transformer == "passthrough" else None
    name = _qualname(transformer)
    if name in _ONE_OUTPUT_PER_COLUMN:
        return [1] * len(columns)
    if name == _ONE_HOT:
        infrequent = getattr(transformer, "_infrequent_enabled", False)
        if transformer.drop_idx_ is not None or infrequent or transformer.sparse_output:
            return None
        return [len(c) for c in transformer.categories_]
    return None


@dataclass
class _Column:
    name: str
    outputs: Array  # indices of the first step's output columns that depend on this column
    dtype: Any = None
    seen: dict[Any, int] = field(default_factory=dict)  # value -> its row in ``rows``
    rows: Array | None = None  # (len(seen), len(outputs)): each value's outputs


@dataclass
class Columnwise:
    """A fitted pipeline's predictions with its column-wise first step cached per value."""

    pipeline: Any
    rest: Any  # the pipeline after its first step
    inputs: list[str]  # every column the first step was fitted on, in order
    width: int
    columns: list[_Column] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of(cls, estimator: Any) -> Columnwise | None:
        """A :class:`Columnwise` for ``estimator``, or None when it does not qualify."""
        if _qualname(estimator) != "sklearn.pipeline.Pipeline" or len(estimator.steps) < 2:
            return None
        first = estimator.steps[0][1]
        if _qualname(first) != "sklearn.compose._column_transformer.ColumnTransformer":
            return None
        names = getattr(first, "feature_names_in_", None)
        slices = getattr(first, "output_indices_", None)
        if names is None or slices is None or getattr(first, "sparse_output_", True):
            return None
        if first.get_params().get("transform_output") not in (None, "default"):
            return None
        inputs = [str(n) for n in names]
        columns: list[_Column] = []
        for name, transformer, selected in first.transformers_:
            if transformer == "drop":
                continue
            chosen = _selected(inputs, selected)
            if chosen is None:
                return None
            widths = _widths(transformer, chosen)
            part = slices.get(name)
            if widths is None or part is None or sum(widths) != part.stop - part.start:
                return None
            start = part.start
            for column, width in zip(chosen, widths, strict=True):
                columns.append(_Column(column, np.arange(start, start + width)))
                start += width
        width = max((int(c.outputs.max()) + 1 for c in columns if len(c.outputs)), default=0)
        if len({c.name for c in columns}) != len(columns):
            return None  # a column fed to two transformers: still value-wise, kept simple
        return cls(estimator, estimator[1:], inputs, width, columns)

    def predict(self, frame: pd.DataFrame) -> Array:
        matrix = self._transform(frame)
        if matrix is None:
            return np.asarray(self.pipeline.predict(frame))
        return np.asarray(self.rest.predict(matrix))

    def predict_proba(self, frame: pd.DataFrame) -> Array:
        matrix = self._transform(frame)
        if matrix is None:
            return np.asarray(self.pipeline.predict_proba(frame))
        return np.asarray(self.rest.predict_proba(matrix))

    def _transform(self, frame: pd.DataFrame) -> Array | None:
        """The first step's output for ``frame``, or None to let the pipeline do it."""
        with self._lock:
            return self._assemble(frame)

    def _assemble(self, frame: pd.DataFrame) -> Array | None:
        if list(frame.columns) != self.inputs or len(frame) == 0:
            return None
        coded: list[tuple[Array, Array]] = []  # per column: codes, distinct values
        for column in self.columns:
            series = frame[column.name]
            if column.dtype is not None and series.dtype != column.dtype:
                return None
            codes, uniques = pd.factorize(series.to_numpy(), use_na_sentinel=True)
            if (codes < 0).any():
                return None  # missing values: left to the pipeline's own handling
            coded.append((codes, np.asarray(uniques, dtype=object)))
        new: list[list[Any]] = []
        for column, (_, uniques) in zip(self.columns, coded, strict=True):
            if len(uniques) > MAX_CACHED:
                return None
            if len(column.seen) + len(uniques) > MAX_CACHED:
                column.seen, column.rows = {}, None
            new.append([u for u in uniques if u not in column.seen])
        if any(new):
            self._learn(frame, new)
        out = np.empty((len(frame), self.width), dtype=np.float64)
        for column, (codes, uniques) in zip(self.columns, coded, strict=True):
            assert column.rows is not None
            at = np.fromiter((column.seen[u] for u in uniques), dtype=np.intp, count=len(uniques))
            out[:, column.outputs] = column.rows[at[codes]]
        return out

    def _learn(self, frame: pd.DataFrame, new: list[list[Any]]) -> None:
        """Transform the values not seen before (one ColumnTransformer call for all columns)."""
        size = max(len(n) for n in new)
        data: dict[str, Any] = {}
        for name in self.inputs:  # every fitted column, in order; unused ones repeat row 0
            data[name] = frame[name].iloc[np.zeros(size, dtype=np.intp)].reset_index(drop=True)
        for column, values in zip(self.columns, new, strict=True):
            if values:
                padded = values + [values[0]] * (size - len(values))
                data[column.name] = pd.Series(padded, dtype=frame[column.name].dtype)
        probe = pd.DataFrame(data)
        transformed = np.asarray(self.pipeline.steps[0][1].transform(probe), dtype=np.float64)
        for column, values in zip(self.columns, new, strict=True):
            if not values:
                continue
            rows = transformed[: len(values)][:, column.outputs]
            for value in values:
                column.seen[value] = len(column.seen)
            column.rows = rows if column.rows is None else np.vstack([column.rows, rows])
            column.dtype = frame[column.name].dtype


def _selected(inputs: list[str], selected: Any) -> list[str] | None:
    """The column names a ColumnTransformer entry selected (names, positions or a mask)."""
    if isinstance(selected, str):
        return [selected] if selected in inputs else None
    if isinstance(selected, slice):
        return inputs[selected]
    items = list(np.asarray(selected).reshape(-1)) if not isinstance(selected, list) else selected
    if not items:
        return []
    if all(isinstance(i, str) for i in items):
        return [str(i) for i in items] if all(i in inputs for i in items) else None
    if all(isinstance(i, bool | np.bool_) for i in items) and len(items) == len(inputs):
        return [n for n, keep in zip(inputs, items, strict=True) if keep]
    if all(isinstance(i, int | np.integer) for i in items):
        return [inputs[int(i)] for i in items]
    return None
