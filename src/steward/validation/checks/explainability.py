"""Explainability checks: permutation importance with confidence intervals, sensitive features
or their proxies among the most important features, and SHAP when the extra is installed."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from steward.domain.checks import CheckFamily, Threshold
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
        "Mean |SHAP value| per feature on a sample (needs the optional shap package). "
        "Informational; value: the top feature's mean |SHAP|."
    )
    method = "shap.Explainer on the model's prediction function with a background sample."
    requires = frozenset({"model", "shap"})
    default_params = {"max_rows": 200, "background": 100}

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        import shap  # type: ignore[import-not-found,unused-ignore]

        model = ctx.model
        assert model is not None
        rows = _sample(ctx, int(params["max_rows"]))
        x = ctx.frame.loc[rows, ctx.features]
        background = x.head(int(params["background"]))

        def fn(data: Any) -> Any:
            frame = pd.DataFrame(data, columns=ctx.features).astype(x.dtypes.to_dict())
            scores = ctx.predict_scores(model, frame)
            return scores if scores is not None else model.predict(frame)

        explainer = shap.Explainer(fn, background)
        values = np.abs(np.asarray(explainer(x).values, dtype=np.float64)).mean(axis=0)
        ranked = sorted(zip(ctx.features, values.tolist(), strict=True), key=lambda t: -t[1])
        return Outcome(
            value=ranked[0][1] if ranked else None,
            message="Top by mean |SHAP|: " + ", ".join(f"{n} ({v:.4f})" for n, v in ranked[:5]),
            details={"mean_abs_shap": dict(ranked)},
        )


def shap_available() -> bool:
    return installed("shap")


CHECKS: list[type[Check]] = [PermutationImportanceCheck, SensitiveInTopFeatures, Shap]
