"""Fairness checks: one grouped count pass over every combination of the sensitive features.

All classification checks read one :class:`~steward.validation.metrics.fairness.FairnessReport`
(memoised on the context), so a suite with ten fairness checks still makes one pass. Small
groups are reported (``details.small_groups``), never merged; continuous features are banded
with the stated bands (``details.bands``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from steward.domain.checks import CheckFamily, Threshold
from steward.validation import svg
from steward.validation.checks.base import Check, CheckContext, Outcome, Plot
from steward.validation.metrics.fairness import (
    FairnessReport,
    RegressionGaps,
    fairness_report,
    regression_group_gaps,
)
from steward.validation.metrics.intervals import DEFAULT_LEVEL, DEFAULT_REPLICATES

_CLASSIFICATION = frozenset({"sensitive", "classification"})


def report(ctx: CheckContext) -> FairnessReport:
    def compute() -> FairnessReport:
        assert ctx.groups is not None
        privileged = ctx.settings.get("privileged") or None
        return fairness_report(
            ctx.y_true,
            ctx.y_pred,
            ctx.groups,
            pos_label=ctx.settings.get("favorable_label", ctx.positive_label),
            privileged=privileged,
            min_group_size=int(ctx.settings.get("min_group_size") or 30),
            small_groups=str(ctx.settings.get("small_groups") or "include"),
            bands=ctx.bands or None,
            missing="group",
            interval_replicates=int(_setting(ctx, "bootstrap_replicates", DEFAULT_REPLICATES)),
            interval_level=float(_setting(ctx, "interval_level", DEFAULT_LEVEL)),
            seed=ctx.seed,
        )

    return ctx.memo("fairness.report", compute)


def _setting(ctx: CheckContext, key: str, default: float) -> Any:
    value = ctx.settings.get(key)
    return default if value is None else value


def interval(rep: FairnessReport, key: str) -> dict[str, Any]:
    """``{"interval": {...}}`` for a check's details (empty when intervals are off)."""
    if not rep.intervals:
        return {}
    return {"interval": rep.intervals.get(key)}


def interval_text(rep: FairnessReport, key: str) -> str:
    found = rep.intervals.get(key)
    if not found:
        return ""
    return (
        f"{found['level']:.0%} bootstrap interval [{found['low']:.3f}, {found['high']:.3f}] "
        f"({found['replicates']} replicates, seed {found['seed']})."
    )


def _common(rep: FairnessReport) -> dict[str, Any]:
    return {
        "features": list(rep.features),
        "small_groups_policy": rep.small_groups,
        "groups": len(rep.groups),
        "small_groups": [g.group for g in rep.groups if g.small],
        "min_group_size": rep.min_group_size,
        "bands": [
            {"feature": b.feature, "edges": list(b.edges), "labels": list(b.labels), "rule": b.rule}
            for b in rep.bands
        ],
        "notes": list(rep.notes),
    }


def _spread(rep: FairnessReport, attr: str, label: str) -> str:
    rows = [
        g
        for g in rep.groups
        if not math.isnan(getattr(g, attr)) and not (g.small and rep.small_groups == "exclude")
    ]
    if not rows:
        return ""
    lo = min(rows, key=lambda g: getattr(g, attr))
    hi = max(rows, key=lambda g: getattr(g, attr))
    return (
        f"{label} ranges from {getattr(lo, attr):.3f} ({lo.group}, {lo.rows} rows) to "
        f"{getattr(hi, attr):.3f} ({hi.group}, {hi.rows} rows)."
    )


def direction(ctx: CheckContext) -> str:
    """One sentence: which outcome the rates are of, and what that means for the reading."""
    fav = ctx.settings.get("favorable_label")
    if ctx.settings.get("positive_means") == "adverse":
        return (
            f"Selected means predicted {fav!r}, the favourable outcome: a positive prediction "
            f"({ctx.positive_label!r}) is adverse, so the group predicted "
            f"{ctx.positive_label!r} most often has the lowest rate and is the disadvantaged one."
        )
    return f"Selected means predicted {fav!r}, the favourable outcome."


