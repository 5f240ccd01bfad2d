"""Chromium (Playwright) on the paged "My work" page (issue 19): a section with more than
one page of items shows that page, its exact total and how many more; the next page and
back work; the navigation's count stays the whole total. A validator with overdue
reviews in English, an owner with unanswered risk questionnaires in Traditional Chinese.
Screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.domain.permissions import OPERATOR, Principal
from steward.services import identity
from steward.services import models as model_service
from steward.services.context import Context
from steward.services.work import SECTION_SIZE
from steward.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)
OP = Principal(name="admin", roles=frozenset({OPERATOR}))
EXTRA = 3  # items past the first page in each section


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("work")
    settings = Settings(
        home=home, database_url=f"sqlite:///{home / 'steward.db'}", artifacts_url=str(home / "a")
    )
    ctx = bootstrap.build(settings, migrate=True)
    for name, role in {"olive": "owner", "val": "validator"}.items():
        identity.create_user(ctx, OP, name, roles=(role,))
        identity.set_password(ctx, OP, name, PASSWORD)
    first_due = date(2026, 1, 1)
    for i in range(SECTION_SIZE + EXTRA):
        # olive's models: each a risk questionnaire to answer (olive) and, tiered with a
        # missed review date, a periodic review due for an independent validator (val)
        name = f"model-{i:02d}"
        model_service.create_model(
            ctx, OP, name, owner="olive", risk_tier="high", risk_override_reason="paging test"
        )
        model_service.update_model(
            ctx, OP, name, next_review_date=first_due + timedelta(days=SECTION_SIZE + EXTRA - i)
        )
    yield ctx
    ctx.uow.engine.dispose()


def test_a_long_section_shows_one_page_and_more_then_the_next_page(
    browser: Any, server: LiveServer
) -> None:
    total = SECTION_SIZE + EXTRA
    val = Session(browser, server, "val")
    page = val.page
    assert int(page.locator("nav a[href='/work'] .badge").inner_text()) == total
    page.click("nav a[href='/work']")
    section = page.locator("section#work-review")
    assert section.locator("h2").inner_text() == f"Periodic review due ({total})"
    rows = section.locator("tr.work-review")
    assert rows.count() == SECTION_SIZE
    # soonest due first: model-27 was due first
    assert "model-27" in rows.first.inner_text() and "model-03" in rows.last.inner_text()
    more = section.locator("a.more")
    assert more.inner_text() == f"{EXTRA} more"
    val.shot("70-my-work-paged")
    more.click()
    page.wait_for_url("**section=review&page=2**")
    section = page.locator("section#work-review")
    rows = section.locator("tr.work-review")
    assert rows.count() == EXTRA
    assert "model-02" in rows.first.inner_text() and "model-00" in rows.last.inner_text()
    assert f"{SECTION_SIZE + 1}\u2013{total} of {total}" in section.locator(".shown").inner_text()
    assert section.locator("a.more").count() == 0
    assert int(page.locator("nav a[href='/work'] .badge").inner_text()) == total  # exact
    section.locator("a[rel=prev]").click()
    page.wait_for_url("**section=review&page=1**")
    assert page.locator("section#work-review tr.work-review").count() == SECTION_SIZE
    val.close()


def test_the_paged_sections_in_traditional_chinese(browser: Any, server: LiveServer) -> None:
    total = SECTION_SIZE + EXTRA
    olive = Session(browser, server, "olive", locale="zh-TW")
    page = olive.page
    page.click("nav a[href='/work']")
    section = page.locator("section#work-questionnaire")
    assert f"({total})" in section.locator("h2").inner_text()
    assert section.locator("tr.work-questionnaire").count() == SECTION_SIZE
    assert section.locator("a.more").inner_text() == f"還有 {EXTRA} 項"
    olive.shot("71-my-work-paged-zh-TW")
    section.locator("a.more").click()
    page.wait_for_url("**section=questionnaire&page=2**")
    section = page.locator("section#work-questionnaire")
    assert section.locator("tr.work-questionnaire").count() == EXTRA
    assert f"共 {total} 項" in section.locator(".shown").inner_text()
    assert section.locator("a[rel=prev]").inner_text() == "上一頁"
    # the owner completes none of her own reviews: no review section for her
    assert page.locator("section#work-review").count() == 0
    olive.close()
