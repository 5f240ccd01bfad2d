"""The seven rules of ``tests/datasets/test_quality_rules.py`` as a pandera schema, run in
bench/.venv-pandera by ``bench/data.py`` (pandera is not a Steward dependency).

Usage: ``python bench/pandera_rules.py FRAME.pkl REPEAT CUTOFF_ISO`` prints one JSON line:
the median milliseconds of ``schema.validate(frame, lazy=True)`` after a warm-up, and the
failing-row count per rule read from pandera's failure cases. Null semantics as Steward
documents them: a null fails only not_null (pandera's checks skip nulls by default) and
freshness (``ignore_na=False``)."""

from __future__ import annotations

import json
import statistics
import sys
import time

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors


def schema(cutoff: pd.Timestamp) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "id": pa.Column(
                nullable=False,
                checks=pa.Check(lambda s: ~(s.duplicated(keep=False) & s.notna()), name="unique"),
            ),
            "amount": pa.Column(nullable=True, checks=pa.Check.in_range(0, 5000)),
            "purpose": pa.Column(
                nullable=True, checks=pa.Check.isin(["car", "education", "business"])
            ),
            "email": pa.Column(
                nullable=True,
                checks=pa.Check(lambda s: s.str.fullmatch(r"[a-z]+@[a-z]+\.tw"), name="regex"),
            ),
            "updated_at": pa.Column(
                nullable=True, checks=pa.Check(lambda s: s >= cutoff, ignore_na=False)
            ),
        },
        checks=pa.Check(lambda df: 10 <= len(df) <= 100_000, name="row_count"),
    )


RULE = {
    ("id", "not_nullable"): "not_null:id",
    ("id", "unique"): "unique:id",
    ("amount", None): "range:amount",
    ("purpose", None): "allowed_values:purpose",
    ("email", None): "regex:email",
    ("updated_at", None): "freshness:updated_at",
}


def counts(frame: pd.DataFrame, checked: pa.DataFrameSchema) -> dict[str, int]:
    out = dict.fromkeys(RULE.values(), 0)
    out["row_count"] = 0  # a table-level rule: no failing rows, only pass/fail
    try:
        checked.validate(frame, lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
        for (column, check), group in cases.groupby(["column", "check"], dropna=False):
            key = RULE.get((column, str(check))) or RULE.get((column, None))
            if column == "id" and str(check) != "not_nullable":
                key = "unique:id"
            if key is not None:
                out[key] += int(group["index"].nunique())
    return out


def main() -> None:
    frame = pd.read_pickle(sys.argv[1])
    repeat = int(sys.argv[2])
    checked = schema(pd.Timestamp(sys.argv[3]))
    result = counts(frame, checked)  # warm-up
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = counts(frame, checked)
        runs.append((time.perf_counter() - start) * 1000)
    import pandera

    print(
        json.dumps(
            {
                "ms": statistics.median(runs),
                "counts": result,
                "pandera": pandera.__version__,
                "pandas": pd.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
