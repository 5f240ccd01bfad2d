"""Robustness checks: how much the primary metric drops and how many predictions flip when
the inputs are perturbed — numeric noise at several fractions of each feature's standard
deviation, categorical value flips, missing-value injection — and monotonic-feature sanity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from steward.domain.checks import CheckFamily, Threshold
from steward.validation import svg
from steward.validation.checks import _scoring
from steward.validation.checks.base import Array, Check, CheckContext, Outcome, Plot


def _base(ctx: CheckContext, max_rows: int) -> tuple[pd.DataFrame, Array, Array, float]:
    """The (sampled) inputs, their labels, the model's predictions and its primary score."""

    def compute() -> tuple[pd.DataFrame, Array, Array, float]:
        n = len(ctx.frame)
        if n > max_rows:
            rng = np.random.default_rng(ctx.seed)
            positions = np.sort(rng.choice(n, size=max_rows, replace=False))
        else:
            positions = np.arange(n)
        x = ctx.frame.iloc[positions][ctx.features].copy()
        y = ctx.y_true[positions]
        pred = ctx.y_pred[positions]
        scores = None if ctx.y_score is None else ctx.y_score[positions]
        return x, y, pred, _scoring.primary_on(ctx, y, pred, scores)

    result: tuple[pd.DataFrame, Array, Array, float] = ctx.memo(f"robust:{max_rows}", compute)
    return result


def _measure(
    ctx: CheckContext, x: pd.DataFrame, y: Array, pred: Array, base: float
) -> dict[str, float]:
    assert ctx.model is not None
    new_pred = ctx.predict_labels(ctx.model, x)
    scores = ctx.predict_scores(ctx.model, x) if ctx.y_score is not None else None
    score = _scoring.primary_on(ctx, y, new_pred, scores)
    if ctx.task == "regression":
        scale = float(np.std(pred)) or 1.0
        flips = float(np.mean(np.abs(new_pred.astype(float) - pred.astype(float)) > 0.1 * scale))
    else:
        flips = float(np.mean(new_pred != pred))
    return {"score": score, "drop": base - score, "flip_rate": flips}


def _metric(ctx: CheckContext) -> str:
    """The primary metric the drops are measured in (stored so reports can name it)."""
    return _scoring.primary_name(ctx, ctx.y_score is not None)


def _numeric(x: pd.DataFrame) -> list[str]:
    return [
        c
        for c in x.columns
        if pd.api.types.is_numeric_dtype(x[c]) and not pd.api.types.is_bool_dtype(x[c])
    ]


def _categorical(x: pd.DataFrame) -> list[str]:
    numeric = set(_numeric(x))
    return [c for c in x.columns if c not in numeric]


class NumericNoise(Check):
    name = "robustness.numeric_noise"
    family = CheckFamily.ROBUSTNESS
    description = (
        "Gaussian noise of sigma x each numeric feature's standard deviation, at several "
        "levels; value: the largest drop in the primary metric over the levels."
    )
    method = (
        "x_j + N(0, (sigma·sd_j)²) for every numeric feature (integers rounded), sigma in "
        "params.sigmas; drop = score - score(noisy), flip rate = share of predictions that "
        "change."
    )
    requires = frozenset({"model"})
    default_threshold = Threshold("<=", 0.1)
    default_params = {"sigmas": [0.1, 0.25, 0.5], "max_rows": 5000}

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        x, y, pred, base = _base(ctx, int(params["max_rows"]))
        columns = _numeric(x)
        if not columns:
            return Outcome(
                value=None, message="skipped: the model has no numeric inputs", skipped=True
            )
        rng = np.random.default_rng(ctx.seed)
        levels: list[dict[str, float]] = []
        for sigma in [float(s) for s in params["sigmas"]]:
            noisy = x.copy()
            for c in columns:
                values = x[c].astype("float64")
                sd = float(values.std(ddof=0)) or 0.0
                moved = values + rng.normal(0.0, sigma * sd, size=len(values))
                if pd.api.types.is_integer_dtype(x[c]):
                    noisy[c] = moved.round().astype(x[c].dtype)
                else:
                    noisy[c] = moved.astype(x[c].dtype)
            levels.append({"sigma": sigma, **_measure(ctx, noisy, y, pred, base)})
        worst = max(levels, key=lambda lv: lv["drop"])
        plot = svg.line_chart(
            "Robustness to numeric noise",
            [
                ("metric drop", [lv["sigma"] for lv in levels], [lv["drop"] for lv in levels]),
                ("flip rate", [lv["sigma"] for lv in levels], [lv["flip_rate"] for lv in levels]),
            ],
            x_label="noise (fraction of each feature's standard deviation)",
            y_label="drop / flip rate",
        )
        return Outcome(
            value=worst["drop"],
            message=(
                f"Worst at sigma = {worst['sigma']:g}: metric drops {worst['drop']:.4f}, "
                f"{worst['flip_rate']:.1%} of predictions flip."
            ),
            details={
                "metric": _metric(ctx),
                "baseline_score": base,
                "levels": levels,
                "features": columns,
            },
            plots=(Plot("robustness-noise.svg", plot),),
        )


