"""/api/v1/jobs — background jobs run by `steward worker`: submit, read, list, cancel, and
download what an evidence-pack or model-card job made. A validation job uploads its data
with the submission (/api/v1/models/{name}/versions/{version}/validation-jobs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from steward.api.deps import Caller, caller, respond
from steward.api.routes.validation import spool_data
from steward.api.routes.versions import _disposition
from steward.domain.errors import InvalidInput
from steward.domain.jobs import Job, JobFilter, JobKind, parse_kind, parse_status
from steward.domain.permissions import Principal
from steward.services import jobs
from steward.services.context import Context

router = APIRouter(prefix="/api/v1", tags=["jobs"])


class JobBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="monitor_run, evidence_pack or model_card_pdf")
    model: str
    version: int | None = Field(default=None, description="Needed by model_card_pdf")
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="monitor_run: monitor, engine; evidence_pack: versions, include_pdf",
    )


@router.post("/jobs", status_code=202, response_model=Job)
async def submit(body: JobBody, call: Caller = Depends(caller)) -> Response:
    """Queue a job for the worker; answers at once with the queued job."""
    if parse_kind(body.kind) is JobKind.VALIDATION:
        raise InvalidInput(
            "A validation job uploads its data: POST it to "
            "/api/v1/models/{name}/versions/{version}/validation-jobs.",
            field="kind",
        )
    found = await call.run(jobs.submit, body.kind, body.model, body.version, body.params)
    return respond(found, 202)


@router.post(
    "/models/{name}/versions/{version}/validation-jobs", status_code=202, response_model=Job
)
async def submit_validation(
    name: str,
    version: int,
    options: str = Form("{}", description="JSON: the options of a validation run"),
    data: UploadFile = File(..., description="Evaluation data, Parquet or CSV"),
    reference: UploadFile | None = File(None, description="Training data (drift, leakage)"),
    call: Caller = Depends(caller),
) -> Response:
    """Queue a validation run of the version on the uploaded data."""
    try:
        raw = json.loads(options or "{}")
    except ValueError as exc:
        raise InvalidInput(f"options is not valid JSON: {exc}.", field="options") from None

    def run(ctx: Context, who: Principal) -> Job:
        paths: list[Path] = []
        try:
            limit = ctx.settings.max_artifact_bytes
            paths.append(spool_data(data, limit, "data", ctx.settings.spool_dir))
            uploads = {"data": jobs.Upload(paths[0], paths[0].suffix)}
            if reference is not None:
                paths.append(spool_data(reference, limit, "reference", ctx.settings.spool_dir))
                uploads["reference"] = jobs.Upload(paths[1], paths[1].suffix)
            return jobs.submit(
                ctx,
                who,
                JobKind.VALIDATION,
                name,
                version,
                {"options": raw},
                data=uploads["data"],
                reference=uploads.get("reference"),
            )
        finally:
            for path in paths:
                path.unlink(missing_ok=True)

    return respond(await call.run(run), 202)


@router.get("/jobs", response_model=list[Job])
async def list_jobs(
    model: str | None = None,
    status: str | None = Query(None, description="queued, running, succeeded, failed, cancelled"),
    kind: str | None = None,
    limit: int = Query(50, ge=1, le=jobs.MAX_LIST),
    call: Caller = Depends(caller),
) -> Response:
    """Jobs, newest first, on the models the caller may see."""
    flt = JobFilter(
        model=model,
        status=None if status is None else parse_status(status),
        kind=None if kind is None else parse_kind(kind),
        limit=limit,
    )
    return respond(await call.run(jobs.list_jobs, flt), tp=list[Job])


@router.get("/jobs/{job_id}", response_model=Job)
async def get_job(job_id: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(jobs.get_job, job_id))


@router.post("/jobs/{job_id}/cancel", response_model=Job)
async def cancel(job_id: str, call: Caller = Depends(caller)) -> Response:
    """Cancel a queued job, or ask a running one to stop at its next stage."""
    return respond(await call.run(jobs.cancel, job_id))


@router.get(
    "/jobs/{job_id}/result",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def result(job_id: str, call: Caller = Depends(caller)) -> StreamingResponse:
    """The file an evidence-pack or model-card job made."""
    found, chunks = await call.run(jobs.open_result, job_id)
    return StreamingResponse(
        chunks,
        media_type=found.media_type,
        headers={
            "Content-Disposition": _disposition(found.filename),
            "X-Steward-SHA256": found.sha256,
        },
    )
