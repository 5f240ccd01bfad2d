"""The validation engine on real data (German Credit), without a store: checks, suites, inputs.

Reference numbers come from scikit-learn and Fairlearn on the same arrays.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
)
from sklearn.metrics import accuracy_score, brier_score_loss, log_loss, roc_auc_score

from steward.demo.credit import TARGET, TrainedCreditModel, train_credit_model
from steward.demo.validation import train_biased_credit_model
from steward.domain.errors import InvalidInput
from steward.validation import loading, runner
from steward.validation.options import Predictions
from steward.validation.suites import load_suite, parse_suite

SENSITIVE = ["age_in_years", "foreign_worker"]
FAST = {"n_repeats": 2}


@pytest.fixture(scope="module")
def trained() -> TrainedCreditModel:
    return train_credit_model(seed=42, model_kind="logistic")


@pytest.fixture(scope="module")
def credit_run(trained: TrainedCreditModel) -> runner.RunOutput:
    suite = load_suite("credit-default")
    return runner.run_suite(
        suite,
        runner.RunInputs(
            data=trained.test,
            target=TARGET,
            sensitive=SENSITIVE,
            model=loading.from_object(trained.model),
            reference=trained.train,
        ),
    )


def _suite(*checks: str, settings: str = "", task: str = "classification") -> Any:
    lines = "\n".join(f"  - check: {c}" for c in checks)
    return parse_suite(
        f"suite: t\nversion: '1'\ntask: {task}\n{settings}checks:\n{lines}\n", "t.yaml"
    )


def test_credit_suite_covers_every_family_on_real_data(credit_run: runner.RunOutput) -> None:
    families = {r.family.value for r in credit_run.results}
    assert families == {"performance", "fairness", "explainability", "robustness", "data_quality"}
    # Every check ran or says precisely why it could not.
    for result in credit_run.results:
        if result.name in credit_run.summary["skipped"]:
            assert result.passed is None and result.message.startswith("skipped: ")
    assert set(credit_run.summary["skipped"]) <= {
        "explainability.shap",  # optional extra
        "robustness.monotonicity",  # nothing declared
        "performance.vs_baseline",  # no parent given here
        "data_quality.schema",  # no version signature outside the store
        "data_quality.out_of_range",  # no training profile outside the store
    }
    assert credit_run.summary["bands"] == {"age_in_years": [25.0]}
    # The fair model passes discrimination, fairness and data quality; robustness is measured
    # (this logistic model loses 0.054 AUC when 10% of categories flip: a real, stored result).
    failed = [r for r in credit_run.results if r.passed is False]
    assert [r.name for r in failed] in ([], ["robustness.categorical_flip"])
    flip = credit_run.result("robustness.categorical_flip")
    assert flip.value is not None and 0 < flip.value < 0.2
    assert 0 < flip.details["flip_rate"] < 0.5


def test_numbers_match_scikit_learn_and_fairlearn(
    trained: TrainedCreditModel, credit_run: runner.RunOutput
) -> None:
    x, y = trained.test[trained.feature_columns], trained.test[TARGET].to_numpy()
    pred = trained.model.predict(x)
    score = trained.model.predict_proba(x)[:, 1]
    value = {r.name: r.value for r in credit_run.results}
    assert value["performance.roc_auc"] == pytest.approx(roc_auc_score(y, score), abs=1e-9)
    assert value["performance.accuracy"] == pytest.approx(accuracy_score(y, pred), abs=1e-9)
    assert value["performance.brier"] == pytest.approx(brier_score_loss(y, score), abs=1e-9)
    assert value["performance.log_loss"] == pytest.approx(log_loss(y, score), abs=1e-9)
    # Fairness on the favourable outcome (0 = good risk), age banded at 25, small groups
    # (the 9 non-foreign workers of the holdout) left out, as the suite states.
    age = np.where(trained.test["age_in_years"] < 25, "< 25", ">= 25")
    groups = pd.DataFrame({"age": age, "fw": trained.test["foreign_worker"].to_numpy()})
    keep = (groups["fw"] == "yes").to_numpy()
    sf = groups[keep]
    # Fairlearn selects on label 1: flip the labels so 1 means "good risk".
    good, good_pred = 1 - y[keep], 1 - pred[keep]
    assert value["fairness.demographic_parity_ratio"] == pytest.approx(
        demographic_parity_ratio(good, good_pred, sensitive_features=sf), abs=1e-9
    )
    assert value["fairness.demographic_parity_difference"] == pytest.approx(
        demographic_parity_difference(good, good_pred, sensitive_features=sf), abs=1e-9
    )
    assert value["fairness.equalized_odds_difference"] == pytest.approx(
        equalized_odds_difference(good, good_pred, sensitive_features=sf), abs=1e-9
    )


def test_evidence_is_valid_svg_and_a_json_summary(credit_run: runner.RunOutput) -> None:
    names = {e.name: e for e in credit_run.evidence}
    assert {
        "fairness-selection-rate.svg",
        "performance-reliability.svg",
        "explainability-permutation-importance.svg",
        "robustness-noise.svg",
        "data-quality-drift.svg",
        "summary.json",
    } <= set(names)
    for blob in credit_run.evidence:
        if blob.media_type == "image/svg+xml":
            root = ET.fromstring(blob.content)
            assert root.tag.endswith("svg")
    summary = json.loads(names["summary.json"].content)
    assert len(summary["results"]) == len(credit_run.results)
    table = credit_run.result("fairness.group_table").details["table"]
    assert {row["group"] for row in table} >= {
        "age_in_years=< 25, foreign_worker=yes",
        "age_in_years=>= 25, foreign_worker=yes",
    }


def test_biased_model_fails_fairness_with_a_readable_explanation() -> None:
    biased = train_biased_credit_model(seed=42)
    suite = load_suite("credit-default")
    out = runner.run_suite(
        suite,
        runner.RunInputs(
            data=biased.test,
            target=TARGET,
            sensitive=SENSITIVE,
            model=loading.from_object(biased.model),
            settings={"seed": 1},
        ),
    )
    failed = {r.name: r for r in out.results if r.passed is False}
    assert "fairness.four_fifths" in failed
    assert "fairness.demographic_parity_ratio" in failed
    four_fifths = failed["fairness.four_fifths"]
    assert four_fifths.value is not None and four_fifths.value < 0.8
    assert "FAILED" in four_fifths.message
    assert "age_in_years=< 25" in four_fifths.message  # names the group that is hurt
    assert "selected at" in four_fifths.message
    assert {"fairness.disparate_impact", "fairness.equal_opportunity_difference"} <= set(failed)
    assert failed["fairness.disparate_impact"].details["privileged"] == {"age_in_years": ">= 25"}


class CountingModel:
    """Wraps a model and counts the rows it was asked to predict."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.rows = 0

    def predict(self, x: pd.DataFrame) -> Any:
        self.rows += len(x)
        return self.inner.predict(x)

    def predict_proba(self, x: pd.DataFrame) -> Any:
        self.rows += len(x)
        return self.inner.predict_proba(x)

    @property
    def classes_(self) -> Any:
        return self.inner.classes_


