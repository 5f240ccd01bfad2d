"""Group fairness metrics from one grouped count pass (metrics-reference.md §2.7).

Definitions (per group g, weights w, ``ŷ`` the predicted and ``y`` the true label)::

    n_g = Σw   S_g = Σw·[ŷ=1]   P_g = Σw·[y=1]   TP_g = Σw·[y=1,ŷ=1]   FP_g = Σw·[y=0,ŷ=1]
    selection rate SR_g = S_g / n_g
    TPR_g = TP_g / P_g            (0 when P_g = 0, as Fairlearn)
    FPR_g = FP_g / (n_g - P_g)    (0 when the denominator is 0, as Fairlearn)

Aggregates over groups (``method="between_groups"``, Fairlearn's default, or ``"to_overall"``):

* difference = max_g v_g - min_g v_g, or max_g |v_g - v_all|;
* ratio = min_g v_g / max_g v_g, or min_g min(v_g/v_all, v_all/v_g); 0/0 is NaN.
* demographic parity: v = SR; equal opportunity: v = TPR; equalized odds: the worse (larger
  difference, smaller ratio) of the TPR and FPR figures, or their mean with ``agg="mean"``.

Against a named privileged group (AIF360's definitions; "unprivileged" is every other row):
statistical parity difference SR_u - SR_p, disparate impact SR_u / SR_p, equal opportunity
difference TPR_u - TPR_p (signed) and average odds difference ½[(FPR_u-FPR_p)+(TPR_u-TPR_p)].
Undefined rates (zero denominators) are NaN there, as in AIF360.

Four-fifths rule (29 CFR §1607.4(D)): impact ratio IR_g = SR_g / max_h SR_h; a group is flagged
when IR_g < 0.8. min_g IR_g equals the between-groups demographic parity ratio. Each flagged
group also gets a pooled two-proportion z-test p-value against the highest-rate group, since
the rule is a screen, not a significance test.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
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
    numeric,
    one_of,
    safe_div,
    weights,
)
from steward.validation.metrics.grouped import (
    Column,
    ConfusionCounts,
    Groups,
    _columns,
    confusion_counts,
    encode_groups,
    group_sums,
    grouped_confusion,
)

METHODS = ("between_groups", "to_overall")
AGGREGATIONS = ("worst_case", "mean")
SMALL_GROUP_POLICIES = ("include", "exclude")
DEFAULT_MIN_GROUP_SIZE = 30
FOUR_FIFTHS = 0.8
AUTO_BAND_DISTINCT = 20  # numeric sensitive features with more distinct values are banded
AUTO_BANDS = 5  # ... into quintiles of the data, unless bands are given


# --------------------------------------------------------------------------------------------
# Aggregation over groups


def _quiet_divide(num: FloatArray | float, den: FloatArray | float) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(num, den)


def difference(values: FloatArray, overall: float, method: str = "between_groups") -> float:
    """max - min over groups, or the largest absolute gap to the overall value."""
    one_of("method", method, METHODS)
    if method == "between_groups":
        return float(values.max() - values.min())
    return float(np.abs(values - overall).max())


def ratio(values: FloatArray, overall: float, method: str = "between_groups") -> float:
    """min / max over groups, or the smallest of min(v/v_all, v_all/v) (NaN for 0/0)."""
    one_of("method", method, METHODS)
    if method == "between_groups":
        return float(_quiet_divide(values.min(), values.max()))
    r = _quiet_divide(values, overall)
    r = np.where(r > 1.0, _quiet_divide(1.0, r), r)
    if np.isnan(r).all():
        return math.nan
    return float(np.nanmin(r))


def _worst(first: float, second: float, larger: bool) -> float:
    """The worse of two component figures; a NaN (undefined) component is ignored."""
    if math.isnan(first):
        return second
    if math.isnan(second):
        return first
    return max(first, second) if larger else min(first, second)


def _mean(first: float, second: float) -> float:
    defined = [v for v in (first, second) if not math.isnan(v)]
    return sum(defined) / len(defined) if defined else math.nan


# --------------------------------------------------------------------------------------------
# Rates


@dataclass(frozen=True)
class Rates:
    """Per-group rate arrays (indexed by group code) plus the overall values."""

    selection_rate: FloatArray
    true_positive_rate: FloatArray
    false_positive_rate: FloatArray
    precision: FloatArray
    accuracy: FloatArray
    base_rate: FloatArray
    overall: dict[str, float]


def _rates_of(tn: Any, fp: Any, fn: Any, tp: Any) -> dict[str, Any]:
    tn, fp, fn, tp = (np.asarray(v, dtype=np.float64) for v in (tn, fp, fn, tp))
    n = tn + fp + fn + tp
    return {
        "selection_rate": safe_div(fp + tp, n),
        "true_positive_rate": safe_div(tp, fn + tp),
        "false_positive_rate": safe_div(fp, tn + fp),
        "precision": safe_div(tp, fp + tp),
        "accuracy": safe_div(tp + tn, n),
        "base_rate": safe_div(fn + tp, n),
    }


def rates(counts: ConfusionCounts) -> Rates:
    """Selection rate, TPR, FPR, precision, accuracy and base rate per group and overall."""
    per_group = _rates_of(counts.tn, counts.fp, counts.fn, counts.tp)
    overall = {k: float(v) for k, v in _rates_of(*counts.total()).items()}
    return Rates(**per_group, overall=overall)


# --------------------------------------------------------------------------------------------
# Fairlearn-compatible single metrics (same arguments as fairlearn.metrics)


def demographic_parity_difference(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, method: str = "between_groups",
    sample_weight: Any = None,
) -> float:
    r = rates(grouped_confusion(y_true, y_pred, sensitive_features, sample_weight=sample_weight))
    return difference(r.selection_rate, r.overall["selection_rate"], method)


def demographic_parity_ratio(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, method: str = "between_groups",
    sample_weight: Any = None,
) -> float:
    r = rates(grouped_confusion(y_true, y_pred, sensitive_features, sample_weight=sample_weight))
    return ratio(r.selection_rate, r.overall["selection_rate"], method)


def equal_opportunity_difference(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, method: str = "between_groups",
    sample_weight: Any = None,
) -> float:
    r = rates(grouped_confusion(y_true, y_pred, sensitive_features, sample_weight=sample_weight))
    return difference(r.true_positive_rate, r.overall["true_positive_rate"], method)


def equal_opportunity_ratio(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, method: str = "between_groups",
    sample_weight: Any = None,
) -> float:
    r = rates(grouped_confusion(y_true, y_pred, sensitive_features, sample_weight=sample_weight))
    return ratio(r.true_positive_rate, r.overall["true_positive_rate"], method)


def _equalized_odds(r: Rates, method: str, agg: str, *, as_ratio: bool) -> float:
    one_of("agg", agg, AGGREGATIONS)
    measure = ratio if as_ratio else difference
    tpr = measure(r.true_positive_rate, r.overall["true_positive_rate"], method)
    fpr = measure(r.false_positive_rate, r.overall["false_positive_rate"], method)
    return _worst(tpr, fpr, larger=not as_ratio) if agg == "worst_case" else _mean(tpr, fpr)


def equalized_odds_difference(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, method: str = "between_groups",
    sample_weight: Any = None, agg: str = "worst_case",
) -> float:
    r = rates(grouped_confusion(y_true, y_pred, sensitive_features, sample_weight=sample_weight))
    return _equalized_odds(r, method, agg, as_ratio=False)


def equalized_odds_ratio(
    y_true: Any, y_pred: Any, *, sensitive_features: Any, method: str = "between_groups",
    sample_weight: Any = None, agg: str = "worst_case",
) -> float:
    r = rates(grouped_confusion(y_true, y_pred, sensitive_features, sample_weight=sample_weight))
    return _equalized_odds(r, method, agg, as_ratio=True)


# --------------------------------------------------------------------------------------------
# Banding continuous sensitive features


@dataclass(frozen=True)
class Banding:
    """How a continuous sensitive feature was cut into bands — stated in every report."""

    feature: str
    edges: tuple[float, ...]  # interior cut points; bands are [e_i, e_{i+1}), outer ones open
    labels: tuple[str, ...]
    rule: str  # "given edges" or "quintiles of the data"


def _fmt(x: float) -> str:
    return f"{x:g}"


def band_labels(edges: Sequence[float]) -> tuple[str, ...]:
    """``"< 25"``, ``"[25, 40)"``, ..., ``">= 60"`` for interior edges 25, 40, ..., 60."""
    if not edges:
        return ("all",)
    labels = [f"< {_fmt(edges[0])}"]
    labels += [f"[{_fmt(a)}, {_fmt(b)})" for a, b in itertools.pairwise(edges)]
    labels.append(f">= {_fmt(edges[-1])}")
    return tuple(labels)


def _check_edges(feature: str, edges: Sequence[float]) -> tuple[float, ...]:
    out = tuple(float(e) for e in edges)
    if not out or not all(math.isfinite(e) for e in out):
        raise InvalidInput(
            f"bands for {feature!r} must be one or more finite cut points, e.g. [25, 40, 60]."
        )
    if any(b <= a for a, b in itertools.pairwise(out)):
        raise InvalidInput(f"bands for {feature!r} must be strictly increasing, got {list(out)}.")
    return out


def quantile_edges(values: Any, bands: int = AUTO_BANDS) -> tuple[float, ...]:
    """Interior cut points at the 1/k … (k-1)/k quantiles of the finite values (ties merged)."""
    raw = as_1d("values", values)
    x = numeric("values", raw[~missing_mask(raw)])
    qs = np.quantile(x, np.arange(1, bands) / bands)
    return tuple(float(v) for v in np.unique(qs))


def band(
    values: Any, edges: Sequence[float], *, feature: str = "value", rule: str = "given edges"
) -> tuple[NDArray[np.int64], Banding]:
    """Band index per row (-1 for missing) and the stated :class:`Banding`.

    Bands are left-closed: ``[e_i, e_{i+1})``, the first open below, the last open above.
    """
    x = as_1d(feature, values)
    if x.dtype.kind not in "biuf":
        raise InvalidInput(f"only numeric features can be banded; {feature!r} is {x.dtype}.")
    cut = _check_edges(feature, edges)
    xf = x.astype(np.float64, copy=False)
    index = np.searchsorted(np.asarray(cut), xf, side="right").astype(np.int64)
    index[~np.isfinite(xf)] = -1
    return index, Banding(feature=feature, edges=cut, labels=band_labels(cut), rule=rule)


# --------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class GroupRow:
    group: str
    key: tuple[Any, ...]
    rows: int
    count: float  # weighted
    selection_rate: float
    true_positive_rate: float
    false_positive_rate: float
    precision: float
    accuracy: float
    base_rate: float
    impact_ratio: float  # SR_g / max SR (four-fifths rule)
    small: bool  # fewer rows than min_group_size
    undefined: tuple[str, ...]  # rates whose denominator is 0 in this group (reported as 0)
    z_pvalue: float | None = None  # two-proportion z-test vs the highest-rate group


@dataclass(frozen=True)
class FourFifths:
    threshold: float
    reference_group: str  # the group with the highest selection rate
    min_impact_ratio: float
    flagged: tuple[str, ...]  # groups with impact ratio < threshold

    @property
    def passed(self) -> bool:
        return not self.flagged


@dataclass(frozen=True)
class PrivilegedComparison:
    privileged: dict[str, Any]
    privileged_rows: int
    unprivileged_rows: int
    statistical_parity_difference: float
    disparate_impact: float
    equal_opportunity_difference: float  # signed, TPR_u - TPR_p
    average_odds_difference: float


@dataclass(frozen=True)
class FairnessReport:
    features: tuple[str, ...]
    method: str
    groups: tuple[GroupRow, ...]
    overall: dict[str, float]
    demographic_parity_difference: float
    demographic_parity_ratio: float
    equalized_odds_difference: float
    equalized_odds_ratio: float
    equal_opportunity_difference: float
    equal_opportunity_ratio: float
    four_fifths: FourFifths
    privileged: PrivilegedComparison | None
    min_group_size: int
    small_groups: str  # "include" or "exclude" (from the aggregates; always listed)
    bands: tuple[Banding, ...] = ()
    rows: int = 0
    rows_dropped: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)
    # The FPR components of equalized odds (the TPR ones are the equal opportunity figures),
    # so a message can say which gap sets the value.
    false_positive_rate_difference: float = math.nan
    false_positive_rate_ratio: float = math.nan
    # Bootstrap confidence interval of each metric (Interval.to_dict(), or None when undefined
    # in every replicate); empty unless asked for (see steward.validation.metrics.intervals).
    intervals: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    def group(self, label: str) -> GroupRow:
        for row in self.groups:
            if row.group == label:
                return row
        raise KeyError(label)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN becomes None)."""
        out: dict[str, Any] = _json(asdict(self))
        return out | {"four_fifths_passed": self.four_fifths.passed}


