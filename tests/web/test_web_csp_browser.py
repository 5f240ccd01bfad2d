"""The Content-Security-Policy in Chromium: every page of the demo (charts included)
loads with zero CSP violations, as a risk officer and as an admin.

A violation is caught two ways: Chromium's console error, and the page's own
``securitypolicyviolation`` event (Vega, for one, swallows its EvalError). The
charts must have drawn: a CSP that passes because nothing ran would prove nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.web.test_web_browser import CHROMIUM, pytestmark  # noqa: F401  (skip without it)
from tests.web.webutil import OPERATOR_P, PASSWORD, demo_context

from steward.services import identity

PAGES = {
    "rita": [
        "/",
        "/models/credit-scoring",
        "/models/credit-scoring?version=3",
        "/models/credit-scoring/monitoring",
        "/models/credit-scoring/versions/3/card",
        "/approvals",
        "/findings",
        "/reviews",
        "/compliance",
        "/compliance/models/credit-scoring",
        "/audit",
        "/tokens",
    ],
    "root": ["/admin", "/admin/teams", "/admin/users/new", "/admin/webhooks"],
}
CHARTS = {"/models/credit-scoring", "/models/credit-scoring/monitoring"}
REPORT = (
    "document.addEventListener('securitypolicyviolation', e => console.error("
    "'CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI))"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_context(tmp_path_factory.mktemp("csp")) as ctx, LiveServer(ctx) as live:
        identity.create_user(ctx, OPERATOR_P, "root", roles=("admin",), password=PASSWORD)
        yield live


@pytest.mark.parametrize("user", sorted(PAGES))
def test_every_page_loads_with_zero_csp_violations(server: LiveServer, user: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        engine = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = engine.new_context()
        context.add_init_script(REPORT)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{server.url}/login")
        page.fill("#username", user)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")
        for path in PAGES[user]:
            response: Any = page.goto(server.url + path)
            page.wait_for_load_state("networkidle")
            assert response.status == 200, path
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            if path in CHARTS:
                assert page.locator("svg.marks").count() > 0, f"no chart drew on {path}"
                page.locator("svg.marks").first.hover()  # the tooltip may not inject styles
            assert errors == [], (path, errors)
        engine.close()