def _inputs(trained: TrainedCreditModel, data: pd.DataFrame, **kw: Any) -> runner.RunInputs:
    counting = CountingModel(trained.model)
    model = loading.LoadedModel(
        flavor="object",
        predict_fn=counting.predict,
        proba_fn=counting.predict_proba,
        classes=[0, 1],
        feature_names=list(trained.feature_columns),
    )
    kw.setdefault("target", TARGET)
    kw.setdefault("sensitive", SENSITIVE)
    inputs = runner.RunInputs(data=data, model=model, **kw)
    inputs.__dict__["_counting"] = counting
    return inputs


@pytest.mark.parametrize(
    ("mutate", "kw", "expected"),
    [
        (lambda d: d.drop(columns=[TARGET]), {}, "target column 'risk' is not in the data"),
        (lambda d: d, {"sensitive": ["sex"]}, "sensitive feature column 'sex' is not in"),
        (
            lambda d: d.assign(foreign_worker="yes"),
            {},
            "Sensitive feature 'foreign_worker' has a single group",
        ),
        (
            lambda d: d.assign(foreign_worker=None),
            {},
            "Sensitive feature 'foreign_worker' is empty",
        ),
        (
            lambda d: d.assign(duration_in_month="twelve"),
            {},
            "The model cannot predict on this data",
        ),
        (lambda d: d.drop(columns=["purpose"]), {}, "lacks the model's input column(s) purpose"),
        (lambda d: d, {"settings": {"positive_label": "bad"}}, "positive_label 'bad' does not"),
        (
            lambda d: d.assign(risk=d[TARGET].astype(float).where(d.index % 7 != 0)),
            {},
            "target has",
        ),
    ],
)
def test_bad_input_is_refused_before_heavy_work(
    trained: TrainedCreditModel, mutate: Any, kw: dict[str, Any], expected: str
) -> None:
    inputs = _inputs(trained, mutate(trained.test.copy()), **kw)
    with pytest.raises(InvalidInput, match=expected.replace("(", r"\(").replace(")", r"\)")):
        runner.run_suite(load_suite("credit-default"), inputs)
    assert inputs.__dict__["_counting"].rows <= 10  # at most the trial rows were predicted


def test_wrong_task_and_missing_sensitive_features_are_named(trained: TrainedCreditModel) -> None:
    with pytest.raises(InvalidInput, match="regression suite but the target has dtype"):
        runner.run_suite(
            _suite("performance.mae", task="regression"),
            runner.RunInputs(
                data=trained.test.assign(risk=trained.test[TARGET].map({0: "good", 1: "bad"})),
                predictions=Predictions(y_true=TARGET, y_pred=TARGET),
            ),
        )
    with pytest.raises(InvalidInput, match="fairness checks, which need sensitive features"):
        runner.run_suite(
            _suite("fairness.demographic_parity_ratio"),
            runner.RunInputs(
                data=trained.test, target=TARGET, model=loading.from_object(trained.model)
            ),
        )


