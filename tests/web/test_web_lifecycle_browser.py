"""Chromium (Playwright) on the defects new users found (issue 19), each as the role that
meets them: "My work" by role with its count, a request whose gate became satisfied after
the last approval is applied (or withdrawn) from the model page, gate reasons name pages and
buttons instead of commands, times carry the organisation's zone, an administrator grants
from an empty role choice with role names translated, and a refused finding change stays
on its form, translated. Screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.risk_answers import FORECAST
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.domain.findings import FindingStatus
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.policy import default_pack_text
from steward.domain.specs import VersionSpec
from steward.services import approvals, findings, gates, identity, policies, risk, versions, waivers
from steward.services import models as model_service
from steward.services.context import Context
from steward.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)
OP = Principal(name="admin", roles=frozenset({OPERATOR}))
OLIVE = Principal(name="olive", roles=frozenset({"owner"}), teams=frozenset({"builders"}))
RISA = Principal(name="risa", roles=frozenset({"risk_officer"}))
# The requirement left unmet after the approvals, so the request stays open until it is met.


def _waive_all_but(ctx: Context, model: str, version: int, to: str, keep: set[str]) -> None:
    """Waive every unmet requirement of the move except ``keep`` (and approvals)."""
    later = (ctx.uow.clock().date() + timedelta(days=30)).isoformat()
    report = gates.check_gate(ctx, OP, model, version, to)
    for o in report.outcomes:
        if o.met or o.requirement in keep or o.kind in ("approvals", "lifecycle"):
            continue
        waivers.grant_waiver(
            ctx, RISA, model, version, requirement=o.requirement, reason="test", expires=later
        )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("life")
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'steward.db'}",
        artifacts_url=str(home / "a"),
        timezone="Asia/Taipei",  # every time on a page is shown in it, named
    )
    ctx = bootstrap.build(settings, migrate=True)
    identity.create_team(ctx, OP, "builders")
    identity.create_team(ctx, OP, "validation", line="second")
    people = {"olive": "owner", "val": "validator", "wendy": "validator", "risa": "risk_officer"}
    for name, role in {**people, "root": "admin"}.items():
        identity.create_user(
            ctx,
            OP,
            name,
            roles=(role,),
            teams={"olive": ("builders",), "val": ("validation",), "wendy": ("validation",)}.get(
                name, ()
            ),
        )
        identity.set_password(ctx, OP, name, PASSWORD)
    policies.load_pack(ctx, OP, default_pack_text(), activate=True)
    artifact = home / "model.bin"
    artifact.write_bytes(b"real bytes")
    for name in ("churn", "forecast"):
        model_service.create_model(ctx, OLIVE, name, purpose="retention offers", team="builders")
        risk.assess(ctx, OLIVE, name, FORECAST)
        versions.create_version(ctx, OLIVE, name, VersionSpec(description="first"), artifact)
        _waive_all_but(ctx, name, 1, "validation", set())
        approvals.request_transition(ctx, OLIVE, name, 1, "validation", "ready")
    findings.open_finding(ctx, OP, "forecast", title="Calibration drifts", severity="low")
    yield ctx
    ctx.uow.engine.dispose()


@pytest.fixture(scope="module")
def server(store: Context) -> Iterator[LiveServer]:
    with LiveServer(store) as live:
        live.ctx = store  # type: ignore[attr-defined]
        yield live


def _open_request(server: LiveServer, model: str, version: int) -> Any:
    ctx = server.ctx  # type: ignore[attr-defined]
    found = [
        r
        for r in approvals.list_requests(ctx, OP, status="open", model=model)
        if r.version == version
    ]
    return found[0] if found else None


def _request_approval(ctx: Context, model: str) -> str:
    """olive asks to move v1 to approved; every unmet requirement but the approvals and one
    other (returned) is waived, so the request stays open after a validator approves."""
    # a high finding blocks approval (findings.none-open) besides the validator's approval
    findings.open_finding(
        ctx, OP, model, version=1, title="Threshold not justified", severity="high"
    )
    result = approvals.request_transition(ctx, OLIVE, model, 1, "approved", "validated")
    unmet = [o for o in result.gate.outcomes if not o.met and o.kind != "approvals"]
    assert unmet, "the policy should leave something besides approvals to meet"
    blocker = unmet[0].requirement
    _waive_all_but(ctx, model, 1, "approved", {blocker})
    return blocker


def test_my_work_lists_what_waits_by_role_with_a_count_in_the_navigation(
    browser: Any, server: LiveServer
) -> None:
    ctx = server.ctx  # type: ignore[attr-defined]
    _request_approval(ctx, "churn")
    # val, a validator: the churn v1 request waits for his decision
    val = Session(browser, server, "val")
    page = val.page
    badge = page.locator("nav a[href='/work'] .badge")
    assert int(badge.inner_text()) >= 1
    page.click("nav a[href='/work']")
    assert page.locator("tr.work-approval", has_text="churn v1").count() == 1
    val.shot("34-my-work-validator")
    val.close()
    # olive, an owner: the finding on her model is hers, in zh-TW
    olive = Session(browser, server, "olive", locale="zh-TW")
    page = olive.page
    page.click("nav a[href='/work']")
    row = page.locator("tr.work-finding", has_text="forecast")
    assert row.count() == 1 and "指派給您的發現事項" in row.inner_text()
    assert page.locator("tr.work-approval").count() == 0  # an owner decides nothing
    olive.shot("35-my-work-owner-zh-TW")
    olive.close()


def test_a_satisfied_request_is_applied_from_the_model_page(
    browser: Any, server: LiveServer
) -> None:
    ctx = server.ctx  # type: ignore[attr-defined]
    request = _open_request(server, "churn", 1)
    report = approvals.get_request(ctx, OP, request.id).gate
    blocker = next(o.requirement for o in report.outcomes if not o.met and o.kind != "approvals")
    val = Session(browser, server, "val")
    page = val.page
    page.click("nav >> text=Approvals")
    item = page.locator("article.inbox-item", has_text="churn v1")
    item.locator("textarea[name=comment]").fill("Independent review done.")
    item.locator("button.approve").click()
    page.wait_for_url("**notice=approved")
    # the reasons name pages and buttons, never a command that has one
    assert "steward approvals" not in page.inner_text("table.gate")
    assert page.locator("form.apply-form").count() == 0  # the gate is not satisfied yet
    val.close()

    later = (ctx.uow.clock().date() + timedelta(days=30)).isoformat()
    waivers.grant_waiver(
        ctx, RISA, "churn", 1, requirement=blocker, reason="accepted", expires=later
    )
    # the gate is satisfied now, after the last approval: olive applies from the browser
    olive = Session(browser, server, "olive")
    page = olive.page
    page.goto(f"{server.url}/models/churn?version=1")
    assert page.locator("#gate-state.ok").count() == 1
    olive.shot("30-request-apply")
    page.click("form.apply-form button[type=submit]")
    page.wait_for_url("**notice=applied")
    assert "The gate passed and the version moved." in page.inner_text("main")
    assert _open_request(server, "churn", 1) is None
    row = page.locator("#versions-h ~ table tr", has_text="v1").first
    assert "approved" in row.inner_text()
    # every time on the page names its zone (the organisation's, Asia/Taipei)
    assert "GMT+08:00" in page.inner_text("ol.timeline")
    olive.close()


def test_a_request_is_withdrawn_only_by_who_asked(browser: Any, server: LiveServer) -> None:
    ctx = server.ctx  # type: ignore[attr-defined]
    _request_approval(ctx, "forecast")
    request = _open_request(server, "forecast", 1)
    # wendy may not withdraw olive's request: the service's words, with status 403
    wendy = Session(browser, server, "wendy")
    page = wendy.page
    page.goto(f"{server.url}/models/forecast?version=1")
    assert page.locator("form.withdraw-form").count() == 0  # not her model
    token = page.locator("form[action='/logout'] input[name=csrf_token]").get_attribute("value")
    refused = page.request.post(
        f"{server.url}/approvals/{request.id}/withdraw",
        form={"csrf_token": token or "", "reason": "not mine"},
    )
    assert refused.status == 403 and "approval:request" in refused.text()
    wendy.close()

    olive = Session(browser, server, "olive")
    page = olive.page
    page.goto(f"{server.url}/models/forecast?version=1")
    page.fill("#withdraw-reason", "asked too early")
    page.click("form.withdraw-form button[type=submit]")
    page.wait_for_url("**notice=withdrawn")
    assert "The request was withdrawn." in page.inner_text("main")
    assert _open_request(server, "forecast", 1) is None
    olive.close()


def test_the_administrator_grants_from_an_empty_choice_with_role_names_translated(
    browser: Any, server: LiveServer
) -> None:
    ada = Session(browser, server, "root", locale="zh-TW")
    page = ada.page
    page.click("nav >> text=管理")
    form = page.locator("#user-val form.role-form")
    assert form.locator("select").input_value() == ""  # no role chosen until one is picked
    roles = page.locator("#user-risa td.roles").inner_text()
    assert "風險長" in roles and "risk_officer" not in roles  # role names translated
    ada.shot("32-admin-zh-TW")
    ada.close()


def test_a_refused_finding_change_stays_on_its_form_translated(
    browser: Any, server: LiveServer
) -> None:
    ctx = server.ctx  # type: ignore[attr-defined]
    found = findings.list_findings(ctx, OP, model="forecast", status="active")
    fid = found.items[0].id
    for locale, summary in (("en-US", "needs a note"), ("zh-TW", "問題出在欄位")):
        olive_s = Session(browser, server, "olive", locale=locale)
        page = olive_s.page
        page.goto(f"{server.url}/findings?model=forecast")
        row = page.locator(f"#finding-{fid}")
        row.locator("select[name=status]").select_option("resolved")
        row.locator("input[name=owner]").fill("olive")
        row.locator("button[type=submit]").click()
        error = page.locator(f"#finding-error-{fid}")
        error.wait_for()
        assert summary in error.inner_text()
        assert "--note" not in error.inner_text()
        row = page.locator(f"#finding-{fid}")
        assert row.locator("textarea[name=note]").get_attribute("aria-invalid") == "true"
        assert row.locator("input[name=owner]").input_value() == "olive"  # what was typed stays
        assert row.locator("select[name=status]").input_value() == "resolved"
        olive_s.shot(f"33-finding-error-{locale}")
        # a 422 page is logged by Chromium; nothing else may be
        olive_s.errors[:] = [e for e in olive_s.errors if "422" not in e]
        olive_s.close()
    assert findings.get_finding(ctx, OP, fid).status is not FindingStatus.RESOLVED
    # with the note, the finding is resolved and the remediation note kept in its history
    olive_s = Session(browser, server, "olive")
    page = olive_s.page
    page.goto(f"{server.url}/findings?model=forecast")
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
    olive_s.close()


def test_head_and_favicon_answer(server: LiveServer) -> None:
    import httpx

    assert httpx.head(f"{server.url}/").status_code == 200
    icon = httpx.get(f"{server.url}/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg")
