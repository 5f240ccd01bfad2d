"""Users, teams, roles and passwords; login issuing a short-lived API token.

Every change is one audited transaction. Failed logins and refused role
changes are journalled too (actor = who tried; never any password material).
"""

from __future__ import annotations

import math
import secrets
import threading
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from steward.domain import identity, throttle
from steward.domain.audit import Action, format_time
from steward.domain.entities import NewToken, TokenInfo
from steward.domain.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from steward.domain.identity import Team, User
from steward.domain.permissions import (
    OPERATOR,
    Permission,
    Principal,
    Role,
    authorize,
    ensure,
    parse_role,
    refusal,
)
from steward.services.context import Context
from steward.services.tokens import PREFIX, hash_token
from steward.store.uow import UnitOfWork
from steward.trust import secretbox

# A login session (the web UI's) is an API token that expires after this long.
SESSION_HOURS = 8
# The actor of a failed login with a name that is no user (docs/audit.md).
UNKNOWN_USER = "unknown user"
SESSION_TOKEN_NAME = "login session"

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
_dummy_hash: str | None = None
_dummy_lock = threading.Lock()


def _dummy() -> str:
    """A hash to verify against when the user does not exist, so timing reveals nothing."""
    global _dummy_hash
    with _dummy_lock:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
        return _dummy_hash


def _user(uow: UnitOfWork, name: str) -> User:
    found = uow.users.get(name)
    if found is None:
        raise NotFound(
            f"No user named {name!r}. List users with `steward user list`; an admin creates "
            f"one with `steward user create {name}`.",
            user=name,
        )
    return found


def _team(uow: UnitOfWork, name: str) -> Team:
    found = uow.teams.get(name)
    if found is None:
        raise NotFound(
            f"No team named {name!r}. List teams with `steward team list`; an admin creates "
            f"one with `steward team create {name}`.",
            team=name,
        )
    return found


def _is_self(principal: Principal, name: str) -> bool:
    return not principal.anonymous and principal.name == name


def _password_hash(user: str, password: str) -> str:
    problem = identity.password_problem(user, password)
    if problem is not None:
        raise InvalidInput(problem, field="password")
    return _hasher.hash(password)


# -- users -----------------------------------------------------------------------------------


def create_user(
    ctx: Context,
    principal: Principal,
    name: str,
    *,
    display_name: str = "",
    email: str = "",
    roles: Iterable[str] = (),
    teams: Iterable[str] = (),
    password: str | None = None,
) -> User:
    ensure(principal, Permission.USER_MANAGE)
    identity.user_name(name)
    shown = identity.display_name(display_name)
    mail = identity.email(email)
    wanted_roles = sorted({parse_role(r).value for r in roles})
    wanted_teams = sorted({identity.team_name(t) for t in teams})
    hashed = _password_hash(name, password) if password is not None else None
    with ctx.uow.write() as uow:
        taken = uow.users.name_taken(name)
        if taken is not None:
            raise AlreadyExists(
                f"A user named {taken!r} already exists"
                + ("." if taken == name else f"; {name!r} differs only in case.")
                + f" See it with `steward user show {taken}`.",
                user=name,
            )
        missing = uow.teams.missing(wanted_teams)
        if missing:
            raise NotFound(
                f"No team named {', '.join(repr(m) for m in missing)}; create it first with "
                f"`steward team create {missing[0]}`.",
                team=missing[0],
            )
        uow.users.insert(
            name=name, display_name=shown, email=mail, created_by=principal.name, now=uow.now
        )
        if hashed is not None:
            uow.users.set_password(name, hashed, uow.now)
        for role in wanted_roles:
            uow.users.add_role(name, role, principal.name, uow.now)
        for team in wanted_teams:
            uow.teams.add_member(team, name, principal.name, uow.now)
        uow.record(
            principal.name,
            Action.USER_CREATED,
            "user",
            name,
            {
                "display_name": shown,
                "email": mail,
                "roles": wanted_roles,
                "teams": wanted_teams,
                "password_set": hashed is not None,
            },
        )
        user = _user(uow, name)
        uow.commit()
    return user


