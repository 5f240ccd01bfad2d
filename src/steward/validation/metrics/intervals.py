"""Bootstrap confidence intervals for the group fairness metrics, from the group counts.

Every group fairness metric is a function of each group's confusion counts (TN, FP, FN, TP),
so a bootstrap need not touch the rows: resampling a group's rows with replacement gives
counts that follow a multinomial distribution with the group's row count and its observed
cell shares. Steward draws ``replicates`` such count tables for every group at once (one
``Generator.multinomial`` call), recomputes every metric on each table with the same
definitions as the point estimate (:mod:`steward.validation.metrics.fairness`), and reports the
percentile interval. This is the *stratified* row bootstrap — group sizes stay as observed —
and costs O(replicates x groups), independent of the number of rows.

Seeded (``numpy.random.default_rng(seed)``), so the same data and seed give the same interval.
Replicates where a metric is undefined (e.g. 0/0) are left out and counted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from steward.domain.errors import InvalidInput
from steward.validation.metrics.grouped import ConfusionCounts

DEFAULT_LEVEL = 0.95
DEFAULT_REPLICATES = 1000
METHOD = (
    "percentile bootstrap over the group confusion counts: each group's (TN, FP, FN, TP) "
    "resampled multinomially with its row count (the stratified row bootstrap)"
)
Float2D = NDArray[np.float64]


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    level: float
    replicates: int
    defined: int  # replicates in which the metric was defined
    seed: int
    method: str = METHOD

    def to_dict(self) -> dict[str, Any]:
        return {
            "low": self.low,
            "high": self.high,
            "level": self.level,
            "replicates": self.replicates,
            "defined": self.defined,
            "seed": self.seed,
            "method": self.method,
        }

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def check_settings(level: float, replicates: int) -> None:
    if not 0.5 <= level < 1.0:
        raise InvalidInput(
            f"interval_level must be at least 0.5 and below 1 (e.g. 0.95), not {level!r}.",
            field="interval_level",
        )
    if replicates < 0 or (0 < replicates < 100):
        raise InvalidInput(
            f"bootstrap_replicates must be 0 (no intervals) or at least 100, not {replicates!r}.",
            field="bootstrap_replicates",
        )


def resample(counts: ConfusionCounts, replicates: int, seed: int) -> tuple[Float2D, ...]:
    """``replicates`` bootstrap count tables: (tn, fp, fn, tp), each shaped (replicates, groups).

    With sample weights the cell shares are the weighted ones and each group's table is scaled
    back to its weighted total, so rates and overall figures keep the weighting."""
    cells = np.stack([counts.tn, counts.fp, counts.fn, counts.tp], axis=1).astype(np.float64)
    weighted = cells.sum(axis=1)
    rows = np.asarray(counts.rows, dtype=np.int64)
    total = weighted[:, None]
    shares = np.divide(cells, total, out=np.zeros_like(cells), where=total > 0)
    rng = np.random.default_rng(seed)
    drawn = rng.multinomial(rows, shares, size=(replicates, len(rows))).astype(np.float64)
    scale = np.divide(weighted, rows, out=np.ones_like(weighted), where=rows > 0)
    drawn *= scale[None, :, None]
    return drawn[..., 0], drawn[..., 1], drawn[..., 2], drawn[..., 3]


def _div(num: Float2D, den: Float2D, zero: float) -> Float2D:
    out = np.full(np.shape(num), zero, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _difference(values: Float2D, overall: Float2D, method: str) -> Float2D:
    if method == "between_groups":
        out: Float2D = values.max(axis=1) - values.min(axis=1)
    else:
        out = np.abs(values - overall[:, None]).max(axis=1)
    return out


def _ratio(values: Float2D, overall: Float2D, method: str) -> Float2D:
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "between_groups":
            between: Float2D = values.min(axis=1) / values.max(axis=1)
            return between
        r = values / overall[:, None]
        r = np.where(r > 1.0, 1.0 / r, r)
    out = np.full(len(values), math.nan)
    defined = ~np.isnan(r).all(axis=1)
    out[defined] = np.nanmin(r[defined], axis=1)
    return out


def _aif(tn: Float2D, fp: Float2D, fn: Float2D, tp: Float2D) -> tuple[Float2D, ...]:
    """SR, TPR, FPR of merged counts (1-D over replicates), NaN for zero denominators."""
    with np.errstate(divide="ignore", invalid="ignore"):
        n, p, neg = tn + fp + fn + tp, fn + tp, tn + fp
        return (
            np.where(n > 0, (fp + tp) / n, math.nan),
            np.where(p > 0, tp / p, math.nan),
            np.where(neg > 0, fp / neg, math.nan),
        )


def replicate_metrics(
    tables: tuple[Float2D, ...],
    *,
    use: NDArray[np.bool_],
    method: str = "between_groups",
    privileged: NDArray[np.bool_] | None = None,
) -> dict[str, Float2D]:
    """Every fairness metric of each replicate table (one value per replicate)."""
    tn, fp, fn, tp = tables
    n = tn + fp + fn + tp
    sr = _div(fp + tp, n, 0.0)
    tpr = _div(tp, fn + tp, 0.0)
    fpr = _div(fp, tn + fp, 0.0)
    totals = [a.sum(axis=1) for a in (tn, fp, fn, tp)]
    o_tn, o_fp, o_fn, o_tp = totals
    o_n = o_tn + o_fp + o_fn + o_tp
    o_sr = _div(o_fp + o_tp, o_n, 0.0)
    o_tpr = _div(o_tp, o_fn + o_tp, 0.0)
    o_fpr = _div(o_fp, o_tn + o_fp, 0.0)
    sr_u, tpr_u, fpr_u = sr[:, use], tpr[:, use], fpr[:, use]
    tpr_d, fpr_d = _difference(tpr_u, o_tpr, method), _difference(fpr_u, o_fpr, method)
    tpr_r, fpr_r = _ratio(tpr_u, o_tpr, method), _ratio(fpr_u, o_fpr, method)
    top = sr_u.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        impact = np.where(top > 0, sr_u.min(axis=1) / top, math.nan)
    out = {
        "demographic_parity_difference": _difference(sr_u, o_sr, method),
        "demographic_parity_ratio": _ratio(sr_u, o_sr, method),
        "equalized_odds_difference": np.fmax(tpr_d, fpr_d),
        "equalized_odds_ratio": np.fmin(tpr_r, fpr_r),
        "equal_opportunity_difference": tpr_d,
        "equal_opportunity_ratio": tpr_r,
        "min_impact_ratio": impact,
    }
    if privileged is not None:
        p_sr, p_tpr, p_fpr = _aif(*(a[:, privileged].sum(axis=1) for a in tables))
        u_sr, u_tpr, u_fpr = _aif(*(a[:, ~privileged].sum(axis=1) for a in tables))
        with np.errstate(divide="ignore", invalid="ignore"):
            out["statistical_parity_difference"] = u_sr - p_sr
            out["disparate_impact"] = np.where(p_sr > 0, u_sr / p_sr, math.nan)
            out["average_odds_difference"] = 0.5 * ((u_fpr - p_fpr) + (u_tpr - p_tpr))
            out["privileged_equal_opportunity_difference"] = u_tpr - p_tpr
    return out


def percentile_intervals(
    values: Mapping[str, Float2D], *, level: float, seed: int
) -> dict[str, Interval | None]:
    """The central ``level`` percentile interval of each metric's finite replicates."""
    tail = (1.0 - level) / 2.0 * 100.0
    out: dict[str, Interval | None] = {}
    for name, draws in values.items():
        finite = draws[np.isfinite(draws)]
        if finite.size == 0:
            out[name] = None
            continue
        low, high = np.percentile(finite, [tail, 100.0 - tail])
        out[name] = Interval(
            low=float(low),
            high=float(high),
            level=level,
            replicates=len(draws),
            defined=int(finite.size),
            seed=seed,
        )
    return out


def fairness_intervals(
    counts: ConfusionCounts,
    *,
    use: NDArray[np.bool_] | None = None,
    method: str = "between_groups",
    privileged: NDArray[np.bool_] | None = None,
    level: float = DEFAULT_LEVEL,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = 0,
) -> dict[str, Interval | None]:
    """Bootstrap intervals of every group fairness metric of ``counts`` (see module doc)."""
    check_settings(level, replicates)
    if use is None:
        use = np.ones(counts.groups.size, dtype=np.bool_)
    tables = resample(counts, replicates, seed)
    metrics = replicate_metrics(tables, use=use, method=method, privileged=privileged)
    return percentile_intervals(metrics, level=level, seed=seed)