def _json(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, np.generic):
        return _json(value.item())
    return value


def _two_proportion_p(s1: float, n1: float, s2: float, n2: float) -> float | None:
    """Pooled two-proportion z-test, two-sided p = 2(1 - Φ(|z|))."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (s1 / n1 - s2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def _prepare_features(
    sensitive_features: Any, bands: Mapping[str, Sequence[float]] | None
) -> tuple[dict[str, Column], dict[str, Banding]]:
    """Band continuous features (given edges, or quintiles when > 20 distinct numbers).

    Coded columns (pandas categoricals, Arrow dictionaries) pass through coded unless
    ``bands`` names them."""
    columns = _columns(sensitive_features)
    bands = dict(bands or {})
    unknown = sorted(set(bands) - set(columns))
    if unknown:
        raise InvalidInput(
            f"bands name {', '.join(map(repr, unknown))}, which is not a sensitive feature; "
            f"the sensitive features are {', '.join(map(repr, columns))}."
        )
    out: dict[str, Column] = {}
    stated: dict[str, Banding] = {}
    for name, col in columns.items():
        if name in bands:
            out[name], stated[name] = band(col, bands[name], feature=name)
        elif (isinstance(col, np.ndarray) and col.dtype.kind in "iuf"
              and np.unique(col[~missing_mask(col)]).size > AUTO_BAND_DISTINCT):
            edges = quantile_edges(col, AUTO_BANDS)
            out[name], stated[name] = band(
                col, edges, feature=name,
                rule=f"{AUTO_BANDS} quantile bands of the data (more than "
                f"{AUTO_BAND_DISTINCT} distinct values; pass bands={{{name!r}: [...]}} to choose)",
            )
        else:
            out[name] = col
    for name in stated:
        index = np.asarray(out[name])
        missing = index < 0
        if missing.any():  # missing values stay missing; encode_groups applies its policy
            labelled = index.astype(object)
            labelled[missing] = None
            out[name] = labelled
    return out, stated


def _relabel(groups: Groups, stated: Mapping[str, Banding]) -> Groups:
    if not stated:
        return groups
    positions = {f: i for i, f in enumerate(groups.features)}
    keys = []
    for key in groups.keys:
        parts = list(key)
        for name, banding in stated.items():
            value = parts[positions[name]]
            if isinstance(value, int | np.integer):
                parts[positions[name]] = banding.labels[int(value)]
        keys.append(tuple(parts))
    return Groups(features=groups.features, keys=tuple(keys), codes=groups.codes)


def _privileged_mask(groups: Groups, privileged: Any) -> tuple[NDArray[np.bool_], dict[str, Any]]:
    if isinstance(privileged, Mapping):
        spec = dict(privileged)
    elif len(groups.features) == 1:
        spec = {groups.features[0]: privileged}
    elif isinstance(privileged, tuple) and len(privileged) == len(groups.features):
        spec = dict(zip(groups.features, privileged, strict=True))
    else:
        raise InvalidInput(
            "privileged must name the privileged group, e.g. {'sex': 'male'} (a mapping from "
            "sensitive feature to value) or, with one sensitive feature, just the value."
        )
    unknown = sorted(set(spec) - set(groups.features))
    if unknown:
        raise InvalidInput(
            f"privileged names {', '.join(map(repr, unknown))}, which is not a sensitive feature "
            f"(they are {', '.join(map(repr, groups.features))})."
        )
    positions = [(groups.features.index(f), v) for f, v in spec.items()]
    mask = np.array(
        [all(key[i] == v or str(key[i]) == str(v) for i, v in positions) for key in groups.keys],
        dtype=np.bool_,
    )
    if not mask.any():
        raise InvalidInput(
            f"No rows belong to the privileged group {spec}; check the value's spelling "
            f"(groups present: {', '.join(sorted({str(k) for k in groups.keys}))})."
        )
    if mask.all():
        raise InvalidInput(
            f"Every row belongs to the privileged group {spec}; there is no unprivileged group "
            "to compare with."
        )
    return mask, spec


def _aif_rates(tn: float, fp: float, fn: float, tp: float) -> tuple[float, float, float]:
    """SR, TPR, FPR with NaN for zero denominators (AIF360)."""
    n, p, neg = tn + fp + fn + tp, fn + tp, tn + fp
    return (
        (fp + tp) / n if n else math.nan,
        tp / p if p else math.nan,
        fp / neg if neg else math.nan,
    )


def privileged_comparison(counts: ConfusionCounts, privileged: Any) -> PrivilegedComparison:
    """AIF360-style signed metrics: unprivileged (all other rows) minus / over privileged."""
    mask, spec = _privileged_mask(counts.groups, privileged)
    sr_p, tpr_p, fpr_p = _aif_rates(*counts.merged(mask))
    sr_u, tpr_u, fpr_u = _aif_rates(*counts.merged(~mask))
    di = sr_u / sr_p if sr_p else (math.inf if sr_u else math.nan)
    return PrivilegedComparison(
        privileged=spec,
        privileged_rows=int(counts.rows[mask].sum()),
        unprivileged_rows=int(counts.rows[~mask].sum()),
        statistical_parity_difference=sr_u - sr_p,
        disparate_impact=di,
        equal_opportunity_difference=tpr_u - tpr_p,
        average_odds_difference=0.5 * ((fpr_u - fpr_p) + (tpr_u - tpr_p)),
    )


def fairness_report(
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    *,
    sample_weight: Any = None,
    pos_label: Any = 1,
    method: str = "between_groups",
    privileged: Any = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    small_groups: str = "include",
    bands: Mapping[str, Sequence[float]] | None = None,
    missing: str = "raise",
    nan_policy: str = "raise",
    four_fifths_threshold: float = FOUR_FIFTHS,
    interval_replicates: int = 0,
    interval_level: float = 0.95,
    seed: int = 0,
) -> FairnessReport:
    """Every group fairness metric from one grouped count pass.

    ``y_pred`` are predicted labels (binarise scores first, e.g. with
    :func:`~steward.validation.metrics.classification.binarize`). ``sensitive_features`` is one
    column or several (mapping/DataFrame) — groups are their intersections. Groups with fewer
    than ``min_group_size`` rows are flagged ``small`` and kept separate (never merged); with
    ``small_groups="exclude"`` they are left out of the differences and ratios (the overall
    figures always use every row). ``bands`` cuts numeric features at given edges; numeric
    features with more than 20 distinct values are otherwise banded into quintiles, and every
    banding is stated in the report. ``nan_policy="omit"`` drops rows whose label or
    prediction is missing (their number is reported); missing *group* values follow
    ``missing`` (``"raise"`` or ``"group"``). ``interval_replicates`` > 0 adds a seeded
    bootstrap confidence interval at ``interval_level`` to every metric (``report.intervals``).
    """
    one_of("method", method, METHODS)
    one_of("small_groups", small_groups, SMALL_GROUP_POLICIES)
    if min_group_size < 1:
        raise InvalidInput("min_group_size must be at least 1.")
    yt = as_1d("y_true", y_true)
    yp = as_1d("y_pred", y_pred)
    columns, stated = _prepare_features(sensitive_features, bands)
    n = check_lengths(y_true=yt, y_pred=yp, **{f"sensitive feature {k!r}": v
                                               for k, v in columns.items()})
    w = weights(sample_weight, n)
    kept, dropped = drop_missing(nan_policy, y_true=yt, y_pred=yp)
    if dropped:
        keep = ~(missing_mask(yt) | missing_mask(yp))
        columns = {k: v[keep] for k, v in columns.items()}
        w = None if w is None else w[keep]
        kept_true, kept_pred = kept["y_true"], kept["y_pred"]
        assert kept_true is not None and kept_pred is not None
        yt, yp = kept_true, kept_pred
    groups = _relabel(encode_groups(columns, missing=missing), stated)
    counts = confusion_counts(groups, binary("y_true", yt, pos_label),
                              binary("y_pred", yp, pos_label), w)
    return report_from_counts(
        counts, method=method, privileged=privileged, min_group_size=min_group_size,
        small_groups=small_groups, four_fifths_threshold=four_fifths_threshold,
        bands=tuple(stated.values()), rows_dropped=dropped,
        interval_replicates=interval_replicates, interval_level=interval_level, seed=seed,
    )


def report_from_counts(
    counts: ConfusionCounts,
    *,
    method: str = "between_groups",
    privileged: Any = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    small_groups: str = "include",
    four_fifths_threshold: float = FOUR_FIFTHS,
    bands: tuple[Banding, ...] = (),
    rows_dropped: int = 0,
    interval_replicates: int = 0,
    interval_level: float = 0.95,
    seed: int = 0,
) -> FairnessReport:
    """The :class:`FairnessReport` of an existing count table (e.g. one built by an engine)."""
    r = rates(counts)
    labels = counts.groups.labels
    small = counts.rows < min_group_size
    use = ~small if small_groups == "exclude" else np.ones(len(small), dtype=np.bool_)
    notes: list[str] = []
    if small.any():
        listed = ", ".join(
            f"{labels[i]} ({int(counts.rows[i])} rows)" for i in np.flatnonzero(small)
        )
        action = ("left out of the differences and ratios" if small_groups == "exclude"
                  else "included; their rates are noisy")
        notes.append(f"Groups smaller than {min_group_size} rows ({action}): {listed}.")
    if int(use.sum()) < 1:
        raise InvalidInput(
            f"No group has at least {min_group_size} rows, so nothing is left to compare; lower "
            "min_group_size or pass small_groups='include'."
        )
    if counts.groups.size == 1:
        notes.append("Only one group is present; every difference is 0 and every ratio 1.")

    def agg_diff(values: FloatArray, key: str) -> float:
        return difference(values[use], r.overall[key], method)

    def agg_ratio(values: FloatArray, key: str) -> float:
        return ratio(values[use], r.overall[key], method)

    tpr_d = agg_diff(r.true_positive_rate, "true_positive_rate")
    fpr_d = agg_diff(r.false_positive_rate, "false_positive_rate")
    tpr_r = agg_ratio(r.true_positive_rate, "true_positive_rate")
    fpr_r = agg_ratio(r.false_positive_rate, "false_positive_rate")

    sr_used = np.where(use, r.selection_rate, -np.inf)
    top = int(np.argmax(sr_used))
    top_sr = float(r.selection_rate[top])
    impact = (_quiet_divide(r.selection_rate, top_sr) if top_sr > 0
              else np.full(len(labels), math.nan))
    flagged_mask = use & (impact < four_fifths_threshold)
    if top_sr == 0:
        notes.append("No group has any positive prediction; impact ratios are undefined.")

    selected, n = counts.selected, counts.n
    rows_out = []
    for i, label in enumerate(labels):
        undefined = tuple(
            name for name, den in (
                ("true_positive_rate", counts.positives[i]),
                ("false_positive_rate", counts.negatives[i]),
                ("precision", selected[i]),
            ) if den == 0
        )
        rows_out.append(GroupRow(
            group=label,
            key=counts.groups.keys[i],
            rows=int(counts.rows[i]),
            count=float(n[i]),
            selection_rate=float(r.selection_rate[i]),
            true_positive_rate=float(r.true_positive_rate[i]),
            false_positive_rate=float(r.false_positive_rate[i]),
            precision=float(r.precision[i]),
            accuracy=float(r.accuracy[i]),
            base_rate=float(r.base_rate[i]),
            impact_ratio=float(impact[i]),
            small=bool(small[i]),
            undefined=undefined,
            z_pvalue=(_two_proportion_p(float(selected[i]), float(n[i]), float(selected[top]),
                                        float(n[top])) if flagged_mask[i] else None),
        ))
    if any(row.undefined for row in rows_out):
        notes.append(
            "Some groups have no positives, no negatives or no positive predictions; the "
            "affected rates are reported as 0 (Fairlearn's convention) and listed as undefined."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        min_ir = float(np.nanmin(impact[use])) if not np.isnan(impact[use]).all() else math.nan
    return FairnessReport(
        features=counts.groups.features,
        method=method,
        groups=tuple(rows_out),
        overall=r.overall,
        demographic_parity_difference=agg_diff(r.selection_rate, "selection_rate"),
        demographic_parity_ratio=agg_ratio(r.selection_rate, "selection_rate"),
        equalized_odds_difference=_worst(tpr_d, fpr_d, larger=True),
        equalized_odds_ratio=_worst(tpr_r, fpr_r, larger=False),
        equal_opportunity_difference=tpr_d,
        equal_opportunity_ratio=tpr_r,
        four_fifths=FourFifths(
            threshold=four_fifths_threshold,
            reference_group=labels[top],
            min_impact_ratio=min_ir,
            flagged=tuple(labels[i] for i in np.flatnonzero(flagged_mask)),
        ),
        privileged=None if privileged is None else privileged_comparison(counts, privileged),
        min_group_size=min_group_size,
        small_groups=small_groups,
        bands=bands,
        rows=int(counts.rows.sum()),
        rows_dropped=rows_dropped,
        notes=tuple(notes),
        false_positive_rate_difference=fpr_d,
        false_positive_rate_ratio=fpr_r,
        intervals=_intervals(
            counts, use, method, privileged, interval_replicates, interval_level, seed
        ),
    )


def _intervals(
    counts: ConfusionCounts,
    use: NDArray[np.bool_],
    method: str,
    privileged: Any,
    replicates: int,
    level: float,
    seed: int,
) -> dict[str, dict[str, Any] | None]:
    if replicates <= 0:
        return {}
    from steward.validation.metrics.intervals import fairness_intervals

    mask = None if privileged is None else _privileged_mask(counts.groups, privileged)[0]
    found = fairness_intervals(
        counts, use=use, method=method, privileged=mask, level=level, replicates=replicates,
        seed=seed,
    )
    return {name: None if i is None else i.to_dict() for name, i in found.items()}


# --------------------------------------------------------------------------------------------
# Regression: error gaps between groups


@dataclass(frozen=True)
class RegressionGroupRow:
    group: str
    key: tuple[Any, ...]
    rows: int
    count: float
    mae: float
    rmse: float
    mean_error: float  # mean(y_pred - y_true): > 0 over-predicts for this group
    small: bool


@dataclass(frozen=True)
class RegressionGaps:
    features: tuple[str, ...]
    groups: tuple[RegressionGroupRow, ...]
    overall: dict[str, float]
    mae_difference: float  # max - min over groups
    mae_ratio: float  # min / max
    rmse_difference: float
    rmse_ratio: float
    mean_error_difference: float
    worst_mae_group: str
    min_group_size: int
    bands: tuple[Banding, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return dict(_json(asdict(self)))


def regression_group_gaps(
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    *,
    sample_weight: Any = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    small_groups: str = "include",
    bands: Mapping[str, Sequence[float]] | None = None,
    missing: str = "raise",
) -> RegressionGaps:
    """Per-group MAE, RMSE and mean error, and the gaps between groups (three bincounts)."""
    one_of("small_groups", small_groups, SMALL_GROUP_POLICIES)
    yt = numeric("y_true", as_1d("y_true", y_true))
    yp = numeric("y_pred", as_1d("y_pred", y_pred))
    columns, stated = _prepare_features(sensitive_features, bands)
    n = check_lengths(y_true=yt, y_pred=yp, **{f"sensitive feature {k!r}": v
                                               for k, v in columns.items()})
    w = weights(sample_weight, n)
    groups = _relabel(encode_groups(columns, missing=missing), stated)
    err = yp - yt
    count = group_sums(groups, np.ones(n), w)
    rows = np.bincount(groups.codes, minlength=groups.size)
    mae = safe_div(group_sums(groups, np.abs(err), w), count)
    rmse = np.sqrt(safe_div(group_sums(groups, err * err, w), count))
    bias = safe_div(group_sums(groups, err, w), count)
    small = rows < min_group_size
    use = ~small if small_groups == "exclude" else np.ones(groups.size, dtype=np.bool_)
    if not use.any():
        raise InvalidInput(
            f"No group has at least {min_group_size} rows; lower min_group_size or pass "
            "small_groups='include'."
        )
    total = float(count.sum())
    overall = {
        "mae": float(group_sums(groups, np.abs(err), w).sum() / total),
        "rmse": math.sqrt(float(group_sums(groups, err * err, w).sum() / total)),
        "mean_error": float(group_sums(groups, err, w).sum() / total),
    }
    labels = groups.labels
    notes = []
    if small.any():
        listed = ", ".join(labels[i] for i in np.flatnonzero(small))
        notes.append(f"Groups smaller than {min_group_size} rows: {listed}.")
    worst = int(np.argmax(np.where(use, mae, -np.inf)))
    return RegressionGaps(
        features=groups.features,
        groups=tuple(
            RegressionGroupRow(
                group=labels[i], key=groups.keys[i], rows=int(rows[i]), count=float(count[i]),
                mae=float(mae[i]), rmse=float(rmse[i]), mean_error=float(bias[i]),
                small=bool(small[i]),
            ) for i in range(groups.size)
        ),
        overall=overall,
        mae_difference=difference(mae[use], overall["mae"]),
        mae_ratio=ratio(mae[use], overall["mae"]),
        rmse_difference=difference(rmse[use], overall["rmse"]),
        rmse_ratio=ratio(rmse[use], overall["rmse"]),
        mean_error_difference=difference(bias[use], overall["mean_error"]),
        worst_mae_group=labels[worst],
        min_group_size=min_group_size,
        bands=tuple(stated.values()),
        notes=tuple(notes),
    )
