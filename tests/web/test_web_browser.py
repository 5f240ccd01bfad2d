"""End-to-end: the demo store served for real, driven by Debian's Chromium via Playwright.

Walks credit-scoring v3 from validation to production: wendy (second validator, other
team) approves, alice (owner) requests production, rita (risk officer) approves. Victor,
who already approved, is refused with the reason; alice sees no approve button and a
forged decision POST is refused. Screenshots go to test-artifacts/ui/ (or
$STEWARD_TEST_ARTIFACTS); any browser console error fails the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.web.conftest import CHROMIUM
from tests.web.webutil import PASSWORD, demo_context

ARTIFACTS = Path(os.environ.get("STEWARD_TEST_ARTIFACTS", "test-artifacts/ui"))

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_context(tmp_path_factory.mktemp("demo")) as ctx, LiveServer(ctx) as live:
        live.ctx = ctx  # type: ignore[attr-defined]  # for steps the UI has no page for yet
        yield live


class Session:
    """One signed-in browser context, collecting console errors."""

    def __init__(self, browser: Any, server: LiveServer, user: str, locale: str = "en-US"):
        self.context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.url = server.url
        self.page.goto(f"{self.url}/login")
        self.page.fill("#username", user)
        self.page.fill("#password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{self.url}/")

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        assert self.errors == [], f"browser console errors: {self.errors}"
        self.context.close()


def test_credit_v3_walks_to_production(browser: Any, server: LiveServer) -> None:
    # wendy: the second validator, from another team, finds the request in her inbox.
    wendy = Session(browser, server, "wendy")
    page = wendy.page
    wendy.shot("01-inventory")
    page.click("text=Approvals")
    item = page.locator("article.inbox-item", has_text="credit-scoring v3")
    assert item.count() == 1
    assert "approvals.validation" in item.inner_text()
    wendy.shot("02-inbox-wendy")
    item.locator("textarea[name=comment]").fill("Independent review done; fairness acceptable.")
    item.locator("button.approve").click()
    page.wait_for_url("**/models/credit-scoring?version=3&notice=applied")
    assert "The gate passed and the version moved." in page.inner_text("main")
    row = page.locator("table.grid tr", has_text="v3").first
    assert "approved" in row.inner_text()
    wendy.close()

    # The policy wants a monitor on a high-risk version before production (no page yet).
    from steward.demo.monitoring import watch_credit
    from steward.sdk.client import Steward
    from steward.sdk.local import LocalBackend

    ctx = server.ctx  # type: ignore[attr-defined]
    watch_credit(lambda name: Steward(LocalBackend(ctx, name)), 3)

    # victor already approved: the inbox has nothing for him, and pressing approve on the
    # model page for a new request explains why he may not decide twice.
    alice = Session(browser, server, "alice")
    page = alice.page
    page.goto(f"{server.url}/models/credit-scoring?version=3")
    assert page.locator("button.approve").count() == 0  # a developer sees no approve button
    page.fill("#justification", "gbm challenger approved by two validators; go live")
    page.select_option("#to", "production")
    page.click("form.request-form button[type=submit]")
    page.wait_for_url("**notice=requested")
    assert page.locator("table.gate tr.req-unmet", has_text="approvals").count() >= 1
    assert page.locator("#gate-state.bad").count() == 1
    alice.shot("03-model-gate-blocked")
    alice.close()

    victor = Session(browser, server, "victor")
    page = victor.page
    page.goto(f"{server.url}/models/credit-scoring?version=3")
    page.locator("#open-request textarea[name=comment]").fill("Looks fine to me.")
    page.locator("#open-request button.approve").click()
    assert "The decision was refused" in page.inner_text("main")
    refusal = page.inner_text("p.error")
    assert "victor" in refusal or "risk_officer" in refusal  # the reason names who may decide
    victor.shot("04-refusal-explained")
    # The refusal page is served with status 403, which Chromium logs; nothing else may be.
    assert [e for e in victor.errors if "403" in e] and len(victor.errors) == 1
    victor.errors.clear()
    victor.close()

    rita = Session(browser, server, "rita")
    page = rita.page
    page.click("text=Approvals")
    item = page.locator("article.inbox-item", has_text="credit-scoring v3")
    item.locator("textarea[name=comment]").fill("Second line: accepted for production.")
    item.locator("button.approve").click()
    page.wait_for_url("**notice=applied")
    row = page.locator("table.grid tr", has_text="v3").first
    assert "production" in row.inner_text()
    page.wait_for_selector("#fairness-chart svg")  # the Vega-Lite chart rendered
    rita.shot("05-model-production")
    page.goto(f"{server.url}/audit?actor=rita&action=approval.given")
    page.wait_for_selector("p.verify.ok")
    assert page.locator("td", has_text="approval.given").count() >= 1
    rita.shot("06-audit-journal")
    rita.close()


def test_developer_cannot_decide_even_by_forging_the_post(browser: Any, server: LiveServer) -> None:
    alice = Session(browser, server, "alice")
    page = alice.page
    page.goto(f"{server.url}/approvals")
    assert page.locator("button.approve").count() == 0
    # A forged POST without the page's CSRF token, with alice's session cookie.
    forged = page.request.post(
        f"{server.url}/approvals/req_does_not_matter/decide", form={"verdict": "approve"}
    )
    assert forged.status == 403
    # Even with a valid CSRF token the service refuses a developer's decision.
    page.goto(f"{server.url}/")
    token = page.locator("form[action='/logout'] input[name=csrf_token]").get_attribute("value")
    forged = page.request.post(
        f"{server.url}/approvals/req_x/decide",
        form={"verdict": "approve", "csrf_token": token or "", "comment": "forged"},
    )
    assert forged.status == 403
    assert "approval:decide" in forged.text()
    alice.close()


def test_zh_tw_inventory_is_translated(browser: Any, server: LiveServer) -> None:
    audra = Session(browser, server, "audra", locale="zh-TW")
    page = audra.page
    text = page.inner_text("main")
    for label in ("模型清冊", "風險等級", "負責人", "下次審查", "未結發現事項"):
        assert label in text
    for english in ("Model inventory", "Risk tier", "Owner", "Next review"):
        assert english not in text
    assert page.get_attribute("html", "lang") == "zh-TW"
    audra.shot("07-inventory-zh-TW")
    # The switch changes the language and it sticks.
    page.click("a[hreflang=en]")
    assert "Model inventory" in page.inner_text("main")
    audra.close()
