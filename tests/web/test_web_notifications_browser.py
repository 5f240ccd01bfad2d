"""Chromium (Playwright) on notifications: the bell in the navigation counts victor's
unread notifications; the /notifications page lists them, marks one and then all read
(the count follows); the preferences form saves, and a bad time zone is refused next to
the field with what was typed kept; the page reads in Traditional Chinese. A form forged
against another person's notification changes nothing. Console errors fail the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.domain.permissions import OPERATOR, Principal
from steward.services import findings, identity, models
from steward.services import notifications as notify
from steward.services.context import Context
from steward.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)
OP = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("notifications")
    settings = Settings(
        home=home, database_url=f"sqlite:///{home / 'steward.db'}", artifacts_url=str(home / "a")
    )
    ctx = bootstrap.build(settings, migrate=True)
    identity.create_user(ctx, OP, "victor", roles=("validator",), password=PASSWORD)
    identity.create_user(ctx, OP, "bob", roles=("owner",), password=PASSWORD)
    models.create_model(ctx, OP, "credit", purpose="p")
    for title in ("Calibration drifts", "Labels are late"):
        findings.open_finding(ctx, OP, "credit", title=title, severity="low", owner="victor")
    notify.run(ctx, OP, None)
    yield ctx
    ctx.uow.engine.dispose()


def test_the_bell_counts_and_the_page_marks_read(
    browser: Any, server: LiveServer, store: Context
) -> None:
    victor = Session(browser, server, "victor")
    page = victor.page
    assert page.inner_text("#unread-count") == "2"
    page.click("nav >> a.bell")
    page.wait_for_url("**/notifications")
    assert "Calibration drifts" in page.inner_text("main")
    page.locator("tr.notification.unread form button").first.click()
    page.wait_for_url("**notice=notifications_read")
    assert page.inner_text("#unread-count") == "1"
    victor.shot("60-notifications")

    page.fill("#timezone", "Mars/Base")
    page.click("form.prefs-form button[type=submit]")
    assert "not a time zone" in page.inner_text("#prefs-error")
    assert page.input_value("#timezone") == "Mars/Base"
    assert page.get_attribute("#timezone", "aria-invalid") == "true"
    victor.errors = [e for e in victor.errors if "422" not in e]
    page.fill("#timezone", "Asia/Taipei")
    page.select_option("#delivery", "digest")
    page.click("form.prefs-form button[type=submit]")
    page.wait_for_url("**notice=preferences_saved")
    prefs = notify.get_prefs(store, identity.principal_for(store, "victor"))
    assert (prefs.timezone, prefs.delivery) == ("Asia/Taipei", "digest")

    page.click("form.read-all button")
    page.wait_for_url("**notice=notifications_read")
    assert page.locator("#unread-count").count() == 0
    victor.close()

    zh = Session(browser, server, "victor", locale="zh-TW")
    zh.page.goto(f"{server.url}/notifications")
    text = zh.page.inner_text("main")
    assert "通知設定" in text and "指派給您的發現事項" in text
    zh.shot("61-notifications-zh-tw")
    zh.close()


def test_bob_cannot_mark_victors_notification(
    browser: Any, server: LiveServer, store: Context
) -> None:
    note = notify.list_mine(store, identity.principal_for(store, "victor"))[0]
    bob = Session(browser, server, "bob")
    bob.page.goto(f"{server.url}/notifications")
    assert "Calibration drifts" not in bob.page.inner_text("main")
    csrf = bob.page.locator("form.read-all input[name=csrf_token]").get_attribute("value")
    answer = bob.page.request.post(
        f"{server.url}/notifications/{note.id}/read", form={"csrf_token": csrf or ""}
    )
    assert answer.status == 404
    bob.close()
