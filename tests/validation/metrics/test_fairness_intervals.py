"""Confidence intervals on the fairness metrics (issue 13, "uncertainty on fairness numbers").

The count bootstrap must agree with a plain bootstrap that resamples rows, be reproducible
from its seed, and say when a finding's interval straddles its threshold.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from steward.validation import runner
from steward.validation.metrics.fairness import fairness_report
from steward.validation.metrics.grouped import ConfusionCounts, Groups
from steward.validation.metrics.intervals import METHOD, fairness_intervals
from steward.validation.options import Predictions
from steward.validation.suites import parse_suite

METRICS = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
    "statistical_parity_difference",
    "disparate_impact",
    "average_odds_difference",
]


def _data(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = {"a": 160, "b": 90, "c": 60}
    group = np.concatenate([np.full(n, g) for g, n in sizes.items()])
    rate = np.select([group == "a", group == "b"], [0.55, 0.45], 0.35)
    y_true = (rng.random(len(group)) < 0.5).astype(int)
    y_pred = (rng.random(len(group)) < rate + 0.15 * y_true).astype(int)
    return y_true, y_pred, group


def _value(rep: Any, name: str) -> float:
    if name in ("statistical_parity_difference", "disparate_impact", "average_odds_difference"):
        return float(getattr(rep.privileged, name))
    return float(getattr(rep, name))


def _row_bootstrap(stratified: bool, replicates: int, seed: int) -> dict[str, np.ndarray]:
    """The textbook bootstrap: resample rows with replacement, recompute every metric."""
    y_true, y_pred, group = _data()
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(group == g) for g in np.unique(group)]
    draws: dict[str, list[float]] = {m: [] for m in METRICS}
    for _ in range(replicates):
        if stratified:  # group sizes as observed
            index = np.concatenate([rng.choice(m, size=len(m)) for m in members])
        else:
            index = rng.integers(0, len(group), len(group))
        rep = fairness_report(
            y_true[index],
            y_pred[index],
            {"g": group[index]},
            privileged={"g": "a"},
            min_group_size=1,
        )
        for m in METRICS:
            draws[m].append(_value(rep, m))
    return {m: np.asarray(v) for m, v in draws.items()}


def test_count_bootstrap_agrees_with_resampling_rows() -> None:
    y_true, y_pred, group = _data()
    rep = fairness_report(
        y_true,
        y_pred,
        {"g": group},
        privileged={"g": "a"},
        min_group_size=1,
        interval_replicates=4000,
        seed=7,
    )
    for stratified, tolerance in ((True, 0.02), (False, 0.03)):
        rows = _row_bootstrap(stratified, 1500, seed=11)
        for m in METRICS:
            finite = rows[m][np.isfinite(rows[m])]
            low, high = np.percentile(finite, [2.5, 97.5])
            ours = rep.intervals[m]
            assert ours is not None
            scale = max(1.0, abs(high))  # disparate impact is a ratio around 1
            assert ours["low"] == pytest.approx(low, abs=tolerance * scale), (m, stratified)
            assert ours["high"] == pytest.approx(high, abs=tolerance * scale), (m, stratified)
            assert ours["low"] <= _value(rep, m) <= ours["high"]
    assert rep.intervals["demographic_parity_ratio"]["method"] == METHOD
    assert rep.intervals["demographic_parity_ratio"]["level"] == 0.95


def test_same_seed_same_interval_and_the_seed_matters() -> None:
    y_true, y_pred, group = _data()

    def run(seed: int) -> dict[str, Any]:
        return fairness_report(
            y_true, y_pred, {"g": group}, interval_replicates=1000, seed=seed, min_group_size=1
        ).intervals

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_a_thousand_replicates_cost_the_same_at_any_row_count() -> None:
    # The bootstrap reads only the group count table: 15 groups of ~670 000 rows (10 M in
    # all) cost what 15 groups of 10 rows cost. The budget is 2 s at 10 M rows.
    rng = np.random.default_rng(0)
    tables = []
    for rows_per_group in (10, 666_667):
        cells = rng.multinomial(rows_per_group, [0.4, 0.2, 0.1, 0.3], size=15).astype(float)
        tables.append(
            ConfusionCounts(
                groups=Groups(
                    features=("g",),
                    keys=tuple((str(i),) for i in range(15)),
                    codes=np.arange(15),
                ),
                rows=cells.sum(axis=1).astype(np.int64),
                tn=cells[:, 0],
                fp=cells[:, 1],
                fn=cells[:, 2],
                tp=cells[:, 3],
            )
        )
    seconds = []
    for counts in tables:
        start = time.perf_counter()
        found = fairness_intervals(counts, replicates=1000, seed=1)
        seconds.append(time.perf_counter() - start)
        assert found["demographic_parity_difference"] is not None
    assert max(seconds) < 2.0
    # Many rows, narrow intervals; few rows, wide ones.
    wide = fairness_intervals(tables[0], replicates=1000)["demographic_parity_ratio"]
    narrow = fairness_intervals(tables[1], replicates=1000)["demographic_parity_ratio"]
    assert wide is not None and narrow is not None
    assert narrow.high - narrow.low < 0.1 * (wide.high - wide.low)


SUITE = parse_suite(
    "suite: t\nversion: '1'\ntask: classification\nsettings: {min_group_size: 5}\nchecks:\n"
    "  - check: fairness.four_fifths\n  - check: fairness.demographic_parity_ratio\n",
    "t.yaml",
)


def _frame(rows_per_group: int, rates: tuple[float, float]) -> pd.DataFrame:
    parts = []
    for group, rate in zip(("x", "y"), rates, strict=True):
        chosen = round(rate * rows_per_group)
        parts.append(
            pd.DataFrame(
                {
                    "group": group,
                    "label": np.arange(rows_per_group) % 2,
                    "decision": (np.arange(rows_per_group) < chosen).astype(int),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _run(frame: pd.DataFrame, **settings: Any) -> runner.RunOutput:
    return runner.run_suite(
        SUITE,
        runner.RunInputs(
            data=frame,
            sensitive=["group"],
            predictions=Predictions(y_true="label", y_pred="decision"),
            positive_means="favourable",
            settings=settings,
        ),
    )


def test_a_finding_whose_interval_straddles_the_threshold_says_so() -> None:
    # 0.42 / 0.50 = 0.84: a pass on 100 rows a group, but the interval reaches below 0.8.
    small = _run(_frame(100, (0.50, 0.42))).result("fairness.four_fifths")
    assert small.passed is True
    assert small.details["uncertain"] is True
    assert small.details["interval"]["straddles_threshold"] is True
    assert "Uncertain: the 95% interval [" in small.message
    assert "straddles the threshold >= 0.8" in small.message
    assert (
        "95% bootstrap interval [" in small.message and "1000 replicates, seed 0" in small.message
    )
    # The same rates on 20 000 rows a group: the interval is narrow and the pass is clear.
    large = _run(_frame(20_000, (0.50, 0.42))).result("fairness.four_fifths")
    assert large.passed is True
    assert "uncertain" not in large.details
    assert large.details["interval"]["straddles_threshold"] is False
    assert large.details["interval"]["high"] - large.details["interval"]["low"] < 0.05


def test_intervals_follow_the_settings() -> None:
    frame = _frame(100, (0.50, 0.42))
    narrow = _run(frame, interval_level=0.5).result("fairness.demographic_parity_ratio")
    wide = _run(frame).result("fairness.demographic_parity_ratio")
    assert narrow.details["interval"]["level"] == 0.5
    width = lambda r: r.details["interval"]["high"] - r.details["interval"]["low"]  # noqa: E731
    assert width(narrow) < width(wide)
    off = _run(frame, bootstrap_replicates=0).result("fairness.demographic_parity_ratio")
    assert "interval" not in off.details
