"""Dataset fingerprints, schemas and column profiles.

The fingerprint identifies the *content*: the same rows and columns in the
same order give the same digest whatever file or frame they came from (a
frame is hashed column by column over its values and dtypes; a file path is
read into a frame first). Only the profile leaves the client, never the data.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

from steward.domain.entities import ColumnSpec, DatasetVersion
from steward.domain.errors import InvalidInput

TOP_CATEGORIES = 20


def _read_csv(path: Path) -> Any:
    """A CSV file as pandas; a file that is not UTF-8 CSV with a header is refused."""
    import pandas as pd

    if path.stat().st_size == 0:
        raise InvalidInput(f"The CSV file {path.name!r} is empty: send a header row and data.")
    not_text = InvalidInput(
        f"The CSV file {path.name!r} is not UTF-8 text (binary data, or another encoding "
        "such as UTF-16): save it as UTF-8 CSV, or send Parquet."
    )
    with path.open("rb") as raw:
        head = raw.read(64 * 1024)
    # NUL never occurs in UTF-8 CSV; it marks binary files and UTF-16 text.
    if b"\x00" in head or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise not_text
    try:
        return pd.read_csv(path, encoding="utf-8")
    except UnicodeDecodeError:
        raise not_text from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        raise InvalidInput(
            f"The CSV file {path.name!r} cannot be read as CSV ({reason}): every row needs "
            "as many fields as the header, and quotes must close."
        ) from None


def _read_parquet(path: Path) -> Any:
    """A Parquet file as pandas; an empty, truncated or foreign file is refused."""
    import pandas as pd

    if path.stat().st_size == 0:
        raise InvalidInput(f"The Parquet file {path.name!r} is empty.")
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        reason = " ".join(str(exc).split())[:200]
        raise InvalidInput(
            f"The Parquet file {path.name!r} cannot be read ({reason}): it may be truncated "
            "or not Parquet at all; write it again, or send CSV."
        ) from None


def to_frame(data: Any) -> Any:
    """Accept pandas, Polars, Arrow, numpy, or a CSV/Parquet path; return pandas."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.is_file():
            raise InvalidInput(f"Dataset file {str(path)!r} does not exist.")
        suffix = path.suffix.lower()
        if suffix in (".parquet", ".pq"):
            return _read_parquet(path)
        if suffix in (".csv", ".txt") or path.name.endswith(".csv.gz"):
            return _read_csv(path)
        raise InvalidInput(f"Unsupported dataset file {path.name!r}: use CSV or Parquet.")
    module = type(data).__module__.split(".")[0]
    if module == "pyarrow":
        return data.to_pandas()
    if module == "polars":
        return data.to_pandas()
    if module == "numpy":
        if data.ndim == 1:
            return pd.DataFrame({"x0": data})
        if data.ndim == 2:
            return pd.DataFrame(data, columns=[f"x{i}" for i in range(data.shape[1])])
    raise InvalidInput(
        f"Unsupported dataset type {type(data).__module__}.{type(data).__name__}: pass a pandas, "
        "Polars or Arrow table, a 1-D/2-D numpy array, or a CSV/Parquet path."
    )


def fingerprint(frame: Any) -> str:
    import pandas as pd

    digest = hashlib.sha256()
    digest.update(f"rows={len(frame)};".encode())
    for name in frame.columns:
        column = frame[name]
        digest.update(f"{name}:{column.dtype};".encode())
        hashed = pd.util.hash_pandas_object(column, index=False).to_numpy()
        digest.update(hashed.tobytes())
    return digest.hexdigest()


def schema(frame: Any) -> list[ColumnSpec]:
    return [
        ColumnSpec(name=str(name), type=_type_name(frame[name].dtype)) for name in frame.columns
    ]


def _type_name(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "integer"
    if kind == "f":
        return "float"
    if kind == "M":
        return "datetime"
    if str(dtype) == "category":
        return "category"
    return "string"


def _num(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def profile(frame: Any) -> dict[str, dict[str, Any]]:
    import numpy as np

    out: dict[str, dict[str, Any]] = {}
    rows = len(frame)
    for name in frame.columns:
        column = frame[name]
        nulls = int(column.isna().sum())
        entry: dict[str, Any] = {
            "type": _type_name(column.dtype),
            "nulls": nulls,
            "null_fraction": (nulls / rows) if rows else 0.0,
            "distinct": int(column.nunique(dropna=True)),
        }
        kind = getattr(column.dtype, "kind", "O")
        if kind in "iuf" and rows > nulls:
            values = column.dropna().astype("float64")
            # Infinite values make some statistics NaN (reported as None): no warnings.
            with np.errstate(invalid="ignore", over="ignore"):
                entry.update(
                    min=_num(values.min()),
                    max=_num(values.max()),
                    mean=_num(values.mean()),
                    std=_num(values.std(ddof=1)) if len(values) > 1 else None,
                    p25=_num(values.quantile(0.25)),
                    p50=_num(values.quantile(0.5)),
                    p75=_num(values.quantile(0.75)),
                )
        elif kind in "OSUb" or str(column.dtype) in ("category", "string", "str"):
            counts = column.astype("string").value_counts(dropna=True).head(TOP_CATEGORIES)
            entry["top"] = {str(k): int(v) for k, v in counts.items()}
        out[str(name)] = entry
    return out


def describe(data: Any, *, name: str, uri: str | None = None) -> DatasetVersion:
    frame = to_frame(data)
    if uri is None and isinstance(data, (str, Path)):
        uri = Path(data).resolve().as_uri()
    return DatasetVersion(
        fingerprint=fingerprint(frame),
        name=name,
        uri=uri,
        rows=len(frame),
        columns=len(frame.columns),
        schema=schema(frame),
        profile=profile(frame),
    )


def infer_signature_columns(
    data: Any, target: str | None, model: Any = None
) -> tuple[list[ColumnSpec], list[ColumnSpec]]:
    """Inputs: the model's own feature names when it has them, else the data's columns."""
    frame = to_frame(data)
    columns = schema(frame)
    by_name = {c.name: c for c in columns}
    features = getattr(model, "feature_names_in_", None)
    if features is not None:
        inputs = [by_name.get(str(f), ColumnSpec(str(f), "unknown")) for f in features]
    else:
        inputs = [c for c in columns if c.name != target]
    outputs = [by_name[target]] if target and target in by_name else []
    return inputs, outputs
