"""Waivers and periodic reviews from the browser, in-process on SQLite and PostgreSQL: a
risk officer grants a waiver (the expiry is required; an owner is refused by the
service), a validator completes a review with its checklist (a satisfactory outcome
confirms every item; a refusal keeps what was typed, on the form), and "My work" lists
what waits for each person, a page of each kind at a time, journalling nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import ensure_user
from tests.web.test_web_pages import PASSWORD, sign_in

from steward.api.app import create_app
from steward.domain.audit import AuditFilter
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.policy import default_pack_text
from steward.domain.reviews import CHECKLIST
from steward.domain.specs import VersionSpec
from steward.services import findings, identity, policies, reviews, versions, waivers, work
from steward.services import models as model_service
from steward.services.context import Context

OP = Principal(name="admin", roles=frozenset({OPERATOR}))
OLIVE = Principal(name="olive", roles=frozenset({"owner"}))


@pytest.fixture
def web(ctx: Context, tmp_path: Path) -> Iterator[TestClient]:
    for name, role in {"olive": "owner", "val": "validator", "risa": "risk_officer"}.items():
        ensure_user(ctx, name, role)
        identity.set_password(ctx, OP, name, PASSWORD)
    policies.load_pack(ctx, OP, default_pack_text(), activate=True)
    olive = Principal(name="olive", roles=frozenset({"owner"}))
    model_service.create_model(ctx, olive, "churn", purpose="retention offers")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"real bytes")
    versions.create_version(ctx, olive, "churn", VersionSpec(description="first"), artifact)
    with TestClient(create_app(ctx)) as client:
        yield client


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_a_risk_officer_grants_a_waiver_with_an_expiry(web: TestClient, ctx: Context) -> None:
    sign_in(web, "olive")
    page = web.get("/models/churn")
    assert 'class="waiver-form"' not in page.text  # an owner is offered no waiver form
    forged = web.post(
        "/models/churn/versions/1/waivers",
        data={
            "csrf_token": _csrf(page.text),
            "requirement": "risk.assessed",
            "reason": "mine",
            "expires": "2099-01-01",
        },
    )
    assert forged.status_code == 403 and "waiver:grant" in forged.text
    web.cookies.clear()
    sign_in(web, "risa")
    page = web.get("/models/churn")
    assert 'class="waiver-form"' in page.text and 'value="risk.assessed"' in page.text
    token = _csrf(page.text)
    base = {"csrf_token": token, "requirement": "risk.assessed", "reason": "assessed on paper"}
    no_expiry = web.post("/models/churn/versions/1/waivers", data=base)
    assert no_expiry.status_code == 422 and "expiry date" in no_expiry.text
    later = (ctx.uow.clock().date() + timedelta(days=30)).isoformat()
    granted = web.post(
        "/models/churn/versions/1/waivers", data={**base, "expires": later}, follow_redirects=False
    )
    assert granted.status_code == 303 and "notice=waiver_granted" in granted.headers["location"]
    [waiver] = waivers.list_waivers(ctx, OP, model="churn", version=1).items
    assert waiver.requirement == "risk.assessed" and waiver.granted_by == "risa"


def test_a_review_is_completed_with_its_checklist(web: TestClient, ctx: Context) -> None:
    model_service.update_model(ctx, OP, "churn", risk_tier="high", risk_override_reason="test")
    sign_in(web, "val")
    page = web.get("/reviews?within=3660")
    assert 'name="checklist" value="performance"' in page.text
    token = _csrf(page.text)
    partial = web.post(
        "/reviews/churn/complete",
        data={
            "csrf_token": token,
            "outcome": "satisfactory",
            "notes": "all fine, I think",
            "checklist": ["performance", "data"],
            "within": "3660",
        },
    )
    assert partial.status_code == 422
    row = partial.text.split('id="review-churn"', 1)[1].split("</tr>", 1)[0]
    assert "not confirmed: use, findings, documentation, monitoring" in row
    assert "all fine, I think" in row and 'value="performance" checked' in row
    assert model_service.get_model(ctx, OP, "churn").next_review_date is None
    done = web.post(
        "/reviews/churn/complete",
        data={
            "csrf_token": token,
            "outcome": "satisfactory",
            "notes": "every item examined",
            "checklist": list(CHECKLIST),
        },
    )
    assert done.status_code == 200 and "next one scheduled" in done.text
    with ctx.uow.read() as uow:
        [event] = uow.audit.search(AuditFilter(action="review.completed"), 10)
    assert event.payload_dict()["checklist"] == sorted(CHECKLIST)


def test_my_work_lists_what_waits_for_each_person(web: TestClient, ctx: Context) -> None:
    findings.open_finding(ctx, OP, "churn", title="Calibration drifts", severity="high")
    sign_in(web, "olive")
    page = web.get("/work")
    assert page.status_code == 200
    assert 'class="work-finding"' in page.text and "Calibration drifts" in page.text
    assert 'class="work-questionnaire"' in page.text  # churn has no risk assessment
    assert '<span class="badge"' in page.text  # the count in the navigation
    web.cookies.clear()
    sign_in(web, "val")
    page = web.get("/work")
    assert 'class="work-finding"' not in page.text  # the finding is olive's


def test_the_model_card_view_follows_the_page_language(web: TestClient) -> None:
    sign_in(web, "val")
    english = web.get("/models/churn/versions/1/card?format=html")
    assert english.status_code == 200 and "Model card:" in english.text
    web.get("/lang/zh-TW?next=/")
    chinese = web.get("/models/churn/versions/1/card?format=html")
    assert chinese.status_code == 200
    assert '<html lang="zh-TW">' in chinese.text
    assert "模型卡" in chinese.text and "模型細節" in chinese.text
    assert "Model card:" not in chinese.text


def test_my_work_pages_each_section_and_keeps_the_navigation_count_exact(
    web: TestClient, ctx: Context
) -> None:
    size = work.SECTION_SIZE
    for i in range(size + 3):  # with churn: size + 4 questionnaires waiting for olive
        model_service.create_model(ctx, OP, f"m{i:02d}", owner="olive", purpose="paging")
    sign_in(web, "olive")
    page = web.get("/work")
    assert page.status_code == 200
    assert page.text.count('class="work-questionnaire"') == size
    assert f'data-total="{size + 4}"' in page.text and ">4 more</a>" in page.text
    badge = page.text.split('<span class="badge"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert int(badge) == work.my_work(ctx, OLIVE).total == size + 4  # exact, not one page
    second = web.get("/work?section=questionnaire&page=2")
    assert second.text.count('class="work-questionnaire"') == 4
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text
    beyond = web.get("/work?section=questionnaire&page=9")  # the last page
    assert beyond.text.count('class="work-questionnaire"') == 4
    bad = web.get("/work?section=nonsense")
    assert bad.status_code == 422 and "approval, finding, review" in bad.text
    assert web.get("/work?section=questionnaire&page=x").status_code == 422


def test_my_work_and_the_navigation_write_nothing_to_the_journal(
    web: TestClient, ctx: Context
) -> None:
    sign_in(web, "val")
    model_service.create_model(
        ctx, OP, "late", owner="olive", risk_tier="high", risk_override_reason="test"
    )
    model_service.update_model(ctx, OP, "late", next_review_date=date(2020, 1, 1))
    with ctx.uow.read() as uow:
        before = uow.audit.max_seq()
    work_page = web.get("/work")
    assert work_page.status_code == 200 and 'class="work-review"' in work_page.text
    assert web.get("/").status_code == 200  # the navigation's count
    assert web.get("/reviews").status_code == 200
    with ctx.uow.read() as uow:
        assert uow.audit.max_seq() == before
        assert uow.audit.search(AuditFilter(action="review.overdue"), 10) == []
    # the worker's report journals it, once
    assert [d.model for d in reviews.report_overdue(ctx, OP)] == ["late"]
    assert reviews.report_overdue(ctx, OP) == []
