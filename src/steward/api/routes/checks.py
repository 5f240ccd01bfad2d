"""/api/v1/.../check-runs: record externally computed check results; read runs."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from steward import wire
from steward.api.deps import Caller, caller, respond
from steward.domain.checks import CheckRun, RunRecord, RunSource
from steward.services import checks

router = APIRouter(prefix="/api/v1", tags=["checks"])


@router.post(
    "/models/{name}/versions/{version}/check-runs",
    status_code=201,
    response_model=CheckRun,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"title": "RunRecord"}}},
        }
    },
)
async def record_run(
    name: str, version: int, request: Request, call: Caller = Depends(caller)
) -> Response:
    """Record results computed outside Steward; they are stored with source "external"."""
    record = wire.load_json(RunRecord, await request.body(), what="check run")
    # Only Steward's own engine may claim its results as its own.
    record = replace(record, source=RunSource.EXTERNAL)
    return respond(await call.run(checks.store_run, name, version, record), status=201)


@router.get("/models/{name}/versions/{version}/check-runs", response_model=list[CheckRun])
async def list_runs(
    name: str, version: int, limit: int = 100, call: Caller = Depends(caller)
) -> Response:
    return respond(await call.run(checks.list_runs, name, version, limit=limit), tp=list[CheckRun])


@router.get("/check-runs/{run_id}", response_model=CheckRun)
async def get_run(run_id: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(checks.get_run, run_id))
