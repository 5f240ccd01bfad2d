"""Single sign-on end to end: Chromium (Playwright) signs in to Steward through a REAL
OpenID provider — panva's certified ``oidc-provider`` on Node.js, installed by
``scripts/venv.sh test`` from tests/oidc/package-lock.json and started here.

Covered: a first sign-in creates the user just in time with the roles and team its groups
map to; a group removed at the provider removes the role at the next sign-in (journalled);
a tampered state, a callback without the browser's flow cookie and an issuer that is not
the configured one are refused with a clear page; with local passwords switched off the
password form is gone and password sign-in is refused; the CLI signs in with the device
flow (`steward sso login`), rate-limited per address; signing out of Steward ends the
provider's session too (RP-initiated logout); signing out at the provider ends the Steward
session too (back-channel logout)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import httpx
import pytest
from tests.conftest import LiveServer, free_port
from tests.web.conftest import CHROMIUM
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.domain.audit import AuditFilter
from steward.domain.errors import ProviderError
from steward.domain.permissions import OPERATOR, Principal
from steward.services import audit, identity, sso
from steward.services.context import Context
from steward.settings import Settings

OIDC = Path(__file__).resolve().parents[1] / "oidc"
NODE = shutil.which("node")
pytestmark = [
    pytest.mark.skipif(NODE is None, reason="Node.js is not installed: no OpenID provider to run"),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
    ),
]
OP = Principal(name="admin", roles=frozenset({OPERATOR}))
CLIENT_ID = "steward-web"
CLIENT_SECRET = "test-only-client-secret-0123456789"
RULES = (
    "groups=risk-validators -> role:validator; "
    "groups=risk-validators -> team:model-validation; "
    "groups=steward-approvers -> role:approver"
)
DANA = {
    "preferred_username": "dana",
    "name": "Dana Chen",
    "email": "dana@example.org",
    "email_verified": True,
    "groups": ["risk-validators", "steward-approvers"],
}


class OpenIdProvider:
    """oidc-provider in a child process; its accounts are a JSON file a test may rewrite."""

    def __init__(self, folder: Path, base_url: str, port: int) -> None:
        self.issuer = f"http://127.0.0.1:{port}"
        self.accounts = folder / "accounts.json"
        self.set_account("dana", DANA)
        self.process = subprocess.Popen(
            [str(NODE), str(OIDC / "provider.mjs")],
            cwd=OIDC,
            env={
                **os.environ,
                "PORT": str(port),
                "CLIENT_ID": CLIENT_ID,
                "CLIENT_SECRET": CLIENT_SECRET,
                "REDIRECT_URI": f"{base_url}/sso/callback",
                "POST_LOGOUT_REDIRECT_URI": f"{base_url}/login?notice=signed_out",
                "BACKCHANNEL_LOGOUT_URI": f"{base_url}/api/v1/auth/sso/backchannel-logout",
                "ACCOUNTS": str(self.accounts),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("ready"):
            self.process.kill()
            raise RuntimeError(f"the OpenID provider did not start: {line}{self.process.stderr}")

    def set_account(self, name: str, claims: dict[str, Any]) -> None:
        found = json.loads(self.accounts.read_text()) if self.accounts.exists() else {}
        found[name] = claims
        self.accounts.write_text(json.dumps(found))

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _npm_ci() -> None:
    if (OIDC / "node_modules" / "oidc-provider").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot install the OpenID provider")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=OIDC,
        check=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Context, LiveServer, Any]]:
    _npm_ci()
    home = tmp_path_factory.mktemp("sso")
    op_port = free_port()
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'steward.db'}",
        artifacts_url=str(home / "a"),
        oidc_issuer=f"http://127.0.0.1:{op_port}",
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_rules=RULES,
        oidc_name="Example SSO",
        local_passwords=False,
    )
    ctx = bootstrap.build(settings, migrate=True)
    identity.create_user(ctx, OP, "root", roles=("admin",), password=PASSWORD)
    identity.create_team(ctx, OP, "model-validation", title="Model validation")
    live = LiveServer(ctx)
    provider = OpenIdProvider(home, live.url, op_port)
    try:
        with live:
            yield ctx, live, provider
    finally:
        provider.stop()
        ctx.uow.engine.dispose()


@pytest.fixture(scope="module")
def ctx(setup: tuple[Context, LiveServer, Any]) -> Context:
    return setup[0]


@pytest.fixture(scope="module")
def server(setup: tuple[Context, LiveServer, Any]) -> LiveServer:
    return setup[1]


@pytest.fixture(scope="module")
def provider(setup: tuple[Context, LiveServer, Any]) -> OpenIdProvider:
    return setup[2]


def _tab(browser: Any) -> tuple[Any, Any]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    return context, context.new_page()


def _sign_in_at_provider(page: Any, login: str) -> None:
    """oidc-provider's development login page (any password), then its consent page."""
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password works here")
    page.click("button[type=submit]")
    consent = page.locator("button[type=submit]", has_text="Continue")
    consent.wait_for()
    consent.click()


