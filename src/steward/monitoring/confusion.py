"""Grouped confusion counts: labelled batches reduced to mergeable counts per group.

For a batch with a label and a prediction column, one scan (DuckDB or numpy) counts
``[tn, fp, fn, tp]`` per combination of the sensitive columns' values. Counts of batches,
partitions or the runs of a window add up exactly (:meth:`ConfusionCounts.merged`), and the
threshold metrics — accuracy, precision, recall, F1, positive (selection) rate — and the
fairness differences per sensitive column — demographic parity difference (max - min
selection rate across groups) and equalized odds difference (the larger of the max - min
true-positive-rate and false-positive-rate gaps), Fairlearn's definitions — come from the
counts alone, so performance and fairness per window need no rescan. (ROC AUC needs the
scores, so it is not among them.)

A value is *positive* when its text equals ``positive`` or, for numbers, when it equals
``positive`` as a number (``1``, ``1.0`` and ``True`` for ``"1"``). Rows without a label or a
prediction are counted in ``skipped``; a missing group value is the group ``"<missing>"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from steward.domain.errors import InvalidInput

MISSING_GROUP = "<missing>"
TN, FP, FN, TP = range(4)


@dataclass
class ConfusionCounts:
    groups: tuple[str, ...]
    positive: str
    cells: dict[tuple[str, ...], list[int]] = field(default_factory=dict)
    skipped: int = 0

    @property
    def labelled(self) -> int:
        return sum(sum(v) for v in self.cells.values())

    def merged(self, other: ConfusionCounts) -> ConfusionCounts:
        if (other.groups, other.positive) != (self.groups, self.positive):
            raise InvalidInput(
                f"cannot merge confusion counts grouped by {list(other.groups)} (positive "
                f"{other.positive!r}) into counts grouped by {list(self.groups)} (positive "
                f"{self.positive!r}); count every batch with the monitor's settings"
            )
        cells = {k: list(v) for k, v in self.cells.items()}
        for k, v in other.cells.items():
            cells[k] = [a + b for a, b in zip(cells.get(k, [0, 0, 0, 0]), v, strict=True)]
        return ConfusionCounts(self.groups, self.positive, cells, self.skipped + other.skipped)

    def totals(self, by: str | None = None) -> dict[str, list[int]]:
        """``[tn, fp, fn, tp]`` overall (key ``""``) or per value of one sensitive column."""
        if by is not None and by not in self.groups:
            raise InvalidInput(
                f"the counts are not grouped by {by!r}; they are grouped by "
                f"{list(self.groups) or 'nothing'}"
            )
        index = None if by is None else self.groups.index(by)
        out: dict[str, list[int]] = {}
        for key, v in self.cells.items():
            k = "" if index is None else key[index]
            out[k] = [a + b for a, b in zip(out.get(k, [0, 0, 0, 0]), v, strict=True)]
        return out

    def performance(self) -> dict[str, float | None]:
        """Threshold metrics over every labelled row (None where undefined)."""
        tn, fp, fn, tp = self.totals().get("", [0, 0, 0, 0])
        n = tn + fp + fn + tp
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / (tp + fn) if tp + fn else None
        f1 = (2 * tp / (2 * tp + fp + fn)) if (2 * tp + fp + fn) else None
        return {
            "labelled_rows": float(n),
            "accuracy": (tp + tn) / n if n else None,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "positive_rate": (tp + fp) / n if n else None,
        }

    def group_rates(self, column: str) -> dict[str, dict[str, float]]:
        """Per value of ``column`` (groups with rows only): ``n``, ``selection_rate``, ``tpr``
        and ``fpr`` — a rate with no rows to define it counts as 0, as Fairlearn's
        ``zero_division`` default."""
        out: dict[str, dict[str, float]] = {}
        for key, (tn, fp, fn, tp) in sorted(self.totals(column).items()):
            n = tn + fp + fn + tp
            if n:
                out[key] = {
                    "n": float(n),
                    "selection_rate": (fp + tp) / n,
                    "tpr": tp / (tp + fn) if tp + fn else 0.0,
                    "fpr": fp / (fp + tn) if fp + tn else 0.0,
                }
        return out

    def fairness(self, column: str) -> dict[str, float | None]:
        """Fairlearn's demographic parity and equalized odds differences across the groups of
        ``column`` (None with fewer than two groups)."""
        rates = list(self.group_rates(column).values())
        selection = [r["selection_rate"] for r in rates]
        tpr = [r["tpr"] for r in rates]
        fpr = [r["fpr"] for r in rates]

        def spread(v: list[float]) -> float | None:
            return max(v) - min(v) if len(v) >= 2 else None

        gaps = [g for g in (spread(tpr), spread(fpr)) if g is not None]
        return {
            "demographic_parity_difference": spread(selection),
            "equalized_odds_difference": max(gaps) if gaps else None,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": list(self.groups),
            "positive": self.positive,
            "skipped": self.skipped,
            "cells": [[list(k), v] for k, v in sorted(self.cells.items())],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ConfusionCounts:
        return cls(
            tuple(d["groups"]),
            str(d["positive"]),
            {tuple(str(x) for x in k): [int(x) for x in v] for k, v in d["cells"]},
            int(d.get("skipped", 0)),
        )


def merge_confusion(items: Iterable[ConfusionCounts]) -> ConfusionCounts:
    """Counts of a window: the sum of its batches' counts (same groups and positive class)."""
    batch = list(items)
    if not batch:
        raise InvalidInput("nothing to merge: pass at least one ConfusionCounts")
    out = batch[0]
    for b in batch[1:]:
        out = out.merged(b)
    return out


