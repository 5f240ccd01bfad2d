"""Monitor configuration, rules with hysteresis, windows: the pure domain."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from steward.domain.errors import InvalidInput
from steward.domain.monitoring import DATASET, Rule, Window, evaluate, parse_config, window_start


def test_every_problem_of_a_config_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_config(
            {
                "window": "hourly",
                "method": "magic",
                "schedule_every": "soon",
                "rules": [
                    {"id": "a", "metric": "psi", "threshold": 0.2},
                    {"id": "a", "metric": "accuracy", "column": "age", "threshold": "x"},
                ],
                "colour": "blue",
            }
        )
    problems = caught.value.extra["problems"]
    assert len(problems) == 8, problems  # colour window method schedule + 4 in rules
    assert any("colour" in p for p in problems)
    assert any("per column" in p for p in problems)
    assert any("used twice" in p for p in problems)


def test_defaults_are_evidently_like() -> None:
    config = parse_config({})
    assert [(r.metric, r.threshold) for r in config.rules] == [
        ("drift_share", 0.5),
        ("missing_rate", 0.2),
    ]


def test_hysteresis_counts_consecutive_breaches_only() -> None:
    rule = Rule(id="r", metric="psi", op=">=", threshold=0.25, column="age", consecutive=3)
    now = {("age", "psi"): 0.3}
    breach = evaluate([rule], now, [{("age", "psi"): 0.4}, {("age", "psi"): 0.1}])
    assert [(b.streak, b.fires) for b in breach] == [(2, False)]
    breach = evaluate([rule], now, [{("age", "psi"): 0.4}, {("age", "psi"): 0.26}])
    assert [(b.streak, b.fires) for b in breach] == [(3, True)]
    # a run without the metric ends the streak
    assert evaluate([rule], now, [{}, {("age", "psi"): 0.9}])[0].streak == 1
    assert evaluate([rule], {("age", "psi"): 0.1}, []) == []


def test_a_star_rule_covers_every_column_and_dataset_rules_the_dataset() -> None:
    star = Rule(id="m", metric="missing_rate", op=">", threshold=0.1, column="*")
    share = Rule(id="d", metric="drift_share", op=">=", threshold=0.5)
    values = {
        ("a", "missing_rate"): 0.5,
        ("b", "missing_rate"): 0.0,
        (DATASET, "drift_share"): 0.5,
    }
    fired = {(b.rule.id, b.column) for b in evaluate([star, share], values, []) if b.fires}
    assert fired == {("m", "a"), ("d", DATASET)}


def test_windows_start_on_utc_days_and_mondays() -> None:
    moment = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)  # a Friday
    assert window_start(Window.DAILY, moment) == datetime(2026, 11, 27, tzinfo=UTC)
    assert window_start(Window.WEEKLY, moment) == datetime(2026, 11, 23, tzinfo=UTC)
    assert window_start(Window.BATCH, moment) == moment
