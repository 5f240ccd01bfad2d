"""Fairness messages quote the figure that sets the value (issue 13, item 8)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    equalized_odds_difference,
    equalized_odds_ratio,
    false_positive_rate,
    true_positive_rate,
)

from steward.validation import runner
from steward.validation.options import Predictions
from steward.validation.suites import parse_suite

SUITE = parse_suite(
    "suite: t\nversion: '1'\ntask: classification\nsettings: {min_group_size: 5}\nchecks:\n"
    "  - check: fairness.equalized_odds_difference\n"
    "  - check: fairness.equalized_odds_ratio\n",
    "t.yaml",
)


def _frame(tpr: dict[str, float], fpr: dict[str, float], rows: int = 400) -> pd.DataFrame:
    """Exact rates per group: half the rows positive, the given shares predicted positive."""
    parts = []
    for group in tpr:
        half = rows // 2
        y_true = np.r_[np.ones(half, int), np.zeros(half, int)]
        y_pred = np.r_[
            np.arange(half) < round(tpr[group] * half), np.arange(half) < round(fpr[group] * half)
        ].astype(int)
        parts.append(pd.DataFrame({"group": group, "y": y_true, "p": y_pred}))
    return pd.concat(parts, ignore_index=True)


def _run(frame: pd.DataFrame) -> runner.RunOutput:
    return runner.run_suite(
        SUITE,
        runner.RunInputs(
            data=frame,
            sensitive=["group"],
            predictions=Predictions(y_true="y", y_pred="p"),
            positive_means="favourable",
        ),
    )


def _fairlearn(frame: pd.DataFrame) -> tuple[float, float]:
    kw = {"sensitive_features": frame["group"]}
    return (
        equalized_odds_difference(frame["y"], frame["p"], **kw),
        equalized_odds_ratio(frame["y"], frame["p"], **kw),
    )


def test_the_false_positive_gap_is_quoted_when_it_sets_the_value() -> None:
    frame = _frame(tpr={"A": 0.80, "B": 0.75}, fpr={"A": 0.05, "B": 0.30})
    out = _run(frame)
    eod = out.result("fairness.equalized_odds_difference")
    assert eod.value == pytest.approx(_fairlearn(frame)[0], abs=1e-12)
    assert eod.value == pytest.approx(0.25)
    assert eod.message.startswith(
        "FAILED: 0.25, required <= 0.1. Set by the false positive rate gap (0.250); "
        "the true positive rate gap is 0.050."
    )
    assert "False positive rate ranges from 0.050 (A, 400 rows) to 0.300 (B, 400 rows)." in (
        eod.message
    )
    assert eod.details["set_by"] == "false_positive_rate"
    eor = out.result("fairness.equalized_odds_ratio")
    assert eor.value == pytest.approx(_fairlearn(frame)[1], abs=1e-12)
    assert "Set by the false positive rate ratio (0.167)" in eor.message


def test_the_true_positive_gap_is_quoted_when_it_sets_the_value() -> None:
    frame = _frame(tpr={"A": 0.90, "B": 0.60}, fpr={"A": 0.10, "B": 0.12})
    kw = {"sensitive_features": frame["group"]}
    tprs = true_positive_rate(frame["y"][frame.group == "A"], frame["p"][frame.group == "A"])
    assert tprs == pytest.approx(0.9)
    assert false_positive_rate(frame["y"], frame["p"]) == pytest.approx(0.11)
    out = _run(frame)
    eod = out.result("fairness.equalized_odds_difference")
    assert eod.value == pytest.approx(equalized_odds_difference(frame["y"], frame["p"], **kw),
                                      abs=1e-12)
    assert "Set by the true positive rate gap (0.300); the false positive rate gap is 0.020." in (
        eod.message
    )
    assert "True positive rate ranges from 0.600 (B, 400 rows) to 0.900 (A, 400 rows)." in (
        eod.message
    )
    assert eod.details["set_by"] == "true_positive_rate"
