"""Validation over HTTP: the remote SDK uploads the data, the server runs the suite."""

from __future__ import annotations

import httpx
import pytest

from steward.demo.credit import TARGET, train_credit_model
from steward.demo.validation import train_biased_credit_model
from steward.domain.errors import ArtifactError, InvalidInput
from steward.sdk.client import Steward

SENSITIVE = ["age_in_years", "foreign_worker"]


def test_remote_validate_returns_the_stored_run(remote: Steward, live_server: object) -> None:
    trained = train_credit_model(seed=42, model_kind="logistic")
    remote.create_model("credit", title="Credit")
    remote.log_version(
        "credit", trained.model, training_data=trained.train, target=TARGET, capture_git=False
    )
    biased = train_biased_credit_model(seed=42)
    remote.log_version(
        "credit", biased.model, training_data=biased.train, target=TARGET, capture_git=False
    )
    run = remote.validate(
        "credit",
        2,
        data=trained.test,
        target=TARGET,
        sensitive_features=SENSITIVE,
        suite="credit-default",
        reference_data=trained.train,
    )
    assert not run.passed
    assert run.result("fairness.four_fifths").passed is False
    assert "age_in_years=< 25" in run.result("fairness.four_fifths").message
    assert run.result("data_quality.drift").value is not None  # the reference arrived
    assert remote.check_run(run.id).results == run.results
    assert {s["name"] for s in remote.validation_suites()} >= {"credit-default"}


def test_remote_errors_are_the_embedded_ones(remote: Steward, live_server: object) -> None:
    trained = train_credit_model(seed=42, model_kind="logistic")
    remote.create_model("credit", title="Credit")
    remote.log_version("credit", b"not a model", capture_git=False)
    with pytest.raises(ArtifactError, match="cannot load"):
        remote.validate("credit", 1, data=trained.test, target=TARGET, sensitive_features=SENSITIVE)
    with pytest.raises(InvalidInput, match="target column 'nope' is not in the data"):
        remote.validate("credit", 1, data=trained.test, target="nope", y_pred=trained.test[TARGET])


def test_bad_requests_are_problem_json(live_server: object, token: str) -> None:
    url = live_server.url  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers) as http:
        http.post("/api/v1/models", json={"name": "credit"}).raise_for_status()
        cases = [
            ({"options": "{not json"}, "options is not valid JSON"),
            ({"options": '{"colour": 1}'}, "Unknown validation option(s): colour"),
            ({"options": '{"suite": "../../etc/x.yaml"}'}, "send a suite file's text as"),
        ]
        for form, message in cases:
            response = http.post(
                "/api/v1/models/credit/versions/1/validate",
                data=form,
                files={"data": ("eval.csv", b"a,b\n1,0\n")},
            )
            assert response.status_code == 422, response.text
            assert message in response.json()["detail"]
        response = http.post(
            "/api/v1/models/credit/versions/1/validate",
            data={"options": "{}"},
            files={"data": ("eval.xlsx", b"PK")},
        )
        assert response.status_code == 422
        assert "Parquet (.parquet) or CSV" in response.json()["detail"]
