"""Attack (#12.9): sessions outlived a password reset.

bob signs in through the web (a session cookie) and through /api/v1/auth/login (a
session token). An admin resets his password, or disables him: whatever he (or
someone who stole his cookie) held before must stop working at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.conftest import ensure_user

from steward.api.app import create_app
from steward.domain.permissions import OPERATOR, Principal
from steward.services import identity, tokens
from steward.services.context import Context
from steward.store.audit_repo import AuditFilter

PASSWORD = "correct horse battery staple"
OP = Principal(name="admin", roles=frozenset({OPERATOR}))


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


@pytest.fixture
def app(ctx: Context) -> Iterator[tuple[TestClient, dict[str, str]]]:
    ensure_user(ctx, "adam", "admin")
    ensure_user(ctx, "bob", "owner")
    identity.set_password(ctx, OP, "bob", PASSWORD)
    admin = tokens.create_token(ctx, OP, user="adam", name="admin").token
    with TestClient(create_app(ctx)) as client:
        yield client, {"Authorization": f"Bearer {admin}"}


def _bob_sessions(client: TestClient) -> tuple[str, str]:
    """bob's web session cookie and an API session token, both from his password."""
    form = client.get("/login")
    signed = client.post(
        "/login",
        data={"username": "bob", "password": PASSWORD, "csrf_token": _csrf(form.text)},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    cookie = client.cookies.get("steward_session")
    assert cookie
    client.cookies.clear()
    made = client.post("/api/v1/auth/login", json={"user": "bob", "password": PASSWORD})
    assert made.status_code == 200, made.text
    return cookie, made.json()["token"]


def _works(client: TestClient, token: str) -> int:
    return client.get("/api/v1/models", headers={"Authorization": f"Bearer {token}"}).status_code


def _web_page(client: TestClient, cookie: str) -> int:
    client.cookies.clear()
    client.cookies.set("steward_session", cookie)
    try:
        return client.get("/", follow_redirects=False).status_code
    finally:
        client.cookies.clear()


def test_a_password_reset_ends_every_session_but_keeps_deliberate_tokens(
    app: tuple[TestClient, dict[str, str]], ctx: Context
) -> None:
    client, admin = app
    kept = tokens.create_token(ctx, OP, user="bob", name="ci job").token
    cookie, session = _bob_sessions(client)
    assert (_web_page(client, cookie), _works(client, session), _works(client, cookie)) == (
        200,
        200,
        200,
    )
    reset = client.put(
        "/api/v1/users/bob/password", json={"password": "a brand new passphrase"}, headers=admin
    )
    assert reset.status_code == 200, reset.text
    assert _works(client, session) == 401
    assert _works(client, cookie) == 401
    assert _web_page(client, cookie) == 303  # back to the sign-in page
    assert _works(client, kept) == 200  # a token made on purpose is not a session
    with ctx.uow.read() as uow:
        (event,) = uow.audit.search(AuditFilter(action="user.password_set", subject_id="bob"), 9)[
            1:
        ]
    assert len(event.payload_dict()["ended_sessions"]) == 2


def test_disabling_ends_sessions_and_revokes_tokens(
    app: tuple[TestClient, dict[str, str]], ctx: Context
) -> None:
    client, admin = app
    kept = tokens.create_token(ctx, OP, user="bob", name="ci job").token
    cookie, session = _bob_sessions(client)
    off = client.post("/api/v1/users/bob/disable", json={"reason": "left"}, headers=admin)
    assert off.status_code == 200, off.text
    assert [_works(client, t) for t in (session, cookie, kept)] == [401, 401, 401]
    assert _web_page(client, cookie) == 303
    # enabling bob again does not bring any of them back
    on = client.post("/api/v1/users/bob/enable", headers=admin)
    assert on.status_code == 200, on.text
    assert [_works(client, t) for t in (session, cookie, kept)] == [401, 401, 401]
