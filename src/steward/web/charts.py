"""Vega-Lite specifications built on the server from stored check results."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from steward.domain.checks import CheckResult, CheckRun, Threshold
from steward.domain.monitoring import DATASET


def fairness_impact(
    run: CheckRun, title: str, axis_group: str, axis_ratio: str
) -> tuple[dict[str, Any], list[dict[str, Any]], float | None] | None:
    """Per-group impact ratio (selection rate over the highest group's) with the
    four-fifths threshold as a rule; None when the run has no per-group fairness result.

    A run stored before the group table carried its verdicts, without a four-fifths
    result, is drawn without the rule or highlights (the limit comes back None)."""
    names = {r.name: r for r in run.results}
    table = names.get("fairness.group_table")
    ratio = names.get("fairness.four_fifths")
    if table is None or not isinstance(table.details.get("table"), list):
        return None
    # Which groups fall below, and where the line is, come from the stored results: the
    # four-fifths check's verdict when it ran, else the group table's own flags.
    if ratio is not None and isinstance(ratio.details.get("flagged"), list):
        flagged = {str(g) for g in ratio.details["flagged"]}
    else:
        flagged = {str(r["group"]) for r in table.details["table"] if r.get("below_four_fifths")}
    if ratio is not None and ratio.threshold is not None:
        limit: float | None = float(ratio.threshold.limit)
    else:
        stored = table.details.get("four_fifths_threshold")
        limit = float(stored) if isinstance(stored, int | float) else None
    values = [
        {
            "group": str(row["group"]),
            "rows": int(row["rows"]),
            "impact_ratio": float(row["impact_ratio"]),
            "selection_rate": float(row["selection_rate"]),
            "below": str(row["group"]) in flagged,
        }
        for row in table.details["table"]
        if row.get("impact_ratio") is not None and row.get("selection_rate") is not None
    ]
    if not values:
        return None
    top = max([1.0] + [float(str(v["impact_ratio"])) for v in values])
    spec: dict[str, Any] = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title,
        "width": "container",
        "height": {"step": 22},
        "layer": [
            {
                "data": {"values": values},
                "mark": {"type": "bar", "tooltip": True},
                "encoding": {
                    "y": {"field": "group", "type": "nominal", "sort": None, "title": axis_group},
                    "x": {
                        "field": "impact_ratio",
                        "type": "quantitative",
                        "title": axis_ratio,
                        "scale": {"domain": [0, top]},
                    },
                    "color": {
                        "field": "below",
                        "type": "nominal",
                        "scale": {"domain": [False, True], "range": ["#2f6f9f", "#b3261e"]},
                        "legend": None,
                    },
                },
            },
        ],
    }
    if limit is not None:
        spec["layer"].append(
            {
                "data": {"values": [{"limit": limit}]},
                "mark": {"type": "rule", "color": "#1b1b1b", "strokeDash": [4, 3], "size": 2},
                "encoding": {"x": {"field": "limit", "type": "quantitative"}},
            }
        )
    return spec, values, limit


def drift_history(
    points: list[Any],
    alerts: list[Any],
    runs: dict[str, Any],
    rules: list[Any],
    *,
    title: str,
    axis_time: str,
    axis_value: str,
    threshold_label: str,
) -> dict[str, Any] | None:
    """One metric per feature over the monitor's windows (lines), the drift threshold
    and the monitor's rules on that metric as dashed rules, and every alert raised on
    the metric as a red point at its run; None when the monitor has no such history."""
    values = [
        {
            "column": pt.column or "(dataset)",
            "window": pt.window_start.isoformat(),
            "value": float(pt.value),
        }
        for pt in points
        if pt.value is not None and pt.value == pt.value and pt.column != DATASET
    ]
    if not values:
        return None
    limits: dict[float, str] = {}
    for pt in points:
        limit = pt.details.get("threshold") if isinstance(pt.details, dict) else None
        if isinstance(limit, int | float):
            limits.setdefault(float(limit), threshold_label)
    for rule in rules:
        limits[float(rule.threshold)] = f"{threshold_label} ({rule.id})"
    metric = points[0].metric if points else ""
    marks = []
    for alert in alerts:
        run = runs.get(alert.last_run)
        if alert.metric != metric or run is None or alert.value is None:
            continue
        marks.append(
            {
                "window": run.window_start.isoformat(),
                "value": float(alert.value),
                "column": alert.column or "(dataset)",
                "alert": alert.id,
                "severity": alert.severity,
                "status": str(alert.status.value),
            }
        )
    columns = sorted({str(v["column"]) for v in values})
    x = {"field": "window", "type": "temporal", "title": axis_time}
    layers: list[dict[str, Any]] = [
        {
            "data": {"values": values},
            "mark": {"type": "line", "point": True, "tooltip": True},
            "encoding": {
                "x": x,
                "y": {"field": "value", "type": "quantitative", "title": axis_value},
                "color": {"field": "column", "type": "nominal", "title": None},
            },
        }
    ]
    if limits:
        layers.append(_threshold_rules([{"limit": k, "label": v} for k, v in limits.items()]))
    if marks:
        layers.append(_alert_marks(marks, x))
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title,
        "width": "container",
        "height": 260,
        "layer": layers,
    }
    table: dict[str, dict[str, float]] = {}
    for v in values:
        table.setdefault(str(v["window"]), {})[str(v["column"])] = float(str(v["value"]))
    # how each window's scores were computed (exact / sketch) and the sketch bounds
    modes: dict[str, set[str]] = {}
    bounds: dict[str, dict[str, float]] = {}
    for pt in points:
        details = pt.details if isinstance(pt.details, dict) else {}
        window = pt.window_start.isoformat()
        if details.get("mode"):
            modes.setdefault(window, set()).add(str(details["mode"]))
        if isinstance(details.get("error_bound"), int | float):
            bounds.setdefault(window, {})[pt.column] = float(details["error_bound"])
    rows = [
        {
            "window": w,
            "values": table[w],
            "mode": ", ".join(sorted(modes.get(w, ()))) or "-",
            "bounds": bounds.get(w, {}),
        }
        for w in sorted(table)
    ]
    return {
        "spec": spec,
        "table": rows,
        "columns": columns,
        "thresholds": sorted(limits.items()),
        "marks": marks,
    }


# -- validation run: ROC, calibration, permutation importance, robustness ------------------

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
BLUE, RED, INK, GREY = "#2f6f9f", "#b3261e", "#1b1b1b", "#8a8a8a"
DASHED = {"type": "rule", "color": INK, "strokeDash": [4, 3], "size": 2}
# Operating points listed under the ROC chart: the best TPR at these false positive rates.
ROC_TABLE_FPR = (0.01, 0.05, 0.1, 0.2, 0.3, 0.5)
IMPORTANCE_SHOWN = 15
MONITOR_PERFORMANCE = ("accuracy", "precision", "recall", "f1", "roc_auc")
Gettext = Callable[[str], str]


def _threshold_rules(limits: list[dict[str, Any]]) -> dict[str, Any]:
    """A layer of dashed horizontal rules, one per ``{"limit", "label"}``."""
    return {
        "data": {"values": limits},
        "mark": DASHED,
        "encoding": {
            "y": {"field": "limit", "type": "quantitative"},
            "tooltip": [{"field": "label"}, {"field": "limit"}],
        },
    }


def _alert_marks(marks: list[dict[str, Any]], x: dict[str, Any]) -> dict[str, Any]:
    """A layer of red triangles where alerts were raised (``window``, ``value``)."""
    return {
        "data": {"values": marks},
        "mark": {
            "type": "point",
            "shape": "triangle-up",
            "size": 160,
            "filled": True,
            "color": RED,
            "tooltip": True,
        },
        "encoding": {"x": x, "y": {"field": "value", "type": "quantitative"}},
    }


def _results(run: CheckRun) -> dict[str, CheckResult]:
    return {r.name: r for r in run.results}


def _number(value: object) -> float | None:
    """A finite float, or None (JSON null) for missing, non-numeric or non-finite values."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _threshold(result: CheckResult | None) -> dict[str, Any] | None:
    if result is None or result.threshold is None:
        return None
    return {"op": result.threshold.op, "limit": float(result.threshold.limit)}


def _diagonal(label: str) -> dict[str, Any]:
    """The dashed y = x line from (0, 0) to (1, 1) (chance for ROC, perfect calibration)."""
    return {
        "data": {"values": [{"x": 0.0, "y": 0.0, "x2": 1.0, "y2": 1.0, "label": label}]},
        "mark": {"type": "rule", "color": GREY, "strokeDash": [4, 3]},
        "encoding": {
            "x": {"field": "x", "type": "quantitative"},
            "y": {"field": "y", "type": "quantitative"},
            "x2": {"field": "x2"},
            "y2": {"field": "y2"},
            "tooltip": [{"field": "label", "type": "nominal"}],
        },
    }


def _unit_axis(field: str, title: str) -> dict[str, Any]:
    return {
        "field": field,
        "type": "quantitative",
        "title": title,
        "scale": {"domain": [0, 1]},
        "axis": {"tickCount": 5},
    }


def roc_curve(run: CheckRun, gettext: Gettext) -> dict[str, Any] | None:
    """The ROC curve stored with ``performance.roc_auc`` (sklearn ``roc_curve`` points,
    thinned to at most 200) against the chance diagonal, with a table of operating points;
    None when the run kept no curve."""
    result = _results(run).get("performance.roc_auc")
    curve = result.details.get("roc_curve") if result is not None else None
    if result is None or not isinstance(curve, dict):
        return None
    fpr, tpr, cuts = curve.get("fpr"), curve.get("tpr"), curve.get("thresholds")
    if not (isinstance(fpr, list) and isinstance(tpr, list) and isinstance(cuts, list)):
        return None
    if not fpr or not len(fpr) == len(tpr) == len(cuts):
        return None
    values = [
        {"i": i, "fpr": _number(f), "tpr": _number(t), "threshold": _number(c)}
        for i, (f, t, c) in enumerate(zip(fpr, tpr, cuts, strict=True))
    ]
    fpr_title, tpr_title = gettext("False positive rate"), gettext("True positive rate")
    spec = {
        "$schema": SCHEMA,
        "title": gettext("ROC curve"),
        "width": "container",
        "height": 300,
        "layer": [
            _diagonal(gettext("chance")),
            {
                "data": {"values": values},
                "mark": {"type": "line", "color": BLUE, "interpolate": "linear", "tooltip": True},
                "encoding": {
                    "x": _unit_axis("fpr", fpr_title),
                    "y": _unit_axis("tpr", tpr_title),
                    "order": {"field": "i", "type": "quantitative"},
                },
            },
        ],
    }
    table = []
    for target in ROC_TABLE_FPR:
        within = [v for v in values if v["fpr"] is not None and v["fpr"] <= target]
        if within:
            best = max(within, key=lambda v: (v["tpr"] or 0.0, -(v["fpr"] or 0.0)))
            table.append({"target": target, **best})
    return {
        "spec": spec,
        "auc": result.value,
        "threshold": _threshold(result),
        "passed": result.passed,
        "points": len(values),
        "of": int(curve.get("points") or len(values)),
        "table": table,
    }


def calibration_curve(run: CheckRun, gettext: Gettext) -> dict[str, Any] | None:
    """The reliability curve stored with ``performance.calibration_error``: observed positive
    rate against mean predicted probability per non-empty bin (point area by row count), the
    diagonal of perfect calibration; None when the run has no such bins."""
    result = _results(run).get("performance.calibration_error")
    bins = result.details.get("bins") if result is not None else None
    if result is None or not isinstance(bins, list) or not bins:
        return None
    n_bins = int(result.details.get("n_bins") or 0)
    uniform = result.details.get("strategy") == "uniform" and n_bins > 0
    values = []
    for row in bins:
        predicted, observed = _number(row.get("mean_predicted")), _number(row.get("observed_rate"))
        if predicted is None or observed is None:
            continue
        index = int(row.get("bin", 0))
        values.append(
            {
                "bin": index,
                "low": index / n_bins if uniform else None,
                "high": (index + 1) / n_bins if uniform else None,
                "count": _number(row.get("count")),
                "mean_predicted": predicted,
                "observed_rate": observed,
                "gap": abs(observed - predicted),
            }
        )
    if not values:
        return None
    x = _unit_axis("mean_predicted", gettext("Mean predicted probability"))
    y = _unit_axis("observed_rate", gettext("Observed positive rate"))
    spec = {
        "$schema": SCHEMA,
        "title": gettext("Reliability (calibration) curve"),
        "width": "container",
        "height": 300,
        "layer": [
            _diagonal(gettext("perfect calibration")),
            {
                "data": {"values": values},
                "mark": {"type": "line", "color": BLUE, "point": False},
                "encoding": {"x": x, "y": y},
            },
            {
                "data": {"values": values},
                "mark": {"type": "circle", "color": BLUE, "opacity": 0.8, "tooltip": True},
                "encoding": {
                    "x": x,
                    "y": y,
                    "size": {
                        "field": "count",
                        "type": "quantitative",
                        "title": gettext("Rows"),
                        "scale": {"range": [30, 400]},
                    },
                },
            },
        ],
    }
    return {
        "spec": spec,
        "ece": result.value,
        "mce": _number(result.details.get("maximum_calibration_error")),
        "threshold": _threshold(result),
        "passed": result.passed,
        "strategy": str(result.details.get("strategy") or ""),
        "n_bins": n_bins,
        "bins": values,
    }


def permutation_importance(run: CheckRun, gettext: Gettext) -> dict[str, Any] | None:
    """The most important features by ``explainability.permutation_importance`` (mean drop
    with its confidence interval as a whisker), features that
    ``explainability.sensitive_in_top_features`` flagged in red; None without importances."""
    names = _results(run)
    result = names.get("explainability.permutation_importance")
    features = result.details.get("features") if result is not None else None
    if result is None or not isinstance(features, list):
        return None
    flagged_result = names.get("explainability.sensitive_in_top_features")
    flagged = {
        str(f.get("feature")): str(f.get("reason", ""))
        for f in (flagged_result.details.get("flagged", []) if flagged_result else [])
        if isinstance(f, dict)
    }
    values = [
        {
            "feature": str(f.get("feature")),
            "mean": _number(f.get("mean")),
            "ci_low": _number(f.get("ci_low")),
            "ci_high": _number(f.get("ci_high")),
            "std": _number(f.get("std")),
            "flagged": str(f.get("feature")) in flagged,
            "reason": flagged.get(str(f.get("feature")), ""),
        }
        for f in features
        if isinstance(f, dict) and _number(f.get("mean")) is not None
    ]
    if not values:
        return None
    values.sort(key=lambda v: -float(v["mean"] or 0.0))
    shown = values[:IMPORTANCE_SHOWN]
    # Feature names run long (German Credit's reach 50 characters): show more of them; the
    # longest end in an ellipsis, whole in the tooltip and the table below the chart.
    y = {
        "field": "feature",
        "type": "nominal",
        "sort": None,
        "title": None,
        "axis": {"labelLimit": 240},
    }
    axis = gettext("Drop in the primary metric when the feature is shuffled")
    spec = {
        "$schema": SCHEMA,
        "title": gettext("Permutation importance"),
        "width": "container",
        "autosize": {"type": "fit-x", "contains": "padding"},  # long labels inside the width
        # Vega measures labels with the canvas's default font; the page may render them in
        # a wider one (a CJK font on zh-TW pages): leave slack on the left.
        "padding": {"left": 40, "right": 5, "top": 5, "bottom": 5},
        "height": {"step": 20},
        "layer": [
            {
                "data": {"values": shown},
                "mark": {"type": "bar", "tooltip": True},
                "encoding": {
                    "y": y,
                    "x": {"field": "mean", "type": "quantitative", "title": axis},
                    "color": {
                        "field": "flagged",
                        "type": "nominal",
                        "scale": {"domain": [False, True], "range": [BLUE, RED]},
                        "legend": None,
                    },
                },
            },
            {
                "data": {"values": [v for v in shown if v["ci_low"] is not None]},
                "mark": {"type": "rule", "color": INK},
                "encoding": {
                    "y": y,
                    "x": {"field": "ci_low", "type": "quantitative"},
                    "x2": {"field": "ci_high"},
                },
            },
        ],
    }
    return {
        "spec": spec,
        "features": shown,
        "total": len(values),
        "repeats": result.details.get("n_repeats"),
        "confidence": _number(result.details.get("confidence")),
        "baseline": _number(result.details.get("baseline_score")),
        "flagged": [v for v in values if v["flagged"]],
    }


def _perturbations(names: dict[str, CheckResult], gettext: Gettext) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    noise = names.get("robustness.numeric_noise")
    if noise is not None and isinstance(noise.details.get("levels"), list):
        limit = _threshold(noise)
        for level in noise.details["levels"]:
            rows.append(
                {
                    "check": noise.name,
                    "label": gettext("numeric noise at %(sigma)s sd")
                    % {"sigma": f"{float(level['sigma']):g}"},
                    **{k: _number(level.get(k)) for k in ("score", "drop", "flip_rate")},
                    "threshold": limit,
                }
            )
    labels = {
        "robustness.categorical_flip": gettext("%(rate)s of categories flipped"),
        "robustness.missing_injection": gettext("%(rate)s of values missing"),
    }
    for name, label in labels.items():
        result = names.get(name)
        if result is None or _number(result.details.get("drop")) is None:
            continue
        rate = _number(result.details.get("rate")) or 0.0
        rows.append(
            {
                "check": name,
                "label": label % {"rate": f"{rate:.0%}"},
                **{k: _number(result.details.get(k)) for k in ("score", "drop", "flip_rate")},
                "threshold": _threshold(result),
            }
        )
    for row in rows:
        limit = row["threshold"]
        row["limit"] = limit["limit"] if limit is not None else None
        row["over"] = bool(
            limit is not None
            and row["drop"] is not None
            and not Threshold(limit["op"], limit["limit"]).holds(row["drop"])
        )
    return rows


def robustness(run: CheckRun, gettext: Gettext) -> dict[str, Any] | None:
    """How much the primary metric drops under each perturbation the run measured (numeric
    noise levels, categorical flips, missing values): bars, red when the check's threshold
    is crossed, each check's threshold as a dashed tick; None when nothing was measured."""
    names = _results(run)
    rows = _perturbations(names, gettext)
    if not rows:
        return None
    metric = next(
        (
            str(names[r["check"]].details["metric"])
            for r in rows
            if "metric" in names[r["check"]].details
        ),
        "",
    )
    baseline = next(
        (
            _number(names[r["check"]].details.get("baseline_score"))
            for r in rows
            if _number(names[r["check"]].details.get("baseline_score")) is not None
        ),
        None,
    )
    y = {"field": "label", "type": "nominal", "sort": None, "title": None}
    axis = (
        gettext("Drop in %(metric)s") % {"metric": metric}
        if metric
        else gettext("Drop in the primary metric")
    )
    # Room right of the largest drop or threshold, so a tick at the edge stays visible.
    reach = [float(r[k]) for r in rows for k in ("drop", "limit") if r[k] is not None]
    domain = [min([0.0, *reach]), max([0.0, *reach]) * 1.1 or 0.01]
    layers: list[dict[str, Any]] = [
        {
            "data": {"values": rows},
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {
                "y": y,
                "x": {
                    "field": "drop",
                    "type": "quantitative",
                    "title": axis,
                    "scale": {"domain": domain, "nice": False},
                },
                "color": {
                    "field": "over",
                    "type": "nominal",
                    "scale": {"domain": [False, True], "range": [BLUE, RED]},
                    "legend": None,
                },
            },
        }
    ]
    limited = [r for r in rows if r["limit"] is not None]
    if limited:
        layers.append(
            {
                "data": {"values": limited},
                "mark": {"type": "tick", "color": INK, "strokeDash": [4, 2], "thickness": 3},
                "encoding": {
                    "y": y,
                    "x": {"field": "limit", "type": "quantitative"},
                    "tooltip": [
                        {"field": "check", "type": "nominal"},
                        {"field": "limit", "type": "quantitative"},
                    ],
                },
            }
        )
    spec = {
        "$schema": SCHEMA,
        "title": gettext("Robustness: metric drop under perturbation"),
        "width": "container",
        "height": {"step": 26},
        "layer": layers,
    }
    return {"spec": spec, "rows": rows, "metric": metric, "baseline": baseline}


def validation_charts(run: CheckRun, gettext: Gettext) -> dict[str, dict[str, Any]]:
    """Every chart a stored validation run has the data for, by name."""
    built = {
        "roc": roc_curve(run, gettext),
        "calibration": calibration_curve(run, gettext),
        "importance": permutation_importance(run, gettext),
        "robustness": robustness(run, gettext),
    }
    return {name: chart for name, chart in built.items() if chart is not None}


# -- monitoring: performance over time when labels exist -----------------------------------


def performance_history(
    points: list[Any],
    alerts: list[Any],
    runs: dict[str, Any],
    rules: list[Any],
    gettext: Gettext,
) -> dict[str, Any] | None:
    """Labelled performance of a monitor over its windows (one line per metric), the
    monitor's rules on those metrics as dashed rules and every alert raised on them as a
    red triangle at its run; None until labels have given a performance figure."""
    latest: dict[tuple[str, str], float] = {}
    for pt in points:  # oldest first: labels arriving later for a window replace its figure
        value = _number(pt.value)
        if pt.metric in MONITOR_PERFORMANCE and pt.column == DATASET and value is not None:
            latest[(pt.metric, pt.window_start.isoformat())] = value
    if not latest:
        return None
    values = [{"metric": m, "window": w, "value": v} for (m, w), v in latest.items()]
    limits = [
        {
            "limit": float(rule.threshold),
            "label": ("" if rule.id == rule.metric else f"{rule.id}: ")
            + f"{rule.metric} {rule.op} {float(rule.threshold):g}",
        }
        for rule in rules
        if rule.metric in MONITOR_PERFORMANCE
    ]
    marks = []
    for alert in alerts:
        run = runs.get(alert.last_run)
        if alert.metric not in MONITOR_PERFORMANCE or run is None or _number(alert.value) is None:
            continue
        marks.append(
            {
                "window": run.window_start.isoformat(),
                "value": float(alert.value),
                "metric": alert.metric,
                "alert": alert.id,
                "severity": alert.severity,
                "status": str(alert.status.value),
            }
        )
    # Ticks at the windows themselves (UTC dates), not at hours between two windows.
    starts = sorted({pt.window_start for pt in points if pt.metric in MONITOR_PERFORMANCE})
    x = {
        "field": "window",
        "type": "temporal",
        "title": gettext("Window start"),
        "scale": {"type": "utc"},
        "axis": {
            "values": [round(w.timestamp() * 1000) for w in starts],
            "format": "%Y-%m-%d",
        },
    }
    y = {"field": "value", "type": "quantitative", "title": gettext("Value")}
    layers: list[dict[str, Any]] = [
        {
            "data": {"values": values},
            "mark": {"type": "line", "point": True, "tooltip": True},
            "encoding": {
                "x": x,
                "y": y,
                "color": {"field": "metric", "type": "nominal", "title": None},
            },
        }
    ]
    if limits:
        layers.append(_threshold_rules(limits))
    if marks:
        layers.append(_alert_marks(marks, x))
    spec = {
        "$schema": SCHEMA,
        "title": gettext("Performance over time (labelled predictions)"),
        "width": "container",
        "height": 260,
        "layer": layers,
    }
    table: dict[str, dict[str, float]] = {}
    for v in values:
        table.setdefault(str(v["window"]), {})[str(v["metric"])] = float(str(v["value"]))
    metrics = [m for m in MONITOR_PERFORMANCE if any(v["metric"] == m for v in values)]
    return {
        "spec": spec,
        "table": [{"window": w, "values": table[w]} for w in sorted(table)],
        "metrics": metrics,
        "thresholds": limits,
        "marks": marks,
    }


def readiness_over_time(points: list[Any], gettext: Gettext) -> dict[str, Any] | None:
    """The compliance programme's readiness: per framework, the % of scored control cells
    that are current at each week (``compliance.programme.Point``); None without a score."""
    values = [
        {"week": p.at.date().isoformat(), "framework": f.framework, "percent": f.percent_current}
        for p in points
        for f in p.frameworks
        if f.percent_current is not None
    ]
    if not values:
        return None
    return {
        "$schema": SCHEMA,
        "title": gettext("Readiness per framework"),
        "width": "container",
        "height": 260,
        "data": {"values": values},
        "mark": {"type": "line", "point": True, "tooltip": True},
        "encoding": {
            "x": {"field": "week", "type": "temporal", "title": gettext("Week")},
            "y": {
                "field": "percent",
                "type": "quantitative",
                "title": gettext("Share of control cells current (%)"),
                "scale": {"domain": [0, 100]},
            },
            "color": {"field": "framework", "type": "nominal", "title": gettext("Framework")},
        },
    }