def _direction_details(ctx: CheckContext) -> dict[str, Any]:
    return {
        "favorable_label": str(ctx.settings.get("favorable_label")),
        "positive_means": ctx.settings.get("positive_means"),
    }


class _ReportCheck(Check):
    family = CheckFamily.FAIRNESS
    requires = _CLASSIFICATION
    attr: str = ""
    rate: str = "selection_rate"
    rate_label: str = "Selection rate"

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        rep = report(ctx)
        label = (
            f"Share predicted {ctx.settings.get('favorable_label')!r} (the favourable outcome)"
            if self.rate == "selection_rate"
            else self.rate_label
        )
        message = _spread(rep, self.rate, label)
        if self.rate == "selection_rate":
            message = f"{message} {direction(ctx)}".strip()
        message = f"{message} {interval_text(rep, self.attr)}".strip()
        return Outcome(
            value=float(getattr(rep, self.attr)),
            message=message,
            details={**_common(rep), **_direction_details(ctx), **interval(rep, self.attr)},
        )


class GroupTable(Check):
    name = "fairness.group_table"
    family = CheckFamily.FAIRNESS
    description = (
        "Per-group table over every observed combination of the sensitive features: count, "
        "selection rate, TPR, FPR, precision, accuracy, base rate, impact ratio."
    )
    method = "One bincount over group x y_true x y_pred (metrics-reference.md §2.7)."
    requires = _CLASSIFICATION

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        rep = report(ctx)
        rows = [
            {
                "group": g.group,
                "rows": g.rows,
                "selection_rate": g.selection_rate,
                "true_positive_rate": g.true_positive_rate,
                "false_positive_rate": g.false_positive_rate,
                "precision": g.precision,
                "accuracy": g.accuracy,
                "base_rate": g.base_rate,
                "impact_ratio": g.impact_ratio,
                # The four-fifths verdict per group, stored so no face recomputes it.
                "below_four_fifths": g.group in rep.four_fifths.flagged,
                "small": g.small,
                "undefined": list(g.undefined),
            }
            for g in rep.groups
        ]
        plot = svg.bar_chart(
            f"Share predicted {ctx.settings.get('favorable_label')!r} by group "
            f"({', '.join(rep.features)})",
            [f"{g.group} (n={g.rows})" for g in rep.groups],
            [g.selection_rate for g in rep.groups],
            reference=rep.overall.get("selection_rate"),
            reference_label="overall",
            highlight=[g.group in rep.four_fifths.flagged for g in rep.groups],
            value_label="share predicted positive; red: below four-fifths of the highest group",
        )
        return Outcome(
            value=float(len(rep.groups)),
            message=f"{len(rep.groups)} groups over {', '.join(rep.features)}.",
            details={
                **_common(rep),
                "table": rows,
                "overall": rep.overall,
                "four_fifths_threshold": rep.four_fifths.threshold,
            },
            plots=(Plot("fairness-selection-rate.svg", plot),),
        )


class DemographicParityDifference(_ReportCheck):
    name = "fairness.demographic_parity_difference"
    description = "Largest gap in selection rate between groups."
    method = "max_g SR_g - min_g SR_g (Fairlearn demographic_parity_difference)."
    default_threshold = Threshold("<=", 0.1)
    attr = "demographic_parity_difference"


class DemographicParityRatio(_ReportCheck):
    name = "fairness.demographic_parity_ratio"
    description = "Lowest selection rate over the highest."
    method = "min_g SR_g / max_g SR_g (Fairlearn demographic_parity_ratio)."
    default_threshold = Threshold(">=", 0.8)
    attr = "demographic_parity_ratio"


