"""/api/v1/compliance — control catalogs, evidence mapping, coverage, organisation dashboard,
OSCAL export."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from steward.api.deps import Caller, caller, document, respond
from steward.compliance.coverage import ModelCoverage, OrganisationCoverage
from steward.compliance.dashboard import Dashboard
from steward.compliance.mapping import CatalogInfo, ControlInfo, Crosswalk
from steward.services import compliance, exports

router = APIRouter(prefix="/api/v1/compliance", tags=["compliance"])

_FRAMEWORK = Query(
    None, description="Only these frameworks (repeat), e.g. framework=eu-ai-act&framework=tw-fsc"
)


@router.get("/catalogs", response_model=list[CatalogInfo])
async def catalogs(call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(compliance.list_catalogs), tp=list[CatalogInfo])


@router.get("/catalogs/{framework}/controls", response_model=list[ControlInfo])
async def controls(
    framework: str,
    all_levels: bool = Query(False, description="Also functions, objectives, clauses, areas"),
    call: Caller = Depends(caller),
) -> Response:
    found = await call.run(compliance.list_controls, framework, all_levels=all_levels)
    return respond(found, tp=list[ControlInfo])


@router.get("/catalogs/{framework}/controls/{control}", response_model=ControlInfo)
async def control(framework: str, control: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(compliance.get_control, framework, control))


@router.get("/crosswalk", response_model=Crosswalk)
async def crosswalk(
    source: str = Query(description="First framework, e.g. nist-ai-rmf"),
    target: str = Query(description="Second framework, e.g. iso-42001"),
    call: Caller = Depends(caller),
) -> Response:
    return respond(await call.run(compliance.crosswalk, source, target))


@router.get("/coverage", response_model=OrganisationCoverage)
async def organisation_coverage(
    framework: list[str] | None = _FRAMEWORK,
    controls: bool = Query(True, description="Include the per-control roll-up"),
    call: Caller = Depends(caller),
) -> Response:
    found = await call.run(compliance.organisation_coverage, framework, controls=controls)
    return respond(found)


@router.get("/coverage/{name}", response_model=ModelCoverage)
async def model_coverage(
    name: str, framework: list[str] | None = _FRAMEWORK, call: Caller = Depends(caller)
) -> Response:
    return respond(await call.run(compliance.model_coverage, name, framework))


@router.get("/dashboard", response_model=Dashboard)
async def dashboard(call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(compliance.organisation_dashboard))


@router.get("/export", response_class=Response)
async def export(
    format: str = Query(description="oscal-catalog, oscal-profile or oscal-ar"),
    framework: str | None = Query(None, description="The catalog (oscal-catalog)"),
    model: str | None = Query(None, description="The model assessed (oscal-ar)"),
    call: Caller = Depends(caller),
) -> Response:
    """OSCAL JSON: a catalog, the active policy pack as a profile, or a model's assessment
    results (a finding per control; observations carry check runs, approvals and journal
    events with their hashes)."""
    found = await call.run(exports.compliance_export, format, framework=framework, model=model)
    return document(found)
