"""API tokens: only their sha256 is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, literal, select, union_all, update
from sqlalchemy.engine import Connection, RowMapping

from steward.domain.entities import TokenInfo
from steward.store import tables as t

_k = t.api_tokens.c
_BY_HASH = select(t.api_tokens).where(_k.token_hash == bindparam("token_hash"))

# Every authenticated request resolves its token, its user's state, roles and teams:
# one statement (a row per grant, or one row with NULL grants) instead of three.
_GRANTS = union_all(
    select(t.user_roles.c.user.label("holder"), literal("r").label("kind"), t.user_roles.c.role),
    select(t.team_members.c.user, literal("t"), t.team_members.c.team),
).subquery("grants")
_CREDENTIALS = (
    select(
        t.api_tokens,
        t.users.c.active.label("user_active"),
        _GRANTS.c.kind.label("grant_kind"),
        _GRANTS.c.role.label("grant_value"),
    )
    .select_from(
        t.api_tokens.outerjoin(t.users, t.users.c.name == _k.user).outerjoin(
            _GRANTS, _GRANTS.c.holder == _k.user
        )
    )
    .where(_k.token_hash == bindparam("token_hash"))
)

Grants = tuple[bool, frozenset[str], frozenset[str]]


def to_token(r: RowMapping) -> TokenInfo:
    return TokenInfo(
        id=r["id"],
        user=r["user"],
        name=r["name"],
        created_at=r["created_at"],
        created_by=r["created_by"],
        expires_at=r["expires_at"],
        revoked_at=r["revoked_at"],
        last_used_at=r["last_used_at"],
    )


class TokenRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, info: TokenInfo, token_hash: str) -> None:
        self.conn.execute(
            insert(t.api_tokens).values(
                id=info.id,
                user=info.user,
                name=info.name,
                token_hash=token_hash,
                created_at=info.created_at,
                created_by=info.created_by,
                expires_at=info.expires_at,
            )
        )

    def by_hash(self, token_hash: str) -> TokenInfo | None:
        row = self.conn.execute(_BY_HASH, {"token_hash": token_hash}).mappings().first()
        return None if row is None else to_token(row)

    def credentials(self, token_hash: str) -> tuple[TokenInfo, Grants | None] | None:
        """The token with its user's (active, roles, teams); None for the user when it is gone."""
        rows = self.conn.execute(_CREDENTIALS, {"token_hash": token_hash}).mappings().all()
        if not rows:
            return None
        active = rows[0]["user_active"]
        if active is None:
            return to_token(rows[0]), None
        roles = frozenset(r["grant_value"] for r in rows if r["grant_kind"] == "r")
        teams = frozenset(r["grant_value"] for r in rows if r["grant_kind"] == "t")
        return to_token(rows[0]), (bool(active), roles, teams)

    def get(self, token_id: str) -> TokenInfo | None:
        row = self.conn.execute(select(t.api_tokens).where(_k.id == token_id)).mappings().first()
        return None if row is None else to_token(row)

    def all(self, user: str | None) -> list[TokenInfo]:
        query = select(t.api_tokens).order_by(_k.created_at)
        if user:
            query = query.where(_k.user == user)
        return [to_token(r) for r in self.conn.execute(query).mappings()]

    def revoke(self, token_id: str, now: datetime) -> None:
        self.conn.execute(update(t.api_tokens).where(_k.id == token_id).values(revoked_at=now))

    def revoke_all(self, user: str, now: datetime) -> list[str]:
        """Revoke every live token of a user; returns their ids."""
        live = select(_k.id).where(_k.user == user, _k.revoked_at.is_(None))
        ids = [str(i) for i in self.conn.execute(live).scalars()]
        if ids:
            self.conn.execute(update(t.api_tokens).where(_k.id.in_(ids)).values(revoked_at=now))
        return ids

    def revoke_named(self, user: str, name: str, now: datetime) -> list[str]:
        """Revoke the live tokens a user issued to themselves under this name (sessions)."""
        live = select(_k.id).where(
            _k.user == user, _k.created_by == user, _k.name == name, _k.revoked_at.is_(None)
        )
        ids = [str(i) for i in self.conn.execute(live).scalars()]
        if ids:
            self.conn.execute(update(t.api_tokens).where(_k.id.in_(ids)).values(revoked_at=now))
        return ids

    def mark_used(self, token_id: str, now: datetime) -> None:
        self.conn.execute(update(t.api_tokens).where(_k.id == token_id).values(last_used_at=now))
