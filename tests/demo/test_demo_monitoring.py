"""The monitoring demo: real German Credit batches, a genuine age shift, an alert,
its finding and the production version sent to review — visible through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import steward
from steward.cli.main import app
from steward.demo.load import load_demo
from steward.demo.monitoring import MODEL, VERSION
from steward.domain.lifecycle import Stage


def test_the_demo_monitor_raises_an_alert_and_sends_the_champion_to_review(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "store"
    st = steward.connect(home=str(home), actor="demo")
    try:
        load_demo(st)  # it feeds the champion's monitor four weeks (demo.monitoring)
        assert st.get_version(MODEL, VERSION).stage is Stage.UNDER_REVIEW
        [monitor] = st.monitors(MODEL)
        runs = st.monitor_runs(monitor.id, results=True)
        assert len(runs) == 4
        ages = [r.result("psi", "age_in_years") for r in reversed(runs)]
        values = [a.value for a in ages if a is not None]
        assert len(values) == 4 and max(values[:2]) < 0.25 < min(values[2:])
        alerts = st.alerts(model=MODEL)
        age = [a for a in alerts if a.rule == "age-shift"]
        assert len(age) == 1 and age[0].transition == "under_review"
        finding = st.finding(age[0].finding_id or 0)
        assert finding.severity.value == "critical" and finding.source == "monitor"
        accuracy = st.monitor_history(monitor.id, metric="accuracy")
        assert len(accuracy) == 2 and all(p.value and 0.5 < p.value < 1 for p in accuracy)
    finally:
        st.close()
    monkeypatch.setenv("STEWARD_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    shown = runner.invoke(app, ["monitor", "alerts", MODEL, "--json"])
    assert shown.exit_code == 0, shown.output
    assert any(a["rule"] == "age-shift" for a in json.loads(shown.output))
    history = runner.invoke(
        app, ["monitor", "history", MODEL, "--column", "age_in_years", "--metric", "psi"]
    )
    assert history.exit_code == 0 and "psi" in history.output, history.output
