"""/api/v1/models/{name}/deployments and /api/v1/deployments — deploy records."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from steward.api.deps import Caller, caller, respond
from steward.domain.trust import Deployment
from steward.services import deployments

router = APIRouter(prefix="/api/v1", tags=["deployments"])


class DeploymentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    environment: str = Field(description="e.g. prod, staging, prod-eu")
    sha256: str = Field(description="sha256 of the artifact the deployment actually loaded")
    version: int | None = Field(default=None, description="The version it claims to be")
    details: dict[str, str] | None = Field(
        default=None, description="Free-form context: host, service, image, pipeline run..."
    )


@router.post("/models/{name}/deployments", status_code=201, response_model=Deployment)
async def record_deployment(
    name: str, body: DeploymentBody, call: Caller = Depends(caller)
) -> Response:
    """Report what was loaded; a hash that is not an approved production artifact opens a
    critical finding and fires `deploy.mismatch` (status `mismatch` in the response)."""
    found = await call.run(deployments.record_deployment, name, **body.model_dump())
    return respond(found, 201)


@router.get("/deployments", response_model=list[Deployment])
async def list_deployments(
    model: str | None = None,
    environment: str | None = None,
    status: str | None = None,
    limit: int = 100,
    call: Caller = Depends(caller),
) -> Response:
    found = await call.run(
        deployments.list_deployments,
        model=model,
        environment=environment,
        status=status,
        limit=limit,
    )
    return respond(found, tp=list[Deployment])
