"""Binary classification metrics, equal to scikit-learn's on the same arrays (1e-9).

* Confusion-matrix metrics (accuracy, precision, recall, F1) come from one ``bincount`` over
  ``y_true * 2 + y_pred``; a zero denominator gives 0 (scikit-learn's ``zero_division``).
* Ranking metrics share one sort of the scores: ROC AUC is exact with ties,
  ``Σ_s pos_s·(neg_{<s} + ½·neg_s) / (P·N)`` (= ``roc_auc_score``); Gini = 2·AUC - 1;
  scorecard KS = ``max_s |F_bad(s) - F_good(s)|`` = max |TPR - FPR| over thresholds; average
  precision = ``Σ_k (R_k - R_{k-1})·P_k`` over descending thresholds (= sklearn's).
* Log loss clips probabilities to ``[eps, 1 - eps]`` with eps the float64 machine epsilon
  (as scikit-learn ≥ 1.5); Brier = mean (y - p)².
* Calibration: ``n_bins`` bins (uniform on [0, 1], or quantiles of the scores); a score on an
  inner edge goes to the lower bin, as ``sklearn.calibration.calibration_curve``;
  ECE = Σ_b (n_b / N)·|observed_b - predicted_b|, MCE = max_b of the same gap.
* Thresholding is explicit: ``binarize(score, threshold=0.5, op=">=")`` — Evidently uses
  ``p ≥ 0.5``; every report states the operator and threshold it used.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from steward.domain.errors import InvalidInput
from steward.validation.metrics._arrays import (
    FloatArray,
    as_1d,
    binary,
    check_lengths,
    drop_missing,
    missing_mask,
    one_of,
    probabilities,
    safe_div,
    scores_1d,
    weighted_mean,
    weights,
)

THRESHOLD_OPS = (">=", ">")
CALIBRATION_STRATEGIES = ("uniform", "quantile")
_PRESENCE_LIMIT = 1 << 22


def binarize(y_score: Any, threshold: float = 0.5, op: str = ">=") -> NDArray[np.int8]:
    """0/1 predictions from scores: ``score >= threshold`` (or ``>``)."""
    one_of("op", op, THRESHOLD_OPS)
    s = scores_1d("y_score", as_1d("y_score", y_score))
    out = s >= threshold if op == ">=" else s > threshold
    return out.astype(np.int8)


# --------------------------------------------------------------------------------------------
# Confusion-matrix metrics


def _unique(values: NDArray[Any]) -> NDArray[Any]:
    if values.dtype.kind in "iub":
        v = values.astype(np.int64, copy=False)
        low, high = int(v.min()), int(v.max())
        if high - low < _PRESENCE_LIMIT:
            present = np.bincount(v - low, minlength=high - low + 1) > 0
            found = np.flatnonzero(present) + low
            return found.astype(bool) if values.dtype.kind == "b" else found
    return np.unique(values)


def confusion_matrix(
    y_true: Any, y_pred: Any, *, labels: Any = None, sample_weight: Any = None
) -> NDArray[Any]:
    """``C[i, j]`` = (weighted) rows with true label ``labels[i]`` predicted as ``labels[j]``.

    Labels default to the sorted union of both columns (as scikit-learn).
    """
    yt, yp = as_1d("y_true", y_true), as_1d("y_pred", y_pred)
    n = check_lengths(y_true=yt, y_pred=yp)
    w = weights(sample_weight, n)
    if labels is None:
        lab = np.union1d(_unique(yt), _unique(yp))
    else:
        lab = np.asarray(labels)
        if lab.size == 0 or np.unique(lab).size != lab.size:
            raise InvalidInput("labels must list each class once.")
    order = np.argsort(lab, kind="stable")
    sorted_lab = lab[order]
    k = lab.size

    def codes(name: str, v: NDArray[Any]) -> NDArray[np.int64]:
        pos = np.clip(np.searchsorted(sorted_lab, v), 0, k - 1)
        found = sorted_lab[pos] == v
        if labels is None and not found.all():  # pragma: no cover - union covers everything
            raise InvalidInput(f"{name} has values outside the labels.")
        out = order[pos].astype(np.int64)
        out[~found] = -1
        return out

    ct, cp = codes("y_true", yt), codes("y_pred", yp)
    keep = (ct >= 0) & (cp >= 0)
    cell = ct[keep] * k + cp[keep]
    if w is None:
        return np.bincount(cell, minlength=k * k).reshape(k, k).astype(np.int64)
    return np.bincount(cell, w[keep], minlength=k * k).reshape(k, k)


@dataclass(frozen=True)
class Confusion:
    tn: float
    fp: float
    fn: float
    tp: float

    @property
    def n(self) -> float:
        return self.tn + self.fp + self.fn + self.tp


def binary_confusion(
    y_true_bin: NDArray[np.int8], y_pred_bin: NDArray[np.int8], w: FloatArray | None
) -> Confusion:
    cell = y_true_bin.astype(np.intp) * 2 + y_pred_bin
    c = np.bincount(cell, w, minlength=4).astype(np.float64)
    return Confusion(tn=float(c[0]), fp=float(c[1]), fn=float(c[2]), tp=float(c[3]))


def _binary_inputs(
    y_true: Any, y_pred: Any, pos_label: Any, sample_weight: Any
) -> tuple[NDArray[np.int8], NDArray[np.int8], FloatArray | None]:
    yt, yp = as_1d("y_true", y_true), as_1d("y_pred", y_pred)
    n = check_lengths(y_true=yt, y_pred=yp)
    return binary("y_true", yt, pos_label), binary("y_pred", yp, pos_label), weights(
        sample_weight, n)


def _div(num: float, den: float, zero_division: float) -> float:
    return num / den if den else zero_division


def accuracy(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Share of rows whose prediction equals the label (any labels)."""
    yt, yp = as_1d("y_true", y_true), as_1d("y_pred", y_pred)
    n = check_lengths(y_true=yt, y_pred=yp)
    return weighted_mean((yt == yp).astype(np.float64), weights(sample_weight, n))


