"""What the relying party checks, attack by attack, with tokens signed here (no network):
the ID token's signature, issuer, audience, expiry and nonce; 'none' and HMAC-signed
tokens; and in the callback the flow cookie, the state and the RFC 9207 ``iss``. The
same checks against a real provider are tests/web/test_sso_browser.py."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from steward.domain.errors import ProviderError, Unauthenticated
from steward.services import sso
from steward.services.context import Context
from steward.settings import Settings
from steward.trust import oidc

ISSUER = "https://login.example.org"
CLIENT = oidc.Client(issuer=ISSUER, client_id="steward", client_secret="s", scopes="openid")
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
    """The provider's metadata and keys as discovery would have cached them."""
    public = KeySet.import_key_set(KeySet([SIGNER]).as_dict(private=False))
    monkeypatch.setitem(oidc._providers, ISSUER, (time.monotonic(), PROVIDER))
    monkeypatch.setitem(oidc._keys, PROVIDER.jwks_uri, (time.monotonic(), public))
    # A refetch of the keys (unknown key id) finds the same published set.
    monkeypatch.setattr(oidc, "_get", lambda url: KeySet([SIGNER]).as_dict(private=False))


def _token(key: Any = SIGNER, alg: str = "RS256", **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": "steward",
        "sub": "s-1",
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
        **changes,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": "k1"}, claims, key)


def test_a_well_formed_token_verifies() -> None:
    claims = oidc.verify_id_token(CLIENT, _token(), "n-1")
    assert claims["sub"] == "s-1"


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"nonce": "n-other"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"iss": "https://evil.example.org"}, "iss"),
        ({"aud": "another-client"}, "aud"),
        ({"exp": int(time.time()) - 3600}, "exp"),
        ({"sub": None}, "sub"),
    ],
)
def test_a_token_with_a_wrong_claim_is_refused(changes: dict[str, Any], why: str) -> None:
    with pytest.raises(Unauthenticated, match="did not verify"):
        oidc.verify_id_token(CLIENT, _token(**changes), "n-1")


def test_a_token_for_several_audiences_must_name_steward_as_its_party() -> None:
    token = _token(aud=["steward", "other"], azp="other")
    with pytest.raises(Unauthenticated, match="another client"):
        oidc.verify_id_token(CLIENT, token, "n-1")


def test_tokens_signed_by_another_key_with_hmac_or_unsigned_are_refused() -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    with pytest.raises(Unauthenticated, match="did not verify"):
        oidc.verify_id_token(CLIENT, _token(key=stranger), "n-1")
    # HS256 keyed with the client secret (which the client knows): never accepted.
    secret = OctKey.import_key(b"s" * 32)
    with pytest.raises(Unauthenticated, match="did not verify"):
        oidc.verify_id_token(CLIENT, _token(key=secret, alg="HS256"), "n-1")
    _header, payload, _ = _token().split(".")
    none = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthenticated, match="did not verify"):
        oidc.verify_id_token(CLIENT, f"{none}.{payload}.", "n-1")


@pytest.fixture
def sso_ctx(tmp_path: Path) -> Context:
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        artifacts_url=str(tmp_path / "a"),
        oidc_issuer=ISSUER,
        oidc_client_id="steward",
        oidc_client_secret="s",
    )
    # These checks come before any database work: the unit of work is never reached.
    return Context(settings=settings, uow=None, artifacts=None)  # type: ignore[arg-type]


def _begin(ctx: Context) -> tuple[dict[str, str], str]:
    url, sealed = sso.begin(ctx, "https://steward.example.org/sso/callback", "/models")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["nonce"] and query["state"] and query["response_type"] == "code"
    return query, sealed


def test_the_callback_refuses_a_missing_or_forged_flow_cookie(sso_ctx: Context) -> None:
    query, sealed = _begin(sso_ctx)
    answer = {"code": "c", "state": query["state"]}
    with pytest.raises(Unauthenticated, match="not started from this browser"):
        sso.complete(sso_ctx, None, answer)
    with pytest.raises(Unauthenticated, match="not started from this browser"):
        sso.complete(sso_ctx, sealed[:-4] + "AAAA", answer)


def test_the_callback_refuses_another_state_issuer_or_a_provider_error(sso_ctx: Context) -> None:
    query, sealed = _begin(sso_ctx)
    with pytest.raises(Unauthenticated, match="state does not match"):
        sso.complete(sso_ctx, sealed, {"code": "c", "state": "forged"})
    with pytest.raises(Unauthenticated, match="not the configured"):
        sso.complete(sso_ctx, sealed, {"code": "c", "state": query["state"], "iss": "https://evil"})
    with pytest.raises(Unauthenticated, match="access_denied"):
        sso.complete(sso_ctx, sealed, {"error": "access_denied", "state": query["state"]})
    # A crafted link's "error" text is never shown: without the flow it is refused first.
    crafted = {"error": "x", "error_description": "Call +1 555 0100 now", "state": "s"}
    with pytest.raises(Unauthenticated) as refused:
        sso.complete(sso_ctx, None, crafted)
    assert "555" not in str(refused.value)


def test_discovery_naming_another_issuer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    other = "https://other.example.org"
    monkeypatch.setattr(oidc, "_get", lambda url: {"issuer": ISSUER, "jwks_uri": "x"})
    with pytest.raises(ProviderError, match="accepts only the issuer it is configured with"):
        oidc.discover(other)


def test_doctor_says_whether_people_can_sign_in(sso_ctx: Context) -> None:
    ok = sso.doctor_check(sso_ctx.settings)
    assert ok.ok and "https://login.example.org answers (without the device flow" in ok.detail
    bad_rules = sso.doctor_check(sso_ctx.settings.with_(oidc_rules="groups=x -> role:wizard"))
    assert not bad_rules.ok and bad_rules.fix == "correct STEWARD_OIDC_RULES"
    nobody = sso.doctor_check(sso_ctx.settings.with_(oidc_issuer=None, local_passwords=False))
    assert not nobody.ok and "nobody can sign in" in nobody.detail
    assert sso.doctor_check(sso_ctx.settings.with_(oidc_issuer=None)).ok