def test_predictions_mode_needs_no_model(trained: TrainedCreditModel) -> None:
    x = trained.test[trained.feature_columns]
    frame = trained.test[[TARGET, *SENSITIVE]].assign(
        y_pred=trained.model.predict(x), y_score=trained.model.predict_proba(x)[:, 1]
    )
    out = runner.run_suite(
        load_suite("credit-default"),
        runner.RunInputs(
            data=frame,
            sensitive=SENSITIVE,
            predictions=Predictions(y_true=TARGET, y_pred="y_pred", y_score="y_score"),
        ),
    )
    assert out.summary["mode"] == "predictions"
    assert out.result("performance.roc_auc").value == pytest.approx(
        roc_auc_score(frame[TARGET], frame["y_score"]), abs=1e-9
    )
    assert out.result("fairness.four_fifths").passed is True
    for name in ("explainability.permutation_importance", "robustness.numeric_noise"):
        assert out.result(name).passed is None
        assert "a model artifact" in out.result(name).message


def test_robustness_and_explainability_report_drops_and_flips(trained: TrainedCreditModel) -> None:
    suite = parse_suite(
        """
suite: robust
version: "1"
checks:
  - check: robustness.numeric_noise
    params: {sigmas: [0.0, 1.0]}
  - check: robustness.missing_injection
  - check: robustness.monotonicity
    params: {features: {duration_in_month: increasing}}
  - check: explainability.permutation_importance
    params: {n_repeats: 2}
  - check: explainability.sensitive_in_top_features
    params: {n_repeats: 2, top_k: 20}
""",
        "robust.yaml",
    )
    out = runner.run_suite(
        suite,
        runner.RunInputs(
            data=trained.test,
            target=TARGET,
            sensitive=["age_in_years"],
            model=loading.from_object(trained.model),
        ),
    )
    levels = out.result("robustness.numeric_noise").details["levels"]
    assert levels[0]["drop"] == 0 and levels[0]["flip_rate"] == 0  # sigma 0 changes nothing
    assert levels[1]["flip_rate"] > 0
    # LogisticRegression rejects NaN: reported, informational by default.
    missing = out.result("robustness.missing_injection")
    assert missing.passed is None and "cannot predict when values are missing" in missing.message
    # A longer loan is riskier for this model: declared increasing risk holds on most rows.
    mono = out.result("robustness.monotonicity")
    assert mono.value is not None and mono.value < 0.05
    ranking = out.result("explainability.permutation_importance").details["ranking"]
    assert ranking[0] == "status_of_existing_checking_account"
    flagged = out.result("explainability.sensitive_in_top_features")
    if "age_in_years" in ranking[:20]:
        assert flagged.passed is False
        assert any(f["feature"] == "age_in_years" for f in flagged.details["flagged"])


def test_drift_and_leakage_against_reference_data(trained: TrainedCreditModel) -> None:
    suite = _suite("data_quality.drift", "data_quality.train_test_overlap")
    shifted = trained.test.assign(credit_amount=trained.test["credit_amount"] * 3)
    leaky = pd.concat([shifted, trained.train.head(100)])
    out = runner.run_suite(
        suite,
        runner.RunInputs(
            data=leaky,
            target=TARGET,
            model=loading.from_object(trained.model),
            reference=trained.train,
        ),
    )
    drift = out.result("data_quality.drift")
    assert drift.passed is False and "credit_amount" in drift.message
    assert drift.details["columns"]["credit_amount"]["ks_pvalue"] < 1e-6
    overlap = out.result("data_quality.train_test_overlap")
    assert overlap.value == pytest.approx(100 / 400)
    assert overlap.passed is False


def test_regression_suite_with_group_error_gaps() -> None:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    data = load_diabetes(as_frame=True).frame
    data["sex_group"] = np.where(data["sex"] > 0, "a", "b")
    features = [c for c in data.columns if c not in ("target", "sex_group")]
    model = Ridge(alpha=1.0).fit(data[features], data["target"])
    out = runner.run_suite(
        load_suite("regression-default"),
        runner.RunInputs(
            data=data,
            target="target",
            sensitive=["sex_group"],
            model=loading.from_object(model),
            features=features,
            settings={"seed": 3},
        ),
    )
    assert out.result("performance.r2").value == pytest.approx(
        model.score(data[features], data["target"]), abs=1e-9
    )
    gap = out.result("fairness.group_error_gap")
    assert gap.value is not None and math.isfinite(gap.value)
    assert {g["group"] for g in gap.details["groups"]} == {"a", "b"}
