"""Chromium (Playwright) on the administration pages: an admin creates a user with a
generated password, the new user signs in with it, creates an API token (shown once) and
revokes it. Any browser console error fails; screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.web.test_web_browser import ARTIFACTS, CHROMIUM, Session
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.domain.errors import Unauthenticated
from steward.domain.permissions import OPERATOR, Principal
from steward.services import identity, tokens
from steward.services.context import Context
from steward.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)
OP = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("admin")
    settings = Settings(
        home=home, database_url=f"sqlite:///{home / 'steward.db'}", artifacts_url=str(home / "a")
    )
    ctx = bootstrap.build(settings, migrate=True)
    identity.create_user(ctx, OP, "root", roles=("admin",), password=PASSWORD)
    identity.create_team(ctx, OP, "model-validation", title="Model validation")
    yield ctx
    ctx.uow.engine.dispose()


def test_admin_creates_a_user_who_signs_in_and_manages_a_token(
    browser: Any, server: LiveServer, store: Context
) -> None:
    root = Session(browser, server, "root")
    page = root.page
    page.click("nav >> text=Admin")
    page.click("main >> text=Create a user >> nth=0")
    page.wait_for_url("**/admin/users/new")
    page.fill("#u-name", "vera")
    page.fill("#u-display", "Vera V")
    page.fill("#u-email", "vera@example.org")
    page.check("input[name=roles][value=validator]")
    page.check("input[name=teams][value=model-validation]")
    assert page.is_checked("input[name=password_mode][value=generate]")
    root.shot("13-admin-create-user")
    page.click("form.user-create button[type=submit]")
    secret = page.locator("#new-password").input_value()
    assert len(secret) >= 20 and "shown only this once" in page.inner_text("main")
    vera = identity.get_user(store, OP, "vera")
    assert vera.roles == {"validator"} and vera.teams == {"model-validation"}
    root.close()

    # vera signs in with the generated password
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(f"{server.url}/login")
    tab.fill("#username", "vera")
    tab.fill("#password", secret)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{server.url}/")
    assert "Signed in as vera" in tab.inner_text("header")
    assert tab.locator("nav >> text=Admin").count() == 0  # no admin controls for her
    tab.click("nav >> text=API tokens")
    tab.wait_for_url("**/tokens")
    assert tab.locator("#tk-user").count() == 0  # she only makes tokens for herself
    tab.fill("#tk-name", "ci")
    tab.fill("#tk-days", "30")
    tab.click("form.token-create button[type=submit]")
    token = tab.locator("#token-secret").input_value()
    assert token.startswith("stw_")
    assert tokens.authenticate(store, token).name == "vera"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "14-token-created.png"), full_page=True)
    made = next(t for t in tokens.list_tokens(store, OP, user="vera") if t.name == "ci")
    row = tab.locator(f"#token-{made.id}")
    assert "ci" in row.inner_text()
    row.locator("button[type=submit]").click()
    tab.wait_for_url("**notice=token_revoked")
    assert "The token was revoked" in tab.inner_text("main")
    assert tab.locator(f"#token-{made.id}").count() == 0
    with pytest.raises(Unauthenticated):
        tokens.authenticate(store, token)
    assert errors == [], f"browser console errors: {errors}"
    context.close()
