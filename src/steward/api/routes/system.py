"""/api/v1/system/doctor: crash leftovers, found and (with fix) removed."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from steward.api.deps import Caller, caller, respond
from steward.domain.doctor import DoctorReport
from steward.services import doctor

router = APIRouter(prefix="/api/v1", tags=["system"])


class DoctorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fix: bool = Field(False, description="Remove what is found (journalled as store.cleaned)")


@router.post("/system/doctor", response_model=DoctorReport)
async def run_doctor(body: DoctorBody, call: Caller = Depends(caller)) -> Response:
    """Leftover spool files and unreferenced artifact objects past the grace period."""
    return respond(await call.run(doctor.check, fix=body.fix))
