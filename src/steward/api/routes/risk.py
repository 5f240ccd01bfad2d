"""/api/v1/risk — the questionnaire; /api/v1/models/{name}/risk-assessment(s)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from steward.api.deps import Caller, caller, respond
from steward.domain.risk import AssessmentStatus, Questionnaire, RiskAssessment
from steward.services import risk

router = APIRouter(prefix="/api/v1", tags=["risk"])


class AssessBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: dict[str, Any] = Field(
        description="Question id -> answer: one value for a choice question, a list for a "
        "multi question (see GET /api/v1/risk/questionnaire)"
    )


@router.get("/risk/questionnaire", response_model=Questionnaire)
async def get_questionnaire(call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(risk.questionnaire))


@router.post("/models/{name}/risk-assessments", response_model=RiskAssessment)
async def assess(name: str, body: AssessBody, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(risk.assess, name, body.answers))


@router.get("/models/{name}/risk-assessment", response_model=AssessmentStatus)
async def current_assessment(name: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(risk.get_assessment, name))


@router.get("/models/{name}/risk-assessments", response_model=list[RiskAssessment])
async def assessment_history(name: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(risk.history, name), tp=list[RiskAssessment])


@router.get("/risk-assessments/{assessment_id}", response_model=RiskAssessment)
async def get_assessment(assessment_id: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(risk.get_by_id, assessment_id))
