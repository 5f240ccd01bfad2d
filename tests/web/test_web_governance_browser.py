"""Chromium (Playwright) on the governance pages: a finding's status change, the
compliance page with its drill-down, and a broken policy pack's problems shown inline.
Any browser console error fails; screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.test_web_governance import BAD_PACK, OP, PEOPLE
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.domain.findings import FindingStatus
from steward.domain.permissions import Principal
from steward.services import findings, identity
from steward.services import models as model_service
from steward.services.context import Context
from steward.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("gov")
    settings = Settings(
        home=home, database_url=f"sqlite:///{home / 'steward.db'}", artifacts_url=str(home / "a")
    )
    ctx = bootstrap.build(settings, migrate=True)
    for name, role in PEOPLE.items():
        identity.create_user(ctx, OP, name, roles=(role,))
        identity.set_password(ctx, OP, name, PASSWORD)
    olive = Principal(name="olive", roles=frozenset({"owner"}))
    model_service.create_model(ctx, olive, "churn", title="Churn", purpose="retention offers")
    findings.open_finding(ctx, OP, "churn", title="Calibration drifts", severity="high")
    yield ctx
    ctx.uow.engine.dispose()


def test_owner_moves_a_finding_to_remediation_then_resolves_it(
    browser: Any, server: LiveServer, store: Context
) -> None:
    olive = Session(browser, server, "olive")
    page = olive.page
    page.click("nav >> text=Findings")
    row = page.locator("tr", has_text="Calibration drifts")
    fid = findings.list_findings(store, OP, model="churn").items[0].id
    assert row.locator(".finding-status").inner_text() == "open"
    assert row.locator("option[value=accepted]").count() == 0  # a risk officer's decision
    row.locator("select[name=status]").select_option("in_remediation")
    row.locator("button[type=submit]").click()
    page.wait_for_url("**notice=finding_updated")
    assert "The finding was updated." in page.locator(".notice").inner_text()
    row = page.locator(f"#finding-{fid}")
    assert row.locator(".finding-status").inner_text() == "in remediation"
    # resolving without a note is refused with the reason, then done with one
    row.locator("select[name=status]").select_option("resolved")
    row.locator("button[type=submit]").click()
    assert "needs a note" in page.locator(".error").inner_text()
    # the refusal stays on the finding's form (a 422 response, which Chromium reports once)
    assert len(olive.errors) == 1 and "422" in olive.errors[0]
    olive.errors.clear()
    row = page.locator(f"#finding-{fid}")
    assert row.locator("select[name=status]").input_value() == "resolved"  # kept
    row.locator("textarea[name=note]").fill("recalibrated; see v2")
    olive.shot("08-finding-resolve")
    row.locator("button[type=submit]").click()
    page.wait_for_url("**notice=finding_updated")
    assert findings.get_finding(store, OP, fid).status is FindingStatus.RESOLVED
    olive.close()


def test_compliance_page_and_model_drill_down(browser: Any, server: LiveServer) -> None:
    aud = Session(browser, server, "aud")
    page = aud.page
    page.click("nav >> text=Compliance")
    assert page.locator("#framework-summary tbody tr").count() >= 6
    page.select_option("#framework", "eu-ai-act")
    page.click("#controls button[type=submit]")
    page.wait_for_url("**framework=eu-ai-act**")
    assert page.locator("table.matrix tbody tr").count() > 5
    aud.shot("09-compliance")
    page.click("text=churn >> nth=0")
    page.wait_for_url("**/compliance/models/churn**")
    first = page.locator("table.matrix details").first
    first.locator("summary").click()
    assert first.locator("li").count() >= 1
    aud.shot("10-compliance-model")
    aud.close()


def test_policy_upload_shows_problems_with_their_lines(browser: Any, server: LiveServer) -> None:
    root = Session(browser, server, "root")
    page = root.page
    page.click("nav >> text=Admin")
    assert page.locator("text=risk officer").count() >= 1  # role names as labels
    page.fill("#policy-text", BAD_PACK)
    page.click("form.policy-upload button[type=submit]")
    problems = page.locator("#policy-problems")
    problems.wait_for()
    text = problems.inner_text()
    assert "line " in text and "no_such_kind" in text
    assert page.locator("#policy-text").input_value().startswith("name: house-rules")
    root.shot("11-policy-upload-error")
    assert len(root.errors) == 1 and "422" in root.errors[0]  # the refusal's status, only
    root.errors.clear()
    root.close()
