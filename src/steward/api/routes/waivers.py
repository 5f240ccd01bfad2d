"""/api/v1/waivers and /api/v1/models/{name}/versions/{version}/waivers."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from steward.api.deps import Caller, caller, respond
from steward.domain.entities import Page
from steward.domain.findings import Waiver
from steward.services import waivers

router = APIRouter(prefix="/api/v1", tags=["waivers"])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WaiverBody(_Strict):
    requirement: str = Field(description="Policy requirement id, e.g. approvals.independent")
    reason: str
    expires: str = Field(
        description="YYYY-MM-DD (end of that day, UTC) or an ISO 8601 time with a zone"
    )


class RevokeBody(_Strict):
    reason: str


@router.post("/models/{name}/versions/{version}/waivers", status_code=201, response_model=Waiver)
async def grant(
    name: str, version: int, body: WaiverBody, call: Caller = Depends(caller)
) -> Response:
    made = await call.run(
        waivers.grant_waiver,
        name,
        version,
        requirement=body.requirement,
        reason=body.reason,
        expires=body.expires,
    )
    return respond(made, 201)


@router.get("/waivers", response_model=Page[Waiver])
async def list_waivers(
    model: str | None = None,
    version: int | None = None,
    active: bool = False,
    limit: int = 100,
    cursor: str | None = None,
    call: Caller = Depends(caller),
) -> Response:
    page = await call.run(
        waivers.list_waivers,
        model=model,
        version=version,
        active_only=active,
        limit=limit,
        cursor=cursor,
    )
    return respond(page, tp=Page[Waiver])


@router.get("/waivers/{waiver_id}", response_model=Waiver)
async def get_waiver(waiver_id: int, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(waivers.get_waiver, waiver_id))


@router.post("/waivers/{waiver_id}/revoke", response_model=Waiver)
async def revoke(waiver_id: int, body: RevokeBody, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(waivers.revoke_waiver, waiver_id, body.reason))
