"""Single sign-on through an OpenID Connect provider (docs/sso.md).

The web UI's flow is ``begin`` (state, nonce and PKCE verifier sealed into a short-lived
browser cookie, the provider's authorization URL) and ``complete`` (state checked, code
exchanged with the verifier, ID token verified against the issuer's keys and the nonce);
the CLI's is the device authorization grant (``device_start``, ``device_poll``), brokered
by the server so the client secret never leaves it. Both end in ``sign_in``: one
transaction that binds the provider's subject to a Steward user (created just in time),
brings the user's managed roles and teams in line with the claims — journalling every
grant and revocation — and opens a login session.
"""

from __future__ import annotations

import hmac
import json
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from steward.domain import identity, sso, throttle
from steward.domain.audit import Action
from steward.domain.doctor import DoctorCheck
from steward.domain.entities import NewToken
from steward.domain.errors import (
    Conflict,
    InvalidInput,
    LogoutRefused,
    NotFound,
    ProviderError,
    TooManyRequests,
    Unauthenticated,
)
from steward.domain.identity import User
from steward.domain.permissions import Permission, Principal, ensure
from steward.services.context import Context
from steward.services.identity import UNKNOWN_USER, open_session
from steward.settings import Settings
from steward.store.uow import UnitOfWork
from steward.trust import oidc, secretbox

# How long a browser may take at the provider before the sealed flow state expires.
FLOW_SECONDS = 600
# The "created by" of users made at their first single sign-on.
CREATED_BY = "sso"


@dataclass(frozen=True)
class SignIn:
    token: NewToken
    user: User
    created: bool
    granted: tuple[str, ...]  # "role:x" / "team:y" given at this sign-in
    revoked: tuple[str, ...]  # ... and taken away


@dataclass(frozen=True)
class Flow:
    """What the browser carries between ``begin`` and ``complete`` (sealed, never read by it)."""

    state: str
    nonce: str
    verifier: str
    redirect_uri: str
    next: str


def configured(settings: Settings) -> bool:
    return settings.sso_enabled


def _client(settings: Settings) -> oidc.Client:
    if not settings.oidc_issuer or not settings.oidc_client_id:
        raise NotFound(
            "Single sign-on is not configured on this server: an administrator sets "
            "STEWARD_OIDC_ISSUER, STEWARD_OIDC_CLIENT_ID and STEWARD_OIDC_CLIENT_SECRET "
            "(see docs/sso.md)."
        )
    return oidc.Client(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        scopes=settings.oidc_scopes,
    )


def rules(settings: Settings) -> tuple[sso.Rule, ...]:
    return sso.parse_rules(settings.oidc_rules)


@dataclass(frozen=True)
class Overview:
    """What an administrator sees of the single sign-on setup (never the client secret)."""

    issuer: str | None
    client_id: str | None
    local_passwords: bool
    link_existing: bool
    username_claim: str
    rules: tuple[sso.Rule, ...]
    problem: str | None  # why the rules do not parse, if they do not


def overview(ctx: Context, principal: Principal) -> Overview:
    ensure(principal, Permission.USER_MANAGE)
    settings = ctx.settings
    try:
        found, problem = rules(settings), None
    except InvalidInput as bad:
        found, problem = (), str(bad)
    return Overview(
        issuer=settings.oidc_issuer if settings.sso_enabled else None,
        client_id=settings.oidc_client_id,
        local_passwords=settings.local_passwords,
        link_existing=settings.oidc_link_existing,
        username_claim=settings.oidc_username_claim,
        rules=found,
        problem=problem,
    )


def doctor_check(settings: Settings) -> DoctorCheck:
    """`steward doctor`'s "single sign-on" line: can people sign in to the web UI, do the
    rules parse, and does the provider answer as the configured issuer?"""
    name = "single sign-on"
    if not settings.sso_enabled:
        if not settings.local_passwords:
            return DoctorCheck(
                name,
                False,
                "password sign-in is off and no provider is configured: nobody can sign in",
                "set STEWARD_OIDC_ISSUER and STEWARD_OIDC_CLIENT_ID (docs/sso.md), or "
                "STEWARD_LOCAL_PASSWORDS=true",
            )
        return DoctorCheck(name, True, "not configured (password sign-in only)")
    try:
        found = rules(settings)
    except InvalidInput as bad:
        return DoctorCheck(name, False, str(bad), "correct STEWARD_OIDC_RULES")
    try:
        provider = oidc.discover(_client(settings).issuer)
    except ProviderError as bad:
        return DoctorCheck(
            name, False, str(bad), "check STEWARD_OIDC_ISSUER and this host's route to it"
        )
    device = "with" if provider.device_authorization_endpoint else "without"
    return DoctorCheck(
        name,
        True,
        f"{provider.issuer} answers ({device} the device flow for `steward sso login`); "
        f"{len(found)} mapping rule(s); password sign-in "
        + ("on" if settings.local_passwords else "off"),
    )


