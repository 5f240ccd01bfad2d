"""The Vega-Lite specs built from stored results: the monitoring history (one line per
feature, the drift threshold and the monitor's rules as dashed rules, alerts as points at
their run), the validation run's ROC, reliability, importance and robustness charts, and a
monitor's labelled performance over time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from steward.domain.checks import CheckFamily, CheckResult, CheckRun, RunSource, Threshold
from steward.domain.monitoring import Alert, AlertStatus, HistoryPoint, MonitorRun, Rule
from steward.web.charts import (
    drift_history,
    fairness_impact,
    performance_history,
    validation_charts,
)

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


# -- validation run charts -----------------------------------------------------------------


def _result(name: str, value: float | None, details: dict[str, Any], **kw: Any) -> CheckResult:
    family = CheckFamily(name.split(".")[0])
    return CheckResult(name, family, kw.get("passed"), value, kw.get("threshold"), "", details)


def _check_run(*results: CheckResult) -> CheckRun:
    return CheckRun(
        id="run_x",
        model="m",
        version=1,
        suite="s",
        suite_version="1",
        source=RunSource.STEWARD,
        artifact_sha256="a" * 64,
        data_fingerprint=None,
        passed=True,
        started_at=T0,
        finished_at=T0,
        created_by="victor",
        audit_seq=1,
        results=results,
    )


def _identity(text: str) -> str:
    return text


ROBUST = (
    _result(
        "robustness.numeric_noise",
        0.08,
        {
            "metric": "roc_auc",
            "baseline_score": 0.8,
            "levels": [
                {"sigma": 0.1, "score": 0.79, "drop": 0.01, "flip_rate": 0.02},
                {"sigma": 0.5, "score": 0.72, "drop": 0.08, "flip_rate": 0.1},
            ],
        },
        threshold=Threshold("<=", 0.05),
        passed=False,
    ),
    _result(
        "robustness.categorical_flip",
        0.01,
        {
            "metric": "roc_auc",
            "baseline_score": 0.8,
            "rate": 0.1,
            "score": 0.79,
            "drop": 0.01,
            "flip_rate": 0.03,
        },
        threshold=Threshold("<=", 0.05),
        passed=True,
    ),
    # a model that cannot take missing values: nothing to draw for it
    _result("robustness.missing_injection", None, {"rate": 0.1, "supported": False}),
)


def test_roc_calibration_and_importance_come_from_the_stored_details() -> None:
    roc = _result(
        "performance.roc_auc",
        0.75,
        {
            "roc_curve": {
                "fpr": [0.0, 0.0, 0.04, 0.5, 1.0],
                "tpr": [0.0, 0.5, 0.6, 0.9, 1.0],
                "thresholds": [None, 0.9, 0.7, 0.4, 0.1],
                "points": 9,
                "thinned": True,
            }
        },
        threshold=Threshold(">=", 0.7),
        passed=True,
    )
    cal = _result(
        "performance.calibration_error",
        0.05,
        {
            "n_bins": 10,
            "strategy": "uniform",
            "bins": [
                {"bin": 0, "count": 40.0, "mean_predicted": 0.05, "observed_rate": 0.1},
                {"bin": 7, "count": 10.0, "mean_predicted": 0.75, "observed_rate": 0.6},
            ],
            "maximum_calibration_error": 0.15,
        },
    )
    imp = _result(
        "explainability.permutation_importance",
        0.2,
        {
            "n_repeats": 1,
            "confidence": 0.95,
            "baseline_score": 0.75,
            "features": [
                {"feature": "age", "mean": 0.05, "ci_low": None, "ci_high": None},
                {"feature": "status", "mean": 0.2, "ci_low": 0.1, "ci_high": 0.3},
            ],
        },
    )
    flagged = _result(
        "explainability.sensitive_in_top_features",
        1.0,
        {"flagged": [{"feature": "age", "reason": "is a sensitive feature"}]},
    )
    built = validation_charts(_check_run(roc, cal, imp, flagged, *ROBUST), _identity)
    assert set(built) == {"roc", "calibration", "importance", "robustness"}

    curve = built["roc"]
    assert curve["points"] == 5 and curve["of"] == 9
    assert curve["threshold"] == {"op": ">=", "limit": 0.7}
    line = curve["spec"]["layer"][1]
    assert [v["threshold"] for v in line["data"]["values"]] == [None, 0.9, 0.7, 0.4, 0.1]
    assert line["encoding"]["order"]["field"] == "i"  # vertical steps keep their order
    # the best TPR at FPR <= 1%, 5%, ...: (0, 0.5) until 4% is allowed, then (0.04, 0.6)
    assert [(r["target"], r["tpr"]) for r in curve["table"]][:3] == [
        (0.01, 0.5),
        (0.05, 0.6),
        (0.1, 0.6),
    ]

    bins = built["calibration"]["bins"]
    assert [(b["low"], b["high"], b["count"]) for b in bins] == [(0.0, 0.1, 40.0), (0.7, 0.8, 10.0)]
    assert bins[1]["gap"] == pytest.approx(0.15)
    assert built["calibration"]["mce"] == 0.15

    imp_chart = built["importance"]
    assert [f["feature"] for f in imp_chart["features"]] == ["status", "age"]  # by mean
    assert [f["flagged"] for f in imp_chart["features"]] == [False, True]
    whiskers = imp_chart["spec"]["layer"][1]["data"]["values"]
    assert [w["feature"] for w in whiskers] == ["status"]  # one repeat: no interval for age


def test_robustness_bars_cross_their_own_check_threshold() -> None:
    built = validation_charts(_check_run(*ROBUST), _identity)
    assert set(built) == {"robustness"}
    chart = built["robustness"]
    assert [(r["label"], r["drop"], r["over"]) for r in chart["rows"]] == [
        ("numeric noise at 0.1 sd", 0.01, False),
        ("numeric noise at 0.5 sd", 0.08, True),
        ("10% of categories flipped", 0.01, False),
    ]
    bars, ticks = chart["spec"]["layer"]
    assert [t["limit"] for t in ticks["data"]["values"]] == [0.05, 0.05, 0.05]
    assert ticks["mark"]["strokeDash"]
    assert bars["encoding"]["x"]["scale"]["domain"][1] > 0.08  # the largest drop fits
    assert bars["encoding"]["x"]["title"] == "Drop in roc_auc"
    assert chart["baseline"] == 0.8


# -- fairness: the stored verdicts, never recomputed -------------------------------------

GROUPS = [
    {"group": "a", "rows": 100, "impact_ratio": 1.0, "selection_rate": 0.5},
    {"group": "b", "rows": 80, "impact_ratio": 0.79, "selection_rate": 0.395},
    {"group": "c", "rows": 60, "impact_ratio": 0.7, "selection_rate": 0.35},
]


def _below(*results: CheckResult) -> tuple[dict[str, bool], float | None]:
    built = fairness_impact(_check_run(*results), "t", "g", "r")
    assert built is not None
    _, values, limit = built
    return {v["group"]: v["below"] for v in values}, limit


def test_fairness_bars_follow_the_four_fifths_results_verdict_and_threshold() -> None:
    # A policy pack set the line at 0.75: "b" (0.79) is not below it, whatever 0.8 says.
    table = _result("fairness.group_table", 3.0, {"table": GROUPS})
    ratio = _result(
        "fairness.four_fifths", 0.7, {"flagged": ["c"]}, threshold=Threshold(">=", 0.75)
    )
    assert _below(table, ratio) == ({"a": False, "b": False, "c": True}, 0.75)


def test_without_a_four_fifths_result_the_group_tables_flags_are_drawn() -> None:
    rows = [{**r, "below_four_fifths": r["group"] != "a"} for r in GROUPS]
    table = _result("fairness.group_table", 3.0, {"table": rows, "four_fifths_threshold": 0.8})
    assert _below(table) == ({"a": False, "b": True, "c": True}, 0.8)


def test_a_run_stored_without_verdicts_is_drawn_without_inventing_one() -> None:
    table = _result("fairness.group_table", 3.0, {"table": GROUPS})
    assert _below(table) == ({"a": False, "b": False, "c": False}, None)


def test_a_run_without_those_details_has_no_charts() -> None:
    old_roc = _result("performance.roc_auc", 0.7, {"positive_label": "1"})
    assert validation_charts(_check_run(old_roc), _identity) == {}


# -- monitoring performance ------------------------------------------------------------------


def _perf(week: int, metric: str, value: float | None, column: str = "") -> HistoryPoint:
    return HistoryPoint(f"run{week}", T0 + timedelta(weeks=week), T0, column, metric, value, {})


def test_performance_history_lines_rules_and_alerts() -> None:
    points = [
        _perf(0, "accuracy", 0.7),
        _perf(1, "accuracy", 0.5),
        _perf(1, "accuracy", 0.6),  # later labels for the same window replace the figure
        _perf(0, "roc_auc", 0.8),
        _perf(0, "labelled_rows", 150.0),  # not a performance figure
        _perf(0, "psi", 0.3, column="age"),
        _perf(1, "f1", None),
    ]
    alert = replace(
        _alert("accuracy", "", 0.6), rule="accuracy", op="<", threshold=0.65, last_run="run1"
    )
    built = performance_history(
        points,
        [alert, _alert("psi", "age", 4.2)],
        {r.id: r for r in (_run(0), _run(1))},
        [
            Rule("accuracy", "accuracy", "<", 0.65, severity="high"),
            Rule("age-shift", "psi", ">=", 0.25, column="age"),
        ],
        _identity,
    )
    assert built is not None
    assert built["metrics"] == ["accuracy", "roc_auc"]
    assert built["table"][1]["values"] == {"accuracy": 0.6}
    lines, rules, marks = built["spec"]["layer"]
    assert len(lines["data"]["values"]) == 3
    assert [r["limit"] for r in rules["data"]["values"]] == [0.65]
    assert [(m["metric"], m["value"]) for m in marks["data"]["values"]] == [("accuracy", 0.6)]
    assert marks["data"]["values"][0]["window"] == (T0 + timedelta(weeks=1)).isoformat()


def test_no_labels_no_performance_chart() -> None:
    assert performance_history([_perf(0, "labelled_rows", 0.0)], [], {}, [], _identity) is None
