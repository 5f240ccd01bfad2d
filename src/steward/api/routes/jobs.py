"""/api/v1/jobs — background jobs run by `steward worker`: submit, read, list, cancel, and
download what an evidence-pack or model-card job made. A validation job uploads its data
with the submission (/api/v1/models/{name}/versions/{version}/validation-jobs), or names
data the server already holds (``params.data``: NAME@VERSION of a dataset, or training /
evaluation), here or there."""

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

    kind: str = Field(description="monitor_run, evidence_pack, model_card_pdf or validation")
    model: str
    version: int | None = Field(default=None, description="Needed by model_card_pdf, validation")
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="monitor_run: monitor, engine; evidence_pack: versions, include_pdf; "
        "validation: data (and reference) the server holds — NAME@VERSION or training / "
        "evaluation — and options",
    )


@router.post("/jobs", status_code=202, response_model=Job)
async def submit(body: JobBody, call: Caller = Depends(caller)) -> Response:
    """Queue a job for the worker; answers at once with the queued job."""
    if parse_kind(body.kind) is JobKind.VALIDATION and "data" not in body.params:
        raise InvalidInput(
            "A validation job reads data: name data the server holds in params.data "
            "(NAME@VERSION of a dataset, or training / evaluation), or upload a file to "
            "/api/v1/models/{name}/versions/{version}/validation-jobs.",
            field="params.data",
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
    data: UploadFile | None = File(None, description="Evaluation data, Parquet or CSV"),
    reference: UploadFile | None = File(None, description="Training data (drift, leakage)"),
    stored_data: str = Form(
        "", description="Instead of a data file: NAME@VERSION of a dataset, or training / "
        "evaluation (the version's own data) — data the server holds"
    ),
    stored_reference: str = Form(
        "", description="Instead of a reference file: NAME@VERSION, training or evaluation"
    ),
    call: Caller = Depends(caller),
) -> Response:
    """Queue a validation run of the version on uploaded data or data the server holds."""
    try:
        raw = json.loads(options or "{}")
    except ValueError as exc:
        raise InvalidInput(f"options is not valid JSON: {exc}.", field="options") from None

    def run(ctx: Context, who: Principal) -> Job:
        paths: list[Path] = []
        try:
            limit = ctx.settings.max_artifact_bytes
            uploads: dict[str, jobs.Upload] = {}
            for role, upload in (("data", data), ("reference", reference)):
                if upload is not None and upload.filename:
                    paths.append(spool_data(upload, limit, role, ctx.settings.spool_dir))
                    uploads[role] = jobs.Upload(paths[-1], paths[-1].suffix)
            params: dict[str, Any] = {"options": raw}
            for role, text in (("data", stored_data), ("reference", stored_reference)):
                if text.strip():
                    params[role] = text.strip()
            return jobs.submit(
                ctx,
                who,
                JobKind.VALIDATION,
                name,
                version,
                params,
                data=uploads.get("data"),
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
