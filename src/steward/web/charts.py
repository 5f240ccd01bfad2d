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
