"""Risk assessment over HTTP (real server) and through the SDK, embedded and remote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import LiveServer
from tests.risk_answers import CREDIT

from steward.domain.errors import InvalidInput, NotFound
from steward.domain.risk import AssessmentStatus, RiskAssessment
from steward.domain.yamldoc import DocumentError
from steward.sdk.client import Steward

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def api(live_server: LiveServer, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


def test_rest_questionnaire_assess_show_history(api: httpx.Client) -> None:
    form = api.get("/api/v1/risk/questionnaire")
    assert form.status_code == 200
    body = form.json()
    assert (body["id"], body["version"]) == ("steward-risk", "2026.11")
    assert body["thresholds"] == {"medium": 5, "high": 10, "critical": 18}
    assert [q["id"] for q in body["questions"]][:2] == ["decision_impact", "autonomy"]

    assert api.post("/api/v1/models", json={"name": "credit"}).status_code == 201
    missing = api.get("/api/v1/models/credit/risk-assessment").json()
    assert missing["assessment"] is None
    assert "`steward risk assess credit`" in missing["problem"]

    made = api.post("/api/v1/models/credit/risk-assessments", json={"answers": CREDIT})
    assert made.status_code == 200, made.text
    assessment = made.json()
    assert (assessment["tier"], assessment["category"], assessment["score"]) == ("high", "high", 17)
    assert assessment["reasons"][-2]["text"].startswith("Tier high: the total score 17")
    model = api.get("/api/v1/models/credit").json()
    assert (model["risk_tier"], model["regulatory_category"]) == ("high", "high")

    status = api.get("/api/v1/models/credit/risk-assessment").json()
    assert status["assessment"] == assessment and status["problem"] is None
    assert api.get("/api/v1/models/credit/risk-assessments").json() == [assessment]
    assert api.get(f"/api/v1/risk-assessments/{assessment['id']}").json() == assessment


def test_rest_refusals_are_problem_json(api: httpx.Client) -> None:
    api.post("/api/v1/models", json={"name": "credit"})
    bad = api.post(
        "/api/v1/models/credit/risk-assessments", json={"answers": {**CREDIT, "scale": "huge"}}
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["code"] == "invalid-input"
    assert (
        "scale: 'huge' is not one of its answers; valid answers: under_1k" in bad.json()["detail"]
    )
    assert bad.json()["field"] == "answers"
    typo = api.post("/api/v1/models/credit/risk-assessments", json={"answer": CREDIT})
    assert typo.status_code == 422
    gone = api.post("/api/v1/models/nope/risk-assessments", json={"answers": CREDIT})
    assert (gone.status_code, gone.json()["code"]) == (404, "not-found")
    assert api.get("/api/v1/risk-assessments/ra_nope").status_code == 404
    no_reason = api.patch("/api/v1/models/credit", json={"risk_tier": "high"})
    assert no_reason.status_code == 422
    assert "risk_override_reason" in no_reason.json()["detail"]
    overridden = api.patch(
        "/api/v1/models/credit",
        json={"risk_tier": "high", "risk_override_reason": "tiered by the committee"},
    )
    assert overridden.status_code == 200 and overridden.json()["risk_tier"] == "high"
    anonymous = httpx.get(f"{api.base_url}/api/v1/risk/questionnaire")
    assert anonymous.status_code == 401


def test_sdk_assess_with_a_mapping_or_a_file(client: Steward, tmp_path: Path) -> None:
    client.create_model("credit", purpose="Approve loans")
    form = client.risk_questionnaire()
    assert form.ref == "steward-risk@2026.11"

    made = client.assess_risk("credit", CREDIT)
    assert isinstance(made, RiskAssessment)
    assert (made.tier, made.category) == ("high", "high")
    assert client.get_model("credit").risk_tier.value == "high"
    status = client.risk_assessment("credit")
    assert status == AssessmentStatus("credit", made, None, "steward-risk@2026.11")
    assert client.risk_history("credit") == [made]
    assert client.get_risk_assessment(made.id) == made

    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "\n".join(
            f"{k}: {v if isinstance(v, str) else '[' + ', '.join(v) + ']'}"
            for k, v in {**CREDIT, "autonomy": "fully_automated"}.items()
        )
        + "\n"
    )
    again = client.assess_risk("credit", answers)
    assert (again.tier, again.score) == ("critical", 19)
    assert [a.id for a in client.risk_history("credit")] == [again.id, made.id]

    # a mistake in the file is reported with its line, and nothing is stored
    answers.write_text(answers.read_text().replace("scale: under_100k", "scale: many"))
    with pytest.raises(DocumentError, match=r"answers\.yaml line 5: scale: 'many' is not one"):
        client.assess_risk("credit", answers)
    with pytest.raises(InvalidInput, match="Cannot read the answers file"):
        client.assess_risk("credit", tmp_path / "missing.yaml")
    with pytest.raises(InvalidInput, match="'colour' is not a question"):
        client.assess_risk("credit", {**CREDIT, "colour": "red"})
    with pytest.raises(NotFound, match="Model 'nope' does not exist"):
        client.assess_risk("nope", CREDIT)
    assert len(client.risk_history("credit")) == 2