def get_user(ctx: Context, principal: Principal, name: str) -> User:
    if not _is_self(principal, name):
        ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        return _user(uow, name)


def list_users(
    ctx: Context,
    principal: Principal,
    *,
    role: str | None = None,
    team: str | None = None,
    active: bool | None = None,
) -> list[User]:
    ensure(principal, Permission.GOVERNANCE_READ)
    role_name = parse_role(role).value if role else None
    with ctx.uow.read() as uow:
        return uow.users.search(role=role_name, team=team, active=active)


def update_user(
    ctx: Context,
    principal: Principal,
    name: str,
    *,
    display_name: str | None = None,
    email: str | None = None,
) -> User:
    """Change a user's display name or e-mail (users may change their own)."""
    if not _is_self(principal, name):
        ensure(principal, Permission.USER_MANAGE)
    changes: dict[str, str] = {}
    if display_name is not None:
        changes["display_name"] = identity.display_name(display_name)
    if email is not None:
        changes["email"] = identity.email(email)
    if not changes:
        raise InvalidInput("Nothing to update: give --display-name and/or --email.")
    with ctx.uow.write() as uow:
        before = _user(uow, name)
        changed = {k: v for k, v in changes.items() if getattr(before, k) != v}
        if changed:
            uow.users.update(name, uow.now, **changed)
            uow.record(
                principal.name,
                Action.USER_UPDATED,
                "user",
                name,
                {
                    "before": {k: getattr(before, k) for k in changed},
                    "after": changed,
                },
            )
        user = _user(uow, name)
        uow.commit()
    return user


def _ensure_not_last_admin(uow: UnitOfWork, user: User, what: str) -> None:
    admin = Role.ADMIN.value
    if user.active and admin in user.roles and uow.users.count_active_with_role(admin) <= 1:
        raise Conflict(
            f"{user.name} is the last active admin; {what} would leave nobody able to "
            f"manage users. Grant admin to someone else first "
            f"(`steward user grant NAME admin`).",
            user=user.name,
        )


def disable_user(ctx: Context, principal: Principal, name: str, reason: str = "") -> User:
    """Disable a user: their sessions and API tokens are revoked in the same transaction."""
    ensure(principal, Permission.USER_MANAGE)
    if _is_self(principal, name) and OPERATOR not in principal.roles:
        raise Conflict(f"{name} may not disable themselves; ask another admin.", user=name)
    with ctx.uow.write() as uow:
        before = _user(uow, name)
        if before.active:
            _ensure_not_last_admin(uow, before, "disabling them")
            uow.users.update(name, uow.now, active=False, disabled_at=uow.now)
            revoked = uow.tokens.revoke_all(name, uow.now)
            uow.record(
                principal.name,
                Action.USER_DISABLED,
                "user",
                name,
                {"reason": reason[:2000], "revoked_tokens": revoked},
            )
        user = _user(uow, name)
        uow.commit()
    return user


def enable_user(ctx: Context, principal: Principal, name: str) -> User:
    """Enable a disabled user again (their old tokens stay revoked)."""
    ensure(principal, Permission.USER_MANAGE)
    with ctx.uow.write() as uow:
        before = _user(uow, name)
        if not before.active:
            uow.users.update(name, uow.now, active=True, disabled_at=None)
            uow.record(principal.name, Action.USER_ENABLED, "user", name, {})
        user = _user(uow, name)
        uow.commit()
    return user


def set_password(
    ctx: Context,
    principal: Principal,
    name: str,
    password: str,
    *,
    current_password: str | None = None,
) -> User:
    """Set a user's password: an admin for anyone, a user for themselves (with the old one).

    Every login session of the user ends in the same transaction.
    """
    by_admin = authorize(principal, Permission.USER_MANAGE).allowed
    if not _is_self(principal, name):
        ensure(principal, Permission.USER_MANAGE)
    hashed = _password_hash(name, password)
    with ctx.uow.write() as uow:
        _user(uow, name)
        old = uow.users.password_hash(name)
        if (
            not by_admin
            and old is not None
            and (current_password is None or not _verify(old, current_password))
        ):
            raise Forbidden(
                "To change your own password give the current one (--current); if you "
                "forgot it, an admin sets a new one with `steward user password NAME`."
            )
        uow.users.set_password(name, hashed, uow.now)
        # A new password ends every login session opened with the old one: whoever knew
        # it (or stole a session cookie) is logged out. API tokens made on purpose stay.
        ended = uow.tokens.revoke_named(name, SESSION_TOKEN_NAME, uow.now)
        uow.record(
            principal.name,
            Action.PASSWORD_SET,
            "user",
            name,
            {"by": "self" if _is_self(principal, name) else "admin", "ended_sessions": ended},
        )
        user = _user(uow, name)
        uow.commit()
    return user


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


