"""AI impact assessments: every submitted revision of a model's assessment and its decision."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from steward.domain.impact import ImpactAssessment, ImpactStatus
from steward.store import tables as t

_i = t.impact_assessments.c
_COLUMNS = (*t.impact_assessments.c, t.models.c.name.label("model_name"))


def _to_assessment(row: RowMapping) -> ImpactAssessment:
    return ImpactAssessment(
        id=row["id"],
        model=row["model_name"],
        revision=int(row["revision"]),
        form=row["form"],
        form_version=row["form_version"],
        answers=dict(row["answers"]),
        purpose=row["purpose"],
        population=dict(row["population"]),
        status=ImpactStatus(row["status"]),
        submitted_by=row["submitted_by"],
        submitted_at=row["submitted_at"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        comment=row["comment"] or "",
        audit_seq=int(row["audit_seq"]),
    )


class ImpactRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def history(self, model_id: int) -> list[ImpactAssessment]:
        """Every revision of the model's impact assessment, newest first."""
        rows = self.conn.execute(
            select(*_COLUMNS)
            .join(t.models, t.models.c.id == _i.model_id)
            .where(_i.model_id == model_id)
            .order_by(_i.revision.desc())
        ).mappings()
        return [_to_assessment(row) for row in rows]

    def latest(self, model_id: int) -> ImpactAssessment | None:
        found = self.history(model_id)
        return found[0] if found else None

    def approved(self, model_id: int) -> ImpactAssessment | None:
        """The newest approved revision (the one that counts), or None."""
        row = (
            self.conn.execute(
                select(*_COLUMNS)
                .join(t.models, t.models.c.id == _i.model_id)
                .where(_i.model_id == model_id, _i.status == ImpactStatus.APPROVED.value)
                .order_by(_i.revision.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        return _to_assessment(row) if row is not None else None

    def next_revision(self, model_id: int) -> int:
        found = self.conn.execute(
            select(func.max(_i.revision)).where(_i.model_id == model_id)
        ).scalar()
        return int(found or 0) + 1

    def insert(self, model_id: int, a: ImpactAssessment) -> None:
        self.conn.execute(
            insert(t.impact_assessments),
            {
                "id": a.id,
                "model_id": model_id,
                "revision": a.revision,
                "form": a.form,
                "form_version": a.form_version,
                "answers": a.answers,
                "purpose": a.purpose,
                "population": a.population,
                "status": a.status.value,
                "submitted_by": a.submitted_by,
                "submitted_at": a.submitted_at,
                "decided_by": None,
                "decided_at": None,
                "comment": "",
                "audit_seq": a.audit_seq,
            },
        )

    def set_status(
        self,
        assessment_id: str,
        status: ImpactStatus,
        *,
        by: str | None = None,
        at: datetime | None = None,
        comment: str | None = None,
    ) -> None:
        values: dict[str, object] = {"status": status.value}
        if by is not None:
            values.update(decided_by=by, decided_at=at, comment=comment or "")
        self.conn.execute(
            update(t.impact_assessments).where(_i.id == assessment_id).values(**values)
        )

    def supersede_pending(self, model_id: int) -> None:
        """Earlier revisions still awaiting a decision are superseded by a new submission."""
        self.conn.execute(
            update(t.impact_assessments)
            .where(_i.model_id == model_id, _i.status == ImpactStatus.SUBMITTED.value)
            .values(status=ImpactStatus.SUPERSEDED.value)
        )
