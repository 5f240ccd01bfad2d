"""Chromium (Playwright) on the compliance programme over the real demo store: a risk officer
opens it from the compliance page, sees the readiness chart drawn and the ranked actions,
and downloads the plan; an auditor reads it in Traditional Chinese; a person without a role
is refused as the service words it, in both languages. Any browser console error fails;
screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import OPERATOR_P, PASSWORD, demo_context

from steward.compliance import programme
from steward.services import compliance, identity

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with demo_context(tmp_path_factory.mktemp("demo")) as ctx, LiveServer(ctx) as live:
        identity.create_user(ctx, OPERATOR_P, "nora", roles=(), password=PASSWORD)
        live.ctx = ctx  # type: ignore[attr-defined]
        yield live


def test_a_risk_officer_follows_the_programme_and_downloads_the_plan(
    browser: Any, server: LiveServer, tmp_path: Path
) -> None:
    rita = Session(browser, server, "rita")
    page = rita.page
    page.goto(f"{server.url}/compliance")
    page.click("#programme-link")
    page.wait_for_url("**/compliance/programme")
    page.locator("#chart-readiness svg").first.wait_for()
    rows = page.locator("#readiness-table tbody tr")
    assert rows.count() == 13  # twelve past weeks and now
    expected = compliance.compliance_programme(server.ctx, OPERATOR_P)  # type: ignore[attr-defined]
    first = page.locator("#actions-table tbody tr").first
    assert expected.actions[0].model in first.inner_text()
    assert str(expected.actions[0].controls) in first.inner_text()
    rita.shot("43-compliance-programme")
    with page.expect_download() as got:
        page.click("#plan-csv")
    saved = tmp_path / "plan.csv"
    got.value.save_as(saved)
    assert saved.read_text() == programme.plan_csv(expected)
    rita.close()


def test_an_auditor_reads_it_in_chinese(browser: Any, server: LiveServer) -> None:
    audra = Session(browser, server, "audra", locale="zh-TW")
    page = audra.page
    page.goto(f"{server.url}/compliance/programme?weeks=6")
    assert page.inner_text("h1") == "合規推動計畫"
    assert "下一步行動" in page.inner_text("#actions-h")
    assert page.locator("#readiness-table tbody tr").count() == 7
    page.locator("#chart-readiness svg").first.wait_for()
    audra.shot("44-compliance-programme-zh-TW")
    audra.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_a_person_without_a_role_is_refused(browser: Any, server: LiveServer, locale: str) -> None:
    nora = Session(browser, server, "nora", locale=locale)
    response = nora.page.goto(f"{server.url}/compliance/programme")
    assert response is not None and response.status == 403
    assert "governance:read" in nora.page.inner_text("main")
    assert len(nora.errors) == 1 and "403" in nora.errors[0]  # the refusal's status, only
    nora.errors.clear()
    nora.close()