def precision(y_true: Any, y_pred: Any, *, pos_label: Any = 1, sample_weight: Any = None,
              zero_division: float = 0.0) -> float:
    c = binary_confusion(*_binary_inputs(y_true, y_pred, pos_label, sample_weight))
    return _div(c.tp, c.tp + c.fp, zero_division)


def recall(y_true: Any, y_pred: Any, *, pos_label: Any = 1, sample_weight: Any = None,
           zero_division: float = 0.0) -> float:
    c = binary_confusion(*_binary_inputs(y_true, y_pred, pos_label, sample_weight))
    return _div(c.tp, c.tp + c.fn, zero_division)


def f1(y_true: Any, y_pred: Any, *, pos_label: Any = 1, sample_weight: Any = None,
       zero_division: float = 0.0) -> float:
    c = binary_confusion(*_binary_inputs(y_true, y_pred, pos_label, sample_weight))
    return _div(2 * c.tp, 2 * c.tp + c.fp + c.fn, zero_division)


# --------------------------------------------------------------------------------------------
# Ranking metrics (one sort)


@dataclass(frozen=True)
class Curve:
    """Cumulative (weighted) positives and negatives at each distinct score, descending."""

    thresholds: FloatArray
    tps: FloatArray
    fps: FloatArray

    @property
    def positives(self) -> float:
        return float(self.tps[-1])

    @property
    def negatives(self) -> float:
        return float(self.fps[-1])


