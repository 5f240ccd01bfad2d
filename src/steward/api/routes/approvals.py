"""/api/v1/requests: transition requests, approvals and rejections, the inbox."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from steward.api.deps import Caller, caller, respond
from steward.domain.requests import RequestResult, TransitionRequest
from steward.services import approvals

router = APIRouter(prefix="/api/v1", tags=["approvals"])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequestBody(_Strict):
    to: str = Field(description="Target stage, e.g. production")
    justification: str = Field(description="Why the version should move")


class DecisionBody(_Strict):
    comment: str = Field("", description="Required when rejecting: what must change")


class WithdrawBody(_Strict):
    reason: str = ""


@router.post(
    "/models/{name}/versions/{version}/requests", status_code=201, response_model=RequestResult
)
async def request_transition(
    name: str, version: int, body: RequestBody, call: Caller = Depends(caller)
) -> Response:
    result = await call.run(
        approvals.request_transition, name, version, body.to, body.justification
    )
    return respond(result, status=201)


@router.get("/requests", response_model=list[TransitionRequest])
async def list_requests(
    status: str | None = Query(None, description="open, applied, rejected or withdrawn"),
    model: str | None = None,
    limit: int = 100,
    call: Caller = Depends(caller),
) -> Response:
    found = await call.run(approvals.list_requests, status=status, model=model, limit=limit)
    return respond(found, tp=list[TransitionRequest])


@router.get("/requests/inbox", response_model=list[RequestResult])
async def inbox(call: Caller = Depends(caller)) -> Response:
    """Open requests the caller may decide, each with the gate as it stands."""
    return respond(await call.run(approvals.inbox), tp=list[RequestResult])


@router.get("/requests/{request_id}", response_model=RequestResult)
async def get_request(request_id: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(approvals.get_request, request_id))


@router.post("/requests/{request_id}/approve", response_model=RequestResult)
async def approve(request_id: str, body: DecisionBody, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(approvals.approve, request_id, body.comment))


@router.post("/requests/{request_id}/reject", response_model=RequestResult)
async def reject(request_id: str, body: DecisionBody, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(approvals.reject, request_id, body.comment))


@router.post("/requests/{request_id}/withdraw", response_model=TransitionRequest)
async def withdraw(request_id: str, body: WithdrawBody, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(approvals.withdraw, request_id, body.reason))


@router.post("/requests/{request_id}/apply", response_model=RequestResult)
async def apply(request_id: str, call: Caller = Depends(caller)) -> Response:
    """Re-evaluate an open request and apply it if its gate is now satisfied."""
    return respond(await call.run(approvals.apply_request, request_id))