def _sso_sign_in(browser: Any, server: LiveServer, login: str) -> tuple[Any, Any]:
    context, page = _tab(browser)
    page.goto(f"{server.url}/login")
    page.click("#sso-login")
    _sign_in_at_provider(page, login)
    page.wait_for_url(f"{server.url}/")
    return context, page


def _events(ctx: Context, action: str, subject: str) -> list[dict[str, Any]]:
    """The payloads of the journal's events of this action on this subject, oldest first."""
    found = audit.list_events(ctx, OP, AuditFilter(action=action, subject_id=subject))
    return [json.loads(e.payload) if isinstance(e.payload, str) else e.payload for e in found]


def test_first_sign_in_creates_the_user_with_the_mapped_roles_and_team(
    browser: Any, server: LiveServer, ctx: Context
) -> None:
    context, page = _sso_sign_in(browser, server, "dana")
    assert "Signed in as dana" in page.inner_text("header")
    dana = identity.get_user(ctx, OP, "dana")
    assert dana.roles == {"validator", "approver"}
    assert dana.teams == {"model-validation"}
    assert (dana.display_name, dana.email, dana.has_password) == (
        "Dana Chen",
        "dana@example.org",
        False,
    )
    linked = _events(ctx, "auth.sso_linked", "dana")
    assert len(linked) == 1 and linked[0]["created"] is True
    logins = _events(ctx, "auth.login", "dana")
    assert logins[-1]["method"] == "sso-browser"
    context.close()


def test_a_group_removed_at_the_provider_removes_the_role_at_the_next_sign_in(
    browser: Any, server: LiveServer, ctx: Context, provider: OpenIdProvider
) -> None:
    # An admin's own grant of a role no rule names is left alone.
    identity.grant_role(ctx, OP, "dana", "auditor")
    provider.set_account("dana", {**DANA, "groups": ["risk-validators"]})
    context, _page = _sso_sign_in(browser, server, "dana")
    dana = identity.get_user(ctx, OP, "dana")
    assert dana.roles == {"validator", "auditor"}
    assert dana.teams == {"model-validation"}
    revoked = _events(ctx, "role.revoked", "dana")
    assert [(e["role"], e["source"]) for e in revoked] == [("approver", "sso")]
    # The same person, not a second account: the binding is by issuer and subject.
    assert len(_events(ctx, "auth.sso_linked", "dana")) == 1
    context.close()
    provider.set_account("dana", DANA)


