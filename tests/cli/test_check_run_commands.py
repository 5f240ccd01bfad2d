"""`steward check run|suites` on an embedded store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.helpers import as_json, flat, ok, run

import steward
from steward.demo.credit import TARGET, train_credit_model
from steward.demo.validation import train_biased_credit_model


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("data")
    trained = train_credit_model(seed=42, model_kind="logistic")
    holdout = folder / "holdout.parquet"
    trained.test.to_parquet(holdout, index=False)
    train = folder / "train.csv"
    trained.train.to_csv(train, index=False)
    x = trained.test[trained.feature_columns]
    predictions = folder / "predictions.csv"
    trained.test[[TARGET, "age_in_years"]].assign(
        pred=trained.model.predict(x), score=trained.model.predict_proba(x)[:, 1]
    ).to_csv(predictions, index=False)
    return {"holdout": holdout, "train": train, "predictions": predictions}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    where = tmp_path / "store"
    st = steward.connect(home=str(where), actor="alice")
    trained = train_credit_model(seed=42, model_kind="logistic")
    st.create_model("credit", title="Credit")
    st.log_version(
        "credit", trained.model, training_data=trained.train, target=TARGET, capture_git=False
    )
    st.log_version("credit", train_biased_credit_model(seed=42).model, capture_git=False)
    st.close()
    return where


def test_check_run_prints_results_and_stores_the_run(home: Path, files: dict[str, Path]) -> None:
    result = run(
        home,
        "check",
        "run",
        "credit",
        "1",
        "--data",
        str(files["holdout"]),
        "--target",
        TARGET,
        "--sensitive",
        "age_in_years,foreign_worker",
        "--suite",
        "credit-default",
        "--reference",
        str(files["train"]),
    )
    text = flat(result.stdout)
    # This logistic model is fair but loses 0.054 AUC when categories flip: the run fails on
    # robustness alone, and the exit status says so.
    assert "robustness.categorical_flip FAIL" in text
    assert "result failed" in text and result.exit_code == 2
    assert "fairness.four_fifths pass" in text
    assert "performance.roc_auc pass" in text
    listed = as_json(home, "check", "list", "credit", "1")
    assert len(listed) == 1 and listed[0]["suite"] == "credit-default"


def test_a_failing_run_exits_2_and_explains(home: Path, files: dict[str, Path]) -> None:
    result = run(
        home,
        "check",
        "run",
        "credit",
        "2",
        "--data",
        str(files["holdout"]),
        "--target",
        TARGET,
        "--sensitive",
        "age_in_years,foreign_worker",
        "--suite",
        "credit-default",
        "--json",
    )
    assert result.exit_code == 2, result.output
    body = json.loads(result.stdout)
    failed = {r["name"]: r for r in body["results"] if r["passed"] is False}
    assert "selected at" in failed["fairness.four_fifths"]["message"]


def test_predictions_mode_and_errors(home: Path, files: dict[str, Path]) -> None:
    result = run(
        home,
        "check",
        "run",
        "credit",
        "1",
        "--data",
        str(files["predictions"]),
        "--target",
        TARGET,
        "--y-pred",
        "pred",
        "--y-score",
        "score",
        "--sensitive",
        "age_in_years",
        "--suite",
        "credit-default",
        "--band",
        "age_in_years=30,50",
        "--privileged",
        "age_in_years=[30, 50)",
        "--json",
    )
    body = json.loads(result.stdout)
    assert result.exit_code == (0 if body["passed"] else 2)
    assert body["summary"]["mode"] == "predictions"
    assert body["summary"]["bands"] == {"age_in_years": [30.0, 50.0]}
    impact = next(r for r in body["results"] if r["name"] == "fairness.disparate_impact")
    assert impact["details"]["privileged"] == {"age_in_years": "[30, 50)"}
    bad = run(
        home, "check", "run", "credit", "1", "--data", str(files["holdout"]), "--target", "nope"
    )
    assert bad.exit_code == 1
    assert "target column 'nope' is not in the data" in flat(bad.output)
    pickle_less = run(
        home,
        "check",
        "run",
        "credit",
        "1",
        "--data",
        str(files["holdout"]),
        "--target",
        TARGET,
        "--privileged",
        "broken",
    )
    assert pickle_less.exit_code == 1 and "FEATURE=VALUE" in flat(pickle_less.output)


def test_check_suites_lists_the_shipped_suites(home: Path) -> None:
    found = as_json(home, "check", "suites")
    assert {s["name"] for s in found} >= {"credit-default", "classification-default"}
    assert "credit-default" in flat(ok(home, "check", "suites").stdout)
