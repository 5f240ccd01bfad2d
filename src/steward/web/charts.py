"""Vega-Lite specifications built on the server from stored check results."""

from __future__ import annotations

from typing import Any

from steward.domain.checks import CheckRun


def fairness_impact(
    run: CheckRun, title: str, axis_group: str, axis_ratio: str
) -> tuple[dict[str, Any], list[dict[str, Any]], float] | None:
    """Per-group impact ratio (selection rate over the highest group's) with the
    four-fifths threshold as a rule; None when the run has no per-group fairness result."""
    names = {r.name: r for r in run.results}
    table = names.get("fairness.group_table")
    ratio = names.get("fairness.four_fifths")
    if table is None or not isinstance(table.details.get("table"), list):
        return None
    limit = ratio.threshold.limit if ratio is not None and ratio.threshold is not None else 0.8
    values = [
        {
            "group": str(row["group"]),
            "rows": int(row["rows"]),
            "impact_ratio": float(row["impact_ratio"]),
            "selection_rate": float(row["selection_rate"]),
            "below": float(row["impact_ratio"]) < limit,
        }
        for row in table.details["table"]
        if row.get("impact_ratio") is not None and row.get("selection_rate") is not None
    ]
    if not values:
        return None
    top = max([1.0] + [float(str(v["impact_ratio"])) for v in values])
    spec = {
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
            {
                "data": {"values": [{"limit": limit}]},
                "mark": {"type": "rule", "color": "#1b1b1b", "strokeDash": [4, 3], "size": 2},
                "encoding": {"x": {"field": "limit", "type": "quantitative"}},
            },
        ],
    }
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
    from steward.domain.monitoring import DATASET

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
        layers.append(
            {
                "data": {"values": [{"limit": k, "label": v} for k, v in limits.items()]},
                "mark": {"type": "rule", "color": "#1b1b1b", "strokeDash": [4, 3], "size": 2},
                "encoding": {
                    "y": {"field": "limit", "type": "quantitative"},
                    "tooltip": [{"field": "label"}, {"field": "limit"}],
                },
            }
        )
    if marks:
        layers.append(
            {
                "data": {"values": marks},
                "mark": {
                    "type": "point",
                    "shape": "triangle-up",
                    "size": 160,
                    "filled": True,
                    "color": "#b3261e",
                    "tooltip": True,
                },
                "encoding": {"x": x, "y": {"field": "value", "type": "quantitative"}},
            }
        )
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
    rows = [{"window": w, "values": table[w]} for w in sorted(table)]
    return {
        "spec": spec,
        "table": rows,
        "columns": columns,
        "thresholds": sorted(limits.items()),
        "marks": marks,
    }
