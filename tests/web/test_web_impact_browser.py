# ruff: noqa: RUF001  (Traditional Chinese uses full-width punctuation)
"""Chromium (Playwright) on the impact assessment page, each step as the role that takes
it: a risk officer fills the form (a missing Art. 27 answer is refused beside what she
typed, which stays), submits, and is refused approving her own submission (segregation
of duties, in the service's words); a validator approves; the model page shows who filled
and who approved, and why the assessment went stale when the purpose changed. Once in
English and once in Traditional Chinese (the form's questions in Chinese). Any browser
console error but the refusals' own status fails; screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.domain import impact as impact_form
from steward.domain import impact_texts
from steward.domain.impact import ImpactStatus
from steward.domain.permissions import OPERATOR, Principal
from steward.services import identity, impact
from steward.services import models as model_service
from steward.services.context import Context
from steward.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)
OP = Principal(name="admin", roles=frozenset({OPERATOR}))
PEOPLE = {"olive": "owner", "val": "validator", "risa": "risk_officer"}
ANSWERS = {
    "intended_purpose": "Ranks consumer loan applications for underwriters.",
    "period_and_frequency": "Daily, for at least three years.",
    "affected_persons": "Retail loan applicants, about 50,000 a year, including elderly.",
    "benefits": "Faster and more consistent decisions.",
    "harms": "Unfair refusals of credit to protected groups: unlikely, severe.",
    "human_oversight": "Underwriters review every refusal and can override it.",
    "mitigations": "Quarterly fairness checks; complaints reach the ombudsman desk.",
    "residual_impact": "Small; every refusal is reviewed by a person.",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("impact")
    settings = Settings(
        home=home, database_url=f"sqlite:///{home / 'steward.db'}", artifacts_url=str(home / "a")
    )
    ctx = bootstrap.build(settings, migrate=True)
    for name, role in PEOPLE.items():
        identity.create_user(ctx, OP, name, roles=(role,))
        identity.set_password(ctx, OP, name, PASSWORD)
    olive = Principal(name="olive", roles=frozenset({"owner"}))
    for model in ("loans", "churn"):
        model_service.create_model(ctx, olive, model, purpose=f"{model} decisions")
        model_service.update_model(
            ctx, OP, model, regulatory_category="high", risk_override_reason="test"
        )
    yield ctx
    ctx.uow.engine.dispose()


def _fill(page: Any, answers: dict[str, str]) -> None:
    for field, text in answers.items():
        page.fill(f"#impact-{field}", text)


def _refused(session: Session, status: str) -> None:
    session.errors[:] = [e for e in session.errors if status not in e]


def test_filled_refused_for_its_author_and_approved_by_another_in_english(
    browser: Any, server: LiveServer, store: Context
) -> None:
    risa = Session(browser, server, "risa")
    page = risa.page
    page.goto(f"{server.url}/models/loans")
    assert page.inner_text("#impact-state") == "No impact assessment yet"
    page.click("#impact-link")
    page.wait_for_url("**/models/loans/impact")
    # every question of the form, with its explanation (references, required or Art. 27)
    for field in impact_form.shipped().fields:
        assert page.inner_text(f"label[for=impact-{field.id}]") == field.text
    assert "EU AI Act Art. 27(1)(b)" in page.inner_text("#f-period_and_frequency")
    # a high-risk model: leaving the Art. 27 question out is refused, what was typed stays
    partial = {k: v for k, v in ANSWERS.items() if k != "period_and_frequency"}
    _fill(page, partial)
    page.click("#impact-submit")
    error = page.locator("#impact-error")
    error.wait_for()
    assert "period_and_frequency unanswered" in error.inner_text()
    assert "Art. 27" in error.inner_text()
    assert page.input_value("#impact-harms") == ANSWERS["harms"]
    assert impact.history(store, OP, "loans") == []  # nothing half-written
    _refused(risa, "422")
    risa.shot("60-impact-form-refused")
    page.fill("#impact-period_and_frequency", ANSWERS["period_and_frequency"])
    page.click("#impact-submit")
    page.wait_for_url("**/models/loans/impact?notice=impact_submitted")
    assert page.inner_text("#impact-state") == "Submitted, awaiting a decision"
    assert "risa" in page.inner_text("#impact-submitted-by")
    # the author may decide impact assessments, but not her own (segregation of duties)
    page.fill("#impact-comment", "Looks complete.")
    page.click("form.impact-decide button[value=approve]")
    refusal = page.locator("#impact-decide-error")
    refusal.wait_for()
    assert "risa submitted impact assessment" in refusal.inner_text()
    assert "segregation of duties" in refusal.inner_text()
    assert page.input_value("#impact-comment") == "Looks complete."
    assert impact.history(store, OP, "loans")[0].status is ImpactStatus.SUBMITTED
    _refused(risa, "403")
    risa.shot("61-impact-own-approval-refused")
    risa.close()

    olive = Session(browser, server, "olive")  # the owner: may revise, not decide
    olive.page.goto(f"{server.url}/models/loans/impact")
    assert olive.page.locator("form.impact-decide").count() == 0
    assert olive.page.locator("form.impact-form").count() == 1
    olive.close()

    val = Session(browser, server, "val")
    page = val.page
    page.goto(f"{server.url}/models/loans")
    page.click("#impact-link")
    assert page.locator("form.impact-form").count() == 0  # a validator does not fill it
    page.fill("#impact-comment", "Harms and remedies are covered; approved.")
    page.click("form.impact-decide button[value=approve]")
    page.wait_for_url("**/models/loans/impact?notice=impact_approved")
    assert page.inner_text("#impact-state") == "Approved"
    assert "val" in page.inner_text("#impact-decided-by")
    current = impact.current(store, OP, "loans")
    assert current is not None and current.decided_by == "val" and current.stale is None
    page.goto(f"{server.url}/models/loans")
    assert page.inner_text("#impact-state") == "Approved"
    assert "risa" in page.inner_text("#impact-submitted-by")
    val.shot("62-impact-approved-model")
    # the purpose changes: the approved assessment is stale, and the page says why
    model_service.update_model(store, OP, "loans", purpose="loans and credit cards")
    page.reload()
    assert page.inner_text("#impact-state") == "Stale: approved, but no longer counts"
    assert "purpose changed" in page.inner_text("#impact-stale")
    val.close()


def test_the_same_in_traditional_chinese(browser: Any, server: LiveServer, store: Context) -> None:
    worded = impact_texts.in_language(impact_form.shipped(), "zh-TW")
    risa = Session(browser, server, "risa", locale="zh-TW")
    page = risa.page
    page.goto(f"{server.url}/models/churn/impact")
    assert page.inner_text("#impact-state") == "尚無影響評估"
    assert page.inner_text("h1") == "churn 的影響評估"
    for field in worded.fields:
        assert page.inner_text(f"label[for=impact-{field.id}]") == field.text
    assert page.inner_text("label[for=impact-benefits]") == "此系統為受影響的人及組織帶來哪些效益？"
    partial = {k: v for k, v in ANSWERS.items() if k != "harms"}
    _fill(page, partial)
    page.click("#impact-submit")
    error = page.locator("#impact-error")
    error.wait_for()
    assert "harms unanswered" in error.inner_text()  # the service's words, in English
    assert page.input_value("#impact-benefits") == ANSWERS["benefits"]
    _refused(risa, "422")
    page.fill("#impact-harms", "對受保護群體不公平地拒絕授信：不太可能，但嚴重。")
    page.click("#impact-submit")
    page.wait_for_url("**notice=impact_submitted")
    assert page.inner_text("#impact-state") == "已提交，等待決定"
    page.fill("#impact-comment", "完整。")
    page.click("form.impact-decide button[value=approve]")
    refusal = page.locator("#impact-decide-error")
    refusal.wait_for()
    assert "您不被允許執行此操作。" in refusal.inner_text()  # translated summary
    assert "segregation of duties" in refusal.inner_text()  # and the service's words
    _refused(risa, "403")
    risa.shot("63-impact-own-approval-refused-zh-TW")
    risa.close()

    val = Session(browser, server, "val", locale="zh-TW")
    page = val.page
    page.goto(f"{server.url}/models/churn/impact")
    page.fill("#impact-comment", "已涵蓋危害與救濟管道，核准。")
    page.click("form.impact-decide button[value=approve]")
    page.wait_for_url("**notice=impact_approved")
    assert "影響評估已核准。" in page.inner_text("main")
    page.goto(f"{server.url}/models/churn")
    assert page.inner_text("#impact-state") == "已核准"
    assert "val" in page.inner_text("#impact-decided-by")
    val.shot("64-impact-approved-model-zh-TW")
    val.close()