# -- roles -------------------------------------------------------------------------------------


def _role_change(ctx: Context, principal: Principal, name: str, role: str, *, grant: bool) -> User:
    wanted = parse_role(role)
    decision = authorize(principal, Permission.USER_MANAGE)
    if not decision.allowed:
        if not principal.anonymous:
            # A refused role change is worth knowing about: journal the attempt.
            with ctx.uow.write() as uow:
                uow.record(
                    principal.name,
                    Action.ROLE_CHANGE_DENIED,
                    "user",
                    name[:255],
                    {"role": wanted.value, "change": "grant" if grant else "revoke"},
                )
                uow.commit()
        raise refusal(principal, decision, Permission.USER_MANAGE)
    with ctx.uow.write() as uow:
        before = _user(uow, name)
        holds = wanted.value in before.roles
        if grant and not holds:
            uow.users.add_role(name, wanted.value, principal.name, uow.now)
            uow.record(principal.name, Action.ROLE_GRANTED, "user", name, {"role": wanted.value})
        elif not grant and holds:
            if wanted is Role.ADMIN:
                _ensure_not_last_admin(uow, before, "revoking admin")
            uow.users.remove_role(name, wanted.value)
            uow.record(principal.name, Action.ROLE_REVOKED, "user", name, {"role": wanted.value})
        user = _user(uow, name)
        uow.commit()
    return user


def grant_role(ctx: Context, principal: Principal, name: str, role: str) -> User:
    return _role_change(ctx, principal, name, role, grant=True)


def revoke_role(ctx: Context, principal: Principal, name: str, role: str) -> User:
    return _role_change(ctx, principal, name, role, grant=False)


# -- login -----------------------------------------------------------------------------------


