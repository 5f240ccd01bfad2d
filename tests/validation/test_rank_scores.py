"""Scores that are not probabilities (issue 13, item 5).

A recidivism tool reports a 1-10 risk decile. Passed as the score it used to refuse the whole
run with a message about an internal parameter (``y_prob``). Rank metrics hold for any score;
only metrics that read a score as a probability are not applicable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from steward.domain.errors import InvalidInput
from steward.validation import runner
from steward.validation.options import Predictions
from steward.validation.suites import parse_suite

CHECKS = [
    "performance.roc_auc",
    "performance.gini",
    "performance.ks",
    "performance.log_loss",
    "performance.brier",
    "performance.calibration_error",
    "performance.accuracy",
]
SUITE = parse_suite(
    "suite: t\nversion: '1'\ntask: classification\nchecks:\n"
    + "".join(f"  - check: {c}\n" for c in CHECKS),
    "t.yaml",
)


def _deciles(rows: int = 3000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    decile = rng.integers(1, 11, rows)  # heavy ties: ten distinct scores
    return pd.DataFrame(
        {
            "decile_score": decile,
            "high_risk": (decile >= 5).astype(int),
            "two_year_recid": (rng.random(rows) < decile / 12).astype(int),
        }
    )


def _run(frame: pd.DataFrame) -> runner.RunOutput:
    return runner.run_suite(
        SUITE,
        runner.RunInputs(
            data=frame,
            predictions=Predictions(
                y_true="two_year_recid", y_pred="high_risk", y_score="decile_score"
            ),
        ),
    )


def _ks(y: np.ndarray, s: np.ndarray) -> float:
    values = np.unique(s)
    pos = np.searchsorted(np.sort(s[y == 1]), values, side="right") / (y == 1).sum()
    neg = np.searchsorted(np.sort(s[y == 0]), values, side="right") / (y == 0).sum()
    return float(np.abs(pos - neg).max())


def test_rank_metrics_are_computed_from_a_risk_decile() -> None:
    frame = _deciles()
    out = _run(frame)
    y, s = frame["two_year_recid"].to_numpy(), frame["decile_score"].to_numpy()
    auc = roc_auc_score(y, s)
    assert out.result("performance.roc_auc").value == pytest.approx(auc, abs=1e-12)
    assert out.result("performance.gini").value == pytest.approx(2 * auc - 1, abs=1e-12)
    assert out.result("performance.ks").value == pytest.approx(_ks(y, s), abs=1e-12)


@pytest.mark.parametrize(
    ("check", "metric"),
    [
        ("performance.log_loss", "log loss"),
        ("performance.brier", "the Brier score"),
        ("performance.calibration_error", "calibration"),
    ],
)
def test_probability_metrics_say_not_applicable_and_why(check: str, metric: str) -> None:
    result = _run(_deciles()).result(check)
    assert result.passed is None and result.value is None
    assert result.message.startswith("not applicable: scores are not probabilities")
    assert "'decile_score' (--y-score) ranges from 1 to 10" in result.message
    assert metric in result.message
    assert "y_prob" not in result.message and "y_score=" not in result.message
    assert result.details["reason"] == "scores are not probabilities"


def test_probabilities_still_get_probability_metrics() -> None:
    frame = _deciles()
    frame["decile_score"] = frame["decile_score"] / 10.0
    out = _run(frame)
    assert out.result("performance.brier").value is not None
    assert out.result("performance.log_loss").value is not None


def test_a_text_score_names_the_flag() -> None:
    frame = _deciles()
    frame["decile_score"] = frame["decile_score"].map(lambda d: f"decile {d}")
    with pytest.raises(InvalidInput, match=r"'decile_score' \(--y-score\) must be numeric"):
        _run(frame)
