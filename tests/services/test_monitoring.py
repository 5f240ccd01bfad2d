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
from steward.sdk.client import Steward
from steward.services import monitoring
from steward.services.context import Context
from steward.services.monitoring_batches import build_reference, reduce_batch

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
    return monitoring.record_batch(
        ctx, ALICE, monitor_id, reduce_batch(batch, profile, monitor.config, engine="numpy")
    )


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