# -- the browser flow -----------------------------------------------------------------------


def begin(ctx: Context, redirect_uri: str, next_path: str) -> tuple[str, str]:
    """The provider URL to send the browser to, and the sealed flow state for its cookie."""
    client = _client(ctx.settings)
    flow = Flow(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        verifier=secrets.token_urlsafe(64),  # RFC 7636: 43-128 unreserved characters
        redirect_uri=ctx.settings.oidc_redirect_uri or redirect_uri,
        next=next_path,
    )
    url = oidc.authorization_url(
        client, flow.redirect_uri, state=flow.state, nonce=flow.nonce, code_verifier=flow.verifier
    )
    return url, _box(ctx).seal(json.dumps(flow.__dict__))


def _box(ctx: Context) -> secretbox.SecretBox:
    return secretbox.load_or_create(ctx.settings.secrets_key_path)


def complete(
    ctx: Context,
    sealed: str | None,
    params: Mapping[str, str],
) -> tuple[SignIn, str]:
    """Finish the browser flow from the callback's query ``params``; returns the sign-in
    and where the person wanted to go. Every check failing is a refusal saying which."""
    client = _client(ctx.settings)
    raw = _box(ctx).open_fresh(sealed or "", FLOW_SECONDS)
    if raw is None:
        raise Unauthenticated(
            "This sign-in was not started from this browser, or took longer than "
            f"{FLOW_SECONDS // 60} minutes; start again."
        )
    flow = Flow(**json.loads(raw))
    if not hmac.compare_digest(flow.state.encode(), params.get("state", "").encode()):
        raise Unauthenticated(
            "The sign-in's state does not match the one this browser started with: the "
            "answer was altered or belongs to another sign-in. Refused; start again."
        )
    if "iss" in params and params["iss"] != client.issuer:  # RFC 9207
        raise Unauthenticated(
            f"The answer comes from issuer {params['iss']!r}, not the configured "
            f"{client.issuer!r}; refused."
        )
    # The provider's own error text is shown only once the state proved the answer is the
    # one this browser asked for: a crafted link cannot put words on Steward's page.
    if params.get("error"):
        raise Unauthenticated(
            f"The provider did not sign you in ({params['error'][:100]}: "
            f"{params.get('error_description', 'no description')[:300]})."
        )
    code = params.get("code", "")
    if not code:
        raise Unauthenticated("The provider's answer carries no authorization code.")
    id_token = oidc.exchange_code(client, code, flow.redirect_uri, flow.verifier)
    claims = oidc.verify_id_token(client, id_token, flow.nonce)
    return sign_in(ctx, claims, method="browser"), flow.next


def logout_url(ctx: Context, post_logout_redirect_uri: str) -> str | None:
    """Where to send a browser that signed out of a single sign-on session so the
    provider's session ends too, or None (not configured, switched off with
    STEWARD_OIDC_SINGLE_LOGOUT=false, no end_session_endpoint, or the provider is
    unreachable — Steward's own session is over either way)."""
    settings = ctx.settings
    if not (settings.sso_enabled and settings.oidc_single_logout):
        return None
    try:
        return oidc.logout_url(_client(settings), post_logout_redirect_uri)
    except ProviderError:
        return None


# -- back-channel logout -------------------------------------------------------------------