class _EqualizedOdds(_ReportCheck):
    """Equalized odds is the worse of a TPR and an FPR figure: the message says which."""

    larger_is_worse = True
    figure = "gap"
    components = ("equal_opportunity_difference", "false_positive_rate_difference")

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        outcome = super().run(ctx, params)
        rep = report(ctx)
        tpr, fpr = (float(getattr(rep, name)) for name in self.components)
        if math.isnan(tpr) and math.isnan(fpr):
            return outcome
        fpr_sets = math.isnan(tpr) or (
            not math.isnan(fpr) and (fpr > tpr if self.larger_is_worse else fpr < tpr)
        )
        setting, other = ("false positive rate", "true positive rate")
        values = (fpr, tpr)
        if not fpr_sets:
            setting, other = other, setting
            values = (tpr, fpr)
        attr = "false_positive_rate" if fpr_sets else "true_positive_rate"
        spread = _spread(rep, attr, setting.capitalize())
        message = (
            f"Set by the {setting} {self.figure} ({values[0]:.3f}); the {other} {self.figure} "
            f"is {values[1]:.3f}. {spread}"
        )
        message = f"{message.strip()} {interval_text(rep, self.attr)}"
        details = {
            **outcome.details,
            "set_by": attr,
            f"true_positive_rate_{self.figure}": tpr,
            f"false_positive_rate_{self.figure}": fpr,
        }
        return Outcome(value=outcome.value, message=message.strip(), details=details)


class EqualizedOddsDifference(_EqualizedOdds):
    name = "fairness.equalized_odds_difference"
    description = "The larger of the TPR and FPR gaps between groups."
    method = "max(TPR max-min, FPR max-min) (Fairlearn equalized_odds_difference)."
    default_threshold = Threshold("<=", 0.1)
    attr = "equalized_odds_difference"


class EqualizedOddsRatio(_EqualizedOdds):
    name = "fairness.equalized_odds_ratio"
    description = "The smaller of the TPR and FPR ratios between groups."
    method = "min(TPR min/max, FPR min/max) (Fairlearn equalized_odds_ratio)."
    default_threshold = Threshold(">=", 0.8)
    attr = "equalized_odds_ratio"
    larger_is_worse = False
    figure = "ratio"
    components = ("equal_opportunity_ratio", "false_positive_rate_ratio")


class EqualOpportunityDifference(_ReportCheck):
    name = "fairness.equal_opportunity_difference"
    description = "Largest gap in true positive rate between groups."
    method = "max_g TPR_g - min_g TPR_g (Fairlearn ≥ 0.11, unsigned)."
    default_threshold = Threshold("<=", 0.1)
    attr = "equal_opportunity_difference"
    rate, rate_label = "true_positive_rate", "True positive rate"


class FourFifthsRule(Check):
    name = "fairness.four_fifths"
    family = CheckFamily.FAIRNESS
    description = (
        "Four-fifths rule (29 CFR §1607.4(D)): every group's selection rate is at least 80% of "
        "the highest group's."
    )
    method = "min_g SR_g / max_h SR_h; groups below 0.8 are flagged, each with a z-test p-value."
    requires = _CLASSIFICATION
    default_threshold = Threshold(">=", 0.8)

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        rep = report(ctx)
        ff = rep.four_fifths
        flagged = [g for g in rep.groups if g.group in ff.flagged]
        message = (
            "Adverse impact: "
            + "; ".join(
                f"{g.group} is selected at {g.impact_ratio:.0%} of the rate of "
                f"{ff.reference_group}"
                + (f" (z-test p = {g.z_pvalue:.3g})" if g.z_pvalue is not None else "")
                for g in flagged
            )
            + "."
            if flagged
            else f"Every group is selected at ≥ 80% of the rate of {ff.reference_group}."
        )
        message = f"{message} {direction(ctx)} {interval_text(rep, 'min_impact_ratio')}".strip()
        return Outcome(
            value=ff.min_impact_ratio,
            message=message,
            details={
                **_common(rep),
                **_direction_details(ctx),
                **interval(rep, "min_impact_ratio"),
                "reference_group": ff.reference_group,
                "flagged": list(ff.flagged),
                "impact_ratios": {g.group: g.impact_ratio for g in rep.groups},
            },
        )


class _PrivilegedCheck(Check):
    family = CheckFamily.FAIRNESS
    requires = _CLASSIFICATION | {"privileged"}
    attr: str = ""

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        rep = report(ctx)
        cmp = rep.privileged
        assert cmp is not None
        value = float(getattr(cmp, self.attr))
        return Outcome(
            value=value,
            message=(
                f"Unprivileged ({cmp.unprivileged_rows} rows) vs privileged {cmp.privileged} "
                f"({cmp.privileged_rows} rows): {value:+.3f}. {interval_text(rep, self.attr)}"
            ).strip(),
            details={
                **_common(rep),
                **interval(rep, self.attr),
                "privileged": cmp.privileged,
                "privileged_rows": cmp.privileged_rows,
                "unprivileged_rows": cmp.unprivileged_rows,
            },
        )


