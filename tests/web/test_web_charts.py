"""The monitoring history chart's Vega-Lite spec: one line per feature, the drift
threshold and the monitor's rules as dashed rules, alerts as points at their run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from steward.domain.monitoring import Alert, AlertStatus, HistoryPoint, MonitorRun, Rule
from steward.web.charts import drift_history

T0 = datetime(2026, 11, 2, tzinfo=UTC)


def _point(week: int, column: str, value: float | None) -> HistoryPoint:
    return HistoryPoint(
        run_id=f"run{week}",
        window_start=T0 + timedelta(weeks=week),
        at=T0,
        column=column,
        metric="psi",
        value=value,
        details={"threshold": 0.1},
    )


def _run(week: int) -> MonitorRun:
    at = T0 + timedelta(weeks=week)
    return MonitorRun(f"run{week}", "mon", "m", 1, at, 100, "f", "duckdb", at, at, "x", 0.5, (), ())


def _alert(metric: str, column: str, value: float) -> Alert:
    return Alert(
        id=f"alrt_{metric}",
        monitor_id="mon",
        model="m",
        version=1,
        rule="age-shift",
        metric=metric,
        column=column,
        severity="critical",
        status=AlertStatus.OPEN,
        op=">=",
        threshold=0.25,
        value=value,
        message="",
        first_run="run1",
        last_run="run2",
        breaches=2,
        raised_at=T0,
        updated_at=T0,
    )


def test_lines_thresholds_and_alert_marks() -> None:
    points = [_point(w, c, v) for w, c, v in ((0, "age", 0.01), (1, "age", 0.3), (2, "age", 4.2))]
    points += [_point(w, "amount", 0.05) for w in range(3)] + [_point(2, "", 0.9)]
    points.append(_point(1, "amount", None))  # a missing value is left out, not drawn as 0
    built = drift_history(
        points,
        [_alert("psi", "age", 4.2), _alert("drift_share", "", 0.5)],
        {r.id: r for r in (_run(0), _run(1), _run(2))},
        [Rule("age-shift", "psi", ">=", 0.25, column="age", severity="critical", consecutive=2)],
        title="psi",
        axis_time="Window",
        axis_value="psi",
        threshold_label="threshold",
    )
    assert built is not None
    lines, rules, marks = built["spec"]["layer"]
    assert len(lines["data"]["values"]) == 6  # dataset-level and missing values left out
    assert built["columns"] == ["age", "amount"]
    assert [r["limit"] for r in rules["data"]["values"]] == [0.1, 0.25]
    assert rules["mark"]["strokeDash"]
    # only the psi alert is marked, at its last run's window, with its value
    assert marks["data"]["values"] == [
        {
            "window": (T0 + timedelta(weeks=2)).isoformat(),
            "value": 4.2,
            "column": "age",
            "alert": "alrt_psi",
            "severity": "critical",
            "status": "open",
        }
    ]
    assert built["table"][2]["values"] == {"age": 4.2, "amount": 0.05}


def test_no_history_no_chart() -> None:
    assert (
        drift_history([], [], {}, [], title="", axis_time="", axis_value="", threshold_label="")
        is None
    )
