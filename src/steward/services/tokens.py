"""API tokens: random, shown once, stored as sha256, revocable, audited."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from steward.domain.audit import Action, format_time
from steward.domain.entities import NewToken, TokenInfo
from steward.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from steward.domain.permissions import Permission, Principal, authorize, ensure
from steward.services.context import Context

PREFIX = "stw_"
_TOUCH_INTERVAL = timedelta(minutes=1)

# Longest lifetime a token may be given; beyond it dates overflow the calendar.
MAX_DAYS = 3650


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    ctx: Context,
    principal: Principal,
    *,
    user: str,
    name: str = "",
    expires_in_days: int | None = None,
) -> NewToken:
    ensure(principal, Permission.TOKEN_MANAGE)
    user = (user or "").strip()
    if not user or len(user) > 200:
        raise InvalidInput("A token needs the user it acts as (1-200 characters).", field="user")
    _ensure_self_or_operator(principal, user)
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_DAYS:
        raise InvalidInput(
            f"expires_in_days must be between 1 and {MAX_DAYS} (ten years); leave it out for a "
            "token that does not expire.",
            field="expires_in_days",
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    with ctx.uow.write() as uow:
        grants = uow.users.grants(user)
        if grants is None:
            raise NotFound(
                f"No user named {user!r}: tokens act as a Steward user. Create it first with "
                f"`steward user create {user} --role ROLE`.",
                user=user,
            )
        if not grants[0]:
            raise Conflict(
                f"User {user} is disabled, so a token for them would not work; enable them "
                f"with `steward user enable {user}` first.",
                user=user,
            )
        info = TokenInfo(
            id="tok_" + secrets.token_hex(8),
            user=user,
            name=name[:200],
            created_at=uow.now,
            created_by=principal.name,
            expires_at=(uow.now + timedelta(days=expires_in_days)) if expires_in_days else None,
            revoked_at=None,
            last_used_at=None,
        )
        uow.tokens.insert(info, hash_token(secret))
        uow.record(
            principal.name,
            Action.TOKEN_CREATED,
            "token",
            info.id,
            {
                "user": user,
                "name": info.name,
                "expires_at": format_time(info.expires_at) if info.expires_at else None,
            },
        )
        uow.commit()
    return NewToken(info, secret)


def _manages_users(principal: Principal) -> bool:
    return authorize(principal, Permission.USER_MANAGE).allowed


def _ensure_self_or_operator(principal: Principal, user: str | None) -> None:
    # Other users' tokens are an admin's business (or the store operator's, embedded).
    if user != principal.name and not _manages_users(principal):
        raise Forbidden(
            f"{principal.name} may only manage their own tokens; tokens for other users are "
            "created by an admin (`steward token create --user NAME`).",
            permission=Permission.USER_MANAGE.value,
        )


def list_tokens(ctx: Context, principal: Principal, user: str | None = None) -> list[TokenInfo]:
    ensure(principal, Permission.TOKEN_MANAGE)
    if not _manages_users(principal):
        if user is not None:
            _ensure_self_or_operator(principal, user)
        user = principal.name
    with ctx.uow.read() as uow:
        return uow.tokens.all(user)


def revoke_token(ctx: Context, principal: Principal, token_id: str) -> TokenInfo:
    ensure(principal, Permission.TOKEN_MANAGE)
    with ctx.uow.write() as uow:
        info = uow.tokens.get(token_id)
        if info is None:
            raise NotFound(f"No token with id {token_id!r}. List them with `steward token list`.")
        _ensure_self_or_operator(principal, info.user)
        if info.revoked_at is None:
            uow.tokens.revoke(token_id, uow.now)
            uow.record(principal.name, Action.TOKEN_REVOKED, "token", token_id, {"user": info.user})
        revoked = uow.tokens.get(token_id)
        uow.commit()
    assert revoked is not None
    return revoked


def authenticate(ctx: Context, token: str) -> Principal:
    """Resolve a bearer token to its user, or refuse with the reason."""
    if not token.startswith(PREFIX):
        raise Unauthenticated("That is not a Steward API token (they start with 'stw_').")
    with ctx.uow.read() as uow:
        found = uow.tokens.credentials(hash_token(token))
        now = uow.now
    if found is None:
        raise Unauthenticated("Unknown API token. Create one with `steward token create`.")
    info, grants = found
    if info.revoked_at is not None:
        raise Unauthenticated(f"API token {info.id} was revoked.")
    if info.expires_at is not None and info.expires_at <= now:
        raise Unauthenticated(f"API token {info.id} expired; create a new one.")
    if grants is None or not grants[0]:
        state = "no longer exists" if grants is None else "is disabled"
        raise Unauthenticated(
            f"API token {info.id} belongs to user {info.user}, who {state}; an admin can "
            f"check with `steward user show {info.user}`."
        )
    if info.last_used_at is None or now - info.last_used_at > _TOUCH_INTERVAL:
        # Usage time is bookkeeping, not a governed change: no audit event, and
        # written at most once a minute so reads stay reads.
        with ctx.uow.write() as uow:
            uow.tokens.mark_used(info.id, now)
            uow.commit()
    return Principal(name=info.user, roles=grants[1], teams=grants[2])