def backchannel_logout(ctx: Context, logout_token: str) -> int:
    """End the sessions a provider's logout token names (OpenID Connect Back-Channel
    Logout 1.0): the person signed out at the provider, or an administrator ended their
    provider session. Returns how many Steward sessions ended; each is journalled.

    Everything about the token is checked before anything is written: its signature with
    the issuer's keys, issuer, audience, the logout event, no nonce, a fresh ``iat`` and
    an unseen ``jti`` (a replay is refused). A token naming nobody Steward knows is
    accepted and ends nothing (the provider cannot tell which relying parties hold one).
    """
    settings = ctx.settings
    client = _client(settings)
    if not settings.oidc_single_logout:
        raise LogoutRefused(
            "Single logout is switched off on this server (STEWARD_OIDC_SINGLE_LOGOUT=false); "
            "the provider's logout was not applied.",
            field="logout_token",
        )
    if not logout_token or len(logout_token) > 16_000:
        raise LogoutRefused("Send the provider's logout_token form field.", field="logout_token")
    try:
        claims = oidc.verify_logout_token(client, logout_token)
    except Unauthenticated as refused:
        raise LogoutRefused(str(refused), field="logout_token") from None
    with ctx.uow.write() as uow:
        request = sso.logout_request(claims, uow.now.timestamp())
        if uow.sso.logout_seen(client.issuer, request.jti):
            raise LogoutRefused(
                f"This logout token (jti {request.jti!r}) was already used; a replay is refused.",
                field="logout_token",
            )
        horizon = uow.now - timedelta(seconds=2 * sso.LOGOUT_TOKEN_MAX_AGE)
        uow.sso.remember_logout(client.issuer, request.jti, uow.now, horizon)
        ended = uow.sso.live_sessions(client.issuer, request.subject, request.sid, uow.now)
        for token_id, user in ended:
            uow.tokens.revoke(token_id, uow.now)
            uow.record(
                user,
                Action.SESSION_ENDED,
                "token",
                token_id,
                {
                    "user": user,
                    "method": "sso-backchannel",
                    "issuer": client.issuer,
                    "sid": request.sid,
                },
            )
        uow.commit()
    return len(ended)


# -- the device flow (CLI) ------------------------------------------------------------------


def _rate_limited(ctx: Context, kind: str, address: str) -> None:
    """Count one device-flow call from ``address`` (shared by every process); 429 when that
    address called too often. Each call makes this server call the provider on behalf of
    an unauthenticated caller, so a flood must cost the caller, not the provider."""
    limits = ctx.login_limits
    with ctx.uow.write() as uow:
        now = uow.now.timestamp()
        state = throttle.current(uow.throttle.lock(kind, address, now), now, limits)
        fresh_lock = state.locked_until <= now
        wait = throttle.spend(state, throttle.DEVICE_RATES[kind], limits, now)
        uow.throttle.save(kind, address, state)
        uow.throttle.prune(now, limits.window)
        if wait is not None and fresh_lock:
            uow.record(
                UNKNOWN_USER,
                Action.LOGIN_LOCKED,
                "user",
                UNKNOWN_USER,
                {"scope": kind, "client": address, "seconds": int(wait)},
            )
        uow.commit()
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests(
            f"Too many single sign-on device requests from this address; try again in "
            f"{seconds} s (`steward sso login` polls at the provider's interval by itself).",
            retry_after=seconds,
        )


def device_start(ctx: Context, address: str = "unknown") -> dict[str, Any]:
    """Start a device authorization: what the person opens and types, and the device code.
    ``address`` is the caller's, for the rate limit."""
    _rate_limited(ctx, throttle.DEVICE_START, address)
    answer = oidc.start_device(_client(ctx.settings))
    return {
        k: answer[k]
        for k in (
            "device_code",
            "user_code",
            "verification_uri",
            "verification_uri_complete",
            "expires_in",
            "interval",
        )
        if k in answer
    }


def device_poll(ctx: Context, device_code: str, address: str = "unknown") -> SignIn:
    """The sign-in once the person approved at the provider (else ``SignInPending``)."""
    if not device_code or len(device_code) > 2000:
        raise InvalidInput(
            "Give the device_code the device flow started with.", field="device_code"
        )
    _rate_limited(ctx, throttle.DEVICE_POLL, address)
    client = _client(ctx.settings)
    id_token = oidc.poll_device(client, device_code)
    return sign_in(ctx, oidc.verify_id_token(client, id_token, None), method="device")


# -- the sign-in ------------------------------------------------------------------------------


def sign_in(ctx: Context, claims: Mapping[str, Any], *, method: str) -> SignIn:
    """Bind, create, align roles and teams, and open a session — one transaction.

    ``claims`` are verified ID-token claims of the configured issuer. A refusal of such a
    verified person (disabled, a name taken by another account, a missing team) writes
    nothing but its own ``auth.login_failed`` event: only the provider's real users can
    cause one, so it cannot be used to flood the journal.
    """
    try:
        return _sign_in(ctx, claims, method)
    except (Unauthenticated, Conflict, InvalidInput) as refused:
        _journal_refusal(ctx, claims, method, refused)
        raise


def _journal_refusal(
    ctx: Context, claims: Mapping[str, Any], method: str, refused: Exception
) -> None:
    issuer = ctx.settings.oidc_issuer
    subject = str(claims.get("sub") or "")[:255]
    with ctx.uow.write() as uow:
        bound = uow.sso.user_of(issuer or "", subject) if subject else None
        who = bound or UNKNOWN_USER
        uow.record(
            who,
            Action.LOGIN_FAILED,
            "user",
            who,
            {
                "reason": str(refused)[:500],
                "method": f"sso-{method}",
                "issuer": issuer,
                "subject": subject,
            },
        )
        uow.commit()


