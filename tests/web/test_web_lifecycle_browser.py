"""Chromium (Playwright) on the demo, as new users found it (issue 19's defects): a request
whose gate became satisfied is applied (or withdrawn) from the model page, gate reasons
name pages and buttons instead of commands, times carry their zone, the demo's
administrator signs in, finding form errors stay on the form, the model page opens on
what serves, and zh-TW pages translate role names. Screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import demo_context

from steward.domain.findings import FindingStatus
from steward.domain.permissions import OPERATOR, Principal
from steward.services import approvals, findings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)
OP = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("demo")
    with demo_context(home) as ctx:
        # the organisation's zone: every time on a page is shown in it, named
        ctx.settings = ctx.settings.with_(timezone="Asia/Taipei")
        with LiveServer(ctx) as live:
            live.ctx = ctx  # type: ignore[attr-defined]
            yield live


def _open_request(server: LiveServer, model: str, version: int) -> Any:
    ctx = server.ctx  # type: ignore[attr-defined]
    found = [
        r
        for r in approvals.list_requests(ctx, OP, status="open", model=model)
        if r.version == version
    ]
    return found[0] if found else None


def test_my_work_lists_what_waits_by_role_with_a_count_in_the_navigation(
    browser: Any, server: LiveServer
) -> None:
    # wendy, a validator: the credit-scoring v3 request waits for her decision
    wendy = Session(browser, server, "wendy")
    page = wendy.page
    badge = page.locator("nav a[href='/work'] .badge")
    assert int(badge.inner_text()) >= 1
    page.click("nav a[href='/work']")
    row = page.locator("tr.work-approval", has_text="credit-scoring v3")
    assert row.count() == 1
    wendy.shot("34-my-work-validator")
    wendy.close()
    # bob, an owner: the finding on his model is his, in zh-TW
    bob = Session(browser, server, "bob", locale="zh-TW")
    page = bob.page
    page.click("nav a[href='/work']")
    row = page.locator("tr.work-finding", has_text="diabetes-progression")
    assert row.count() == 1
    assert "指派給您的發現事項" in row.inner_text()
    assert page.locator("tr.work-approval").count() == 0  # an owner decides nothing
    bob.shot("35-my-work-owner-zh-TW")
    bob.close()


def test_a_satisfied_request_is_applied_from_the_model_page(
    browser: Any, server: LiveServer
) -> None:
    # wendy, the second validator, approves credit-scoring v3: the version is approved.
    wendy = Session(browser, server, "wendy")
    item = wendy.page.locator("article.inbox-item", has_text="credit-scoring v3")
    item.locator("textarea[name=comment]").fill("Independent review done.")
    item.locator("button.approve").click()
    wendy.page.wait_for_url("**notice=applied")
    wendy.close()

    # alice asks for production before a monitor exists; rita approves, yet the gate
    # still wants a monitor, so the request stays open.
    alice = Session(browser, server, "alice")
    page = alice.page
    page.goto(f"{server.url}/models/credit-scoring?version=3")
    page.fill("#justification", "challenger beats the champion; go live")
    page.select_option("#to", "production")
    page.click("form.request-form button[type=submit]")
    page.wait_for_url("**notice=requested")
    alice.close()
    rita = Session(browser, server, "rita")
    item = rita.page.locator("article.inbox-item", has_text="credit-scoring v3")
    item.locator("textarea[name=comment]").fill("Second line: fine for production.")
    item.locator("button.approve").click()
    rita.page.wait_for_url("**notice=approved")
    unmet = rita.page.locator("table.gate tr.req-unmet", has_text="monitor")
    assert unmet.count() == 1
    # the reason names the page, not `steward monitor create` (which has no page yet, so
    # the command stays) — but never a command that has a page
    assert "steward approvals" not in rita.page.inner_text("table.gate")
    assert rita.page.locator("form.apply-form").count() == 0  # rita did not ask
    rita.close()

    from steward.demo.monitoring import watch_credit
    from steward.sdk.client import Steward
    from steward.sdk.local import LocalBackend

    ctx = server.ctx  # type: ignore[attr-defined]
    watch_credit(lambda name: Steward(LocalBackend(ctx, name)), 3)

    # the gate is satisfied now: alice sees Apply and the move happens from the browser
    alice = Session(browser, server, "alice")
    page = alice.page
    page.goto(f"{server.url}/models/credit-scoring?version=3")
    assert page.locator("#gate-state.ok").count() == 1
    alice.shot("30-request-apply")
    page.click("form.apply-form button[type=submit]")
    page.wait_for_url("**notice=applied")
    assert "The gate passed and the version moved." in page.inner_text("main")
    assert _open_request(server, "credit-scoring", 3) is None
    row = page.locator("#versions-h ~ table tr", has_text="v3").first
    assert "production" in row.inner_text()
    # every time on the page names its zone (the organisation's, Asia/Taipei)
    assert "GMT+08:00" in page.inner_text("ol.timeline")
    alice.close()


def test_a_request_is_withdrawn_only_by_who_asked(browser: Any, server: LiveServer) -> None:
    bob = Session(browser, server, "bob")
    page = bob.page
    version = 1  # in validation; approval needs a validator, so the request stays open
    page.goto(f"{server.url}/models/diabetes-progression?version={version}")
    page.select_option("#to", "approved")
    page.fill("#justification", "ready for a look")
    page.click("form.request-form button[type=submit]")
    page.wait_for_url("**notice=requested")
    request = _open_request(server, "diabetes-progression", version)
    assert request is not None
    bob.close()

    # victor may not withdraw bob's request: the service's words, on the page
    victor = Session(browser, server, "victor")
    page = victor.page
    page.goto(f"{server.url}/models/diabetes-progression?version={version}")
    assert page.locator("form.withdraw-form").count() == 0  # not his model
    token = page.locator("form[action='/logout'] input[name=csrf_token]").get_attribute("value")
    refused = page.request.post(
        f"{server.url}/approvals/{request.id}/withdraw",
        form={"csrf_token": token or "", "reason": "not mine"},
    )
    assert refused.status == 403
    victor.close()

    bob = Session(browser, server, "bob")
    page = bob.page
    page.goto(f"{server.url}/models/diabetes-progression?version={version}")
    page.fill("#withdraw-reason", "asked too early")
    page.click("form.withdraw-form button[type=submit]")
    page.wait_for_url("**notice=withdrawn")
    assert "The request was withdrawn." in page.inner_text("main")
    assert _open_request(server, "diabetes-progression", version) is None
    bob.close()


def test_the_model_page_opens_on_what_serves_with_the_others_as_tabs(
    browser: Any, server: LiveServer
) -> None:
    audra = Session(browser, server, "audra")
    page = audra.page
    page.goto(f"{server.url}/models/credit-scoring")
    current = page.locator("#version-tabs a[aria-current=page]")
    assert "production" in current.inner_text()
    assert page.locator("#version-tabs a").count() >= 4
    assert "champion" in page.locator("#version-tabs").inner_text()
    audra.shot("31-model-version-tabs")
    # the inventory's last validation names the version it ran on
    page.goto(f"{server.url}/")
    row = page.locator("tr", has_text="credit-scoring").first
    assert row.locator("a[href*='version=']").count() >= 1
    audra.close()


def test_the_demo_administrator_signs_in_and_grants_from_an_empty_choice(
    browser: Any, server: LiveServer
) -> None:
    ada = Session(browser, server, "ada", locale="zh-TW")
    page = ada.page
    page.click("nav >> text=管理")
    form = page.locator("#user-audra form.role-form")
    assert form.locator("select").input_value() == ""  # no role chosen until one is picked
    roles = page.locator("#user-rita td.roles").inner_text()
    assert "風險長" in roles and "risk_officer" not in roles  # role names translated
    ada.shot("32-admin-zh-TW")
    ada.close()


def test_a_refused_finding_change_stays_on_its_form_translated(
    browser: Any, server: LiveServer
) -> None:
    ctx = server.ctx  # type: ignore[attr-defined]
    found = findings.list_findings(ctx, OP, model="diabetes-progression", status="active")
    fid = found.items[0].id
    for locale, summary in (("en-US", "needs a note"), ("zh-TW", "問題出在欄位")):
        bob = Session(browser, server, "bob", locale=locale)
        page = bob.page
        page.goto(f"{server.url}/findings?model=diabetes-progression")
        row = page.locator(f"#finding-{fid}")
        row.locator("select[name=status]").select_option("resolved")
        row.locator("input[name=owner]").fill("bob")
        row.locator("button[type=submit]").click()
        error = page.locator(f"#finding-error-{fid}")
        error.wait_for()
        assert summary in error.inner_text()
        assert "--note" not in error.inner_text()
        row = page.locator(f"#finding-{fid}")
        assert row.locator("textarea[name=note]").get_attribute("aria-invalid") == "true"
        assert row.locator("input[name=owner]").input_value() == "bob"  # what was typed stays
        assert row.locator("select[name=status]").input_value() == "resolved"
        bob.shot(f"33-finding-error-{locale}")
        # a 422 page is logged by Chromium; nothing else may be
        bob.errors[:] = [e for e in bob.errors if "422" not in e]
        bob.close()
    assert findings.get_finding(ctx, OP, fid).status is not FindingStatus.RESOLVED
    # with the note, the finding is resolved and the remediation note kept in its history
    bob = Session(browser, server, "bob")
    page = bob.page
    page.goto(f"{server.url}/findings?model=diabetes-progression")
    row = page.locator(f"#finding-{fid}")
    row.locator("select[name=status]").select_option("resolved")
    row.locator("textarea[name=note]").fill("recalibrated in a new version")
    row.locator("textarea[name=comment]").fill("checked against the holdout set")
    row.locator("button[type=submit]").click()
    page.wait_for_url("**notice=finding_updated")
    assert findings.get_finding(ctx, OP, fid).status is FindingStatus.RESOLVED
    assert any(
        c.body == "checked against the holdout set" for c in findings.finding_comments(ctx, OP, fid)
    )
    bob.close()


def test_head_and_favicon_answer(server: LiveServer) -> None:
    import httpx

    assert httpx.head(f"{server.url}/").status_code == 200
    icon = httpx.get(f"{server.url}/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg")
