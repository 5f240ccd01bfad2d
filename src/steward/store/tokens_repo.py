"""API tokens: only their sha256 is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from steward.domain.entities import TokenInfo
from steward.store import tables as t

_k = t.api_tokens.c
_BY_HASH = select(t.api_tokens).where(_k.token_hash == bindparam("token_hash"))


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

    def mark_used(self, token_id: str, now: datetime) -> None:
        self.conn.execute(update(t.api_tokens).where(_k.id == token_id).values(last_used_at=now))