def _sign_in(ctx: Context, claims: Mapping[str, Any], method: str) -> SignIn:
    settings = ctx.settings
    issuer = _client(settings).issuer
    subject = str(claims.get("sub") or "")
    if not subject:
        raise Unauthenticated("The ID token names no subject ('sub'); refused.")
    mapping = rules(settings)
    managed = sso.managed(mapping)
    wanted = sso.map_claims(claims, mapping)
    source = {"source": "sso", "issuer": issuer}
    with ctx.uow.write() as uow:
        name, created = _bind(uow, settings, issuer, subject, claims)
        user = uow.users.get(name)
        assert user is not None
        if not user.active:
            raise Unauthenticated(
                f"User {name} is disabled in Steward; an admin enables it with "
                f"`steward user enable {name}`."
            )
        missing = uow.teams.missing(sorted(wanted.teams))
        if missing:
            raise Conflict(
                f"A single sign-on rule puts you in team {missing[0]!r}, which does not exist "
                f"in Steward; an admin creates it with `steward team create {missing[0]}`."
            )
        granted: list[str] = []
        revoked: list[str] = []
        for role in sorted(managed.roles):
            if role in wanted.roles and role not in user.roles:
                uow.users.add_role(name, role, CREATED_BY, uow.now)
                uow.record(name, Action.ROLE_GRANTED, "user", name, {"role": role, **source})
                granted.append(f"role:{role}")
            elif role not in wanted.roles and role in user.roles:
                uow.users.remove_role(name, role)
                uow.record(name, Action.ROLE_REVOKED, "user", name, {"role": role, **source})
                revoked.append(f"role:{role}")
        for team in sorted(managed.teams):
            member = team in user.teams
            if team in wanted.teams and not member:
                uow.teams.add_member(team, name, CREATED_BY, uow.now)
                uow.record(name, Action.TEAM_MEMBER_ADDED, "team", team, {"user": name, **source})
                granted.append(f"team:{team}")
            elif team not in wanted.teams and member:
                uow.teams.remove_member(team, name)
                uow.record(name, Action.TEAM_MEMBER_REMOVED, "team", team, {"user": name, **source})
                revoked.append(f"team:{team}")
        token = open_session(uow, name, method=f"sso-{method}", issuer=issuer)
        sid = str(claims["sid"])[:255] if claims.get("sid") else None
        uow.sso.add_session(token.info.id, issuer, subject, sid, uow.now)
        user = uow.users.get(name)
        assert user is not None
        uow.commit()
    return SignIn(token, user, created, tuple(granted), tuple(revoked))


def _bind(
    uow: UnitOfWork, settings: Settings, issuer: str, subject: str, claims: Mapping[str, Any]
) -> tuple[str, bool]:
    """The Steward user this subject signs in as: bound before, or bound now (the user
    created just in time, or — when allowed — an existing local user of that name)."""
    linked = uow.sso.user_of(issuer, subject)
    if linked is not None:
        uow.sso.seen(issuer, subject, uow.now)
        return linked, False
    name = sso.username(claims, settings.oidc_username_claim)
    taken = uow.users.name_taken(name)
    created = taken is None
    if taken is not None:
        other = [s for i, s in uow.sso.subjects_of(taken) if i == issuer]
        if other or not settings.oidc_link_existing:
            raise Conflict(
                f"A Steward user named {taken!r} already exists and is not yours to sign in "
                "as: an administrator either renames one of the accounts or, if it is the "
                "same person, allows linking existing users (STEWARD_OIDC_LINK_EXISTING=true).",
                user=taken,
            )
        name = taken
    else:
        uow.users.insert(
            name=name,
            display_name=_quietly(identity.display_name, claims.get("name")),
            email=_quietly(identity.email, claims.get("email")),
            created_by=CREATED_BY,
            now=uow.now,
        )
        uow.record(
            name,
            Action.USER_CREATED,
            "user",
            name,
            {"source": "sso", "issuer": issuer, "roles": [], "teams": [], "password_set": False},
        )
    uow.sso.link(issuer, subject, name, uow.now)
    uow.record(
        name,
        Action.SSO_LINKED,
        "user",
        name,
        {"issuer": issuer, "subject": subject, "created": created},
    )
    return name, created


def _quietly(check: Any, value: object) -> str:
    """A profile claim as Steward would accept it typed, or empty (it is only shown)."""
    try:
        return str(check(value if isinstance(value, str) else ""))
    except InvalidInput:
        return ""
