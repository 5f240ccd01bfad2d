"""Chromium (Playwright) on the data-connection and team pages: an admin registers a
PostgreSQL connection (its password typed into a password field, never shown again),
sets a team's line of defence and removes the connection; an owner is refused both
pages. Any browser console error (a CSP violation included) fails; screenshots go to
test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import TEST_OUTBOUND_ALLOW, LiveServer
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.domain.permissions import OPERATOR, Principal
from steward.services import connections, identity
from steward.services.context import Context
from steward.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)
OP = Principal(name="admin", roles=frozenset({OPERATOR}))
SECRET = "typed-once-never-shown"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("connections")
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'steward.db'}",
        artifacts_url=str(home / "a"),
        outbound_allow=TEST_OUTBOUND_ALLOW,
    )
    ctx = bootstrap.build(settings, migrate=True)
    identity.create_user(ctx, OP, "root", roles=("admin",), password=PASSWORD)
    identity.create_user(ctx, OP, "olive", roles=("owner",), password=PASSWORD)
    identity.create_team(ctx, OP, "internal-audit", title="Internal audit")
    yield ctx
    ctx.uow.engine.dispose()


def test_admin_registers_a_connection_and_sets_a_line(
    browser: Any, server: LiveServer, store: Context
) -> None:
    root = Session(browser, server, "root")
    page = root.page
    page.click("nav >> text=Admin")
    page.click("main nav >> text=Data connections")
    page.wait_for_url("**/admin/connections")
    page.fill("#c-name", "warehouse")
    page.select_option("#c-kind", "postgresql")
    page.fill("#c-location", "postgresql://reader@127.0.0.1:5432/credit")
    page.fill("#c-description", "read-only replica")
    assert page.get_attribute("#c-cred-password", "type") == "password"
    page.fill("#c-cred-password", SECRET)
    page.check("input[name=roles][value=validator]")
    root.shot("20-admin-connection-form")
    page.click("form.connection-create button[type=submit]")
    page.wait_for_url("**notice=connection_created**")
    row = page.locator("#connection-warehouse")
    assert "postgresql" in row.inner_text() and "password" in row.inner_text()
    assert SECRET not in page.content()
    assert page.locator("#c-cred-password").input_value() == ""
    assert connections.get_connection(store, OP, "warehouse").credential_keys == ["password"]
    root.shot("21-admin-connection-listed")

    # the teams page sets a team's line of defence
    page.click("main nav >> text=Teams")
    page.wait_for_url("**/admin/teams")
    team_row = page.locator("#team-internal-audit")
    team_row.locator("select[name=line]").select_option("third")
    team_row.locator("form.team-line button[type=submit]").click()
    page.wait_for_url("**notice=line_set**")
    assert identity.get_team(store, OP, "internal-audit").line == "third"
    assert page.locator("#team-internal-audit select[name=line]").input_value() == "third"

    page.click("main nav >> text=Data connections")
    page.locator("#connection-warehouse form.delete-connection button").click()
    page.wait_for_url("**notice=connection_deleted")
    assert page.locator("#connection-warehouse").count() == 0
    assert connections.list_connections(store, OP) == []
    root.close()


def test_an_owner_is_refused_the_connection_and_team_pages(
    browser: Any, server: LiveServer
) -> None:
    olive = Session(browser, server, "olive")
    page = olive.page
    assert page.locator("nav >> text=Admin").count() == 0
    for path, permission in (
        ("/admin/connections", "connection:manage"),
        ("/admin/teams", "user:manage"),
    ):
        response = page.goto(f"{server.url}{path}")
        assert response is not None and response.status == 403, path
        assert permission in page.inner_text("main"), path
        assert page.locator("form.connection-create, form.team-line").count() == 0
    olive.shot("22-owner-refused-connections")
    # a 403 document logs "Failed to load resource" in the console: expected here
    olive.errors = [e for e in olive.errors if "403" not in e]
    olive.close()
