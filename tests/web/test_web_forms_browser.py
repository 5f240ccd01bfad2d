"""Chromium (Playwright) on the lifecycle forms, each as the role that uses it: an owner
registers a model and answers its risk questionnaire with a preview; a risk officer
grants a waiver with an expiry; a validator completes a periodic review with its
checklist in Traditional Chinese, the refusal shown on the form. Any browser console
error fails; screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.risk_answers import CREDIT
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.policy import default_pack_text
from steward.domain.specs import VersionSpec
from steward.services import identity, policies, risk, versions, waivers
from steward.services import models as model_service
from steward.services.context import Context
from steward.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)
OP = Principal(name="admin", roles=frozenset({OPERATOR}))
PEOPLE = {"olive": "owner", "val": "validator", "risa": "risk_officer"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("forms")
    settings = Settings(
        home=home, database_url=f"sqlite:///{home / 'steward.db'}", artifacts_url=str(home / "a")
    )
    ctx = bootstrap.build(settings, migrate=True)
    for name, role in PEOPLE.items():
        identity.create_user(ctx, OP, name, roles=(role,))
        identity.set_password(ctx, OP, name, PASSWORD)
    policies.load_pack(ctx, OP, default_pack_text(), activate=True)
    olive = Principal(name="olive", roles=frozenset({"owner"}))
    model_service.create_model(ctx, olive, "churn", purpose="retention offers")
    artifact = home / "model.bin"
    artifact.write_bytes(b"real bytes")
    versions.create_version(ctx, olive, "churn", VersionSpec(description="first"), artifact)
    model_service.update_model(ctx, OP, "churn", risk_tier="high", risk_override_reason="test")
    yield ctx
    ctx.uow.engine.dispose()


def test_an_owner_registers_a_model_and_previews_its_risk(
    browser: Any, server: LiveServer, store: Context
) -> None:
    olive = Session(browser, server, "olive")
    page = olive.page
    page.click("a.register-link")
    page.fill("#m-name", "loans")
    page.fill("#m-title", "Loan ranking")
    page.fill("#m-purpose", "Rank consumer loan applications for underwriters")
    page.select_option("#m-positive", "favourable")
    olive.shot("36-register-model")
    page.click("form.model-register button[type=submit]")
    page.wait_for_url("**/models/loans/risk?notice=model_created")
    for question, answer in CREDIT.items():
        for value in [answer] if isinstance(answer, str) else answer:
            page.check(f"input[name={question}][value={value}]")
    page.click("button[name=step][value=preview]")
    expected = risk.preview(store, OP, "loans", CREDIT)
    page.locator("#risk-preview").wait_for()
    assert page.inner_text("#preview-tier") == expected.tier
    assert risk.get_assessment(store, OP, "loans").assessment is None  # not saved yet
    # the answers stay checked after the preview
    assert page.is_checked("input[name=decision_impact][value=significant]")
    olive.shot("37-risk-preview")
    page.click("button[name=step][value=save]")
    page.wait_for_url("**/models/loans?notice=risk_assessed")
    saved = risk.get_assessment(store, OP, "loans").assessment
    assert saved is not None and saved.tier == expected.tier
    olive.close()


def test_a_risk_officer_grants_a_waiver_and_an_owner_gets_no_form(
    browser: Any, server: LiveServer, store: Context
) -> None:
    olive = Session(browser, server, "olive")
    olive.page.goto(f"{server.url}/models/churn")
    assert olive.page.locator("form.waiver-form").count() == 0
    olive.close()
    risa = Session(browser, server, "risa")
    page = risa.page
    page.goto(f"{server.url}/models/churn")
    page.click("#waiver summary")
    page.select_option("#w-requirement", "risk.assessed")
    page.fill("#w-reason", "assessed on paper by the credit committee; re-assess by June")
    later = (store.uow.clock().date() + timedelta(days=60)).isoformat()
    page.fill("#w-expires", later)
    risa.shot("38-waiver-form")
    page.click("form.waiver-form button[type=submit]")
    page.wait_for_url("**notice=waiver_granted*")
    row = page.locator("table.gate tr", has_text="risk.assessed")
    assert "waived" in row.inner_text()
    [waiver] = waivers.list_waivers(store, OP, model="churn", version=1).items
    assert waiver.granted_by == "risa"
    risa.close()


def test_a_validator_completes_a_review_with_its_checklist_in_chinese(
    browser: Any, server: LiveServer, store: Context
) -> None:
    val = Session(browser, server, "val", locale="zh-TW")
    page = val.page
    page.goto(f"{server.url}/reviews?within=3660")
    form = page.locator("#review-churn form.review-form")
    form.locator("select[name=outcome]").select_option("satisfactory")
    form.locator("input[name=checklist][value=performance]").check()
    form.locator("textarea[name=notes]").fill("效能穩定")
    form.locator("button[type=submit]").click()
    error = page.locator("#review-churn .error")
    error.wait_for()
    assert "問題出在欄位" in error.inner_text()  # translated, naming the field
    form = page.locator("#review-churn form.review-form")
    assert form.locator("textarea[name=notes]").input_value() == "效能穩定"
    assert form.locator("input[name=checklist][value=performance]").is_checked()
    val.shot("39-review-checklist-refused-zh-TW")
    val.errors[:] = [e for e in val.errors if "422" not in e]  # the refusal's status
    for box in form.locator("input[name=checklist]").all():
        box.check()
    form.locator("button[type=submit]").click()
    page.wait_for_url("**notice=review_completed")
    assert model_service.get_model(store, OP, "churn").next_review_date is not None
    val.close()
