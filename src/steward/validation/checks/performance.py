"""Performance checks: classification and regression metrics, and the comparison with the
parent/champion version on the same data. Numbers come from Steward's kernels
(:mod:`steward.validation.metrics`), which match scikit-learn to 1e-9."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from steward.domain.checks import CheckFamily, Threshold
from steward.validation import svg
from steward.validation.checks import _scoring
from steward.validation.checks.base import Check, CheckContext, Outcome, Plot
from steward.validation.metrics import classification, regression
from steward.validation.metrics._arrays import binary, scores_1d


class _Label(Check):
    """A metric of y_true and predicted labels."""

    family = CheckFamily.PERFORMANCE
    requires = frozenset({"classification"})
    fn: Callable[..., float]
    uses_pos_label = True

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        kwargs = {"pos_label": ctx.positive_label} if self.uses_pos_label else {}
        value = type(self).fn(ctx.y_true, ctx.y_pred, **kwargs)
        return Outcome(value=value, details={"positive_label": str(ctx.positive_label)})


def not_probabilities(ctx: CheckContext, metric: str) -> Outcome | None:
    """An outcome saying "not applicable" (and why) when scores are not probabilities."""
    found = ctx.score_range()
    if found is None:
        return None
    low, high = found
    source = (
        f"the score column {ctx.score_column!r} (--y-score)"
        if ctx.score_column
        else "the model's scores"
    )
    return Outcome(
        value=None,
        message=(
            f"not applicable: scores are not probabilities — {source} ranges from {low:g} to "
            f"{high:g}, outside [0, 1], and {metric} reads a score as the probability of the "
            "positive class. Rank metrics (ROC AUC, Gini, KS) are computed from the scores as "
            "they are; pass a column of probabilities with --y-score for this one."
        ),
        details={"score_min": low, "score_max": high, "reason": "scores are not probabilities"},
        skipped=True,
    )


class _Score(Check):
    """A metric of y_true and the positive-class score."""

    family = CheckFamily.PERFORMANCE
    requires = frozenset({"classification", "y_score"})
    fn: Callable[..., float]
    probability_metric: str = ""  # set when the metric needs probabilities, not just ranks

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        if self.probability_metric and (na := not_probabilities(ctx, self.probability_metric)):
            return na
        value = type(self).fn(ctx.y_true, ctx.y_score, pos_label=ctx.positive_label)
        return Outcome(value=value, details={"positive_label": str(ctx.positive_label)})


class Accuracy(_Label):
    name = "performance.accuracy"
    description = "Share of rows predicted correctly."
    method = "mean(ŷ = y) (sklearn accuracy_score)."
    fn = staticmethod(classification.accuracy)
    uses_pos_label = False


class Precision(_Label):
    name = "performance.precision"
    description = "Of the rows predicted positive, the share that are positive."
    method = "TP / (TP + FP), 0 when nothing is predicted positive (sklearn precision_score)."
    fn = staticmethod(classification.precision)


class Recall(_Label):
    name = "performance.recall"
    description = "Of the positive rows, the share predicted positive."
    method = "TP / (TP + FN) (sklearn recall_score)."
    fn = staticmethod(classification.recall)


class F1(_Label):
    name = "performance.f1"
    description = "Harmonic mean of precision and recall."
    method = "2·TP / (2·TP + FP + FN) (sklearn f1_score)."
    fn = staticmethod(classification.f1)


ROC_MAX_POINTS = 200


def roc_points(curve: classification.Curve, max_points: int = ROC_MAX_POINTS) -> dict[str, Any]:
    """The ROC curve as ``sklearn.metrics.roc_curve`` (default ``drop_intermediate``) returns
    it — (0, 0) first, its threshold ``None`` for sklearn's ``inf`` — thinned to at most
    ``max_points`` of its own points, evenly spaced along FPR + TPR (which rises from 0 to 2),
    so every stored point lies on the full curve and the area under the kept points differs
    from the AUC by at most a few thousandths."""
    fps, tps, thresholds = curve.fps, curve.tps, curve.thresholds
    if len(fps) > 2:
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fpr = np.r_[0.0, fps] / curve.negatives
    tpr = np.r_[0.0, tps] / curve.positives
    total = len(fpr)
    index = np.arange(total)
    if total > max_points:
        walked = fpr + tpr
        targets = np.linspace(0.0, float(walked[-1]), max_points)[1:-1]
        index = np.unique(np.r_[0, np.searchsorted(walked, targets), total - 1])
    cuts: list[float | None] = [None, *(float(t) for t in thresholds)]
    return {
        "fpr": [float(fpr[i]) for i in index],
        "tpr": [float(tpr[i]) for i in index],
        "thresholds": [cuts[i] for i in index],
        "points": total,
        "thinned": total > len(index),
    }


class RocAuc(_Score):
    name = "performance.roc_auc"
    description = "Probability that a random positive scores above a random negative."
    method = (
        "Σ_s pos_s·(neg_<s + ½·neg_s)/(P·N), exact with ties (sklearn roc_auc_score); details "
        "keep the ROC curve (sklearn roc_curve points, thinned to at most 200)."
    )
    fn = staticmethod(classification.roc_auc)

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        outcome = super().run(ctx, params)
        assert ctx.y_score is not None
        curve = classification.score_curve(
            binary("y_true", np.asarray(ctx.y_true), ctx.positive_label),
            scores_1d("y_score", np.asarray(ctx.y_score)),
            None,
        )
        return replace(outcome, details={**outcome.details, "roc_curve": roc_points(curve)})


class Gini(_Score):
    name = "performance.gini"
    description = "Gini coefficient (Somers' D), as used in credit scoring."
    method = "2·AUC - 1."
    fn = staticmethod(classification.gini)


class KS(_Score):
    name = "performance.ks"
    description = "Scorecard KS: largest separation of the score CDFs of positives and negatives."
    method = "max_s |F_pos(s) - F_neg(s)|."
    fn = staticmethod(classification.ks_statistic)


class PrAuc(_Score):
    name = "performance.pr_auc"
    description = "Area under the precision-recall curve (average precision)."
    method = "Σ_n (R_n - R_{n-1})·P_n (sklearn average_precision_score)."
    fn = staticmethod(classification.average_precision)


class LogLoss(_Score):
    name = "performance.log_loss"
    description = "Mean negative log-likelihood of the true labels under the scores."
    method = "-mean(y·ln p + (1-y)·ln(1-p)), p clipped as sklearn log_loss."
    fn = staticmethod(classification.log_loss)
    probability_metric = "log loss"


class Brier(_Score):
    name = "performance.brier"
    description = "Mean squared difference between the score and the outcome."
    method = "mean((p - y)²) (sklearn brier_score_loss)."
    fn = staticmethod(classification.brier_score)
    probability_metric = "the Brier score"


class CalibrationError(Check):
    name = "performance.calibration_error"
    family = CheckFamily.PERFORMANCE
    description = "Expected calibration error, with a reliability plot."
    method = (
        "Σ_b (n_b/N)·|observed rate_b - mean score_b| over n_bins equal-width score bins "
        "(params: n_bins=10, strategy=uniform|quantile)."
    )
    requires = frozenset({"classification", "y_score"})
    default_params = {"n_bins": 10, "strategy": "uniform"}

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        if na := not_probabilities(ctx, "calibration"):
            return na
        cal = classification.calibration(
            ctx.y_true,
            ctx.y_score,
            n_bins=int(params["n_bins"]),
            strategy=str(params["strategy"]),
            pos_label=ctx.positive_label,
        )
        plot = svg.line_chart(
            "Reliability (calibration) curve",
            [("model", cal.mean_predicted, cal.observed_rate)],
            x_label="mean predicted probability",
            y_label="observed positive rate",
            diagonal=True,
            x_range=(0.0, 1.0),
            y_range=(0.0, 1.0),
        )
        return Outcome(
            value=cal.expected_calibration_error,
            message=f"Maximum bin gap {cal.maximum_calibration_error:.3f}.",
            details={
                "n_bins": cal.n_bins,
                "strategy": cal.strategy,
                "bins": [
                    {"bin": b, "count": c, "mean_predicted": m, "observed_rate": o}
                    for b, c, m, o in zip(
                        cal.bin_index, cal.count, cal.mean_predicted, cal.observed_rate, strict=True
                    )
                ],
                "maximum_calibration_error": cal.maximum_calibration_error,
            },
            plots=(Plot("performance-reliability.svg", plot),),
        )


class ConfusionMatrix(Check):
    name = "performance.confusion_matrix"
    family = CheckFamily.PERFORMANCE
    description = "Confusion matrix (informational; value: number of misclassified rows)."
    method = "Counts of (y, ŷ) pairs."
    requires = frozenset({"classification"})

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        y_true, y_pred = ctx.y_true, ctx.y_pred
        if y_true.dtype.kind not in "biuf" or y_pred.dtype.kind not in "biuf":
            y_true, y_pred = y_true.astype(str), y_pred.astype(str)
        labels = sorted({*np.unique(y_true).tolist(), *np.unique(y_pred).tolist()})
        matrix = classification.confusion_matrix(y_true, y_pred, labels=labels)
        wrong = float(matrix.sum() - np.trace(matrix))
        return Outcome(
            value=wrong,
            message=f"{int(wrong)} of {int(matrix.sum())} rows misclassified.",
            details={
                "labels": [str(v) for v in labels],
                "matrix": matrix.tolist(),
                "rows": "true",
                "cols": "pred",
            },
        )


class _Regression(Check):
    family = CheckFamily.PERFORMANCE
    requires = frozenset({"regression"})
    fn: Callable[..., float]

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        return Outcome(value=type(self).fn(ctx.y_true, ctx.y_pred))


class MAE(_Regression):
    name = "performance.mae"
    description = "Mean absolute error."
    method = "mean|ŷ - y| (sklearn mean_absolute_error)."
    fn = staticmethod(regression.mae)


class RMSE(_Regression):
    name = "performance.rmse"
    description = "Root mean squared error."
    method = "sqrt(mean((ŷ - y)²)) (sklearn root_mean_squared_error)."
    fn = staticmethod(regression.rmse)


class R2(_Regression):
    name = "performance.r2"
    description = "Coefficient of determination."
    method = "1 - Σ(y - ŷ)² / Σ(y - ȳ)² (sklearn r2_score)."
    fn = staticmethod(regression.r2)


class MAPE(_Regression):
    name = "performance.mape"
    description = "Mean absolute percentage error (a fraction, as sklearn)."
    method = "mean(|ŷ - y| / max(|y|, ε)) (sklearn mean_absolute_percentage_error)."
    fn = staticmethod(regression.mape)


class VsBaseline(Check):
    name = "performance.vs_baseline"
    family = CheckFamily.PERFORMANCE
    description = (
        "The primary metric (ROC AUC, else accuracy; R² for regression) minus that of the "
        "parent version (or the champion alias) on the same data; negative means worse."
    )
    method = "primary(this version) - primary(baseline), both predicted on the same rows."
    requires = frozenset({"model", "baseline"})
    default_threshold = Threshold(">=", -0.02)

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        assert ctx.baseline is not None
        x = ctx.x
        base_pred = ctx.predict_labels(ctx.baseline, x)
        base_score = ctx.predict_scores(ctx.baseline, x) if ctx.task == "classification" else None
        use_score = ctx.y_score is not None and base_score is not None
        metric = _scoring.primary_name(ctx, use_score)
        mine = ctx.score(ctx.y_pred, ctx.y_score if use_score else None)
        theirs = ctx.score(base_pred, base_score if use_score else None)
        return Outcome(
            value=mine - theirs,
            message=(
                f"{metric}: {mine:.4f} for this version vs {theirs:.4f} for the baseline "
                f"({ctx.baseline_label})."
            ),
            details={
                "metric": metric,
                "version": mine,
                "baseline": theirs,
                "baseline_label": ctx.baseline_label,
            },
        )


CHECKS: list[type[Check]] = [
    Accuracy,
    Precision,
    Recall,
    F1,
    RocAuc,
    Gini,
    KS,
    PrAuc,
    LogLoss,
    Brier,
    CalibrationError,
    ConfusionMatrix,
    MAE,
    RMSE,
    R2,
    MAPE,
    VsBaseline,
]