def test_a_tampered_state_is_refused_with_a_clear_page(
    browser: Any, server: LiveServer, ctx: Context, provider: OpenIdProvider
) -> None:
    provider.set_account("mallory", {**DANA, "preferred_username": "mallory", "groups": []})
    context, page = _tab(browser)
    answers: list[str] = []

    def hold(route: Any) -> None:
        # Consent is the provider's last step: its redirects (consent -> resume -> Steward's
        # callback) are followed here, by hand, to keep the real answer (code and state)
        # instead of letting the browser deliver it ...
        if "prompt=consent" not in (route.request.post_data or ""):
            route.continue_()
            return
        jar = {c["name"]: c["value"] for c in context.cookies()}
        url, response = route.request.url, route.fetch(max_redirects=0)
        while response.status in (302, 303):
            for header in response.headers_array:
                if header["name"].lower() != "set-cookie":
                    continue
                for line in header["value"].splitlines():
                    name, _, value = line.split(";")[0].partition("=")
                    jar[name.strip()] = value
            url = urljoin(url, response.headers["location"])
            if "/sso/callback?" in url:
                break
            cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
            response = route.fetch(
                url=url, method="GET", headers={"cookie": cookie}, max_redirects=0
            )
        answers.append(url)
        route.fulfill(status=200, body="held by the test")

    page.route(re.compile(re.escape(provider.issuer) + r"/interaction/[^/?]+$"), hold)
    page.goto(f"{server.url}/sso/login")
    _sign_in_at_provider(page, "mallory")
    page.wait_for_selector("text=held by the test")
    assert len(answers) == 1
    # ... then followed with its state altered, the real code kept.
    parts = urlsplit(answers[0])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query.get("code") and query.get("state"), answers[0]
    query["state"] = "forged-" + query["state"][:8]
    page.goto(urlunsplit(parts._replace(query=urlencode(query))))
    page.wait_for_selector("#sso-error")
    assert "state does not match" in page.inner_text("#sso-error")
    assert "Single sign-on did not sign you in" in page.inner_text("main")
    assert not [c for c in context.cookies() if c["name"] == "steward_session"]
    with pytest.raises(Exception, match="No user named 'mallory'"):
        identity.get_user(ctx, OP, "mallory")
    context.close()


def test_a_callback_without_the_browsers_flow_is_refused(server: LiveServer) -> None:
    answer = httpx.get(f"{server.url}/sso/callback", params={"code": "x", "state": "y"})
    assert answer.status_code == 401
    assert "was not started from this browser" in answer.text


def test_an_issuer_other_than_the_configured_one_is_refused(
    ctx: Context, provider: OpenIdProvider
) -> None:
    # The same provider reached under another name says its issuer is 127.0.0.1:…
    other = provider.issuer.replace("127.0.0.1", "localhost")
    elsewhere = Context(
        settings=ctx.settings.with_(oidc_issuer=other), uow=ctx.uow, artifacts=ctx.artifacts
    )
    with pytest.raises(ProviderError, match="accepts only the issuer it is configured with"):
        sso.begin(elsewhere, "http://127.0.0.1/sso/callback", "/")


def test_with_local_passwords_off_password_sign_in_is_refused(
    browser: Any, server: LiveServer
) -> None:
    context, page = _tab(browser)
    page.goto(f"{server.url}/login")
    assert page.locator("#password").count() == 0
    assert "Password sign-in is switched off" in page.inner_text("main")
    assert page.locator("#sso-login").inner_text() == "Sign in with Example SSO"
    context.close()
    answer = httpx.post(
        f"{server.url}/api/v1/auth/login", json={"user": "root", "password": PASSWORD}
    )
    assert answer.status_code == 403
    assert "STEWARD_LOCAL_PASSWORDS=false" in answer.json()["detail"]