class StatisticalParityDifference(_PrivilegedCheck):
    name = "fairness.statistical_parity_difference"
    description = "Selection rate of the unprivileged rows minus that of the privileged group."
    method = "SR_unpriv - SR_priv (AIF360, signed; |value| is compared with the threshold)."
    default_threshold = Threshold("<=", 0.1)
    compare_abs = True
    attr = "statistical_parity_difference"


class DisparateImpact(_PrivilegedCheck):
    name = "fairness.disparate_impact"
    description = "Selection rate of the unprivileged rows over that of the privileged group."
    method = "SR_unpriv / SR_priv (AIF360 disparate_impact)."
    default_threshold = Threshold(">=", 0.8)
    attr = "disparate_impact"


class AverageOddsDifference(_PrivilegedCheck):
    name = "fairness.average_odds_difference"
    description = "Mean of the FPR and TPR differences, unprivileged minus privileged."
    method = "½[(FPR_u - FPR_p) + (TPR_u - TPR_p)] (AIF360; |value| vs the threshold)."
    default_threshold = Threshold("<=", 0.1)
    compare_abs = True
    attr = "average_odds_difference"


class SmallGroups(Check):
    name = "fairness.small_groups"
    family = CheckFamily.FAIRNESS
    description = (
        "Groups with fewer rows than min_group_size (settings): listed, kept separate, their "
        "rates are noisy. Informational unless the suite sets a threshold."
    )
    method = "Count of groups with rows < min_group_size."
    requires = _CLASSIFICATION

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        rep = report(ctx)
        small = [g for g in rep.groups if g.small]
        return Outcome(
            value=float(len(small)),
            message=(
                "Small groups: " + ", ".join(f"{g.group} ({g.rows} rows)" for g in small)
                if small
                else f"Every group has at least {rep.min_group_size} rows."
            ),
            details=_common(rep),
        )


def gaps(ctx: CheckContext) -> RegressionGaps:
    def compute() -> RegressionGaps:
        assert ctx.groups is not None
        return regression_group_gaps(
            ctx.y_true,
            ctx.y_pred,
            ctx.groups,
            min_group_size=int(ctx.settings.get("min_group_size") or 30),
            small_groups=str(ctx.settings.get("small_groups") or "include"),
            bands=ctx.bands or None,
            missing="group",
        )

    return ctx.memo("fairness.gaps", compute)


class GroupErrorGap(Check):
    name = "fairness.group_error_gap"
    family = CheckFamily.FAIRNESS
    description = "Regression: gap in mean absolute error between groups, relative to overall MAE."
    method = "(max_g MAE_g - min_g MAE_g) / MAE_overall; per-group MAE, RMSE and mean error."
    requires = frozenset({"sensitive", "regression"})
    default_threshold = Threshold("<=", 0.25)

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        g = gaps(ctx)
        overall = float(g.overall.get("mae", math.nan))
        value = g.mae_difference / overall if overall else math.nan
        plot = svg.bar_chart(
            "Mean absolute error by group",
            [f"{r.group} (n={r.rows})" for r in g.groups],
            [r.mae for r in g.groups],
            reference=overall,
            reference_label="overall",
            value_label="MAE",
        )
        return Outcome(
            value=value,
            message=f"Worst group {g.worst_mae_group}; MAE gap {g.mae_difference:.4g}.",
            details=g.to_dict(),
            plots=(Plot("fairness-group-error.svg", plot),),
        )


CHECKS: list[type[Check]] = [
    GroupTable,
    DemographicParityDifference,
    DemographicParityRatio,
    EqualizedOddsDifference,
    EqualizedOddsRatio,
    EqualOpportunityDifference,
    FourFifthsRule,
    StatisticalParityDifference,
    DisparateImpact,
    AverageOddsDifference,
    SmallGroups,
    GroupErrorGap,
]
