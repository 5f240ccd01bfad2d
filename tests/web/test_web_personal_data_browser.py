"""Chromium (Playwright) on a dataset page's personal data: the owner sees the detected
categories with masked examples, confirms one column, is refused an override without a
reason (the page says why), overrides with one; a stranger is refused; the section in
Traditional Chinese. Any browser console error fails; screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.conftest import LiveServer
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.domain.permissions import OPERATOR, Principal
from steward.services import data_quality, datasets, identity, personal_data
from steward.services.context import Context
from steward.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)
OP = Principal(name="admin", roles=frozenset({OPERATOR}))
FRAME = pd.DataFrame(
    {
        "id": [1, 2, 3],
        "email": ["ann@example.com", "bob@example.org", "cy@example.net"],
        "customer_name": ["Ann Lee", "Bob Chen", "Cy Wu"],
    }
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("pii")
    settings = Settings(
        home=home, database_url=f"sqlite:///{home / 'steward.db'}", artifacts_url=str(home / "a")
    )
    ctx = bootstrap.build(settings, migrate=True)
    identity.create_user(ctx, OP, "dana", roles=("owner",), password=PASSWORD)
    identity.create_user(ctx, OP, "bob", roles=("owner",), password=PASSWORD)
    datasets.create_dataset(ctx, OP, "customers", owner="dana")
    data_quality.snapshot(ctx, OP, "customers", FRAME)
    yield ctx
    ctx.uow.engine.dispose()


def _row(page: Any, column: str) -> Any:
    return page.locator("table.personal-data tr", has=page.locator(f"th:text-is('{column}')"))


def test_the_owner_confirms_and_overrides_column_classifications(
    browser: Any, server: LiveServer, store: Context
) -> None:
    dana = Session(browser, server, "dana")
    page = dana.page
    page.goto(f"{server.url}/datasets/customers")
    section = page.locator("#personal-data")
    assert "2 column(s) to review" in section.inner_text()
    email = _row(page, "email")
    assert "email 100.0%" in email.inner_text() and "a***@***.com" in email.inner_text()
    assert "ann@example.com" not in section.inner_text()
    dana.shot("30-personal-data")
    email.locator("button[value=confirm]").click()
    page.wait_for_url("**notice=column_classified**")
    assert "confirmed · dana" in _row(page, "email").inner_text()
    # an override without a reason is refused, saying what to add
    name = _row(page, "customer_name")
    name.locator("input[name=categories]").fill("none")
    name.locator("button[value=override]").click()
    assert "needs a reason" in page.locator("main").inner_text()
    dana.errors.clear()  # the refusal page's 422 status is the expected answer
    page.goto(f"{server.url}/datasets/customers")
    name = _row(page, "customer_name")
    name.locator("input[name=categories]").fill("none")
    name.locator("input[name=reason]").fill("pseudonyms generated for testing")
    name.locator("button[value=override]").click()
    page.wait_for_url("**notice=column_classified**")
    row = _row(page, "customer_name").inner_text()
    assert "overridden · dana" in row and "pseudonyms generated for testing" in row
    assert "to review" not in page.locator("#personal-data").inner_text()
    found = personal_data.classification(store, OP, "customers@1")
    assert found.unreviewed == [] and found.personal_columns == ["email"]
    dana.close()
    # someone who neither owns nor stewards it is refused
    bob = Session(browser, server, "bob")
    bob.page.goto(f"{server.url}/datasets/customers")
    _row(bob.page, "email").locator("input[name=categories]").fill("none")
    _row(bob.page, "email").locator("input[name=reason]").fill("mine")
    _row(bob.page, "email").locator("button[value=override]").click()
    assert "dataset:write" in bob.page.locator("main").inner_text()
    bob.errors.clear()  # the refusal page's 403 status is the expected answer
    bob.close()
    assert personal_data.classification(store, OP, "customers@1").personal_columns == ["email"]
    zh = Session(browser, server, "dana", locale="zh-TW")
    zh.page.goto(f"{server.url}/datasets/customers")
    text = zh.page.locator("#personal-data").inner_text()
    assert "個人資料" in text and "已確認" in text and "已覆寫" in text
    zh.shot("31-personal-data-zh")
    zh.close()
