"""The numpy engine: in-memory frames, one ``searchsorted`` + ``bincount`` per binning."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from steward.domain.errors import InvalidInput
from steward.monitoring.aggregate import BatchAggregate, ColumnAggregate

if TYPE_CHECKING:
    from steward.monitoring.profile import ColumnSpec, ReferenceProfile


def to_frame(source: Any, columns: list[str]) -> pd.DataFrame:
    """A pandas frame of ``columns`` from a frame, Arrow table, file path/glob or Query."""
    if isinstance(source, pd.DataFrame):
        frame = source
    elif type(source).__module__.startswith("pyarrow"):
        frame = source.select([c for c in columns if c in source.column_names]).to_pandas()
    elif type(source).__module__.startswith("polars"):
        frame = source.to_pandas()
    else:
        from steward.monitoring import _duckdb

        frame = _duckdb.to_frame(source, columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"the data has no column {', '.join(map(repr, missing))}; "
            f"it has {', '.join(map(str, frame.columns[:30]))} — fix the "
            "monitor's column list or the data"
        )
    return frame


def numeric_values(frame: pd.DataFrame, name: str) -> npt.NDArray[np.float64]:
    """The column as float64 (nulls as NaN); text where a number is expected is refused."""
    s = frame[name]
    if s.dtype == np.float64:  # already float64 with NaN for missing: the column's own array
        return np.asarray(s.to_numpy(), dtype=np.float64)
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return np.asarray(
            pd.to_numeric(s, errors="raise").astype("float64").to_numpy(na_value=np.nan),
            dtype=np.float64,
        )
    raise InvalidInput(
        f"column {name!r} should be numeric but has type {s.dtype}; cast it in "
        "the data or monitor it as a categorical column"
    )


def category_values(frame: pd.DataFrame, name: str) -> pd.Series[Any]:
    """Non-missing values as text, spelled as DuckDB and Spark cast them to VARCHAR."""
    s = frame[name]
    s = s[s.notna()]
    if pd.api.types.is_bool_dtype(s):
        return s.map({True: "true", False: "false"})
    if pd.api.types.is_float_dtype(s):
        return s.map(lambda v: repr(float(v)))
    return s.astype(str)


def category_counts(s: pd.Series[Any]) -> dict[str, int]:
    """Counts of the non-missing values as text (spelled as :func:`category_values`), by one
    hash count of the raw values — no per-row text conversion."""
    vc = s.value_counts(dropna=True, sort=False)
    if pd.api.types.is_bool_dtype(s):
        spell = {True: "true", False: "false"}.__getitem__
    elif pd.api.types.is_float_dtype(s):

        def spell(v: Any) -> str:
            return repr(float(v))
    else:
        spell = str
    out: dict[str, int] = {}
    for k, v in zip(vc.index.tolist(), vc.tolist(), strict=True):
        key = spell(k)
        out[key] = out.get(key, 0) + int(v)
    return out


class ColumnReader:
    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def numeric(self, name: str) -> npt.NDArray[np.float64]:
        x = numeric_values(self.frame, name)
        return x[np.isfinite(x)]

    def categories(self, name: str) -> list[str]:
        return sorted(set(category_values(self.frame, name).unique().tolist()))


def column_reader(source: Any, specs: list[ColumnSpec] | Any) -> ColumnReader:
    return ColumnReader(to_frame(source, [s.name for s in specs]))


def histogram(x: npt.NDArray[np.float64], edges: list[float]) -> list[int]:
    idx = np.searchsorted(np.asarray(edges, dtype=np.float64), x, side="right")
    return [int(v) for v in np.bincount(idx, minlength=len(edges) + 1)]


def aggregate(source: Any, profile: ReferenceProfile) -> BatchAggregate:
    frame = to_frame(source, list(profile.columns))
    cols: dict[str, ColumnAggregate] = {}
    rows = len(frame)
    for name, cp in profile.columns.items():
        if cp.kind == "numeric":
            raw = numeric_values(frame, name)
            nan = np.isnan(raw)
            finite = raw[np.isfinite(raw)]
            agg = ColumnAggregate(
                name,
                "numeric",
                rows=rows,
                missing=int(nan.sum()),
                nonfinite=int(raw.size - nan.sum() - finite.size),
                n=int(finite.size),
                sum=float(finite.sum()),
                sumsq=float(np.dot(finite, finite)),
                min=float(finite.min()) if finite.size else None,
                max=float(finite.max()) if finite.size else None,
                below=int(np.count_nonzero(finite < cp.min)) if cp.min is not None else 0,
                above=int(np.count_nonzero(finite > cp.max)) if cp.max is not None else 0,
                hist={k: histogram(finite, e) for k, e in cp.edges.items()},
            )
        else:
            values = category_values(frame, name)
            counts = values.value_counts()
            agg = ColumnAggregate(
                name,
                "categorical",
                rows=rows,
                missing=rows - len(values),
                n=len(values),
                categories={str(k): int(v) for k, v in counts.items()},
            )
            agg.cap_categories()
        cols[name] = agg
    return BatchAggregate(rows=rows, columns=cols, engine="numpy", profile_id=profile.id)


def describe_source(source: Any) -> str:
    if isinstance(source, str | Path):
        return str(source)
    return type(source).__name__
