"""Single sign-on identities (``uow.sso``): a provider's (issuer, subject) -> Steward user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from steward.store import tables as t

_s = t.sso_identities.c


class SsoRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def user_of(self, issuer: str, subject: str) -> str | None:
        found = self.conn.execute(
            select(_s.user).where(_s.issuer == issuer, _s.subject == subject)
        ).scalar()
        return None if found is None else str(found)

    def subjects_of(self, user: str) -> list[tuple[str, str]]:
        rows = self.conn.execute(
            select(_s.issuer, _s.subject).where(_s.user == user).order_by(_s.issuer)
        )
        return [(str(r.issuer), str(r.subject)) for r in rows]

    def link(self, issuer: str, subject: str, user: str, now: datetime) -> None:
        self.conn.execute(
            t.sso_identities.insert().values(
                issuer=issuer, subject=subject, user=user, created_at=now, last_seen_at=now
            )
        )

    def seen(self, issuer: str, subject: str, now: datetime) -> None:
        self.conn.execute(
            update(t.sso_identities)
            .where(_s.issuer == issuer, _s.subject == subject)
            .values(last_seen_at=now)
        )
