"""Model card narrative fields: revisions of owner-written text per version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from steward.store import tables as t

_n = t.card_narratives.c
_v = t.model_versions.c


class NarrativeRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def version_ids(self, model_id: int, up_to: int) -> list[tuple[int, int]]:
        """(version number, row id) of a model's versions up to ``up_to``, newest first."""
        query = (
            select(_v.version, _v.id)
            .where(_v.model_id == model_id, _v.version <= up_to)
            .order_by(_v.version.desc())
        )
        return [(int(no), int(vid)) for no, vid in self.conn.execute(query)]

    def current(self, version_ids: list[int]) -> list[RowMapping]:
        """Current revision of every field of these versions (with the version number)."""
        if not version_ids:
            return []
        query = (
            select(*t.card_narratives.c, _v.version.label("version_no"))
            .select_from(t.card_narratives.join(t.model_versions, _v.id == _n.version_id))
            .where(_n.version_id.in_(version_ids), _n.superseded_at.is_(None))
            .order_by(_v.version, _n.field)
        )
        return list(self.conn.execute(query).mappings())

    def history(self, version_id: int, field: str | None = None) -> list[RowMapping]:
        query = (
            select(*t.card_narratives.c, _v.version.label("version_no"))
            .select_from(t.card_narratives.join(t.model_versions, _v.id == _n.version_id))
            .where(_n.version_id == version_id)
        )
        if field is not None:
            query = query.where(_n.field == field)
        return list(self.conn.execute(query.order_by(_n.field, _n.revision)).mappings())

    def latest_revision(self, version_id: int, field: str) -> int:
        query = select(func.max(_n.revision)).where(_n.version_id == version_id, _n.field == field)
        return int(self.conn.execute(query).scalar() or 0)

    def supersede(self, version_id: int, field: str, at: datetime) -> None:
        self.conn.execute(
            update(t.card_narratives)
            .where(_n.version_id == version_id, _n.field == field, _n.superseded_at.is_(None))
            .values(superseded_at=at)
        )

    def insert(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(t.card_narratives), values)

    def first_model_event(self, model: str) -> int | None:
        """seq of the first journal event about ``model`` (its creation, normally)."""
        e = t.audit_events.c
        query = select(func.min(e.seq)).where(
            (e.subject_id == model) | e.subject_id.startswith(model + "/", autoescape=True)
        )
        found = self.conn.execute(query).scalar()
        return None if found is None else int(found)