def test_the_cli_signs_in_with_the_device_flow(
    browser: Any, server: LiveServer, ctx: Context
) -> None:
    src = Path(__file__).resolve().parents[2] / "src"
    command = ["--url", server.url, "sso", "login", "--json"]
    cli = subprocess.Popen(
        [sys.executable, "-c", "from steward.cli.main import main; main()", *command],
        env={**os.environ, "PYTHONPATH": str(src), "STEWARD_TOKEN": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert cli.stderr is not None
    prompt = cli.stderr.readline()
    found = re.search(r"Open (\S+) and enter the code (\S+)", prompt)
    assert found, prompt
    context, page = _tab(browser)
    page.goto(found.group(1))
    # The provider's device page: confirm the code, sign in, consent.
    confirm = page.locator("button[type=submit]", has_text="Continue")
    confirm.first.click()
    _sign_in_at_provider(page, "dana")
    page.wait_for_selector("text=Sign-in Success")
    out, err = cli.communicate(timeout=60)
    assert cli.returncode == 0, err
    made = json.loads(out)
    assert made["user"] == "dana" and made["token"].startswith("stw_")
    me = httpx.get(
        f"{server.url}/api/v1/users/dana",
        headers={"Authorization": f"Bearer {made['token']}"},
    )
    assert me.status_code == 200 and "validator" in me.json()["roles"]
    assert _events(ctx, "auth.login", "dana")[-1]["method"] == "sso-device"
    context.close()


def test_the_admin_page_shows_the_single_sign_on_setup(
    browser: Any, server: LiveServer, ctx: Context
) -> None:
    identity.grant_role(ctx, OP, "dana", "admin")  # no rule manages admin: it stays
    context, page = _sso_sign_in(browser, server, "dana")
    page.goto(f"{server.url}/admin")
    section = page.inner_text("#sso")
    assert "Provider: http://127.0.0.1:" in section
    assert "Password sign-in is switched off" in section
    rows = page.locator("#sso-rules tbody tr")
    assert rows.count() == 3
    assert "role validator" in rows.nth(0).inner_text()
    assert CLIENT_SECRET not in page.content()
    context.close()


def test_signing_out_ends_the_providers_session_too(browser: Any, server: LiveServer) -> None:
    context, page = _sso_sign_in(browser, server, "dana")
    page.click("header form[action='/logout'] button")
    # The provider asks whether to end its own session as well (no ID token is kept by
    # Steward to skip that question), then sends the browser back to Steward.
    page.locator("button", has_text="Yes, sign me out").click()
    page.wait_for_url(f"{server.url}/login?notice=signed_out")
    assert "You are signed out." in page.inner_text("main")
    assert not [c for c in context.cookies() if c["name"] in ("steward_session", "steward_sso")]
    # The provider forgot the person: signing in again asks for the login, not only consent.
    page.click("#sso-login")
    page.wait_for_selector("input[name=login]")
    context.close()


def test_signing_out_at_the_provider_ends_the_steward_session_too(
    browser: Any, server: LiveServer, ctx: Context, provider: OpenIdProvider
) -> None:
    def backchannel_ends() -> list[dict[str, Any]]:
        ended = audit.list_events(ctx, OP, AuditFilter(action="session.ended"))
        found = [json.loads(e.payload) if isinstance(e.payload, str) else e.payload for e in ended]
        return [p for p in found if p.get("method") == "sso-backchannel"]

    context, page = _sso_sign_in(browser, server, "dana")
    before = len(backchannel_ends())
    # The person signs out at the provider itself (its end-session page), not in Steward:
    # the provider then POSTs a signed logout token to Steward's back-channel address.
    page.goto(f"{provider.issuer}/session/end")
    page.locator("button", has_text="Yes, sign me out").click()
    page.wait_for_selector("text=Sign-out Success")
    # The browser still holds Steward's cookie, but the session behind it is over.
    assert [c for c in context.cookies() if c["name"] == "steward_session"]
    page.goto(f"{server.url}/")
    page.wait_for_url(re.compile(re.escape(server.url) + r"/login"))
    backchannel = backchannel_ends()
    assert len(backchannel) == before + 1
    assert backchannel[-1]["user"] == "dana"
    assert backchannel[-1]["sid"], "the ID token carried the provider's session id"
    context.close()


def test_a_forged_logout_token_ends_nothing(server: LiveServer) -> None:
    answer = httpx.post(
        f"{server.url}/api/v1/auth/sso/backchannel-logout",
        data={"logout_token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJkYW5hIn0."},
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "nobody was signed out" in answer.json()["detail"]


def test_a_flood_of_device_starts_is_refused_with_retry_after(server: LiveServer) -> None:
    # The budget is 10 starts per window from one address (the device-flow test above may
    # have spent one): the 11th call at the latest is refused, and every earlier one served.
    answers = [httpx.post(f"{server.url}/api/v1/auth/sso/device") for _ in range(11)]
    codes = [a.status_code for a in answers]
    assert 429 in codes and set(codes[: codes.index(429)]) == {200}
    refused = answers[codes.index(429)]
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "Too many single sign-on device requests" in refused.json()["detail"]
