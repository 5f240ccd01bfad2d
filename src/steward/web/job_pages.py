"""Web pages for background jobs: the "Run validation" form of a version, a monitor's "Run
now", a job's page with a progress bar that survives a reload (static/jobs.js polls
``/jobs/{id}/status``; without JavaScript the page refreshes itself), and the job list.

The work itself never runs in the request: the form queues a job through
``services/jobs.py`` and `steward worker` runs it. The data a user chooses is a file they
upload from their own machine, or data the server already holds — the version's own
training / evaluation data or a registered dataset version, chosen from a list by name
(``services/stored_data.py`` checks that the person may read it) — never a path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from steward.artifacts import spool
from steward.domain.errors import ArtifactTooLarge, StewardError
from steward.domain.jobs import Job, JobFilter, JobKind, parse_status
from steward.services import datasets as dataset_service
from steward.services import jobs, monitoring, versions
from steward.web.pages import Page, _page

router = APIRouter(include_in_schema=False)
CHUNK = 1024 * 1024
POSITIVE_MEANS = ("", "favourable", "adverse")


def _spool(upload: UploadFile, page: Page, field: str) -> jobs.Upload:
    """The uploaded file in the server's spool folder (size-limited); the service checks
    its type and stores it under its digest."""
    suffix = Path(upload.filename or "").suffix.lower()
    fd, path = spool.new_file(page.ctx.settings.spool_dir, "job", suffix or ".bin")
    limit = page.ctx.settings.max_artifact_bytes
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := upload.file.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ArtifactTooLarge(
                        page.gettext("The %(field)s file is larger than this server accepts.")
                        % {"field": field}
                    )
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return jobs.Upload(path, suffix)


def _form_values(page: Page, name: str, number: int) -> dict[str, Any]:
    """What the form offers: the shipped suites and the version's input columns."""
    from steward.services import validation

    assert page.principal is not None
    found = versions.get_version(page.ctx, page.principal, name, number)
    columns = (
        [c.name for c in found.signature.inputs]
        if found.signature and found.signature.inputs
        else []
    )
    lineage = dataset_service.lineage(page.ctx, page.principal, name, number)
    return {
        "suites": validation.list_suites(page.ctx, page.principal),
        "columns": columns,
        "version": found,
        "positive_means_choices": POSITIVE_MEANS,
        # data the server holds: the version's own (when registered) and dataset versions
        "own_data": [
            (role, refs[0])
            for role, refs in (("training", lineage.training), ("evaluation", lineage.evaluation))
            if refs
        ],
        "dataset_versions": [
            s.ref for s in dataset_service.version_choices(page.ctx, page.principal)
        ],
    }


@router.get("/models/{name}/versions/{number}/validate")
async def validate_form(request: Request, name: str, number: int) -> Response:
    def build(page: Page) -> Response:
        return page.render(
            "validate_form.html",
            name=name,
            number=number,
            typed={},
            error=None,
            **_form_values(page, name, number),
        )

    return await _page(request, build)


