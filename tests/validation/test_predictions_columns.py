"""Predictions mode does not count its own columns as features (issue 13, item 6).

A recidivism file holds, per defendant, an id, the sensitive attributes, the tool's risk decile,
its high-risk prediction and the observed outcome. Distinct people share those values, so
counting them as features reported most rows as "duplicates" and opened a blocking finding.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from steward.domain.errors import InvalidInput
from steward.validation import runner
from steward.validation.options import Predictions
from steward.validation.suites import parse_suite

SUITE = parse_suite(
    "suite: t\nversion: '1'\ntask: classification\nchecks:\n"
    "  - check: data_quality.duplicates\n  - check: data_quality.train_test_overlap\n"
    "  - check: data_quality.missing_rate\n  - check: data_quality.drift\n",
    "t.yaml",
)


def _recidivism(rows: int, seed: int, features: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    decile = rng.integers(1, 11, rows)
    frame = pd.DataFrame(
        {
            "case_id": np.arange(seed * 100_000, seed * 100_000 + rows),
            "race": rng.choice(["African-American", "Caucasian", "Hispanic"], rows),
            "sex": rng.choice(["Male", "Female"], rows),
            "decile_score": decile,
            "high_risk": (decile >= 5).astype(int),
            "two_year_recid": (rng.random(rows) < decile / 12).astype(int),
        }
    )
    if features:  # continuous inputs: genuine duplicates are rare
        frame["days_in_jail"] = rng.exponential(30.0, rows).round(6)
        frame["priors_count"] = rng.poisson(3.0, rows)
    return frame


def _run(frame: pd.DataFrame, reference: pd.DataFrame | None = None, **ids: Any) -> Any:
    return runner.run_suite(
        SUITE,
        runner.RunInputs(
            data=frame,
            sensitive=["race", "sex"],
            predictions=Predictions(
                y_true="two_year_recid",
                y_pred="high_risk",
                y_score="decile_score",
                id_columns=tuple(ids.get("id_columns", ())),
            ),
            reference=reference,
        ),
    )


def test_prediction_columns_alone_are_not_duplicates() -> None:
    frame = _recidivism(2000, 1, features=False).drop(columns="case_id")
    # What the old rule measured: every non-label column, i.e. the tool's own outputs.
    old = frame.duplicated().mean()
    assert old > 0.05  # the false failure (threshold <= 0.05)
    out = _run(frame)
    dup = out.result("data_quality.duplicates")
    assert dup.passed is None
    assert dup.message.startswith("not applicable: the data has no feature columns")
    assert "'high_risk'" in dup.message and "'decile_score'" in dup.message
    assert "data_quality.duplicates" not in out.summary["failed"]


def test_features_are_checked_without_the_role_columns() -> None:
    frame = _recidivism(2000, 2, features=True)
    # Two people entered twice: true duplicates of their features and label, ids differ.
    frame = pd.concat([frame, frame.iloc[[3, 7]].assign(case_id=[-1, -2])], ignore_index=True)
    out = _run(frame, id_columns=["case_id"])
    dup = out.result("data_quality.duplicates")
    assert dup.value == pytest.approx(2 / len(frame))
    assert dup.passed is True
    # Missing rates look at the features only (the score column's gaps are not a feature's).
    assert out.result("data_quality.missing_rate").passed is True


def test_leakage_ignores_ids_predictions_and_sensitive_columns() -> None:
    reference = _recidivism(1500, 3, features=True)
    current = _recidivism(1500, 4, features=True)
    current.iloc[:30, current.columns.get_indexer(["days_in_jail", "priors_count"])] = (
        reference[["days_in_jail", "priors_count"]].iloc[:30].to_numpy()
    )
    current.iloc[:30, current.columns.get_indexer(["two_year_recid"])] = (
        reference[["two_year_recid"]].iloc[:30].to_numpy()
    )
    out = _run(current, reference, id_columns=["case_id"])
    overlap = out.result("data_quality.train_test_overlap")
    # The 30 leaked people are found although their ids, deciles and predictions differ.
    assert overlap.value == pytest.approx(30 / 1500)
    assert overlap.details["columns"] == ["days_in_jail", "priors_count", "two_year_recid"]
    drift = out.result("data_quality.drift")
    assert set(drift.details["columns"]) == {"days_in_jail", "priors_count"}


def test_an_id_column_missing_from_the_data_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"id column 'person'.*--id-column"):
        _run(_recidivism(200, 5, features=True), id_columns=["person"])
