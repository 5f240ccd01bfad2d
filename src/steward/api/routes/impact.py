"""/api/v1/impact/form; /api/v1/models/{name}/impact-assessment(s) and .../decision."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from steward.api.deps import Caller, caller, respond
from steward.domain.impact import ImpactAssessment, ImpactForm
from steward.services import impact

router = APIRouter(prefix="/api/v1", tags=["impact"])


class SubmitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: dict[str, Any] = Field(
        description="Form field id -> text (see GET /api/v1/impact/form)"
    )


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool = Field(description="true approves, false rejects")
    comment: str = Field(description="Why (required)")
    revision: int | None = Field(None, description="The revision decided (refused if not latest)")


@router.get("/impact/form", response_model=ImpactForm)
async def get_form(call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(impact.form))


@router.post("/models/{name}/impact-assessments", response_model=ImpactAssessment)
async def submit(name: str, body: SubmitBody, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(impact.submit, name, body.answers))


@router.post("/models/{name}/impact-assessment/decision", response_model=ImpactAssessment)
async def decide(name: str, body: DecisionBody, call: Caller = Depends(caller)) -> Response:
    found = await call.run(
        impact.decide, name, approve=body.approve, comment=body.comment, revision=body.revision
    )
    return respond(found)


@router.get("/models/{name}/impact-assessment", response_model=ImpactAssessment | None)
async def current(name: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(impact.current, name), tp=ImpactAssessment | None)


@router.get("/models/{name}/impact-assessments", response_model=list[ImpactAssessment])
async def history(name: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(impact.history, name), tp=list[ImpactAssessment])