def count_rows(
    rows: Iterable[tuple[Sequence[str | None], bool | None, bool | None]],
    *,
    groups: Sequence[str] = (),
    positive: str = "1",
) -> ConfusionCounts:
    """Counts from rows already in memory: ``(group values, is_positive_label,
    is_positive_prediction)``; ``None`` label or prediction → ``skipped``, a ``None`` (or NaN)
    group value → ``<missing>``. The same cells :func:`confusion_counts` gives on a scan."""
    out = ConfusionCounts(tuple(groups), positive)
    for values, y, p in rows:
        if len(values) != len(out.groups):
            raise InvalidInput(
                f"a row has {len(values)} group values for the groups {list(out.groups)}"
            )
        if y is None or p is None:
            out.skipped += 1
            continue
        key = tuple(MISSING_GROUP if v is None or v != v else str(v) for v in values)
        cell = out.cells.setdefault(key, [0, 0, 0, 0])
        cell[(TP if p else FN) if y else (FP if p else TN)] += 1
    return out


def _positive_number(positive: str) -> float | None:
    try:
        return float({"true": "1", "false": "0"}.get(positive.lower(), positive))
    except ValueError:
        return None


def confusion_counts(
    source: Any,
    *,
    label: str,
    prediction: str,
    positive: str = "1",
    groups: Sequence[str] = (),
    engine: str = "duckdb",
) -> ConfusionCounts:
    """One scan of ``source`` (frame, Arrow table, path/glob, URL or Query) → counts."""
    columns = [label, prediction, *groups]
    if len(set(columns)) != len(columns):
        raise InvalidInput(
            f"columns {columns} repeat; the label, prediction and sensitive "
            "columns must be distinct"
        )
    if engine == "duckdb":
        rows = _duckdb_rows(source, label, prediction, positive, list(groups))
    elif engine == "numpy":
        rows = _numpy_rows(source, label, prediction, positive, list(groups))
    else:
        raise InvalidInput(f"confusion counts use engine 'duckdb' or 'numpy', not {engine!r}")
    out = ConfusionCounts(tuple(groups), positive)
    for key, y, p, count in rows:
        if y is None or p is None:
            out.skipped += count
            continue
        cell = out.cells.setdefault(key, [0, 0, 0, 0])
        cell[(TP if p else FN) if y else (FP if p else TN)] += count
    if not out.cells and not out.skipped:
        raise InvalidInput("the batch has no rows: check the path, glob or query")
    return out


Row = tuple[tuple[str, ...], bool | None, bool | None, int]


def _duckdb_rows(
    source: Any, label: str, prediction: str, positive: str, groups: list[str]
) -> list[Row]:
    import duckdb

    from steward.monitoring._duckdb import check_columns, connect, q, schema

    con, rel = connect(source)
    try:
        check_columns(schema(con, rel), [(c, "any") for c in (label, prediction, *groups)])
        number = _positive_number(positive)

        def is_pos(col: str) -> str:
            x = q(col)
            numeric = f" OR TRY_CAST({x} AS DOUBLE) = {number!r}" if number is not None else ""
            return (
                f"CASE WHEN {x} IS NULL THEN NULL ELSE (CAST({x} AS VARCHAR) = $pos{numeric}) END"
            )

        keys = [f"coalesce(CAST({q(g)} AS VARCHAR), '{MISSING_GROUP}')" for g in groups]
        select = ", ".join([*keys, f"{is_pos(label)} AS y", f"{is_pos(prediction)} AS p"])
        by = ", ".join(str(i + 1) for i in range(len(groups) + 2))
        try:
            fetched = con.execute(
                f"SELECT {select}, count(*) FROM {rel} GROUP BY {by}", {"pos": positive}
            ).fetchall()
        except duckdb.Error as exc:
            raise InvalidInput(f"cannot count the batch's labels: {exc}") from exc
    finally:
        con.close()
    n = len(groups)
    return [(tuple(str(v) for v in r[:n]), r[n], r[n + 1], int(r[n + 2])) for r in fetched]


def _numpy_rows(
    source: Any, label: str, prediction: str, positive: str, groups: list[str]
) -> list[Row]:
    from steward.monitoring._numpy import to_frame

    frame = to_frame(source, [label, prediction, *groups])
    number = _positive_number(positive)

    def is_pos(s: pd.Series[Any]) -> pd.Series[Any]:
        text = s.map(
            lambda v: (
                "true"
                if v is True or v is np.True_
                else "false"
                if v is False or v is np.False_
                else str(v)
            )
        )
        hit = text == positive
        if number is not None:
            hit |= pd.to_numeric(s, errors="coerce") == number
        return hit.astype(object).where(s.notna(), None)

    keyed = pd.DataFrame(
        {
            **{
                f"g{i}": frame[g].map(lambda v: MISSING_GROUP if v is None or v != v else str(v))
                for i, g in enumerate(groups)
            },
            "y": is_pos(frame[label]),
            "p": is_pos(frame[prediction]),
        }
    )
    cols = list(keyed.columns)
    counted = keyed.groupby(cols, dropna=False, sort=False).size()
    out: list[Row] = []
    for key, count in counted.items():
        parts = key if isinstance(key, tuple) else (key,)
        y, p = parts[-2], parts[-1]
        out.append(
            (
                tuple(str(v) for v in parts[:-2]),
                None if y is None or y != y else bool(y),
                None if p is None or p != p else bool(p),
                int(count),
            )
        )
    return out
