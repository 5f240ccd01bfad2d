"""Notifications, per-person preferences and the e-mail outbox (migration 0027)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, RowMapping

from steward.domain.notifications import Delivery, Event, Kind, Notification, Preferences
from steward.store import tables as t

_n = t.notifications
_p = t.notification_prefs
_o = t.notification_outbox


def _note(row: RowMapping) -> Notification:
    return Notification(
        id=int(row["id"]),
        recipient=str(row["recipient"]),
        kind=Kind(row["kind"]),
        model=str(row["model"]),
        subject=str(row["subject"]),
        link=str(row["link"]),
        created_at=row["created_at"],
        read_at=row["read_at"],
        message_key=row["message_key"],
        message_params=row["message_params"],
    )


class NotificationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- notifications --------------------------------------------------------------------

    def add(self, event: Event, now: datetime) -> Notification | None:
        """Insert ``event`` unless its recipient already had it; the new row, or None."""
        insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(_n)
            .values(
                recipient=event.recipient,
                kind=event.kind.value,
                model=event.model[:200],
                subject=event.subject,
                link=event.link[:500],
                dedupe=event.key[:300],
                created_at=now,
                message_key=event.message_key,
                message_params=event.message_params,
            )
            .on_conflict_do_nothing(index_elements=[_n.c.recipient, _n.c.dedupe])
            .returning(*_n.c)
        )
        row = self.conn.execute(statement).mappings().first()
        return None if row is None else _note(row)

    def for_recipient(
        self, recipient: str, *, unread_only: bool, limit: int, before: int | None = None
    ) -> list[Notification]:
        query = select(_n).where(_n.c.recipient == recipient)
        if unread_only:
            query = query.where(_n.c.read_at.is_(None))
        if before is not None:
            query = query.where(_n.c.id < before)
        rows = self.conn.execute(query.order_by(_n.c.id.desc()).limit(limit)).mappings()
        return [_note(r) for r in rows]

    def unread(self, recipient: str) -> int:
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(_n)
                .where(_n.c.recipient == recipient, _n.c.read_at.is_(None))
            ).scalar_one()
        )

    def mark_read(self, recipient: str, ids: Sequence[int] | None, now: datetime) -> int:
        """Mark the recipient's own notifications read (``ids`` None: all); how many changed.
        The recipient is part of the condition, so nobody else's row can be touched."""
        condition = and_(_n.c.recipient == recipient, _n.c.read_at.is_(None))
        if ids is not None:
            condition = and_(condition, _n.c.id.in_(list(ids)))
        return int(self.conn.execute(update(_n).where(condition).values(read_at=now)).rowcount)

    def owned(self, recipient: str, note_id: int) -> bool:
        found = self.conn.execute(
            select(_n.c.id).where(_n.c.id == note_id, _n.c.recipient == recipient)
        ).first()
        return found is not None

    def unmailed(self, recipient: str) -> list[Notification]:
        rows = self.conn.execute(
            select(_n)
            .where(_n.c.recipient == recipient, _n.c.mailed_at.is_(None))
            .order_by(_n.c.id)
            .limit(500)
        ).mappings()
        return [_note(r) for r in rows]

    def recipients_unmailed(self) -> list[str]:
        rows = self.conn.execute(
            select(_n.c.recipient).where(_n.c.mailed_at.is_(None)).distinct()
        ).scalars()
        return sorted(str(r) for r in rows)

    def mark_mailed(self, ids: Iterable[int], now: datetime) -> None:
        wanted = list(ids)
        if wanted:
            self.conn.execute(update(_n).where(_n.c.id.in_(wanted)).values(mailed_at=now))

    def mark_all_mailed(self, now: datetime) -> None:
        self.conn.execute(update(_n).where(_n.c.mailed_at.is_(None)).values(mailed_at=now))

    # -- preferences ------------------------------------------------------------------------

    def prefs(self, user: str) -> Preferences:
        row = self.conn.execute(select(_p).where(_p.c.user == user)).mappings().first()
        if row is None:
            return Preferences(user)
        return Preferences(
            user=user,
            email_kinds=frozenset(Kind(k) for k in row["email_kinds"] if k in set(Kind)),
            delivery=Delivery(row["delivery"]),
            language=row["language"],
            timezone=row["timezone"],
            last_digest_at=row["last_digest_at"],
        )

    def save_prefs(self, prefs: Preferences, now: datetime) -> None:
        values: dict[str, Any] = {
            "email_kinds": sorted(k.value for k in prefs.email_kinds),
            "delivery": prefs.delivery.value,
            "language": prefs.language,
            "timezone": prefs.timezone,
            "last_digest_at": prefs.last_digest_at,
            "updated_at": now,
        }
        insert = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        self.conn.execute(
            insert(_p)
            .values(user=prefs.user, **values)
            .on_conflict_do_update(index_elements=[_p.c.user], set_=values)
        )

    # -- outbox -----------------------------------------------------------------------------

    def enqueue(self, recipient: str, address: str, subject: str, body: str, now: datetime) -> str:
        message_id = f"mail_{secrets.token_hex(8)}"
        self.conn.execute(
            _o.insert().values(
                id=message_id,
                recipient=recipient,
                address=address,
                subject=subject,
                body=body,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        return message_id

    def due(self, now: datetime, limit: int) -> list[RowMapping]:
        query = (
            select(_o)
            .where(_o.c.status == "pending", _o.c.next_attempt_at <= now)
            .order_by(_o.c.next_attempt_at, _o.c.id)
            .limit(limit)
        )
        if self.conn.dialect.name == "postgresql":  # two workers never send one message twice
            query = query.with_for_update(skip_locked=True)
        return list(self.conn.execute(query).mappings())

    def sent(self, message_id: str, now: datetime) -> None:
        self.conn.execute(
            update(_o)
            .where(_o.c.id == message_id)
            .values(status="sent", sent_at=now, attempts=_o.c.attempts + 1, last_error=None)
        )

    def failed(self, message_id: str, attempts: int, error: str, retry: datetime | None) -> None:
        self.conn.execute(
            update(_o)
            .where(_o.c.id == message_id)
            .values(
                status="pending" if retry is not None else "failed",
                attempts=attempts,
                next_attempt_at=retry,
                last_error=error[:2000],
            )
        )

    def outbox_counts(self) -> dict[str, int]:
        rows = self.conn.execute(select(_o.c.status, func.count()).group_by(_o.c.status))
        return {str(status): int(n) for status, n in rows}

    def troubled(self, limit: int) -> list[RowMapping]:
        """Messages that failed at least once and are not sent, newest first."""
        query = (
            select(_o)
            .where(or_(_o.c.status == "failed", and_(_o.c.status == "pending", _o.c.attempts > 0)))
            .order_by(_o.c.created_at.desc())
            .limit(limit)
        )
        return list(self.conn.execute(query).mappings())