def login(ctx: Context, name: str, password: str, client: str = "local") -> NewToken:
    """Check a password and issue an API token that expires after ``SESSION_HOURS``.

    ``client`` identifies the caller (its IP address) for throttling: a locked-out
    account or client is refused with 429 before the password is looked at.
    """
    if not ctx.settings.local_passwords:
        raise Forbidden(
            "Password sign-in is switched off on this server (STEWARD_LOCAL_PASSWORDS=false): "
            "sign in through single sign-on in the web UI, or with `steward sso login` for "
            "the command line."
        )
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("Give the user name (1-200 characters) to log in as.", field="user")
    limits = ctx.login_limits
    with ctx.uow.read() as uow:
        now = uow.now.timestamp()
        wait = throttle.retry_after(
            (uow.throttle.get(throttle.ACCOUNT, name), uow.throttle.get(throttle.CLIENT, client)),
            now,
        )
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests(
            f"Too many failed sign-ins for this account or from this address; try again "
            f"in {seconds} s. An admin can set a new password with "
            "`steward user password NAME`.",
            retry_after=seconds,
        )
    with ctx.uow.read() as uow:
        hashed = uow.users.password_hash(name)
        grants = uow.users.grants(name)
    matched = _verify(hashed if hashed is not None else _dummy(), password or "")
    reason = None
    if grants is None:
        reason = "unknown user"
    elif hashed is None:
        reason = "no password set"
    elif not matched:
        reason = "wrong password"
    elif not grants[0]:
        reason = "user disabled"
    if reason is not None:
        # Journal key: the account (and reason) if it exists, else the client, so a spray
        # of invented names from one address is one event per window too.
        key = f"user:{name}:{reason}" if grants is not None else f"client:{client}"
        # What was typed may be a password typed into the wrong field: never journal it;
        # a keyed digest still shows repeated attempts with the same name.
        actor = name if grants is not None else UNKNOWN_USER
        # One transaction counts the failure (shared by every process) and journals it.
        with ctx.uow.write() as uow:
            now = uow.now.timestamp()
            states = {
                kind: throttle.current(uow.throttle.lock(kind, k, now), now, limits)
                for kind, k in (
                    (throttle.ACCOUNT, name),
                    (throttle.CLIENT, client),
                    (throttle.JOURNAL, key),
                )
            }
            failure = throttle.failed(
                limits,
                (name, states[throttle.ACCOUNT]),
                (client, states[throttle.CLIENT]),
                states[throttle.JOURNAL],
                now,
            )
            for kind, k in ((throttle.ACCOUNT, name), (throttle.CLIENT, client)):
                uow.throttle.save(kind, k, states[kind])
            uow.throttle.save(throttle.JOURNAL, key, states[throttle.JOURNAL])
            uow.throttle.prune(now, limits.window)
            if failure.journal:
                payload: dict[str, object] = {"reason": reason}
                if grants is None:
                    payload["attempt"] = secretbox.load_or_create(
                        ctx.settings.secrets_key_path
                    ).digest(name, "login-name")
                if failure.aggregated:
                    payload["earlier_failures"] = failure.aggregated
                uow.record(actor, Action.LOGIN_FAILED, "user", actor, payload)
            for lock in failure.lockouts:
                uow.record(
                    actor,
                    Action.LOGIN_LOCKED,
                    "user",
                    actor,
                    {
                        "scope": lock.scope,
                        "client": client,
                        "seconds": int(lock.seconds),
                        "failures": lock.failures,
                    },
                )
            uow.commit()
        if reason == "user disabled":
            raise Unauthenticated(
                f"User {name} is disabled; an admin enables it with `steward user enable {name}`."
            )
        raise Unauthenticated(
            "Wrong user name or password. An admin can set a new password with "
            "`steward user password NAME`."
        )
    assert hashed is not None
    with ctx.uow.write() as uow:
        # A right password outside any lockout clears the account's count (not the client's).
        uow.throttle.forget(throttle.ACCOUNT, name)
        if _hasher.check_needs_rehash(hashed):
            uow.users.set_password(name, _hasher.hash(password), uow.now)
        issued = open_session(uow, name)
        uow.commit()
    return issued


def open_session(uow: UnitOfWork, name: str, **how: object) -> NewToken:
    """Issue a login session for ``name`` inside ``uow`` and journal the sign-in.

    ``how`` adds to the event's payload (single sign-on records its method and issuer).
    """
    secret = PREFIX + secrets.token_urlsafe(32)
    info = TokenInfo(
        id="tok_" + secrets.token_hex(8),
        user=name,
        name=SESSION_TOKEN_NAME,
        created_at=uow.now,
        created_by=name,
        expires_at=uow.now + timedelta(hours=SESSION_HOURS),
        revoked_at=None,
        last_used_at=None,
    )
    uow.tokens.insert(info, hash_token(secret))
    assert info.expires_at is not None
    uow.record(
        name,
        Action.LOGIN_SUCCEEDED,
        "user",
        name,
        {"token": info.id, "expires_at": format_time(info.expires_at), **how},
    )
    return NewToken(info, secret)


def principal_for(ctx: Context, name: str, *, operator: bool = False) -> Principal:
    """The principal of a stored user (plus the operator role in embedded mode)."""
    with ctx.uow.read() as uow:
        grants = uow.users.grants(name)
    roles: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()
    if grants is not None and grants[0]:
        roles, teams = grants[1], grants[2]
    if operator:
        roles = roles | {OPERATOR}
    return Principal(name=name, roles=roles, teams=teams)


# -- teams -------------------------------------------------------------------------------------


