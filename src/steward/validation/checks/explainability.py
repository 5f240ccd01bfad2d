"""Explainability checks: permutation importance with confidence intervals, sensitive features
or their proxies among the most important features, and SHAP when the extra is installed."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from steward.domain.checks import CheckFamily, Threshold
from steward.domain.errors import InvalidInput
from steward.validation import svg
from steward.validation.checks import _scoring
from steward.validation.checks.base import Check, CheckContext, Outcome, Plot
from steward.validation.loading import installed
from steward.validation.metrics.importance import PermutationImportance, permutation_importance

DEFAULTS = {"n_repeats": 5, "max_rows": 5000, "confidence": 0.95}


def _sample(ctx: CheckContext, max_rows: int) -> pd.Index:
    index = ctx.frame.index
    if len(index) <= max_rows:
        return index
    rng = np.random.default_rng(ctx.seed)
    return index[np.sort(rng.choice(len(index), size=max_rows, replace=False))]


def importance(ctx: CheckContext, params: Mapping[str, Any]) -> PermutationImportance:
    n_repeats = int(params.get("n_repeats", DEFAULTS["n_repeats"]))
    max_rows = int(params.get("max_rows", DEFAULTS["max_rows"]))
    confidence = float(params.get("confidence", DEFAULTS["confidence"]))

    def compute() -> PermutationImportance:
        model = ctx.model
        assert model is not None
        rows = _sample(ctx, max_rows)
        x = ctx.frame.loc[rows, ctx.features]
        positions = ctx.frame.index.get_indexer(rows)
        y = ctx.y_true[positions]
        use_score = ctx.y_score is not None

        def score(data: Any, labels: Any, _w: Any) -> float:
            # One model call per score: ROC AUC needs only the scores, accuracy only labels.
            if use_score:
                scores = ctx.predict_scores(model, data)
                if scores is not None:
                    return _scoring.primary_on(ctx, labels, ctx.y_pred[:0], scores)
            return _scoring.primary_on(ctx, labels, ctx.predict_labels(model, data), None)

        return permutation_importance(
            score, x, y, n_repeats=n_repeats, random_state=ctx.seed, confidence=confidence
        )

    return ctx.memo(f"importance:{n_repeats}:{max_rows}:{confidence}", compute)


class PermutationImportanceCheck(Check):
    name = "explainability.permutation_importance"
    family = CheckFamily.EXPLAINABILITY
    description = (
        "Drop in the primary metric when each feature is shuffled (model-agnostic), with "
        "t-based confidence intervals over repeats and a plot. Informational; value: the top "
        "feature's mean importance."
    )
    method = (
        "importance_j = score - score(feature j permuted), n_repeats shuffles seeded as "
        "sklearn.inspection.permutation_importance; rows sampled to max_rows."
    )
    requires = frozenset({"model"})
    default_params = DEFAULTS

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        result = importance(ctx, params)
        ranked = result.ranked()
        shown = ranked[:20]
        plot = svg.bar_chart(
            "Permutation importance",
            [f.feature for f in shown],
            [f.mean for f in shown],
            errors=[0.0 if math.isnan(f.ci_high) else f.ci_high - f.mean for f in shown],
            value_label=(
                f"drop in {_scoring.primary_name(ctx, ctx.y_score is not None)} when shuffled "
                f"({result.n_repeats} repeats, {result.confidence:.0%} CI)"
            ),
        )
        return Outcome(
            value=ranked[0].mean if ranked else None,
            message="Top features: " + ", ".join(f"{f.feature} ({f.mean:.4f})" for f in ranked[:5]),
            details={**result.to_dict(), "ranking": [f.feature for f in ranked]},
            plots=(Plot("explainability-permutation-importance.svg", plot),),
        )


def _codes(series: pd.Series, bins: int = 10) -> np.ndarray[Any, Any]:
    if pd.api.types.is_numeric_dtype(series) and series.nunique() > bins:
        ranked = series.rank(method="average", pct=True).fillna(-1.0).to_numpy()
        return np.where(ranked < 0, -1, np.minimum((ranked * bins).astype(int), bins - 1))
    codes, _ = pd.factorize(series.astype("object"), use_na_sentinel=True)
    return np.asarray(codes)


def normalized_mutual_information(a: pd.Series, b: pd.Series) -> float:
    """MI(a; b) / sqrt(H(a)·H(b)) on categories (numbers binned into deciles); 0 … 1."""
    ca, cb = _codes(a) + 1, _codes(b) + 1
    ka, kb = int(ca.max()) + 1, int(cb.max()) + 1
    joint = np.bincount(ca * kb + cb, minlength=ka * kb).reshape(ka, kb).astype(np.float64)
    joint /= joint.sum()
    pa, pb = joint.sum(axis=1), joint.sum(axis=0)
    nz = joint > 0
    mi = float((joint[nz] * np.log(joint[nz] / np.outer(pa, pb)[nz])).sum())
    ha = float(-(pa[pa > 0] * np.log(pa[pa > 0])).sum())
    hb = float(-(pb[pb > 0] * np.log(pb[pb > 0])).sum())
    return mi / math.sqrt(ha * hb) if ha > 0 and hb > 0 else 0.0


def association(a: pd.Series, b: pd.Series) -> tuple[float, float | None]:
    """(normalised mutual information, |Pearson correlation| when both are numeric)."""
    corr = None
    if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
        with np.errstate(invalid="ignore", divide="ignore"):
            value = float(a.astype("float64").corr(b.astype("float64")))
        corr = abs(value) if math.isfinite(value) else None
    return normalized_mutual_information(a, b), corr


class SensitiveInTopFeatures(Check):
    name = "explainability.sensitive_in_top_features"
    family = CheckFamily.EXPLAINABILITY
    description = (
        "Flags when a sensitive feature, or a likely proxy of one (high correlation or mutual "
        "information with it), is among the top_k most important features. Value: how many."
    )
    method = (
        "Top top_k features by permutation importance (positive only); proxy when |Pearson r| "
        ">= corr_threshold or normalised mutual information >= mi_threshold (numbers binned "
        "into deciles)."
    )
    requires = frozenset({"model", "sensitive"})
    default_threshold = Threshold("<=", 0)
    default_params = {**DEFAULTS, "top_k": 5, "corr_threshold": 0.5, "mi_threshold": 0.3}

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        result = importance(ctx, params)
        top_k = int(params["top_k"])
        top = [f for f in result.ranked() if f.mean > 0][:top_k]
        flagged: list[dict[str, Any]] = []
        for f in top:
            if f.feature in ctx.sensitive:
                flagged.append({"feature": f.feature, "reason": "is a sensitive feature"})
                continue
            for s in ctx.sensitive:
                mi, corr = association(ctx.frame[f.feature], ctx.frame[s])
                if (corr is not None and corr >= float(params["corr_threshold"])) or mi >= float(
                    params["mi_threshold"]
                ):
                    flagged.append(
                        {
                            "feature": f.feature,
                            "reason": f"likely proxy of {s}",
                            "sensitive": s,
                            "mutual_information": mi,
                            "correlation": corr,
                        }
                    )
                    break
        names = [f.feature for f in top]
        message = (
            "Among the top features: "
            + "; ".join(f"{x['feature']} {x['reason']}" for x in flagged)
            + ". Review whether the model may use it, directly or as a proxy."
            if flagged
            else f"No sensitive feature or proxy among the top {len(names)}: {', '.join(names)}."
        )
        return Outcome(
            value=float(len(flagged)),
            message=message,
            details={"top_features": names, "flagged": flagged, "top_k": top_k},
        )


class Shap(Check):
    name = "explainability.shap"
    family = CheckFamily.EXPLAINABILITY
    description = (
        "Mean |SHAP value| per feature on a sample of rows (needs the optional shap package), "
        "with a plot and the agreement of its ranking with permutation importance. "
        "Informational; value: the top feature's mean |SHAP|."
    )
    method = (
        "SHAP of P(positive) (classifiers with scores; else the predicted-positive indicator; "
        "the prediction for regression) against a background sample of the reference data (else "
        "the evaluation data): shap.TreeExplainer (interventional) for tree models whose leaves "
        "hold that output (forests, tree regressors) on numeric inputs, else "
        "shap.explainers.Exact when 2^features <= max_evals, else shap.explainers.Permutation "
        "with max_evals evaluations per row (seeded); categorical columns coded for shap and "
        "decoded before the model predicts. Agreement: Spearman rank "
        "correlation with permutation importance and the shared share of both top_k."
    )
    requires = frozenset({"model", "shap"})
    default_params = {
        "max_rows": 50,
        "background": 20,
        "max_evals": 200,
        "method": "auto",
        "top_k": 5,
    }

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        from steward.validation import shapley

        model = ctx.model
        assert model is not None
        max_rows, n_background = int(params["max_rows"]), int(params["background"])
        if max_rows < 1 or n_background < 1 or int(params["max_evals"]) < 1:
            raise InvalidInput(
                "explainability.shap params max_rows, background and max_evals must be at "
                "least 1; fix the suite entry's params.",
                field="suite",
            )
        if params["method"] not in shapley.METHODS:
            raise InvalidInput(
                f"explainability.shap param method is {params['method']!r}; use one of "
                f"{', '.join(shapley.METHODS)}.",
                field="suite",
            )
        rows = _sample(ctx, max_rows)
        x = ctx.frame.loc[rows, ctx.features].reset_index(drop=True)
        source = "reference" if ctx.reference is not None else "evaluation"
        pool = ctx.reference if ctx.reference is not None else ctx.frame
        picked = _sample_frame(pool, n_background, ctx.seed + 1)
        background = picked[ctx.features].astype(x.dtypes.to_dict()).reset_index(drop=True)

        probability = ctx.task == "classification" and ctx.y_score is not None
        if probability:
            output_name = f"P({ctx.target}={ctx.positive_label})"

            def output(frame: pd.DataFrame) -> np.ndarray[Any, Any]:
                scores = ctx.predict_scores(model, frame)
                assert scores is not None
                return np.asarray(scores, dtype=np.float64)

        elif ctx.task == "classification":
            output_name = f"predicted {ctx.target}={ctx.positive_label} (0/1)"

            def output(frame: pd.DataFrame) -> np.ndarray[Any, Any]:
                labels = ctx.predict_labels(model, frame)
                return np.asarray(labels == ctx.positive_label, dtype=np.float64)

        else:
            output_name = f"predicted {ctx.target}"

            def output(frame: pd.DataFrame) -> np.ndarray[Any, Any]:
                return np.asarray(ctx.predict_labels(model, frame), dtype=np.float64)

        classes = model.classes or [0, 1]
        result = shapley.explain(
            model,
            model.native,
            x,
            background,
            output,
            output_name=output_name,
            class_column=classes.index(ctx.positive_label) if ctx.positive_label in classes else 1,
            seed=ctx.seed,
            max_evals=int(params["max_evals"]),
            method=str(params["method"]),
        )
        ranked = result.ranked()
        perm = ctx.memo_any("importance:") or importance(ctx, DEFAULTS)
        agree = shapley.agreement(
            ranked, {f.feature: f.mean for f in perm.features}, int(params["top_k"])
        )
        shown = ranked[:20]
        plot = svg.bar_chart(
            "Mean |SHAP value|",
            [n for n, _ in shown],
            [v for _, v in shown],
            value_label=f"mean |SHAP| of {output_name} over {result.rows} rows ({result.method})",
        )
        rho = agree["spearman"]
        message = (
            f"Top by mean |SHAP| of {output_name}: "
            + ", ".join(f"{n} ({v:.4f})" for n, v in ranked[:5])
            + f". Agreement with permutation importance: {agree['top_k_shared']} of the top "
            f"{agree['top_k']} shared"
            + (f", Spearman rank correlation {rho:.2f}." if rho is not None else ".")
        )
        return Outcome(
            value=ranked[0][1] if ranked else None,
            message=message,
            details={
                "mean_abs_shap": dict(ranked),
                "ranking": [n for n, _ in ranked],
                "explained": output_name,
                "explainer": result.method,
                "rows": result.rows,
                "background_rows": result.background,
                "background_source": source,
                "max_evals": result.max_evals,
                "base_value": float(np.mean(result.base_values)),
                "additivity_error": result.additivity_error,
                "agreement_with_permutation_importance": agree,
                "shap_version": _shap_version(),
            },
            plots=(Plot("explainability-shap.svg", plot),),
        )


def _sample_frame(frame: pd.DataFrame, size: int, seed: int) -> pd.DataFrame:
    if len(frame) <= size:
        return frame
    rng = np.random.default_rng(seed)
    return frame.iloc[np.sort(rng.choice(len(frame), size=size, replace=False))]


def _shap_version() -> str:
    from importlib.metadata import version

    return version("shap")


def shap_available() -> bool:
    return installed("shap")


CHECKS: list[type[Check]] = [PermutationImportanceCheck, SensitiveInTopFeatures, Shap]
