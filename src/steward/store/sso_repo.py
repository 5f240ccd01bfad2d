"""Single sign-on identities (``uow.sso``): a provider's (issuer, subject) -> Steward user,
the login sessions its sign-ins opened, and the logout tokens already accepted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.engine import Connection

from steward.store import tables as t

_s = t.sso_identities.c
_ss = t.sso_sessions.c
_k = t.api_tokens.c
_lt = t.sso_logout_tokens.c


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

    def add_session(
        self, token_id: str, issuer: str, subject: str, sid: str | None, now: datetime
    ) -> None:
        self.conn.execute(
            t.sso_sessions.insert().values(
                token_id=token_id, issuer=issuer, subject=subject, sid=sid, created_at=now
            )
        )

    def live_sessions(
        self, issuer: str, subject: str | None, sid: str | None, now: datetime
    ) -> list[tuple[str, str]]:
        """(token id, user) of the unrevoked, unexpired sessions a logout names: its
        subject's, narrowed to one provider session when it names one."""
        query = (
            select(_k.id, _k.user)
            .join(t.sso_sessions, _ss.token_id == _k.id)
            .where(_ss.issuer == issuer, _k.revoked_at.is_(None))
            .where((_k.expires_at.is_(None)) | (_k.expires_at > now))
            .order_by(_k.id)
        )
        if subject is not None:
            query = query.where(_ss.subject == subject)
        if sid is not None:
            query = query.where(_ss.sid == sid)
        return [(str(r.id), str(r.user)) for r in self.conn.execute(query)]

    def logout_seen(self, issuer: str, jti: str) -> bool:
        found = self.conn.execute(
            select(exists().where(_lt.issuer == issuer, _lt.jti == jti))
        ).scalar()
        return bool(found)

    def remember_logout(
        self, issuer: str, jti: str, now: datetime, forget_before: datetime
    ) -> None:
        """Keep an accepted logout token's id; drop those older than ``forget_before``
        (a token that old is refused as stale anyway)."""
        self.conn.execute(delete(t.sso_logout_tokens).where(_lt.seen_at < forget_before))
        self.conn.execute(t.sso_logout_tokens.insert().values(issuer=issuer, jti=jti, seen_at=now))