def create_team(
    ctx: Context,
    principal: Principal,
    name: str,
    *,
    title: str = "",
    description: str = "",
    members: Iterable[str] = (),
    line: str | None = None,
) -> Team:
    ensure(principal, Permission.USER_MANAGE)
    identity.team_name(name)
    line = identity.line_of_defence(line)
    title = (title or "").strip()
    if len(title) > 200:
        raise InvalidInput("A team title has at most 200 characters.", field="title")
    wanted = sorted(set(members))
    with ctx.uow.write() as uow:
        if uow.teams.get(name) is not None:
            raise AlreadyExists(
                f"A team named {name!r} already exists; see it with `steward team show {name}`.",
                team=name,
            )
        for member in wanted:
            _user(uow, member)
        uow.teams.insert(
            name=name,
            title=title,
            description=description or "",
            by=principal.name,
            now=uow.now,
            line=line,
        )
        for member in wanted:
            uow.teams.add_member(name, member, principal.name, uow.now)
        uow.record(
            principal.name,
            Action.TEAM_CREATED,
            "team",
            name,
            {"title": title, "description": description or "", "members": wanted, "line": line},
        )
        team = _team(uow, name)
        uow.commit()
    return team


def update_team(
    ctx: Context,
    principal: Principal,
    name: str,
    *,
    title: str | None = None,
    description: str | None = None,
    line: str | None = None,
) -> Team:
    """Change a team's title, description or line of defence (``line=""`` clears it).

    Lines are read when a gate is evaluated, so moving a team to the third line stops its
    members' approvals from counting under a pack that forbids the third line.
    """
    ensure(principal, Permission.USER_MANAGE)
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = title.strip()
        if len(changes["title"]) > 200:
            raise InvalidInput("A team title has at most 200 characters.", field="title")
    if description is not None:
        changes["description"] = description
    if line is not None:
        changes["line"] = identity.line_of_defence(line)
    if not changes:
        raise InvalidInput(
            "Nothing to change: give a title, a description or a line "
            "(e.g. `steward team update NAME --line second`).",
        )
    with ctx.uow.write() as uow:
        before = _team(uow, name)
        changed = {k: v for k, v in changes.items() if getattr(before, k) != v}
        if changed:
            uow.teams.update(name, **changed)
            uow.record(
                principal.name,
                Action.TEAM_UPDATED,
                "team",
                name,
                {k: {"from": getattr(before, k), "to": v} for k, v in changed.items()},
            )
        team = _team(uow, name)
        uow.commit()
    return team


def get_team(ctx: Context, principal: Principal, name: str) -> Team:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        return _team(uow, name)


def list_teams(ctx: Context, principal: Principal) -> list[Team]:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        return uow.teams.all()


def delete_team(ctx: Context, principal: Principal, name: str) -> Team:
    """Delete a team (its memberships go with it; past approvals keep the teams they recorded)."""
    ensure(principal, Permission.USER_MANAGE)
    with ctx.uow.write() as uow:
        team = _team(uow, name)
        uow.teams.delete(name)
        uow.record(
            principal.name, Action.TEAM_DELETED, "team", name, {"members": list(team.members)}
        )
        uow.commit()
    return team


def add_member(ctx: Context, principal: Principal, team: str, user: str) -> Team:
    ensure(principal, Permission.USER_MANAGE)
    with ctx.uow.write() as uow:
        _team(uow, team)
        _user(uow, user)
        if not uow.teams.is_member(team, user):
            uow.teams.add_member(team, user, principal.name, uow.now)
            uow.record(principal.name, Action.TEAM_MEMBER_ADDED, "team", team, {"user": user})
        found = _team(uow, team)
        uow.commit()
    return found


def remove_member(ctx: Context, principal: Principal, team: str, user: str) -> Team:
    ensure(principal, Permission.USER_MANAGE)
    with ctx.uow.write() as uow:
        _team(uow, team)
        if not uow.teams.is_member(team, user):
            raise NotFound(
                f"{user} is not a member of team {team}; see its members with "
                f"`steward team show {team}`.",
                team=team,
                user=user,
            )
        uow.teams.remove_member(team, user)
        uow.record(principal.name, Action.TEAM_MEMBER_REMOVED, "team", team, {"user": user})
        found = _team(uow, team)
        uow.commit()
    return found