def score_curve(y_true_bin: NDArray[np.int8], y_score: FloatArray, w: FloatArray | None) -> Curve:
    """The one sort every ranking metric uses (like scikit-learn's ``_binary_clf_curve``)."""
    order = np.argsort(-y_score)
    s = y_score[order]
    y = y_true_bin[order].astype(np.float64)
    if w is None:
        tp_cum = np.cumsum(y)
        fp_cum = np.arange(1, len(y) + 1, dtype=np.float64) - tp_cum
    else:
        ww = w[order]
        tp_cum = np.cumsum(y * ww)
        fp_cum = np.cumsum((1.0 - y) * ww)
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    return Curve(thresholds=s[last], tps=tp_cum[last], fps=fp_cum[last])


def _need_both(curve: Curve, metric: str) -> None:
    if curve.positives <= 0 or curve.negatives <= 0:
        only = "positive" if curve.negatives <= 0 else "negative"
        raise InvalidInput(
            f"{metric} needs both classes in y_true, but every row is {only}; evaluate on data "
            "that contains both outcomes."
        )


def auc_from_curve(curve: Curve) -> float:
    _need_both(curve, "ROC AUC")
    fps = np.r_[0.0, curve.fps]
    tps = np.r_[0.0, curve.tps]
    area = float(np.sum(np.diff(fps) * (tps[1:] + tps[:-1])) / 2.0)
    return area / (curve.positives * curve.negatives)


def average_precision_from_curve(curve: Curve) -> float:
    _need_both(curve, "Average precision")
    prec = curve.tps / (curve.tps + curve.fps)
    rec = curve.tps / curve.positives
    return float(np.sum(np.diff(np.r_[0.0, rec]) * prec))


def ks_from_curve(curve: Curve) -> float:
    _need_both(curve, "KS")
    return float(np.max(np.abs(curve.tps / curve.positives - curve.fps / curve.negatives)))


def _curve(y_true: Any, y_score: Any, pos_label: Any, sample_weight: Any) -> Curve:
    yt, ys = as_1d("y_true", y_true), as_1d("y_score", y_score)
    n = check_lengths(y_true=yt, y_score=ys)
    return score_curve(binary("y_true", yt, pos_label), scores_1d("y_score", ys),
                       weights(sample_weight, n))


def roc_auc(y_true: Any, y_score: Any, *, pos_label: Any = 1, sample_weight: Any = None) -> float:
    return auc_from_curve(_curve(y_true, y_score, pos_label, sample_weight))


def gini(y_true: Any, y_score: Any, *, pos_label: Any = 1, sample_weight: Any = None) -> float:
    """Somers' D = 2·AUC - 1, as used in credit scoring."""
    return 2.0 * roc_auc(y_true, y_score, pos_label=pos_label, sample_weight=sample_weight) - 1.0


def ks_statistic(y_true: Any, y_score: Any, *, pos_label: Any = 1,
                 sample_weight: Any = None) -> float:
    """Scorecard KS: the largest gap between the score CDFs of the two classes."""
    return ks_from_curve(_curve(y_true, y_score, pos_label, sample_weight))


def average_precision(y_true: Any, y_score: Any, *, pos_label: Any = 1,
                      sample_weight: Any = None) -> float:
    return average_precision_from_curve(_curve(y_true, y_score, pos_label, sample_weight))


# --------------------------------------------------------------------------------------------
# Probabilistic metrics


def _prob_inputs(
    y_true: Any, y_prob: Any, pos_label: Any, sample_weight: Any
) -> tuple[NDArray[np.int8], FloatArray, FloatArray | None]:
    yt, yp = as_1d("y_true", y_true), as_1d("y_prob", y_prob)
    n = check_lengths(y_true=yt, y_prob=yp)
    return binary("y_true", yt, pos_label), probabilities("y_prob", yp), weights(sample_weight, n)


def _log_loss(y: NDArray[np.int8], p: FloatArray, w: FloatArray | None) -> float:
    eps = float(np.finfo(np.float64).eps)
    p1 = np.clip(p, eps, 1 - eps)
    p0 = np.clip(1.0 - p, eps, 1 - eps)
    loss = -np.where(y == 1, np.log(p1), np.log(p0))
    return weighted_mean(loss, w)