@router.post("/models/{name}/versions/{number}/validate")
async def submit_validation(
    request: Request,
    name: str,
    number: int,
    suite: str = Form(""),
    target: str = Form(""),
    sensitive: list[str] = Form([]),
    positive_means: str = Form(""),
    data: UploadFile | None = File(None),
    reference: UploadFile | None = File(None),
    stored_data: str = Form(""),
    stored_reference: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    typed = {
        "suite": suite,
        "target": target,
        "sensitive": sensitive,
        "positive_means": positive_means,
        "stored_data": stored_data,
        "stored_reference": stored_reference,
    }

    def build(page: Page) -> Response:
        assert page.principal is not None
        options: dict[str, Any] = {
            "target": target.strip() or None,
            # ticked columns, or the names typed into one field, separated by commas
            "sensitive": [s.strip() for item in sensitive for s in item.split(",") if s.strip()],
            "suite": suite or None,
            "positive_means": positive_means or None,
        }
        uploads: dict[str, jobs.Upload] = {}
        params: dict[str, Any] = {"options": options}
        for role, text in (("data", stored_data), ("reference", stored_reference)):
            if text.strip():
                params[role] = text.strip()  # a name from the list, resolved by the service
        try:
            for role, upload in (("data", data), ("reference", reference)):
                if upload is not None and upload.filename:
                    uploads[role] = _spool(upload, page, role)
            job = jobs.submit(
                page.ctx,
                page.principal,
                JobKind.VALIDATION,
                name,
                number,
                params,
                data=uploads.get("data"),
                reference=uploads.get("reference"),
            )
        except StewardError as refused:
            # the form again, with what the user chose and the service's words
            return page.render(
                "validate_form.html",
                status=refused.status,
                name=name,
                number=number,
                typed=typed,
                error=refused,
                **_form_values(page, name, number),
            )
        finally:
            for spooled in uploads.values():
                spooled.path.unlink(missing_ok=True)
        return RedirectResponse(f"/jobs/{quote(job.id)}?notice=job_queued", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)


@router.post("/monitors/{monitor_id}/run-now")
async def run_monitor_now(
    request: Request, monitor_id: str, csrf_token: str = Form("")
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        monitor = monitoring.get_monitor(page.ctx, page.principal, monitor_id)
        back = f"/models/{quote(monitor.model)}?version={monitor.version}"
        try:
            job = jobs.submit(
                page.ctx,
                page.principal,
                JobKind.MONITOR_RUN,
                monitor.model,
                None,
                {"monitor": monitor.id},
            )
        except StewardError as refused:
            return page.refusal(refused, back)
        return RedirectResponse(f"/jobs/{quote(job.id)}?notice=job_queued", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)


def _result_link(job: Job) -> str | None:
    """Where the job's result is shown: the model page, or the file it made."""
    if job.kind is JobKind.VALIDATION or job.kind is JobKind.MONITOR_RUN:
        return f"/models/{quote(job.model)}?version={job.version}"
    return f"/jobs/{quote(job.id)}/result"


@router.get("/jobs/{job_id}")
async def job_page(request: Request, job_id: str) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        job = jobs.get_job(page.ctx, page.principal, job_id)
        return page.render(
            "job.html",
            job=job,
            result_link=_result_link(job) if job.status.value == "succeeded" else None,
            may_cancel=not job.finished
            and (
                job.requested_by == page.principal.name
                or page.can_on(jobs.PERMISSION[job.kind].value, job.model)
            ),
        )

    return await _page(request, build)


@router.get("/jobs/{job_id}/status")
async def job_status(request: Request, job_id: str) -> Response:
    """What jobs.js polls: the job's state, for the progress bar."""

    def build(page: Page) -> Response:
        assert page.principal is not None
        job = jobs.get_job(page.ctx, page.principal, job_id)
        return JSONResponse(
            {
                "status": job.status.value,
                "label": page.label(job.status),
                "progress": job.progress,
                "stage": job.stage,
                "finished": job.finished,
            },
            headers={"Cache-Control": "no-store"},
        )

    return await _page(request, build)


@router.post("/jobs/{job_id}/cancel")
async def cancel_job(request: Request, job_id: str, csrf_token: str = Form("")) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        back = f"/jobs/{quote(job_id)}"
        try:
            jobs.cancel(page.ctx, page.principal, job_id)
        except StewardError as refused:
            return page.refusal(refused, back)
        return RedirectResponse(back, status_code=303)

    return await _page(request, build, csrf_token=csrf_token)


@router.get("/jobs/{job_id}/result")
async def job_result(request: Request, job_id: str) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        try:
            found, chunks = jobs.open_result(page.ctx, page.principal, job_id)
        except StewardError as refused:
            return page.refusal(refused, f"/jobs/{quote(job_id)}")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in found.filename)
        return StreamingResponse(
            chunks,
            media_type=found.media_type,
            headers={"Content-Disposition": f'attachment; filename="{safe}"'},
        )

    return await _page(request, build)


@router.get("/jobs")
async def job_list(request: Request, model: str | None = None, status: str = "") -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        try:
            flt = JobFilter(
                model=model or None, status=parse_status(status) if status else None, limit=100
            )
        except StewardError as refused:
            return page.refusal(refused, "/jobs")
        return page.render(
            "jobs.html", jobs=jobs.list_jobs(page.ctx, page.principal, flt), model=model
        )

    return await _page(request, build)
