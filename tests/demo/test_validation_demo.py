"""The demo validation: every family on the German Credit holdout, and a biased version that
fails fairness with a readable explanation."""

from __future__ import annotations

from steward.demo.credit import TARGET, train_credit_model
from steward.demo.validation import BIAS_AGE, biased_training_labels, validate_demo
from steward.sdk.client import Steward


def test_biased_labels_only_touch_young_applicants() -> None:
    train = train_credit_model(seed=42, model_kind="logistic").train
    biased = biased_training_labels(train)
    young = train["age_in_years"] < BIAS_AGE
    assert (biased.loc[young, TARGET] == 1).all()
    assert biased.loc[~young, TARGET].equals(train.loc[~young, TARGET])
    assert train.loc[young, TARGET].mean() < 1  # the real labels were not all bad


def test_validate_demo(local: Steward) -> None:
    local.create_model("credit-scoring", title="Consumer credit scoring")
    for number, kind in enumerate(("logistic", "forest", "gbm"), start=1):
        trained = train_credit_model(seed=42, model_kind=kind)
        local.log_version(
            "credit-scoring",
            trained.model,
            training_data=trained.train,
            target=TARGET,
            parent_version=number - 1 or None,
            capture_git=False,
        )
    demo = validate_demo(local)
    families = {r.family.value for r in demo.run.results if r.passed is not None}
    assert families == {"performance", "fairness", "explainability", "robustness", "data_quality"}
    assert demo.run.passed, [r.name for r in demo.run.results if r.passed is False]
    assert demo.run.result("performance.vs_baseline").details["baseline_label"] == "version 2"
    assert demo.biased_version == 4 and not demo.biased_run.passed
    failed = {r.name for r in demo.biased_run.results if r.passed is False}
    assert {"fairness.four_fifths", "fairness.disparate_impact"} <= failed
    text = demo.explanation()
    assert "failed" in text.splitlines()[1]
    assert "fairness.four_fifths: FAILED" in text and "age_in_years=< 25" in text
