"""Fairness direction (issue 13, item 4): what a positive prediction means decides which group
is disadvantaged. A recidivism tool predicts 1 = high risk (adverse): the group flagged most
often is the one hurt, although its "selection rate" of 1 is the highest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    selection_rate,
)

from steward.domain.errors import InvalidInput
from steward.validation import runner
from steward.validation.options import Predictions
from steward.validation.suites import parse_suite

SUITE = parse_suite(
    "suite: t\nversion: '1'\ntask: classification\nchecks:\n"
    "  - check: fairness.demographic_parity_ratio\n"
    "  - check: fairness.demographic_parity_difference\n"
    "  - check: fairness.four_fifths\n  - check: fairness.group_table\n",
    "t.yaml",
)


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    rows = 3000
    race = rng.choice(["African-American", "Caucasian"], rows)
    # African-American defendants are flagged high risk (1) far more often.
    flagged = rng.random(rows) < np.where(race == "African-American", 0.58, 0.33)
    return pd.DataFrame(
        {
            "race": race,
            "high_risk": flagged.astype(int),
            "two_year_recid": (rng.random(rows) < 0.45).astype(int),
        }
    )


def _run(frame: pd.DataFrame, positive_means: str | None, **settings: object) -> runner.RunOutput:
    return runner.run_suite(
        SUITE,
        runner.RunInputs(
            data=frame,
            sensitive=["race"],
            predictions=Predictions(y_true="two_year_recid", y_pred="high_risk"),
            positive_means=positive_means,
            settings=settings,
        ),
    )


def test_adverse_names_the_group_flagged_most_often() -> None:
    frame = _frame()
    favourable = _run(frame, "favourable").result("fairness.four_fifths")
    adverse = _run(frame, "adverse").result("fairness.four_fifths")
    # Read as favourable, Caucasian defendants look disadvantaged ("selected" less often) ...
    assert "Adverse impact: Caucasian is selected at" in favourable.message
    assert favourable.details["reference_group"] == "African-American"
    # ... read the right way round, African-American defendants are the disadvantaged group.
    assert "Adverse impact: African-American is selected at" in adverse.message
    assert adverse.details["reference_group"] == "Caucasian"
    assert adverse.details["flagged"] == ["African-American"]
    assert "a positive prediction (1) is adverse" in adverse.message
    assert adverse.details["positive_means"] == "adverse"
    assert adverse.details["favorable_label"] == "0"


def test_adverse_numbers_match_fairlearn_on_the_favourable_outcome() -> None:
    frame = _frame()
    out = _run(frame, "adverse")
    y, p, race = frame["two_year_recid"], frame["high_risk"], frame["race"]
    favourable = (p == 0).astype(int)  # the outcome fairness is measured on
    kw = {"sensitive_features": race}
    assert out.result("fairness.demographic_parity_ratio").value == pytest.approx(
        demographic_parity_ratio(y, favourable, **kw), abs=1e-12
    )
    assert out.result("fairness.demographic_parity_difference").value == pytest.approx(
        demographic_parity_difference(y, favourable, **kw), abs=1e-12
    )
    rates = MetricFrame(
        metrics=selection_rate,
        y_true=y,
        y_pred=p,
        sensitive_features=race,
        sample_params={"pos_label": 0},
    ).by_group
    table = {r["group"]: r for r in out.result("fairness.group_table").details["table"]}
    for group, rate in rates.items():
        assert table[group]["selection_rate"] == pytest.approx(rate, abs=1e-12)
    assert out.summary["positive_means"] == "adverse"
    assert out.summary["favorable_label"] == 0


def test_a_fairness_run_without_a_direction_is_asked_for_one() -> None:
    with pytest.raises(InvalidInput, match="--positive-means favourable") as caught:
        _run(_frame(), None)
    assert caught.value.extra["field"] == "positive_means"
    assert "steward model update MODEL --positive-means" in str(caught.value)


def test_favorable_label_states_the_direction_and_a_contradiction_is_refused() -> None:
    frame = _frame()
    implied = _run(frame, None, favorable_label=0)
    assert implied.summary["positive_means"] == "adverse"
    with pytest.raises(InvalidInput, match="positive_means is favourable but favorable_label 0"):
        _run(frame, "favourable", favorable_label=0)
    with pytest.raises(InvalidInput, match="favourable or adverse"):
        _run(frame, "bad")


def test_a_suites_favorable_label_wins_over_the_models_stored_direction() -> None:
    # A model migrated to "favourable" validated with a suite that measures fairness on 0:
    # the suite's explicit choice decides, without a contradiction error.
    out = runner.run_suite(
        SUITE,
        runner.RunInputs(
            data=_frame(),
            sensitive=["race"],
            predictions=Predictions(y_true="two_year_recid", y_pred="high_risk"),
            model_positive_means="favourable",
            settings={"favorable_label": 0},
        ),
    )
    assert out.summary["positive_means"] == "adverse"
    stored = runner.run_suite(
        SUITE,
        runner.RunInputs(
            data=_frame(),
            sensitive=["race"],
            predictions=Predictions(y_true="two_year_recid", y_pred="high_risk"),
            model_positive_means="adverse",
        ),
    )
    assert stored.summary["favorable_label"] == 0
