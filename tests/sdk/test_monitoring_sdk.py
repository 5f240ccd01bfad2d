"""Monitoring through the SDK, embedded and over HTTP: same results, same errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from steward.demo.credit import load_german_credit
from steward.domain.errors import InvalidInput, NotFound
from steward.sdk.client import Steward


def test_monitor_run_labels_history_and_alerts_on_both_backends(
    client: Steward, make_file: Callable[[bytes, str], Path], tmp_path: Path
) -> None:
    credit = load_german_credit()
    credit["application_id"] = [f"a{i}" for i in range(len(credit))]
    credit["decision"] = (credit["duration_in_month"] > 24).astype(int)
    client.create_model("credit", owner="alice")
    v = client.log_version(
        "credit",
        artifact=make_file(b"m", "m.bin"),
        training_data=credit.iloc[:600],
        capture_git=False,
    ).version
    for stage in ("validation", "approved", "production"):
        client.transition("credit", v, to=stage, justification="t")
    monitor = client.create_monitor(
        "credit",
        v,
        reference=credit.iloc[:600],
        columns=["age_in_years", "credit_amount", "purpose"],
        prediction="decision",
        id_column="application_id",
        rules=[
            {
                "id": "age",
                "metric": "psi",
                "column": "age_in_years",
                "threshold": 0.25,
                "severity": "high",
            }
        ],
    )
    assert monitor.reference.source.startswith("training dataset")
    assert client.monitor("credit").id == monitor.id  # by model name: one monitor
    path = tmp_path / "week.parquet"
    young = credit[credit.age_in_years < 27].sample(150, replace=False, random_state=0)
    young.to_parquet(path)
    run = client.run_monitor(monitor.id, str(path))  # DuckDB reads the file
    assert run.rows == 150 and len(run.alerts) == 1
    assert "age_in_years" in run.drifted_columns
    labels = dict(zip(young.application_id, young.risk.astype(float), strict=True))
    report = client.monitor_labels(monitor.id, labels)
    assert report.runs == (run.id,)
    history = client.monitor_history(monitor.id, metric="accuracy")
    assert [p.value for p in history] == [
        pytest.approx(float((young.decision == young.risk).mean()))
    ]
    [alert] = client.alerts(model="credit")
    assert alert.column == "age_in_years" and alert.finding_id is not None
    resolved = client.resolve_alert(alert.id, "seasonal campaign for students")
    assert resolved.status.value == "resolved"
    assert client.alerts(model="credit") == []
    with pytest.raises(InvalidInput, match="never saw"):
        client.monitor_labels(monitor.id, {"zzz": 1.0})
    with pytest.raises(NotFound):
        client.monitor("mon_nothere")
    with pytest.raises(InvalidInput, match="No file"):
        client.run_monitor(monitor.id, str(tmp_path / "missing.parquet"))
    runs = client.monitor_runs(monitor.id, results=True)
    assert [r.id for r in runs] == [run.id]
    assert runs[0].result("psi", "age_in_years") is not None
    assert isinstance(pd.DataFrame([p.__dict__ for p in history]), pd.DataFrame)
