"""Monitors end to end on real German Credit rows (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from steward.demo.credit import load_german_credit
from steward.domain.errors import Conflict, InvalidInput
from steward.domain.lifecycle import Stage
from steward.domain.monitoring import AlertStatus
from steward.domain.permissions import OPERATOR, Principal
from steward.monitoring.batches import build_reference, reduce_batch
from steward.sdk.client import Steward
from steward.services import monitoring
from steward.services.context import Context

ALICE = Principal(name="alice", roles=frozenset({OPERATOR}))
COLUMNS = ["age_in_years", "credit_amount", "duration_in_month", "purpose", "housing"]
PACK = """
pack: monitoring-test
version: "1"
monitoring:
  under_review_on: [critical]
requirements:
  - id: review.current
    kind: review_current
    to: [retired]
    controls: ["nist-ai-rmf:MEASURE 2.4"]
"""


@pytest.fixture
def credit() -> pd.DataFrame:
    frame = load_german_credit()
    frame["application_id"] = [f"app-{i:04d}" for i in range(len(frame))]
    rng = np.random.default_rng(7)
    frame["score"] = rng.uniform(0, 1, len(frame)).round(3)
    frame["decision"] = (frame["score"] >= 0.5).astype(int)
    return frame


@pytest.fixture
def production(
    local: Steward, make_file: Callable[[bytes, str], Path], credit: pd.DataFrame
) -> int:
    local.create_model("credit", owner="alice")
    v = local.log_version(
        "credit",
        artifact=make_file(b"model bytes", "model.bin"),
        training_data=credit.iloc[:600],
        capture_git=False,
    ).version
    for stage in ("validation", "approved", "production"):
        local.transition("credit", v, to=stage, justification="test")
    return v


def _create(ctx: Context, version: int, reference: pd.DataFrame, **config: Any) -> str:
    parsed = monitoring.rules.parse_config(config)
    payload = build_reference(reference, parsed)
    return monitoring.create_monitor(
        ctx, ALICE, "credit", version, config=config, reference=payload
    ).id


def _run(ctx: Context, monitor_id: str, batch: pd.DataFrame) -> Any:
    monitor = monitoring.get_monitor(ctx, ALICE, monitor_id)
    profile = monitoring.monitor_reference(ctx, ALICE, monitor_id)
    exact = monitoring.monitor_exact_reference(ctx, ALICE, monitor_id)
    payload = reduce_batch(batch, profile, monitor.config, engine="numpy", exact_reference=exact)
    return monitoring.record_batch(ctx, ALICE, monitor_id, payload)


def test_an_age_shift_raises_one_alert_after_two_breaches_and_sends_the_version_to_review(
    ctx: Context, local: Steward, production: int, credit: pd.DataFrame
) -> None:
    local.load_policy(text=PACK, activate=True)
    rule = {
        "id": "age-psi",
        "metric": "psi",
        "column": "age_in_years",
        "op": ">=",
        "threshold": 0.25,
        "severity": "critical",
        "consecutive": 2,
    }
    mid = _create(ctx, production, credit.iloc[:600], columns=COLUMNS, rules=[rule])
    steady = _run(ctx, mid, credit.iloc[600:800])
    assert steady.alerts == ()
    psi = steady.result("psi", "age_in_years")
    assert psi is not None and psi.value is not None and psi.value < 0.1
    assert psi.details["n_current"] == 200
    young = credit[credit.age_in_years <= 28]
    first = _run(ctx, mid, young.sample(200, replace=True, random_state=1))
    shifted = first.result("psi", "age_in_years")
    assert shifted is not None and shifted.value is not None and shifted.value > 0.25
    assert first.alerts == ()  # hysteresis: one breach is not enough
    second = _run(ctx, mid, young.sample(200, replace=True, random_state=2))
    assert len(second.alerts) == 1
    alert = monitoring.get_alert(ctx, ALICE, second.alerts[0])
    assert (alert.status, alert.severity, alert.breaches) == (AlertStatus.OPEN, "critical", 2)
    assert alert.transition == "under_review"
    assert local.get_version("credit", production).stage is Stage.UNDER_REVIEW
    finding = local.finding(alert.finding_id or 0)
    assert finding.source == "monitor" and finding.severity.value == "critical"
    # a third breach updates the open alert instead of raising another
    third = _run(ctx, mid, young.sample(200, replace=True, random_state=3))
    assert third.alerts == (alert.id,)
    assert monitoring.get_alert(ctx, ALICE, alert.id).breaches == 3
    actions = [e.action for e in local.audit_events(limit=200)]
    assert actions.count("alert.raised") == 1 and actions.count("monitor.run") == 4
    series = monitoring.history(ctx, ALICE, mid, column="age_in_years", metric="psi")
    assert [p.run_id for p in series] == [steady.id, first.id, second.id, third.id]
    resolved = monitoring.resolve_alert(ctx, ALICE, alert.id, "Younger applicants: campaign.")
    assert resolved.status is AlertStatus.RESOLVED
    assert local.finding(finding.id).status.value == "resolved"
    with pytest.raises(Conflict):
        monitoring.resolve_alert(ctx, ALICE, alert.id, "again")


def test_late_labels_give_performance_and_unknown_ids_are_refused(
    ctx: Context, production: int, credit: pd.DataFrame
) -> None:
    rules = [{"id": "acc", "metric": "accuracy", "op": "<", "threshold": 0.9, "severity": "high"}]
    mid = _create(
        ctx,
        production,
        credit.iloc[:600],
        columns=COLUMNS,
        prediction="decision",
        score="score",
        id_column="application_id",
        sensitive=["foreign_worker"],
        rules=rules,
    )
    batch = credit.iloc[600:900]
    run = _run(ctx, mid, batch)
    assert run.result("accuracy") is None
    with pytest.raises(InvalidInput, match="never saw"):
        monitoring.record_labels(ctx, ALICE, mid, {"app-0601": 1, "nope": 0})
    labels = dict(zip(batch.application_id, batch.risk.astype(float), strict=True))
    report = monitoring.record_labels(ctx, ALICE, mid, labels)
    assert report.runs == (run.id,) and report.matched == 300
    after = monitoring.get_run(ctx, ALICE, run.id)
    accuracy = after.result("accuracy")
    expected = float((batch.decision == batch.risk).mean())
    assert accuracy is not None and accuracy.value == pytest.approx(expected)
    coverage = after.result("label_coverage")
    assert coverage is not None and coverage.value == 1.0
    dpd = after.result("demographic_parity_difference", "foreign_worker")
    assert dpd is not None and dpd.value is not None
    rates = batch.groupby("foreign_worker").decision.mean()
    assert dpd.value == pytest.approx(rates.max() - rates.min())
    assert len(report.alerts) == 1  # a coin-flip model is far below 0.9 accuracy
    with pytest.raises(Conflict, match="already recorded"):
        _run(ctx, mid, batch)


def test_bad_batches_give_quality_results_or_clear_errors(
    ctx: Context, production: int, credit: pd.DataFrame
) -> None:
    mid = _create(ctx, production, credit.iloc[:600], columns=COLUMNS)
    missing = _run(ctx, mid, credit.iloc[600:700].drop(columns=["housing"]))
    rate = missing.result("missing_rate", "housing")
    assert rate is not None and rate.value == 1.0
    assert any("housing" in p for p in missing.problems)
    assert len(missing.alerts) == 1  # the default missing-values rule
    with pytest.raises(InvalidInput, match="no rows"):
        _run(ctx, mid, credit.iloc[0:0])
    with pytest.raises(InvalidInput, match="none of the monitored columns"):
        _run(ctx, mid, pd.DataFrame({"x": [1, 2]}))
    with pytest.raises(InvalidInput, match="rule"):
        monitoring.rules.parse_config({"rules": [{"id": "x", "metric": "psi", "threshold": 1}]})


def test_performance_comes_from_confusion_counts_equal_to_sklearn_and_fairlearn(
    ctx: Context, production: int, credit: pd.DataFrame
) -> None:
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
    from sklearn import metrics as skm

    from steward.monitoring.confusion import ConfusionCounts

    mid = _create(
        ctx,
        production,
        credit.iloc[:600],
        columns=COLUMNS,
        prediction="decision",
        score="score",
        id_column="application_id",
        sensitive=["foreign_worker", "housing"],
    )
    batch = credit.iloc[600:1000]
    run = _run(ctx, mid, batch)
    labelled = batch.iloc[:300]  # a quarter of the labels has not arrived yet
    labels = dict(zip(labelled.application_id, labelled.risk.astype(float), strict=True))
    monitoring.record_labels(ctx, ALICE, mid, labels)
    after = monitoring.get_run(ctx, ALICE, run.id)
    y, p, s = labelled.risk, labelled.decision, labelled.score

    def value(metric: str, column: str = "") -> float | None:
        found = after.result(metric, column)
        assert found is not None, metric
        return found.value

    assert value("labelled_rows") == 300 and value("label_coverage") == 0.75
    assert value("accuracy") == pytest.approx(skm.accuracy_score(y, p), abs=1e-15)
    assert value("precision") == pytest.approx(skm.precision_score(y, p), abs=1e-15)
    assert value("recall") == pytest.approx(skm.recall_score(y, p), abs=1e-15)
    assert value("f1") == pytest.approx(skm.f1_score(y, p), abs=1e-15)
    assert value("positive_rate") == pytest.approx(p.mean(), abs=1e-15)
    assert value("roc_auc") == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    for column in ("foreign_worker", "housing"):
        groups = labelled[column]
        assert value("demographic_parity_difference", column) == pytest.approx(
            demographic_parity_difference(y, p, sensitive_features=groups), abs=1e-15
        )
        assert value("equalized_odds_difference", column) == pytest.approx(
            equalized_odds_difference(y, p, sensitive_features=groups), abs=1e-15
        )
    # the run keeps the counts the numbers came from: they merge without rescanning
    with ctx.uow.read() as uow:
        stored = uow.monitors.run_row(run.id)
        assert stored is not None
        part = stored["confusion"]
    counts = ConfusionCounts.from_dict(part["counts"])
    assert counts.groups == ("foreign_worker", "housing") and counts.positive == "1"
    assert counts.labelled == 300 and (part["labelled"], part["predictions"]) == (300, 400)
    tn, fp, fn, tp = skm.confusion_matrix(y, p).ravel().tolist()
    assert counts.totals()[""] == [tn, fp, fn, tp]


def test_a_window_merges_its_runs_aggregates_like_one_run_over_the_whole_batch(
    ctx: Context, production: int, credit: pd.DataFrame, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from steward.monitoring.batches import reduce_batch as reduce

    batch = credit.iloc[600:1000].copy()
    batch.loc[batch.index[::7], "credit_amount"] = np.nan  # null counts merge too
    config = {
        "columns": COLUMNS,
        "prediction": "decision",
        "score": "score",
        "label": "risk",
        "sensitive": ["foreign_worker"],
        "window": "daily",
        "mode": "sketch",  # windows merge the runs' aggregates: compare like with like
    }
    halves = _create(ctx, production, credit.iloc[:600], **config)
    whole = monitoring.create_monitor(
        ctx,
        ALICE,
        "credit",
        production,
        name="whole",
        config=config,
        reference=build_reference(credit.iloc[:600], monitoring.rules.parse_config(config)),
    ).id
    day = datetime(2026, 3, 2, 9, tzinfo=UTC)

    def feed(monitor_id: str, frame: pd.DataFrame, hour: int) -> None:
        monitor = monitoring.get_monitor(ctx, ALICE, monitor_id)
        profile = monitoring.monitor_reference(ctx, ALICE, monitor_id)
        payload = reduce(
            frame, profile, monitor.config, engine="duckdb", observed_at=day.replace(hour=hour)
        )
        monitoring.record_batch(ctx, ALICE, monitor_id, payload)

    feed(halves, batch.iloc[:150], 9)
    feed(halves, batch.iloc[150:], 17)  # the same day: one window
    feed(whole, batch, 12)
    merged = monitoring.history(ctx, ALICE, halves, by="window")
    single = monitoring.history(ctx, ALICE, whole, by="window")
    per_run = monitoring.history(ctx, ALICE, whole)
    assert {p.window_start for p in merged} == {datetime(2026, 3, 2, tzinfo=UTC)}
    assert all(len(p.details["runs"]) == 2 for p in merged)

    def values(points: list[Any]) -> dict[tuple[str, str], float | None]:
        return {(p.column, p.metric): p.value for p in points}

    got, want = values(merged), values(single)
    assert got.keys() == want.keys() == values(per_run).keys()
    for key, expected in want.items():
        assert got[key] == pytest.approx(expected, rel=1e-12, abs=1e-15), key
    # a window of one run gives that run's stored numbers
    for key, expected in values(per_run).items():
        assert want[key] == pytest.approx(expected, rel=1e-12, abs=1e-15), key
    assert got[("", "rows")] == 400 and got[("", "labelled_rows")] == 400
    assert got[("credit_amount", "missing_rate")] == pytest.approx(
        batch.credit_amount.isna().mean()
    )
    assert ("age_in_years", "psi") in got and ("", "roc_auc") in got
    # filters apply to the merged points; a bad grouping is refused with the choices
    psi = monitoring.history(ctx, ALICE, halves, column="age_in_years", metric="psi", by="window")
    assert [p.value for p in psi] == [got[("age_in_years", "psi")]]
    with pytest.raises(InvalidInput, match="run or window"):
        monitoring.history(ctx, ALICE, halves, by="month")


def test_a_window_counts_a_column_one_run_lacked_as_missing(
    ctx: Context, production: int, credit: pd.DataFrame
) -> None:
    from steward.services.monitoring import merge_run_aggregates

    mid = _create(ctx, production, credit.iloc[:600], columns=COLUMNS, window="weekly")
    _run(ctx, mid, credit.iloc[600:700].drop(columns=["housing"]))
    _run(ctx, mid, credit.iloc[700:900])
    points = monitoring.history(ctx, ALICE, mid, column="housing", by="window")
    rate = next(p.value for p in points if p.metric == "missing_rate")
    assert rate == pytest.approx(100 / 300)
    from steward.monitoring import ReferenceProfile

    profile = ReferenceProfile.from_json(monitoring.monitor_reference(ctx, ALICE, mid))
    with pytest.raises(InvalidInput, match="malformed"):
        merge_run_aggregates(profile, [{"rows": 1}])


def test_window_history_and_failure_streak_through_the_sdk_embedded_and_over_http(
    ctx: Context, client: Steward, production: int, credit: pd.DataFrame
) -> None:
    from datetime import UTC, datetime

    monitor = client.create_monitor(
        "credit", production, reference=credit.iloc[:600], columns=COLUMNS, window="weekly"
    )
    monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
    for i, (start, stop) in enumerate(((600, 700), (700, 1000))):
        client.run_monitor(
            monitor.id, credit.iloc[start:stop], observed_at=monday.replace(day=2 + i)
        )
    points = client.monitor_history(monitor.id, metric="rows", by="window")
    assert [(p.value, len(p.details["runs"])) for p in points] == [(400.0, 2)]
    assert [p.value for p in client.monitor_history(monitor.id, metric="rows")] == [100, 300]
    with pytest.raises(InvalidInput, match="run or window"):
        client.monitor_history(monitor.id, by="weeks")
    # a server reads only through a data connection (a raw source is refused: issue 12)
    lake = ctx.settings.home / "lake"
    lake.mkdir()
    client.create_connection("lake", kind="folder", location=str(lake))
    client.update_monitor(
        monitor.id, schedule_every="1d", connection="lake", path="nowhere/*.parquet"
    )
    with ctx.uow.write() as uow:
        uow.monitors.update(monitor.id, {"next_run_at": uow.now})
        uow.commit()
    report = client.run_due_monitors()
    assert [m for m, _ in report.failed] == [monitor.id]
    shown = client.monitor(monitor.id)
    assert shown.failures == 1 and shown.last_error and "No file matches" in shown.last_error
