"""Data connections: register, list, show, delete (admin only), and open one for a read.

Credentials are sealed at rest with the same key and code as webhook secrets
(:mod:`steward.trust.secretbox`), so a copy of the database reveals none. Each change is one
transaction with its journal event; the journal records the connection's kind, location,
options, roles and teams and *which* credentials it holds, never their values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlsplit

from steward.domain import connections as rules
from steward.domain.audit import Action
from steward.domain.connections import Connection, ConnectionKind, Opened
from steward.domain.errors import AlreadyExists, InvalidInput, NotFound
from steward.domain.identity import team_name
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import outbound
from steward.services.context import Context
from steward.trust import secretbox

MAX_DESCRIPTION = 500


def _box(ctx: Context) -> secretbox.SecretBox:
    # The webhook secrets' key: one key file per deployment seals every stored secret.
    return secretbox.load_or_create(ctx.settings.secrets_key_path)


def _not_found(name: str) -> NotFound:
    return NotFound(
        f"No data connection {name!r}. An admin lists them with `steward connection list` and "
        "registers one with `steward connection create`.",
        connection=name,
    )


def check_reach(
    ctx: Context, kind: ConnectionKind, location: str, options: Mapping[str, str]
) -> None:
    """The host a connection contacts must pass the outbound allow-list."""
    what = "A data connection"
    if kind is ConnectionKind.S3:
        endpoint = options.get("endpoint_url")
        if endpoint is not None:
            parts = urlsplit(endpoint)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise InvalidInput(
                    f"endpoint_url {endpoint!r} must be an http(s) URL.", field="options"
                )
            outbound.check_url(ctx.settings, endpoint, what)
        else:
            outbound.check_host(ctx.settings, "s3.amazonaws.com", what)
    elif kind is ConnectionKind.POSTGRESQL:
        outbound.check_host(ctx.settings, urlsplit(location).hostname or "", what)


def create_connection(
    ctx: Context,
    principal: Principal,
    name: str,
    *,
    kind: str,
    location: str,
    description: str = "",
    options: Mapping[str, str] | None = None,
    credentials: Mapping[str, str] | None = None,
    roles: list[str] | None = None,
    teams: list[str] | None = None,
) -> Connection:
    ensure(principal, Permission.CONNECTION_MANAGE)
    rules.connection_name(name)
    chosen = rules.parse_kind(kind)
    where = rules.parse_location(chosen, location)
    clear = rules.parse_pairs(chosen, dict(options or {}), "options")
    secret = rules.parse_pairs(chosen, dict(credentials or {}), "credentials")
    allowed_roles = rules.parse_roles(roles)
    allowed_teams = sorted({team_name(t.strip()) for t in teams or [] if t.strip()})
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"A connection description has at most {MAX_DESCRIPTION} characters.",
            field="description",
        )
    check_reach(ctx, chosen, where, clear)
    sealed = _box(ctx).seal(json.dumps(secret, sort_keys=True)) if secret else None
    with ctx.uow.write() as uow:
        if uow.connections.get(name) is not None:
            raise AlreadyExists(
                f"A data connection named {name!r} exists; delete it first or pick another name.",
                connection=name,
            )
        missing = uow.teams.missing(allowed_teams)
        if missing:
            raise NotFound(
                f"No team {', '.join(missing)}. List teams with `steward team list`.",
                team=missing[0],
            )
        uow.connections.insert(
            {
                "name": name,
                "kind": chosen.value,
                "location": where,
                "options": clear,
                "credentials": sealed,
                "credential_keys": sorted(secret),
                "description": description,
                "roles": allowed_roles,
                "teams": allowed_teams,
                "created_by": principal.name,
                "created_at": uow.now,
            }
        )
        uow.record(
            principal.name,
            Action.CONNECTION_CREATED,
            "connection",
            name,
            {
                "kind": chosen.value,
                "location": where,
                "options": clear,
                "credentials": sorted(secret),  # which ones, never their values
                "roles": allowed_roles,
                "teams": allowed_teams,
                "description": description,
            },
        )
        found = uow.connections.get(name)
        uow.commit()
    assert found is not None
    return found


def list_connections(ctx: Context, principal: Principal) -> list[Connection]:
    ensure(principal, Permission.CONNECTION_MANAGE)
    with ctx.uow.read() as uow:
        return uow.connections.all()


def get_connection(ctx: Context, principal: Principal, name: str) -> Connection:
    ensure(principal, Permission.CONNECTION_MANAGE)
    with ctx.uow.read() as uow:
        found = uow.connections.get(name)
    if found is None:
        raise _not_found(name)
    return found


def delete_connection(ctx: Context, principal: Principal, name: str) -> Connection:
    """Remove it; monitors naming it fail their next run until it is registered again."""
    ensure(principal, Permission.CONNECTION_MANAGE)
    with ctx.uow.write() as uow:
        found = uow.connections.get(name)
        if found is None:
            raise _not_found(name)
        uow.connections.delete(name)
        uow.record(
            principal.name,
            Action.CONNECTION_DELETED,
            "connection",
            name,
            {"kind": found.kind.value, "location": found.location},
        )
        uow.commit()
    return found


def usable(ctx: Context, principal: Principal, name: str) -> Connection:
    """The connection, when ``principal`` may read through it (monitor configuration)."""
    with ctx.uow.read() as uow:
        found = uow.connections.get(name)
    if found is None:
        raise _not_found(name)
    rules.ensure_may_use(found, principal)
    return found


def open_connection(ctx: Context, principal: Principal, name: str) -> Opened:
    """The connection with its credentials unsealed, for one read by ``principal``.

    The outbound rules are checked again: the allow-list may have changed since the
    connection was registered, and a host name may now resolve elsewhere."""
    with ctx.uow.read() as uow:
        found = uow.connections.get(name)
        sealed = None if found is None else uow.connections.sealed(name)
    if found is None:
        raise _not_found(name)
    rules.ensure_may_use(found, principal)
    check_reach(ctx, found.kind, found.location, found.options)
    credentials: dict[str, str] = {}
    if sealed:
        credentials = dict(json.loads(_box(ctx).open(sealed)))
    return Opened(found, credentials)
