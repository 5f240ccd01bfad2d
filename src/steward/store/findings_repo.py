"""Findings (+ comments), waivers and periodic reviews: rows <-> domain dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from steward.domain.findings import (
    OPEN_STATUSES,
    Finding,
    FindingComment,
    FindingStatus,
    Severity,
    Waiver,
)
from steward.domain.reviews import Outcome, Review
from steward.store import tables as t
from steward.store.versions_repo import new_id

_f = t.findings.c
_w = t.waivers.c
_r = t.reviews.c
_m = t.models.c
_v = t.model_versions.c

_OPEN = tuple(s.value for s in OPEN_STATUSES)

# Findings with their model's name and version number, built once.
_FINDING_COLUMNS = (*t.findings.c, _m.name.label("model_name"), _v.version.label("version_no"))
_FINDINGS = select(*_FINDING_COLUMNS).select_from(
    t.findings.join(t.models, _m.id == _f.model_id).outerjoin(
        t.model_versions, _v.id == _f.version_id
    )
)
_OPEN_FOR_MODEL = _FINDINGS.where(
    _f.model_id == bindparam("model_id"), _f.status.in_(_OPEN)
).order_by(_f.id)

_WAIVERS = select(
    *t.waivers.c, _m.name.label("model_name"), _v.version.label("version_no")
).select_from(
    t.waivers.join(t.model_versions, _v.id == _w.version_id).join(t.models, _m.id == _v.model_id)
)
_ACTIVE_FOR_VERSION = _WAIVERS.where(
    _w.version_id == bindparam("version_id"),
    _w.revoked_at.is_(None),
    _w.expires_at > bindparam("now"),
).order_by(_w.id)

_REVIEWS = select(*t.reviews.c, _m.name.label("model_name")).select_from(
    t.reviews.join(t.models, _m.id == _r.model_id)
)


def to_finding(row: RowMapping) -> Finding:
    return Finding(
        id=row["id"],
        model=row["model_name"],
        version=row["version_no"],
        title=row["title"],
        description=row["description"],
        severity=Severity(row["severity"]),
        status=FindingStatus(row["status"]),
        source=row["source"],
        source_ref=row["source_ref"],
        owner=row["owner"],
        due_date=row["due_date"],
        evidence=dict(row["evidence"] or {}),
        opened_by=row["opened_by"],
        opened_at=row["opened_at"],
        updated_at=row["updated_at"],
        resolution=row["resolution"],
        closed_by=row["closed_by"],
        closed_at=row["closed_at"],
        comments=row["comments"],
        scope=row["scope"],
        message_key=row["message_key"],
        message_params=row["message_params"],
    )


def to_waiver(row: RowMapping) -> Waiver:
    return Waiver(
        id=row["id"],
        model=row["model_name"],
        version=row["version_no"],
        requirement=row["requirement"],
        reason=row["reason"],
        granted_by=row["granted_by"],
        granted_at=row["granted_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        revoked_by=row["revoked_by"],
        revoke_reason=row["revoke_reason"],
    )


def to_review(row: RowMapping) -> Review:
    return Review(
        id=row["id"],
        model=row["model_name"],
        outcome=Outcome(row["outcome"]),
        notes=row["notes"],
        reviewer=row["reviewer"],
        completed_at=row["completed_at"],
        risk_tier=row["risk_tier"],
        cadence_months=row["cadence_months"],
        previous_due=row["previous_due"],
        next_review_date=row["next_review_date"],
        finding_id=row["finding_id"],
    )


@dataclass(frozen=True)
class FindingFilter:
    model_id: int | None = None
    version_id: int | None = None
    status: tuple[str, ...] | None = None  # None: every status
    severity_at_least: Severity | None = None
    owner: str | None = None
    source: str | None = None
    source_ref_prefix: str | None = None  # a data recall's findings: "NAME@" or "NAME@V/"
    after_id: int | None = None


class FindingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def open_for_model(self, model_id: int) -> list[Finding]:
        """Open and in-remediation findings of a model (what the gates count), oldest first."""
        rows = self.conn.execute(_OPEN_FOR_MODEL, {"model_id": model_id}).mappings()
        return [to_finding(r) for r in rows]

    def get(self, finding_id: int) -> Finding | None:
        row = self.conn.execute(_FINDINGS.where(_f.id == finding_id)).mappings().first()
        return None if row is None else to_finding(row)

    def model_id_of(self, finding_id: int) -> int | None:
        found = self.conn.execute(
            select(_f.model_id).where(_f.id == finding_id)
        ).scalar_one_or_none()
        return None if found is None else int(found)

    def search(self, f: FindingFilter, limit: int) -> list[Finding]:
        query: Select[Any] = _FINDINGS
        if f.model_id is not None:
            query = query.where(_f.model_id == f.model_id)
        if f.version_id is not None:
            query = query.where(_f.version_id == f.version_id)
        if f.status:
            query = query.where(_f.status.in_(f.status))
        if f.severity_at_least is not None:
            wanted = [s.value for s in Severity if s.rank >= f.severity_at_least.rank]
            query = query.where(_f.severity.in_(wanted))
        if f.owner:
            query = query.where(_f.owner == f.owner)
        if f.source:
            query = query.where(_f.source == f.source)
        if f.source_ref_prefix:
            # autoescape: '_' in a dataset name is a character, not a LIKE wildcard
            query = query.where(_f.source_ref.startswith(f.source_ref_prefix, autoescape=True))
        if f.after_id is not None:
            query = query.where(_f.id > f.after_id)
        rows = self.conn.execute(query.order_by(_f.id).limit(limit)).mappings()
        return [to_finding(r) for r in rows]

    def insert(self, values: dict[str, Any]) -> int:
        return new_id(self.conn.execute(insert(t.findings).values(**values, comments=0)))

    def update(self, finding_id: int, values: dict[str, Any]) -> None:
        self.conn.execute(update(t.findings).where(_f.id == finding_id).values(**values))

    def lock(self, finding_id: int) -> None:
        """Serialise changes of one finding (a no-op on SQLite, which locks the file)."""
        self.conn.execute(select(_f.id).where(_f.id == finding_id).with_for_update())

    def add_comment(self, finding_id: int, author: str, body: str, at: datetime) -> int:
        comment_id = new_id(
            self.conn.execute(
                insert(t.finding_comments).values(
                    finding_id=finding_id, author=author, body=body, at=at
                )
            )
        )
        self.conn.execute(
            update(t.findings)
            .where(_f.id == finding_id)
            .values(comments=_f.comments + 1, updated_at=at)
        )
        return comment_id

    def comments(self, finding_id: int) -> list[FindingComment]:
        c = t.finding_comments.c
        rows = self.conn.execute(
            select(t.finding_comments).where(c.finding_id == finding_id).order_by(c.id)
        ).mappings()
        return [
            FindingComment(
                id=r["id"],
                finding_id=r["finding_id"],
                author=r["author"],
                body=r["body"],
                at=r["at"],
            )
            for r in rows
        ]


class WaiverRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def active_for_version(self, version_id: int, now: datetime) -> list[Waiver]:
        """Waivers that count now: neither revoked nor expired."""
        rows = self.conn.execute(
            _ACTIVE_FOR_VERSION, {"version_id": version_id, "now": now}
        ).mappings()
        return [to_waiver(r) for r in rows]

    def get(self, waiver_id: int) -> Waiver | None:
        row = self.conn.execute(_WAIVERS.where(_w.id == waiver_id)).mappings().first()
        return None if row is None else to_waiver(row)

    def search(
        self,
        *,
        model_id: int | None,
        version_id: int | None,
        active_at: datetime | None,
        limit: int,
        after_id: int | None = None,
    ) -> list[Waiver]:
        query = _WAIVERS
        if model_id is not None:
            query = query.where(_v.model_id == model_id)
        if version_id is not None:
            query = query.where(_w.version_id == version_id)
        if active_at is not None:
            query = query.where(_w.revoked_at.is_(None), _w.expires_at > active_at)
        if after_id is not None:
            query = query.where(_w.id > after_id)
        rows = self.conn.execute(query.order_by(_w.id).limit(limit)).mappings()
        return [to_waiver(r) for r in rows]

    def insert(self, values: dict[str, Any]) -> int:
        return new_id(self.conn.execute(insert(t.waivers).values(**values)))

    def revoke(self, waiver_id: int, by: str, reason: str, at: datetime) -> None:
        self.conn.execute(
            update(t.waivers)
            .where(_w.id == waiver_id)
            .values(revoked_at=at, revoked_by=by, revoke_reason=reason)
        )


class ReviewRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, values: dict[str, Any]) -> int:
        return new_id(self.conn.execute(insert(t.reviews).values(**values)))

    def set_finding(self, review_id: int, finding_id: int) -> None:
        self.conn.execute(update(t.reviews).where(_r.id == review_id).values(finding_id=finding_id))

    def get(self, review_id: int) -> Review | None:
        row = self.conn.execute(_REVIEWS.where(_r.id == review_id)).mappings().first()
        return None if row is None else to_review(row)

    def for_model(self, model_id: int) -> list[Review]:
        """A model's completed reviews, newest first."""
        rows = self.conn.execute(
            _REVIEWS.where(_r.model_id == model_id).order_by(_r.id.desc())
        ).mappings()
        return [to_review(r) for r in rows]

    def due(self, until: date, limit: int) -> list[RowMapping]:
        """Active, risk-tiered models whose next review is before ``until`` or unscheduled.

        Scheduled ones come in date order from the (next_review_date, name) index.
        """
        live = and_(_m.status != "retired", _m.risk_tier != "unassessed")
        columns = (_m.id, _m.name, _m.risk_tier, _m.owner, _m.next_review_date)
        scheduled = (
            self.conn.execute(
                select(*columns)
                .where(_m.next_review_date.is_not(None), _m.next_review_date <= until, live)
                .order_by(_m.next_review_date, _m.name)
                .limit(limit)
            )
            .mappings()
            .all()
        )
        unscheduled = (
            self.conn.execute(
                select(*columns)
                .where(_m.next_review_date.is_(None), live)
                .order_by(_m.name)
                .limit(limit)
            )
            .mappings()
            .all()
        )
        return [*scheduled, *unscheduled][:limit]

    def notice_exists(self, model_id: int, due: date) -> bool:
        n = t.review_overdue_notices.c
        return (
            self.conn.execute(
                select(n.model_id).where(n.model_id == model_id, n.due_date == due)
            ).first()
            is not None
        )

    def claim_notice(self, model_id: int, due: date, at: datetime) -> bool:
        """Claim the right to report a missed due date; False if it was reported already.

        The row is inserted before the event is journalled, so of two concurrent
        reporters the second waits on the key and then backs off, journalling nothing.
        """
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(t.review_overdue_notices).values(
                        model_id=model_id, due_date=due, reported_at=at, audit_seq=0
                    )
                )
        except IntegrityError:
            return False
        return True

    def set_notice_seq(self, model_id: int, due: date, audit_seq: int) -> None:
        n = t.review_overdue_notices.c
        self.conn.execute(
            update(t.review_overdue_notices)
            .where(n.model_id == model_id, n.due_date == due)
            .values(audit_seq=audit_seq)
        )