def log_loss(y_true: Any, y_prob: Any, *, pos_label: Any = 1, sample_weight: Any = None) -> float:
    return _log_loss(*_prob_inputs(y_true, y_prob, pos_label, sample_weight))


def _brier(y: NDArray[np.int8], p: FloatArray, w: FloatArray | None) -> float:
    d = y - p
    return weighted_mean(d * d, w)


def brier_score(y_true: Any, y_prob: Any, *, pos_label: Any = 1,
                sample_weight: Any = None) -> float:
    return _brier(*_prob_inputs(y_true, y_prob, pos_label, sample_weight))


@dataclass(frozen=True)
class Calibration:
    """Reliability-curve data and the calibration errors derived from it.

    ``edges`` has ``n_bins + 1`` entries; the per-bin lists hold only non-empty bins (as
    scikit-learn's ``calibration_curve`` returns them), with ``bin_index`` saying which.
    """

    strategy: str
    n_bins: int
    edges: tuple[float, ...]
    bin_index: tuple[int, ...]
    count: tuple[float, ...]  # weighted rows per non-empty bin
    mean_predicted: tuple[float, ...]
    observed_rate: tuple[float, ...]
    expected_calibration_error: float
    maximum_calibration_error: float


def _calibration(
    y: NDArray[np.int8], p: FloatArray, w: FloatArray | None, n_bins: int, strategy: str
) -> Calibration:
    one_of("strategy", strategy, CALIBRATION_STRATEGIES)
    if n_bins < 1:
        raise InvalidInput("n_bins must be at least 1.")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        edges = np.percentile(p, np.linspace(0, 1, n_bins + 1) * 100)
    ids = np.searchsorted(edges[1:-1], p)
    ww = np.ones(len(p)) if w is None else w
    total = np.bincount(ids, ww, minlength=n_bins)
    sums = np.bincount(ids, ww * p, minlength=n_bins)
    true = np.bincount(ids, ww * y, minlength=n_bins)
    nz = np.flatnonzero(total > 0)
    predicted = sums[nz] / total[nz]
    observed = true[nz] / total[nz]
    gap = np.abs(observed - predicted)
    return Calibration(
        strategy=strategy,
        n_bins=n_bins,
        edges=tuple(float(e) for e in edges),
        bin_index=tuple(int(i) for i in nz),
        count=tuple(float(c) for c in total[nz]),
        mean_predicted=tuple(float(v) for v in predicted),
        observed_rate=tuple(float(v) for v in observed),
        expected_calibration_error=float(np.sum(total[nz] * gap) / total.sum()),
        maximum_calibration_error=float(gap.max()),
    )


def calibration(y_true: Any, y_prob: Any, *, n_bins: int = 10, strategy: str = "uniform",
                pos_label: Any = 1, sample_weight: Any = None) -> Calibration:
    y, p, w = _prob_inputs(y_true, y_prob, pos_label, sample_weight)
    return _calibration(y, p, w, n_bins, strategy)


def expected_calibration_error(y_true: Any, y_prob: Any, *, n_bins: int = 10,
                               strategy: str = "uniform", pos_label: Any = 1,
                               sample_weight: Any = None) -> float:
    return calibration(y_true, y_prob, n_bins=n_bins, strategy=strategy, pos_label=pos_label,
                       sample_weight=sample_weight).expected_calibration_error


# --------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class ClassificationReport:
    rows: int
    rows_dropped: int
    positives: float  # weighted count of y_true == pos_label
    threshold: float | None  # how y_pred was derived from y_score, when it was
    threshold_op: str | None
    confusion: Confusion
    accuracy: float
    precision: float
    recall: float
    f1: float
    roc_auc: float | None = None
    gini: float | None = None
    ks: float | None = None
    average_precision: float | None = None
    log_loss: float | None = None
    brier: float | None = None
    calibration: Calibration | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in out.items()}


