"""/api/v1/policies: load, activate and read policy packs."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from steward.api.deps import Caller, caller, respond
from steward.domain.requests import PolicyPackInfo
from steward.services import policies

router = APIRouter(prefix="/api/v1", tags=["policies"])


class PolicyUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field(description="The policy pack YAML text")
    filename: str = Field("policy pack", description="Named in error messages")
    activate: bool = Field(False, description="Make it the active pack at once")


class PolicyText(BaseModel):
    pack: PolicyPackInfo
    source: str


@router.get("/policies", response_model=list[PolicyPackInfo])
async def list_packs(call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(policies.list_packs), tp=list[PolicyPackInfo])


@router.post("/policies", status_code=201, response_model=PolicyPackInfo)
async def load_pack(body: PolicyUpload, call: Caller = Depends(caller)) -> Response:
    info = await call.run(
        policies.load_pack, body.source, source=body.filename, activate=body.activate
    )
    return respond(info, status=201)


@router.get("/policies/active", response_model=PolicyText)
async def active_pack(call: Caller = Depends(caller)) -> PolicyText:
    info, text = await call.run(policies.get_pack)
    return PolicyText(pack=info, source=text)


@router.delete("/policies/active", status_code=204)
async def deactivate(call: Caller = Depends(caller)) -> Response:
    await call.run(policies.deactivate)
    return Response(status_code=204)


@router.get("/policies/{name}/{version}", response_model=PolicyText)
async def get_pack(name: str, version: str, call: Caller = Depends(caller)) -> PolicyText:
    info, text = await call.run(policies.get_pack, name, version)
    return PolicyText(pack=info, source=text)


@router.post("/policies/{name}/{version}/activate", response_model=PolicyPackInfo)
async def activate(name: str, version: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(policies.activate_pack, name, version))
