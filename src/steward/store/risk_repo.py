"""Risk assessments: the answers, the computed tier and category, and their reasons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from steward.domain.risk import Reason, RiskAssessment
from steward.store import tables as t

_r = t.risk_assessments.c
_COLUMNS = (*t.risk_assessments.c, t.models.c.name.label("model_name"))
_CURRENT = (
    select(*_COLUMNS)
    .join(t.models, t.models.c.id == _r.model_id)
    .where(_r.model_id == bindparam("model_id"), _r.superseded_at.is_(None))
    .order_by(_r.assessed_at.desc())
    .limit(1)
)
_INSERT = insert(t.risk_assessments)


def _reason(data: dict[str, Any]) -> Reason:
    return Reason(
        outcome=data["outcome"],
        value=data["value"],
        question=data.get("question"),
        answer=data.get("answer"),
        text=data["text"],
        ref=data.get("ref", ""),
        controls=tuple(data.get("controls", ())),
    )


def reason_json(reason: Reason) -> dict[str, Any]:
    return {
        "outcome": reason.outcome,
        "value": reason.value,
        "question": reason.question,
        "answer": reason.answer,
        "text": reason.text,
        "ref": reason.ref,
        "controls": list(reason.controls),
    }


def _to_assessment(row: RowMapping) -> RiskAssessment:
    return RiskAssessment(
        id=row["id"],
        model=row["model_name"],
        questionnaire=row["questionnaire"],
        questionnaire_version=row["questionnaire_version"],
        answers=dict(row["answers"]),
        tier=row["tier"],
        category=row["category"],
        score=int(row["score"]),
        reasons=[_reason(r) for r in row["reasons"]],
        assessed_by=row["assessed_by"],
        assessed_at=row["assessed_at"],
        model_fields=dict(row["model_fields"]),
        superseded_at=row["superseded_at"],
        superseded_by=row["superseded_by"],
        audit_seq=int(row["audit_seq"]),
    )


class RiskRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def current(self, model_id: int) -> RiskAssessment | None:
        """The model's assessment in force (superseded ones are history)."""
        row = self.conn.execute(_CURRENT, {"model_id": model_id}).mappings().first()
        return _to_assessment(row) if row is not None else None

    def model_fields(self, model_id: int) -> dict[str, str]:
        """The model's name and the fields an assessment's answers describe."""
        m = t.models.c
        row = (
            self.conn.execute(
                select(m.name, m.purpose, m.business_unit, m.team).where(m.id == model_id)
            )
            .mappings()
            .one()
        )
        return {k: str(v or "") for k, v in row.items()}

    def get(self, assessment_id: str) -> RiskAssessment | None:
        row = (
            self.conn.execute(
                select(*_COLUMNS)
                .join(t.models, t.models.c.id == _r.model_id)
                .where(_r.id == assessment_id)
            )
            .mappings()
            .first()
        )
        return _to_assessment(row) if row is not None else None

    def history(self, model_id: int) -> list[RiskAssessment]:
        """Every assessment of the model, newest first."""
        rows = self.conn.execute(
            select(*_COLUMNS)
            .join(t.models, t.models.c.id == _r.model_id)
            .where(_r.model_id == model_id)
            .order_by(_r.assessed_at.desc(), _r.audit_seq.desc())
        ).mappings()
        return [_to_assessment(row) for row in rows]

    def insert(self, model_id: int, assessment: RiskAssessment) -> None:
        self.conn.execute(
            _INSERT,
            {
                "id": assessment.id,
                "model_id": model_id,
                "questionnaire": assessment.questionnaire,
                "questionnaire_version": assessment.questionnaire_version,
                "answers": assessment.answers,
                "tier": assessment.tier,
                "category": assessment.category,
                "score": assessment.score,
                "reasons": [reason_json(r) for r in assessment.reasons],
                "model_fields": assessment.model_fields,
                "assessed_by": assessment.assessed_by,
                "assessed_at": assessment.assessed_at,
                "superseded_at": None,
                "superseded_by": None,
                "audit_seq": assessment.audit_seq,
            },
        )

    def supersede(self, assessment_id: str, by: str, at: datetime) -> None:
        self.conn.execute(
            update(t.risk_assessments)
            .where(_r.id == assessment_id, _r.superseded_at.is_(None))
            .values(superseded_at=at, superseded_by=by)
        )