class CategoricalFlip(Check):
    name = "robustness.categorical_flip"
    family = CheckFamily.ROBUSTNESS
    description = (
        "Replace a share (params.rate) of each categorical feature's values with another "
        "observed category; value: the drop in the primary metric."
    )
    method = "For each row chosen with probability rate, a different category drawn by frequency."
    requires = frozenset({"model"})
    default_threshold = Threshold("<=", 0.05)
    default_params = {"rate": 0.1, "max_rows": 5000}

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        x, y, pred, base = _base(ctx, int(params["max_rows"]))
        columns = [c for c in _categorical(x) if x[c].nunique() > 1]
        if not columns:
            return Outcome(
                value=None, message="skipped: the model has no categorical inputs", skipped=True
            )
        rng = np.random.default_rng(ctx.seed)
        rate = float(params["rate"])
        flipped = x.copy()
        for c in columns:
            counts = x[c].value_counts()
            cats, probs = counts.index.to_numpy(), (counts / counts.sum()).to_numpy()
            chosen = rng.random(len(x)) < rate
            original = x[c].to_numpy()
            draws = cats[rng.choice(len(cats), size=len(x), p=probs)]
            same = draws == original
            # redraw uniformly among the other categories where the draw did not change anything
            for i in np.flatnonzero(chosen & same):
                others = cats[cats != original[i]]
                draws[i] = others[rng.integers(len(others))]
            values = np.where(chosen, draws, original)
            flipped[c] = pd.Series(values, index=x.index).astype(x[c].dtype)
        measured = _measure(ctx, flipped, y, pred, base)
        return Outcome(
            value=measured["drop"],
            message=(
                f"Flipping {rate:.0%} of categorical values: metric drops {measured['drop']:.4f}, "
                f"{measured['flip_rate']:.1%} of predictions flip."
            ),
            details={
                "metric": _metric(ctx),
                "baseline_score": base,
                "rate": rate,
                "features": columns,
                **measured,
            },
        )


class MissingInjection(Check):
    name = "robustness.missing_injection"
    family = CheckFamily.ROBUSTNESS
    description = (
        "Blank a share (params.rate) of every feature's values; value: the drop in the primary "
        "metric. A model that rejects missing values is reported (informational unless "
        "params.require_support is true)."
    )
    method = "Each value set to missing with probability rate; drop and flip rate as above."
    requires = frozenset({"model"})
    default_threshold = Threshold("<=", 0.1)
    default_params = {"rate": 0.1, "max_rows": 5000, "require_support": False}

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        x, y, pred, base = _base(ctx, int(params["max_rows"]))
        rng = np.random.default_rng(ctx.seed)
        rate = float(params["rate"])
        blanked = x.copy()
        for c in x.columns:
            mask = rng.random(len(x)) < rate
            column = x[c]
            if pd.api.types.is_integer_dtype(column) or pd.api.types.is_bool_dtype(column):
                column = column.astype("float64")
            blanked[c] = column.mask(mask)
        try:
            measured = _measure(ctx, blanked, y, pred, base)
        except Exception as exc:
            required = bool(params["require_support"])
            return Outcome(
                value=None,
                passed=False if required else None,
                informational=not required,
                message=(
                    f"The model cannot predict when values are missing ({type(exc).__name__}: "
                    f"{str(exc)[:200]}); missing inputs must be imputed before they reach it."
                ),
                details={"rate": rate, "supported": False},
            )
        return Outcome(
            value=measured["drop"],
            message=(
                f"With {rate:.0%} of values missing: metric drops {measured['drop']:.4f}, "
                f"{measured['flip_rate']:.1%} of predictions flip."
            ),
            details={
                "metric": _metric(ctx),
                "baseline_score": base,
                "rate": rate,
                "supported": True,
                **measured,
            },
        )


class Monotonicity(Check):
    name = "robustness.monotonicity"
    family = CheckFamily.ROBUSTNESS
    description = (
        "For features declared monotonic (params.features: {name: increasing|decreasing}), "
        "the share of rows whose score moves the wrong way when the feature increases."
    )
    method = "x_j + step·sd_j; violation when the score changes against the declared direction."
    requires = frozenset({"model"})
    default_threshold = Threshold("<=", 0.01)
    default_params = {"features": {}, "step": 0.5, "max_rows": 5000, "tolerance": 1e-9}

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        declared = dict(params["features"] or {})
        if not declared:
            return Outcome(
                value=None,
                message="skipped: no monotonic features declared (params.features)",
                skipped=True,
            )
        assert ctx.model is not None
        x, _y, _pred, _base_score = _base(ctx, int(params["max_rows"]))
        before = self._scores(ctx, x)
        per_feature: dict[str, float] = {}
        for feature, direction in declared.items():
            if feature not in x.columns or direction not in ("increasing", "decreasing"):
                return Outcome(
                    value=None,
                    passed=False,
                    message=(
                        f"Monotonic declaration {feature}: {direction} is invalid; name a model "
                        "input and 'increasing' or 'decreasing'."
                    ),
                )
            moved = x.copy()
            values = x[feature].astype("float64")
            step = float(params["step"]) * (float(np.std(values.to_numpy())) or 1.0)
            shifted = values + step
            moved[feature] = (
                shifted.round().astype(x[feature].dtype)
                if pd.api.types.is_integer_dtype(x[feature])
                else shifted
            )
            delta = self._scores(ctx, moved) - before
            tol = float(params["tolerance"])
            wrong = delta < -tol if direction == "increasing" else delta > tol
            per_feature[feature] = float(np.mean(wrong))
        worst = max(per_feature, key=lambda f: per_feature[f])
        return Outcome(
            value=per_feature[worst],
            message=f"Worst: {worst} moves the wrong way on {per_feature[worst]:.1%} of rows.",
            details={"violation_rate": per_feature, "declared": declared},
        )

    @staticmethod
    def _scores(ctx: CheckContext, x: pd.DataFrame) -> Array:
        assert ctx.model is not None
        scores = ctx.predict_scores(ctx.model, x)
        if scores is None:
            scores = ctx.model.predict(x).astype(np.float64)
        return np.asarray(scores, dtype=np.float64)


CHECKS: list[type[Check]] = [NumericNoise, CategoricalFlip, MissingInjection, Monotonicity]
