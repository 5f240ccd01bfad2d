"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0) on SQLite and PostgreSQL,
with logout tokens signed here: the provider's session id ends exactly that session, a
subject ends all of that person's single sign-on sessions, and every forgery, replay or
stale token is refused with nothing ended. The flow against a real provider is in
tests/web/test_sso_browser.py."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from steward.domain.audit import AuditFilter
from steward.domain.errors import LogoutRefused, Unauthenticated
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.sso import BACKCHANNEL_EVENT
from steward.services import audit, identity, sso, tokens
from steward.services.context import Context
from steward.trust import oidc

OP = Principal(name="admin", roles=frozenset({OPERATOR}))
ISSUER = "https://login.example.org"
SIGNER = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
PROVIDER = oidc.Provider(
    issuer=ISSUER,
    authorization_endpoint=f"{ISSUER}/auth",
    token_endpoint=f"{ISSUER}/token",
    jwks_uri=f"{ISSUER}/jwks",
    algorithms=("RS256",),
)


@pytest.fixture(autouse=True)
def provider(monkeypatch: pytest.MonkeyPatch) -> None:
    public = KeySet.import_key_set(KeySet([SIGNER]).as_dict(private=False))
    monkeypatch.setitem(oidc._providers, ISSUER, (time.monotonic(), PROVIDER))
    monkeypatch.setitem(oidc._keys, PROVIDER.jwks_uri, (time.monotonic(), public))
    monkeypatch.setattr(oidc, "_get", lambda url: KeySet([SIGNER]).as_dict(private=False))


@pytest.fixture
def sso_ctx(ctx: Context) -> Context:
    settings = ctx.settings.with_(oidc_issuer=ISSUER, oidc_client_id="steward")
    return Context(settings=settings, uow=ctx.uow, artifacts=ctx.artifacts)


def _logout_token(key: Any = SIGNER, **changes: Any) -> str:
    claims = {
        "iss": ISSUER,
        "aud": "steward",
        "iat": int(time.time()),
        "jti": uuid.uuid4().hex,
        "sub": "s-dana",
        "events": {BACKCHANNEL_EVENT: {}},
        **changes,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": "RS256", "kid": "k1", "typ": "logout+jwt"}, claims, key)


def _sign_in(ctx: Context, sid: str | None, sub: str = "s-dana", name: str = "dana") -> str:
    claims: dict[str, Any] = {"sub": sub, "preferred_username": name}
    if sid is not None:
        claims["sid"] = sid
    return sso.sign_in(ctx, claims, method="browser").token.token


def _alive(ctx: Context, secret: str) -> bool:
    try:
        tokens.authenticate(ctx, secret)
    except Unauthenticated:
        return False
    return True


def test_a_session_id_ends_exactly_that_session(sso_ctx: Context) -> None:
    laptop, phone = _sign_in(sso_ctx, "sid-laptop"), _sign_in(sso_ctx, "sid-phone")
    ended = sso.backchannel_logout(sso_ctx, _logout_token(sid="sid-laptop"))
    assert ended == 1
    assert not _alive(sso_ctx, laptop) and _alive(sso_ctx, phone)
    found = audit.list_events(sso_ctx, OP, AuditFilter(action="session.ended"))
    payload = found[-1].payload
    recorded = json.loads(payload) if isinstance(payload, str) else payload
    assert recorded == {
        "user": "dana",
        "method": "sso-backchannel",
        "issuer": ISSUER,
        "sid": "sid-laptop",
    }


def test_a_subject_alone_ends_every_sso_session_of_that_person_only(sso_ctx: Context) -> None:
    one, two = _sign_in(sso_ctx, "a"), _sign_in(sso_ctx, None)
    other = _sign_in(sso_ctx, "b", sub="s-erin", name="erin")
    identity.create_user(sso_ctx, OP, "local", roles=("validator",), password="pw-0123456789ab")
    assert sso.backchannel_logout(sso_ctx, _logout_token(sid=None)) == 2
    assert not _alive(sso_ctx, one) and not _alive(sso_ctx, two)
    assert _alive(sso_ctx, other)
    # Naming nobody Steward knows ends nothing and is not an error.
    assert sso.backchannel_logout(sso_ctx, _logout_token(sub="s-unknown")) == 0


def test_a_replayed_logout_token_is_refused(sso_ctx: Context) -> None:
    token = _logout_token()
    sso.backchannel_logout(sso_ctx, token)
    again = _sign_in(sso_ctx, "later")
    with pytest.raises(LogoutRefused, match="already used"):
        sso.backchannel_logout(sso_ctx, token)
    assert _alive(sso_ctx, again)


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"events": None}, "not a logout token"),
        ({"events": {"http://example.org/other": {}}}, "not a logout token"),
        ({"nonce": "n-1"}, "ID token"),
        ({"sub": None}, "neither a subject"),
        ({"jti": None}, "no 'jti'"),
        ({"iat": int(time.time()) - 3600}, "stale"),
        ({"iss": "https://evil.example.org"}, "did not verify"),
        ({"aud": "another-client"}, "did not verify"),
    ],
)
def test_tokens_that_are_not_valid_logout_tokens_end_nothing(
    sso_ctx: Context, changes: dict[str, Any], why: str
) -> None:
    session = _sign_in(sso_ctx, "sid-1")
    with pytest.raises(LogoutRefused, match=why) as refused:
        sso.backchannel_logout(sso_ctx, _logout_token(**changes))
    assert refused.value.status == 400
    assert _alive(sso_ctx, session)


def test_a_token_signed_by_another_key_ends_nothing(sso_ctx: Context) -> None:
    session = _sign_in(sso_ctx, "sid-1")
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    with pytest.raises(LogoutRefused, match="did not verify"):
        sso.backchannel_logout(sso_ctx, _logout_token(key=stranger))
    assert _alive(sso_ctx, session)


def test_with_single_logout_switched_off_the_provider_cannot_end_sessions(
    sso_ctx: Context,
) -> None:
    session = _sign_in(sso_ctx, "sid-1")
    off = Context(
        settings=sso_ctx.settings.with_(oidc_single_logout=False),
        uow=sso_ctx.uow,
        artifacts=sso_ctx.artifacts,
    )
    with pytest.raises(LogoutRefused, match="STEWARD_OIDC_SINGLE_LOGOUT=false"):
        sso.backchannel_logout(off, _logout_token(sid="sid-1"))
    assert _alive(sso_ctx, session)
