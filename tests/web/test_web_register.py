"""Registering a model and answering its risk questionnaire from the browser, in-process on
SQLite and PostgreSQL: the preview scores without saving, saving records the assessment
the CLI would, refusals (the wrong role, someone else's model, a bad name) are the
service's and keep what was typed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import ensure_user
from tests.risk_answers import CREDIT
from tests.web.test_web_pages import PASSWORD, sign_in

from steward.api.app import create_app
from steward.domain.errors import NotFound
from steward.domain.permissions import OPERATOR, Principal
from steward.services import identity, risk
from steward.services import models as model_service
from steward.services.context import Context

OP = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.fixture
def web(ctx: Context) -> Iterator[TestClient]:
    for name, role in {"olive": "owner", "oscar": "owner", "val": "validator"}.items():
        ensure_user(ctx, name, role)
        identity.set_password(ctx, OP, name, PASSWORD)
    with TestClient(create_app(ctx)) as client:
        yield client


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _form(token: str, step: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The questionnaire form as the browser posts it: a multi-choice answer repeats."""
    return {"csrf_token": token, "step": step, **answers}


def test_an_owner_registers_a_model_then_previews_and_saves_its_risk(
    web: TestClient, ctx: Context
) -> None:
    sign_in(web, "olive")
    page = web.get("/models/new")
    assert page.status_code == 200 and 'name="purpose"' in page.text
    token = _csrf(page.text)
    bad = web.post(
        "/models/new",
        data={"csrf_token": token, "name": "Bad Name!", "purpose": "rank loan applications"},
    )
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text and "rank loan applications" in bad.text
    made = web.post(
        "/models/new",
        data={
            "csrf_token": token,
            "name": "loans",
            "title": "Loan ranking",
            "purpose": "rank loan applications for underwriters",
            "owner": "olive",
            "positive_means": "favourable",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303 and made.headers["location"].startswith("/models/loans/risk")
    model = model_service.get_model(ctx, OP, "loans")
    assert model.owner == "olive" and model.positive_means.value == "favourable"

    form = web.get("/models/loans/risk")
    assert form.status_code == 200
    assert "What effect do the model" in form.text  # each question with its explanation
    expected = risk.preview(ctx, OP, "loans", CREDIT)
    preview = web.post("/models/loans/risk", data=_form(token, "preview", CREDIT))
    assert preview.status_code == 200 and 'id="risk-preview"' in preview.text
    assert f'class="tier tier-{expected.tier}"' in preview.text
    assert expected.reasons[0].text in preview.text
    assert risk.get_assessment(ctx, OP, "loans").assessment is None  # a preview saves nothing
    # an incomplete answer set is refused by the service, the answers kept
    partial = {k: v for k, v in CREDIT.items() if k != "autonomy"}
    refused = web.post("/models/loans/risk", data=_form(token, "save", partial))
    assert refused.status_code == 422 and "autonomy" in refused.text
    assert 'value="significant" checked' in refused.text
    saved = web.post(
        "/models/loans/risk",
        data=_form(token, "save", CREDIT),
        follow_redirects=False,
    )
    assert saved.status_code == 303 and "notice=risk_assessed" in saved.headers["location"]
    done = risk.get_assessment(ctx, OP, "loans").assessment
    assert done is not None and done.tier == expected.tier and done.assessed_by == "olive"


def test_the_wrong_role_and_a_stranger_are_refused_by_the_services(
    web: TestClient, ctx: Context
) -> None:
    olive = Principal(name="olive", roles=frozenset({"owner"}))
    model_service.create_model(ctx, olive, "churn", purpose="retention offers")
    sign_in(web, "val")
    assert web.get("/models/new").status_code == 403
    token = _csrf(web.get("/").text)
    forged = web.post("/models/new", data={"csrf_token": token, "name": "sneaky"})
    assert forged.status_code == 403
    assert web.get("/models/churn/risk").status_code == 403
    web.cookies.clear()
    sign_in(web, "oscar")  # an owner, but not of churn
    token = _csrf(web.get("/").text)
    assert web.get("/models/churn/risk").status_code == 403
    stranger = web.post("/models/churn/risk", data=_form(token, "save", CREDIT))
    assert stranger.status_code == 403
    assert risk.get_assessment(ctx, OP, "churn").assessment is None
    with pytest.raises(NotFound):  # the model was not created
        model_service.get_model(ctx, OP, "sneaky")
