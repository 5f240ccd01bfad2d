"""Data quality checks on the evaluation data: schema against the version's signature, missing
rates, out-of-range values against the training profile, duplicates, train/test overlap
(leakage), label balance, and drift between training and evaluation data (PSI and KS)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from steward.domain.checks import CheckFamily, Threshold
from steward.validation import svg
from steward.validation.checks.base import Check, CheckContext, Outcome, Plot


def _type_name(series: pd.Series) -> str:
    from steward.lineage.datasets import schema

    return schema(series.to_frame())[0].type


def _columns(ctx: CheckContext) -> list[str]:
    """The columns a data check looks at: the model inputs, else (predictions mode) every
    column without a role — a prediction, score, label, sensitive or id column is not a
    feature, and counting it made distinct people with equal predictions "duplicates"."""
    if ctx.features:
        return list(ctx.features)
    skip = {ctx.target, *ctx.roles}
    return [c for c in ctx.frame.columns if c not in skip]


def _no_features(ctx: CheckContext) -> Outcome:
    ignored = ", ".join(repr(c) for c in (ctx.target, *ctx.roles))
    return Outcome(
        value=None,
        message=(
            "not applicable: the data has no feature columns besides the label, prediction, "
            f"score, sensitive and id columns ({ignored}); add the model's input columns to "
            "check them."
        ),
        skipped=True,
    )


_COMPATIBLE = {
    ("integer", "float"),
    ("float", "integer"),
    ("category", "string"),
    ("string", "category"),
}


class Schema(Check):
    name = "data_quality.schema"
    family = CheckFamily.DATA_QUALITY
    description = "Every input column of the version's signature is present with a compatible type."
    method = "Column names and Steward type names (integer/float compatible; string/category)."
    # Predictions mode carries no model inputs, so there is nothing to hold against them.
    requires = frozenset({"model", "signature"})

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        assert ctx.signature is not None
        problems: list[str] = []
        for column, expected in ctx.signature:
            if column not in ctx.frame.columns:
                problems.append(f"{column}: missing")
                continue
            actual = _type_name(ctx.frame[column])
            if expected not in ("unknown", actual) and (expected, actual) not in _COMPATIBLE:
                problems.append(f"{column}: {actual}, signature says {expected}")
        return Outcome(
            value=float(len(problems)),
            passed=not problems,
            message="; ".join(problems) if problems else "Matches the signature.",
            details={"problems": problems, "signature_columns": len(ctx.signature)},
        )


class MissingRate(Check):
    name = "data_quality.missing_rate"
    family = CheckFamily.DATA_QUALITY
    description = "The highest share of missing values in any input column."
    method = "max_j mean(isna(x_j))."
    default_threshold = Threshold("<=", 0.2)

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        columns = _columns(ctx)
        rates = {c: float(ctx.frame[c].isna().mean()) for c in columns}
        worst = max(rates, key=lambda c: rates[c]) if rates else None
        return Outcome(
            value=rates[worst] if worst else 0.0,
            message=f"Highest: {worst} ({rates[worst]:.1%})." if worst else "No columns.",
            details={"missing_rate": {c: r for c, r in rates.items() if r > 0}},
        )


class OutOfRange(Check):
    name = "data_quality.out_of_range"
    family = CheckFamily.DATA_QUALITY
    description = (
        "Share of rows whose numeric value lies outside the training data's [min, max], worst "
        "column; and categories never seen in training's top categories (listed)."
    )
    method = "mean(x_j < min_train_j or x_j > max_train_j) from the version's training profile."
    requires = frozenset({"profile"})
    default_threshold = Threshold("<=", 0.01)

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        assert ctx.profile is not None
        shares: dict[str, float] = {}
        unseen: dict[str, list[str]] = {}
        for column in _columns(ctx):
            entry = ctx.profile.get(column)
            if not entry:
                continue
            series = ctx.frame[column]
            if entry.get("min") is not None and pd.api.types.is_numeric_dtype(series):
                values = series.astype("float64")
                outside = (values < float(entry["min"])) | (values > float(entry["max"]))
                shares[column] = float(outside.mean())
            elif entry.get("top") and len(entry["top"]) < 20:  # the profile lists every category
                seen = set(entry["top"])
                new = sorted({str(v) for v in series.dropna().unique()} - seen)
                if new:
                    unseen[column] = new[:10]
                    shares[column] = float(
                        (~series.astype("string").isin(seen) & series.notna()).mean()
                    )
        worst = max(shares, key=lambda c: shares[c]) if shares else None
        return Outcome(
            value=shares[worst] if worst else 0.0,
            message=(
                f"Worst: {worst} ({shares[worst]:.2%} of rows outside the training range)."
                if worst and shares[worst] > 0
                else "Every value lies within the training data's range."
            ),
            details={"share_outside": shares, "unseen_categories": unseen},
        )


class Duplicates(Check):
    name = "data_quality.duplicates"
    family = CheckFamily.DATA_QUALITY
    description = "Share of evaluation rows that duplicate an earlier row."
    method = "mean(duplicated(rows)) over the inputs and the label."
    default_threshold = Threshold("<=", 0.05)

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        if not _columns(ctx):
            return _no_features(ctx)
        columns = [*_columns(ctx), ctx.target]
        dup = ctx.frame[columns].duplicated()
        return Outcome(
            value=float(dup.mean()),
            message=f"{int(dup.sum())} duplicate row(s) of {len(dup)}.",
            details={"duplicates": int(dup.sum())},
        )


def _row_hashes(frame: pd.DataFrame) -> np.ndarray[Any, Any]:
    return np.asarray(pd.util.hash_pandas_object(frame, index=False).to_numpy())


class TrainTestOverlap(Check):
    name = "data_quality.train_test_overlap"
    family = CheckFamily.DATA_QUALITY
    description = (
        "Share of evaluation rows that also occur in the training (reference) data: leakage."
    )
    method = "Row hashes of the input columns (and label when present) of both sets, intersected."
    requires = frozenset({"reference"})
    default_threshold = Threshold("<=", 0.01)

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        assert ctx.reference is not None
        columns = [c for c in _columns(ctx) if c in ctx.reference.columns]
        if not columns:
            return _no_features(ctx)
        if ctx.target in ctx.reference.columns:
            columns.append(ctx.target)
        evaluation = ctx.frame[columns]
        reference = ctx.reference[columns].astype(evaluation.dtypes.to_dict(), errors="ignore")
        overlap = np.isin(_row_hashes(evaluation), _row_hashes(reference))
        return Outcome(
            value=float(overlap.mean()),
            message=(
                f"{int(overlap.sum())} of {len(overlap)} evaluation rows occur in training data."
            ),
            details={"overlapping_rows": int(overlap.sum()), "columns": columns},
        )


class LabelBalance(Check):
    name = "data_quality.label_balance"
    family = CheckFamily.DATA_QUALITY
    description = "Share of the minority label in the evaluation data (and in training, if given)."
    method = "min_c mean(y = c)."
    requires = frozenset({"classification"})
    default_threshold = Threshold(">=", 0.05)

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        shares = pd.Series(ctx.y_true).value_counts(normalize=True)
        details: dict[str, Any] = {"evaluation": {str(k): float(v) for k, v in shares.items()}}
        if ctx.reference is not None and ctx.target in ctx.reference.columns:
            ref = ctx.reference[ctx.target].value_counts(normalize=True)
            details["reference"] = {str(k): float(v) for k, v in ref.items()}
        minority = str(shares.idxmin())
        return Outcome(
            value=float(shares.min()),
            message=f"Minority label {minority}: {shares.min():.1%} of rows.",
            details=details,
        )


def psi(reference: pd.Series, current: pd.Series) -> tuple[float, str]:
    """PSI in ``credit_risk`` mode, Steward's one definition (``steward.monitoring.stats``,
    the same function the monitors use): reference deciles for numeric columns with more than
    20 distinct reference values, else one bin per value (categorical, boolean and
    low-cardinality numeric columns); empty bins floored at 1e-4. Returns (PSI, "deciles" or
    "categories")."""
    from steward.monitoring import stats

    ref, cur = reference.dropna(), current.dropna()
    if len(ref) == 0 or len(cur) == 0:
        return math.nan, "no values"
    numeric = pd.api.types.is_numeric_dtype(ref) and not pd.api.types.is_bool_dtype(ref)
    if numeric and pd.api.types.is_numeric_dtype(cur) and not pd.api.types.is_bool_dtype(cur):
        r = ref.to_numpy(dtype="float64")
        c = cur.to_numpy(dtype="float64")
        r, c = np.sort(r[np.isfinite(r)]), c[np.isfinite(c)]
        if r.size == 0 or c.size == 0:
            return math.nan, "no values"
        found = stats.psi_numeric(r, c)
    else:
        found = stats.psi_categorical(
            {str(k): int(v) for k, v in ref.astype(str).value_counts().items()},
            {str(k): int(v) for k, v in cur.astype(str).value_counts().items()},
        )
    return found.value, found.bins


class Drift(Check):
    name = "data_quality.drift"
    family = CheckFamily.DATA_QUALITY
    description = (
        "Drift between training (reference) and evaluation data: PSI per input column and the "
        "two-sample KS test for numeric ones; value: the largest PSI."
    )
    method = (
        "PSI = Σ (c_i - r_i)·ln(c_i/r_i) over reference deciles, or one bin per value for "
        "categorical, boolean and numeric columns with at most 20 distinct reference values; "
        "empty bins floored at 1e-4 (credit_risk mode, the monitors' definition); KS p-value from "
        "scipy.stats.ks_2samp(method='auto'). PSI < 0.1 stable, 0.1-0.25 moderate, ≥ 0.25 major."
    )
    requires = frozenset({"reference"})
    default_threshold = Threshold("<", 0.25)

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        from scipy.stats import ks_2samp  # type: ignore[import-untyped,unused-ignore]

        assert ctx.reference is not None
        per: dict[str, dict[str, Any]] = {}
        for column in _columns(ctx):
            if column not in ctx.reference.columns:
                continue
            value, mode = psi(ctx.reference[column], ctx.frame[column])
            entry: dict[str, Any] = {"psi": value, "binning": mode}
            ref, cur = ctx.reference[column].dropna(), ctx.frame[column].dropna()
            if (
                pd.api.types.is_numeric_dtype(ref)
                and not pd.api.types.is_bool_dtype(ref)
                and len(ref)
                and len(cur)
            ):
                test = ks_2samp(ref.astype("float64"), cur.astype("float64"), method="auto")
                entry.update(ks=float(test.statistic), ks_pvalue=float(test.pvalue))
            per[column] = entry
        finite = {c: e["psi"] for c, e in per.items() if math.isfinite(e["psi"])}
        if not finite:
            return Outcome(
                value=None, message="skipped: no shared columns with values", skipped=True
            )
        worst = max(finite, key=lambda c: finite[c])
        drifted = sorted(c for c, v in finite.items() if v >= 0.1)
        order = sorted(finite, key=lambda c: -finite[c])[:20]
        plot = svg.bar_chart(
            "Population stability index, training vs evaluation",
            order,
            [finite[c] for c in order],
            reference=0.25,
            reference_label="major shift",
            highlight=[finite[c] >= 0.25 for c in order],
            value_label="PSI (deciles, or categories for low-cardinality columns)",
        )
        return Outcome(
            value=finite[worst],
            message=(
                f"Largest PSI: {worst} ({finite[worst]:.3f}); {len(drifted)} column(s) at ≥ 0.1"
                + (f": {', '.join(drifted)}." if drifted else ".")
            ),
            details={
                "columns": per,
                "drifted": drifted,
                "share_drifted": len(drifted) / len(finite),
            },
            plots=(Plot("data-quality-drift.svg", plot),),
        )


CHECKS: list[type[Check]] = [
    Schema,
    MissingRate,
    OutOfRange,
    Duplicates,
    TrainTestOverlap,
    LabelBalance,
    Drift,
]