def classification_report(
    y_true: Any,
    *,
    y_pred: Any = None,
    y_score: Any = None,
    threshold: float = 0.5,
    threshold_op: str = ">=",
    pos_label: Any = 1,
    sample_weight: Any = None,
    n_bins: int = 10,
    calibration_strategy: str = "uniform",
    nan_policy: str = "raise",
) -> ClassificationReport:
    """Every binary classification metric in one call: one bincount and one sort.

    Give ``y_pred`` (labels), ``y_score`` (probability of the positive class), or both; without
    ``y_pred`` the labels are ``y_score <op> threshold`` (stated in the report). Ranking and
    probabilistic metrics need ``y_score``; log loss, Brier and calibration need it in [0, 1].
    A metric that is undefined on the data (e.g. AUC with one class) is ``None`` with a note.
    """
    one_of("threshold_op", threshold_op, THRESHOLD_OPS)
    if y_pred is None and y_score is None:
        raise InvalidInput("Pass y_pred (predicted labels), y_score (scores) or both.")
    yt = as_1d("y_true", y_true)
    yp = None if y_pred is None else as_1d("y_pred", y_pred)
    ys = None if y_score is None else as_1d("y_score", y_score)
    n = check_lengths(y_true=yt, y_pred=yp, y_score=ys)
    w = weights(sample_weight, n)
    kept, dropped = drop_missing(nan_policy, y_true=yt, y_pred=yp, y_score=ys)
    if dropped:
        bad = np.zeros(n, dtype=np.bool_)
        for a in (yt, yp, ys):
            if a is not None:
                bad |= missing_mask(a)
        w = None if w is None else w[~bad]
    kept_true = kept["y_true"]
    assert kept_true is not None
    y = binary("y_true", kept_true, pos_label)
    score = None if kept["y_score"] is None else scores_1d("y_score", kept["y_score"])
    notes: list[str] = []
    if kept["y_pred"] is not None:
        pred = binary("y_pred", kept["y_pred"], pos_label)
        used_threshold, used_op = None, None
    else:
        assert score is not None
        pred = (score >= threshold if threshold_op == ">=" else score > threshold).astype(np.int8)
        used_threshold, used_op = threshold, threshold_op
    c = binary_confusion(y, pred, w)
    report: dict[str, Any] = {
        "rows": len(y),
        "rows_dropped": dropped,
        "positives": c.tp + c.fn,
        "threshold": used_threshold,
        "threshold_op": used_op,
        "confusion": c,
        "accuracy": safe_div(np.array(c.tp + c.tn), np.array(c.n)).item(),
        "precision": _div(c.tp, c.tp + c.fp, 0.0),
        "recall": _div(c.tp, c.tp + c.fn, 0.0),
        "f1": _div(2 * c.tp, 2 * c.tp + c.fp + c.fn, 0.0),
    }
    if score is not None:
        curve = score_curve(y, score, w)
        if curve.positives > 0 and curve.negatives > 0:
            auc = auc_from_curve(curve)
            report |= {"roc_auc": auc, "gini": 2 * auc - 1, "ks": ks_from_curve(curve),
                       "average_precision": average_precision_from_curve(curve)}
        else:
            only = "positive" if curve.negatives <= 0 else "negative"
            notes.append(f"Every row is {only}: ROC AUC, Gini, KS and average precision are "
                         "undefined.")
        if float(score.min()) >= 0.0 and float(score.max()) <= 1.0:
            report |= {"log_loss": _log_loss(y, score, w), "brier": _brier(y, score, w),
                       "calibration": _calibration(y, score, w, n_bins, calibration_strategy)}
        else:
            notes.append("y_score is not a probability in [0, 1]: log loss, Brier and "
                         "calibration are not computed.")
    if c.tp + c.fp == 0:
        notes.append("No positive predictions: precision and F1 are reported as 0.")
    if c.tp + c.fn == 0:
        notes.append("No positive labels: recall is reported as 0.")
    return ClassificationReport(**report, notes=tuple(notes))
