"""The OpenID Connect relying party: discovery, the authorization-code + PKCE request, the
code exchange, the device authorization grant, and ID-token verification.

Authlib builds the OAuth parameters (PKCE S256 challenge, grant URI); joserfc (Authlib's
JOSE library) verifies the ID token's signature against the issuer's published keys and
its claims (issuer, audience, expiry, nonce). The issuer is the administrator's setting:
discovery must return exactly that issuer, and so must every ID token — a provider
answering for another issuer is refused. Nothing a browser sends chooses a URL here.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from steward.domain.errors import ProviderError, SignInPending, Unauthenticated

TIMEOUT = 10.0
# Discovery documents and key sets are kept this long; an unknown key id refetches the keys
# at once (the provider rotated them).
CACHE_SECONDS = 3600
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_LEEWAY = 60  # seconds of clock difference tolerated on exp/iat


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]
    device_authorization_endpoint: str | None = None
    end_session_endpoint: str | None = None


@dataclass(frozen=True)
class Client:
    """Steward as registered at the provider."""

    issuer: str
    client_id: str
    client_secret: str | None
    scopes: str


_lock = threading.Lock()
_providers: dict[str, tuple[float, Provider]] = {}
_keys: dict[str, tuple[float, Any]] = {}  # jwks_uri -> (fetched, joserfc KeySet)


def _get(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=TIMEOUT, follow_redirects=False)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderError(
            f"The single sign-on provider did not answer at {url}: {exc}. Check "
            "STEWARD_OIDC_ISSUER and that this server can reach the provider."
        ) from None
    if not isinstance(body, dict):
        raise ProviderError(f"The single sign-on provider sent no JSON object from {url}.")
    return body


def discover(issuer: str) -> Provider:
    """The provider's metadata, refusing a document that names another issuer."""
    now = time.monotonic()
    with _lock:
        cached = _providers.get(issuer)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    doc = _get(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if doc.get("issuer") != issuer:
        raise ProviderError(
            f"The provider at {issuer} says its issuer is {doc.get('issuer')!r}; Steward "
            "accepts only the issuer it is configured with (STEWARD_OIDC_ISSUER must be "
            "exactly the provider's issuer)."
        )
    try:
        algorithms = tuple(
            a
            for a in doc.get("id_token_signing_alg_values_supported") or ["RS256"]
            # 'none' is no signature; HMAC algorithms would make the client secret a key.
            if a != "none" and not str(a).startswith("HS")
        )
        provider = Provider(
            issuer=issuer,
            authorization_endpoint=str(doc["authorization_endpoint"]),
            token_endpoint=str(doc["token_endpoint"]),
            jwks_uri=str(doc["jwks_uri"]),
            algorithms=algorithms,
            device_authorization_endpoint=doc.get("device_authorization_endpoint"),
            end_session_endpoint=doc.get("end_session_endpoint"),
        )
    except KeyError as missing:
        raise ProviderError(
            f"The provider's discovery document at {issuer} has no {missing}."
        ) from None
    with _lock:
        _providers[issuer] = (now, provider)
    return provider


def _key_set(provider: Provider, *, refresh: bool = False) -> Any:
    # joserfc loads with the first sign-in, not with every API process.
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    now = time.monotonic()
    with _lock:
        cached = _keys.get(provider.jwks_uri)
    if cached is not None and not refresh and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    try:
        keys = KeySet.import_key_set(_get(provider.jwks_uri))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as exc:
        raise ProviderError(
            f"The provider's key set at {provider.jwks_uri} is unusable: {exc}"
        ) from None
    with _lock:
        _keys[provider.jwks_uri] = (now, keys)
    return keys


def pkce_challenge(verifier: str) -> str:
    return str(create_s256_code_challenge(verifier))


def authorization_url(
    client: Client, redirect_uri: str, *, state: str, nonce: str, code_verifier: str
) -> str:
    provider = discover(client.issuer)
    return str(
        prepare_grant_uri(
            provider.authorization_endpoint,
            client.client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=client.scopes,
            state=state,
            nonce=nonce,
            code_challenge=pkce_challenge(code_verifier),
            code_challenge_method="S256",
        )
    )


def logout_url(client: Client, post_logout_redirect_uri: str) -> str | None:
    """Where to send the browser to end the provider's session too (OpenID Connect
    RP-Initiated Logout 1.0), or None when the provider offers no end_session_endpoint."""
    provider = discover(client.issuer)
    if not provider.end_session_endpoint:
        return None
    query = urlencode(
        {"client_id": client.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
    )
    separator = "&" if "?" in provider.end_session_endpoint else "?"
    return provider.end_session_endpoint + separator + query


def _token_request(client: Client, endpoint: str, form: dict[str, str]) -> dict[str, Any]:
    auth = (client.client_id, client.client_secret) if client.client_secret else None
    if auth is None:
        form = {**form, "client_id": client.client_id}
    try:
        response = httpx.post(
            endpoint,
            data=form,
            auth=auth,
            timeout=TIMEOUT,
            headers={"Accept": "application/json"},
        )
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ProviderError(f"The provider's endpoint {endpoint} failed: {exc}") from None
    if not isinstance(body, dict):
        raise ProviderError(f"The provider's endpoint {endpoint} sent no JSON object.")
    if response.status_code >= 400 or "error" in body:
        error = str(body.get("error", response.status_code))
        if error in {"authorization_pending", "slow_down"}:
            raise SignInPending("Finish signing in at the provider, then ask again.", error=error)
        raise Unauthenticated(
            f"The provider refused the sign-in ({error}: "
            f"{body.get('error_description', 'no description')}). Start again."
        )
    return body


def exchange_code(client: Client, code: str, redirect_uri: str, code_verifier: str) -> str:
    """The ID token for an authorization code (the provider checks the PKCE verifier)."""
    provider = discover(client.issuer)
    body = _token_request(
        client,
        provider.token_endpoint,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        },
    )
    return _id_token(body)


def _id_token(body: dict[str, Any]) -> str:
    token = body.get("id_token")
    if not isinstance(token, str):
        raise Unauthenticated(
            "The provider sent no ID token; the client needs the 'openid' scope "
            "(STEWARD_OIDC_SCOPES)."
        )
    return token


def start_device(client: Client) -> dict[str, Any]:
    """A device authorization (RFC 8628): user code, verification URI, device code."""
    provider = discover(client.issuer)
    if not provider.device_authorization_endpoint:
        raise ProviderError(
            "The provider does not offer the device authorization flow; sign in through "
            "the web UI and create a token on its API tokens page instead."
        )
    return _token_request(client, provider.device_authorization_endpoint, {"scope": client.scopes})


def poll_device(client: Client, device_code: str) -> str:
    """The ID token once the person approved the device, else :class:`SignInPending`."""
    provider = discover(client.issuer)
    body = _token_request(
        client,
        provider.token_endpoint,
        {"grant_type": DEVICE_GRANT, "device_code": device_code},
    )
    return _id_token(body)


def _verified_claims(client: Client, token: str, options: dict[str, Any]) -> dict[str, Any]:
    """A JWT's claims after checking its signature against the issuer's keys (refetched
    once for an unknown key) and ``options`` (joserfc claim rules), or JoseError/ValueError."""
    from joserfc import jwt
    from joserfc.errors import JoseError

    provider = discover(client.issuer)
    try:
        decoded = jwt.decode(token, _key_set(provider), algorithms=provider.algorithms)
    except JoseError:
        # Maybe a key the provider rotated in since the keys were fetched.
        decoded = jwt.decode(
            token, _key_set(provider, refresh=True), algorithms=provider.algorithms
        )
    jwt.JWTClaimsRegistry(leeway=_LEEWAY, **options).validate(decoded.claims)
    claims = dict(decoded.claims)
    audience = claims.get("aud")
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client.client_id:
        raise ValueError("issued to another client (several audiences, azp is not Steward)")
    return claims


def verify_id_token(client: Client, id_token: str, nonce: str | None) -> dict[str, Any]:
    """The ID token's claims after checking signature, issuer, audience, times and nonce.

    ``nonce`` None is for the device flow, which has no browser round trip to bind.
    """
    from joserfc.errors import JoseError

    options: dict[str, Any] = {
        "iss": {"essential": True, "value": client.issuer},
        "aud": {"essential": True, "value": client.client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }
    if nonce is not None:
        options["nonce"] = {"essential": True, "value": nonce}
    try:
        return _verified_claims(client, id_token, options)
    except (JoseError, ValueError) as exc:
        raise Unauthenticated(
            f"The provider's ID token did not verify ({exc}); sign-in refused. Start again."
        ) from None


def verify_logout_token(client: Client, logout_token: str) -> dict[str, Any]:
    """A back-channel logout token's claims after checking its signature, issuer,
    audience and times (OpenID Connect Back-Channel Logout 1.0, section 2.6, steps 2-3);
    what makes it a logout token rather than another JWT is the domain's rule
    (``steward.domain.sso.logout_request``)."""
    from joserfc.errors import JoseError

    options: dict[str, Any] = {
        "iss": {"essential": True, "value": client.issuer},
        "aud": {"essential": True, "value": client.client_id},
        "iat": {"essential": True},
    }
    try:
        return _verified_claims(client, logout_token, options)
    except (JoseError, ValueError) as exc:
        raise Unauthenticated(
            f"The logout token did not verify ({exc}); nobody was signed out."
        ) from None
