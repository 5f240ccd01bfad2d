"""Background jobs: submit, read, cancel (every face), and run (``steward worker``).

A face submits a job (``job.submitted`` is journalled with it); the worker claims it
(``domain/jobs.py``: one conditional UPDATE per claim, so two workers never run one job),
runs the use case the job names *as the person who asked* — their grants read again when
it starts, so a right withdrawn in between is honoured — and stores a reference to what it
made. That use case journals the result as it would have done in the foreground
(``check.run_recorded``, ``monitor.run``, ``evidence.exported``).

Nothing a caller sends is followed as a path: a validation job's data is uploaded with the
submission and kept in the artifact store under its digest, which the service (not the
caller) writes into the job's parameters — or it is data the server already holds, named
as a dataset version or the version's own training / evaluation data
(``services/stored_data.py``), which the worker reads through the dataset's source as the
person who asked.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from steward.artifacts.store import sha256_file
from steward.domain import jobs as rules
from steward.domain.audit import Action
from steward.domain.errors import Conflict, InvalidInput, NotFound, StewardError
from steward.domain.jobs import Job, JobFilter, JobKind, JobStatus, PassSummary
from steward.domain.permissions import (
    Permission,
    Principal,
    authorize_on,
    ensure,
)
from steward.services.access import ensure_model, model_scope
from steward.services.context import Context, model_id, version_row_id
from steward.store.uow import UnitOfWork

log = logging.getLogger("steward.jobs")

# What a submitter needs on the job's model, per kind (reading a job needs governance:read).
PERMISSION = {
    JobKind.VALIDATION: Permission.CHECK_RUN,
    JobKind.MONITOR_RUN: Permission.MONITOR_RUN,
    JobKind.EVIDENCE_PACK: Permission.EVIDENCE_EXPORT,
    JobKind.MODEL_CARD_PDF: Permission.GOVERNANCE_READ,
}
DATA_SUFFIXES = (".parquet", ".csv")
MAX_LIST = 500


@dataclass(frozen=True)
class Upload:
    """A data file a validation job reads: where the submitting face put it, and its type."""

    path: Path
    suffix: str  # .parquet or .csv


@dataclass(frozen=True)
class ResultFile:
    filename: str
    media_type: str
    sha256: str


class Cancelled(Exception):
    """Raised at a stage boundary of a job whose cancellation was asked for."""


class Lost(Exception):
    """Raised when the job's lease was taken away (another worker re-queued it)."""


def _not_found(job_id: str) -> NotFound:
    return NotFound(f"No job {job_id!r}. List jobs with `steward job list`.", job=job_id)


def _visible(uow: UnitOfWork, principal: Principal, job_id: str) -> Job:
    """The job, if the principal may see its model (else NotFound, as if it did not exist,
    to someone who may not read that model)."""
    found = uow.jobs.get(job_id)
    if found is None:
        raise _not_found(job_id)
    if not authorize_on(
        principal, Permission.GOVERNANCE_READ, model_scope(uow, found.model)
    ).allowed:
        raise _not_found(job_id)
    return found


def _store_upload(ctx: Context, upload: Upload, field: str) -> tuple[str, str]:
    suffix = upload.suffix.lower()
    if suffix == ".pq":
        suffix = ".parquet"
    if suffix not in DATA_SUFFIXES:
        raise InvalidInput(
            f"The {field} file must be Parquet (.parquet) or CSV (.csv), not {suffix!r}.",
            field=field,
        )
    digest, _size = sha256_file(upload.path)
    ctx.artifacts.put(upload.path, digest)
    return digest, suffix


def submit(
    ctx: Context,
    principal: Principal,
    kind: JobKind | str,
    model: str,
    version: int | None = None,
    params: dict[str, Any] | None = None,
    *,
    data: Upload | None = None,
    reference: Upload | None = None,
) -> Job:
    """Queue a job for the worker; refused (403/404) before any input is judged to whoever
    may not do that kind of work on that model."""
    kind = rules.parse_kind(kind) if isinstance(kind, str) else kind
    permission = PERMISSION[kind]
    ensure(principal, permission)
    with ctx.uow.read() as uow:
        ensure_model(uow, principal, permission, model)
        if version is not None:
            _ensure_version(uow, model, version)  # before any upload is stored for it
    checked = rules.check_params(kind, version, params or {})
    if kind is JobKind.VALIDATION:
        checked = _validation_params(ctx, principal, model, version, checked, data, reference)
    elif data is not None or reference is not None:
        raise InvalidInput(f"A {kind.value} job reads no uploaded data.", field="data")
    if kind is JobKind.MONITOR_RUN:
        from steward.services import monitoring

        with ctx.uow.read() as uow:
            monitor = monitoring.resolve(uow, str(checked["monitor"]))
        if monitor.model != model:
            # a job is authorised on its model: it may not reach another model's monitor
            raise InvalidInput(
                f"Monitor {monitor.id} watches model {monitor.model!r}, not {model!r}.",
                field="params.monitor",
            )
        checked["monitor"] = monitor.id
        version = monitor.version
    job_id = "job_" + secrets.token_hex(8)
    with ctx.uow.write() as uow:
        ensure_model(uow, principal, permission, model)
        mid = model_id(uow, model)
        if version is not None:
            _ensure_version(uow, model, version)
        uow.jobs.add(job_id, kind, mid, version, principal.name, checked, ctx.remote, uow.now)
        uow.record(
            principal.name,
            Action.JOB_SUBMITTED,
            "model",
            model,
            {
                "job": job_id,
                "kind": kind.value,
                "model": model,
                "version": version,
                "params": checked,
            },
        )
        uow.commit()
        found = uow.jobs.get(job_id)
    assert found is not None
    return found


def _ensure_version(uow: UnitOfWork, model: str, version: int) -> None:
    version_row_id(uow, model, version)  # NotFound naming the command that lists them


def _validation_params(
    ctx: Context,
    principal: Principal,
    model: str,
    version: int | None,
    checked: dict[str, Any],
    data: Upload | None,
    reference: Upload | None,
) -> dict[str, Any]:
    from steward.services import stored_data, validation

    assert version is not None  # check_params asked for it
    named = {role: checked.get(role) for role in ("data", "reference")}
    for role, upload in (("data", data), ("reference", reference)):
        if upload is not None and named[role] is not None:
            raise InvalidInput(
                f"Upload a {role} file or name {role} the server holds, not both.", field=role
            )
    if data is None and named["data"] is None:
        raise InvalidInput(
            "A validation job needs data: a data file to upload (Parquet or CSV), or data the "
            "server holds named as a dataset version NAME@VERSION or training / evaluation.",
            field="data",
        )
    # The data is resolved (and the caller's right to read it checked) before the options.
    held = {
        role: stored_data.resolve(ctx, principal, model, version, str(text), role)
        for role, text in named.items()
        if text is not None
    }
    options = validation.options_from_json(checked.get("options") or {})
    # A server refuses formats that run code now, not when the worker gets to it.
    validation.sandboxed(ctx, principal, model, version, options)
    out: dict[str, Any] = {"options": options.to_json()}
    for role, ref in held.items():
        out[role] = str(named[role])  # what the person chose
        out[f"{role}_dataset"] = ref  # the dataset version it is (set here, never sent)
    if data is not None:
        out["data_sha256"], out["data_format"] = _store_upload(ctx, data, "data")
    if reference is not None:
        out["reference_sha256"], out["reference_format"] = _store_upload(
            ctx, reference, "reference"
        )
    return out


def get_job(ctx: Context, principal: Principal, job_id: str) -> Job:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        return _visible(uow, principal, job_id)


def list_jobs(ctx: Context, principal: Principal, flt: JobFilter | None = None) -> list[Job]:
    """Newest first; only jobs on models the principal may see."""
    ensure(principal, Permission.GOVERNANCE_READ)
    flt = flt or JobFilter()
    if not 1 <= flt.limit <= MAX_LIST:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIST}.", field="limit")
    with ctx.uow.read() as uow:
        mid = None
        if flt.model is not None:
            ensure_model(uow, principal, Permission.GOVERNANCE_READ, flt.model)
            mid = model_id(uow, flt.model)
        found = uow.jobs.search(flt, mid)
        seen: dict[str, bool] = {}
        out = []
        for job in found:
            if job.model not in seen:
                scope = model_scope(uow, job.model)
                seen[job.model] = authorize_on(principal, Permission.GOVERNANCE_READ, scope).allowed
            if seen[job.model]:
                out.append(job)
    return out


def cancel(ctx: Context, principal: Principal, job_id: str) -> Job:
    """Cancel a queued job now, or ask a running one to stop at its next stage boundary.
    Whoever asked for it may, and so may anyone who may submit such a job on its model."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.write() as uow:
        found = _visible(uow, principal, job_id)
        if found.requested_by != principal.name:
            ensure_model(uow, principal, PERMISSION[found.kind], found.model)
        if found.finished:
            raise Conflict(f"Job {job_id} has already {found.status.value}.", job=job_id)
        if not uow.jobs.finish(job_id, None, JobStatus.CANCELLED, uow.now, stage="cancelled"):
            uow.jobs.request_cancel(job_id)
        uow.record(
            principal.name,
            Action.JOB_CANCELLED,
            "model",
            found.model,
            {"job": job_id, "kind": found.kind.value, "was": found.status.value},
        )
        uow.commit()
        after = uow.jobs.get(job_id)
    assert after is not None
    return after


def result_file(ctx: Context, principal: Principal, job_id: str) -> ResultFile:
    """The file an evidence-pack or model-card job made (its reader needs what its
    submitter needed)."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        found = _visible(uow, principal, job_id)
        ensure_model(uow, principal, PERMISSION[found.kind], found.model)
    if found.status is not JobStatus.SUCCEEDED or "sha256" not in found.result:
        raise Conflict(f"Job {job_id} has no file to download ({found.status.value}).", job=job_id)
    return ResultFile(
        str(found.result["filename"]), str(found.result["media_type"]), str(found.result["sha256"])
    )


# -- the worker's side -------------------------------------------------------------------


class _Reporter:
    """Progress of one running job, written through, extending its lease each time."""

    def __init__(self, ctx: Context, job_id: str, worker: str) -> None:
        self.ctx, self.job_id, self.worker = ctx, job_id, worker

    def __call__(self, progress: float, stage: str) -> None:
        with self.ctx.uow.write() as uow:
            held = uow.jobs.report(
                self.job_id,
                self.worker,
                rules.clamp_progress(progress),
                stage[: rules.STAGE_MAX],
                uow.now + rules.LEASE,
            )
            cancelled = uow.jobs.cancel_requested(self.job_id)
            uow.commit()
        if not held:
            raise Lost(self.job_id)
        if cancelled:
            raise Cancelled(self.job_id)


def _principal(ctx: Context, job_id: str, requested_by: str) -> tuple[Principal, Context]:
    """Who the job runs as, and where: the submitter's grants as they are now; a job a
    remote face submitted runs under the server's rules (ctx.remote) and never with the
    embedded operator's rights."""
    from steward.services import identity

    with ctx.uow.read() as uow:
        remote = uow.jobs.remote(job_id)
    return identity.principal_for(ctx, requested_by, operator=not remote), replace(
        ctx, remote=remote
    )


def _put_bytes(ctx: Context, content: bytes) -> str:
    import hashlib

    digest = hashlib.sha256(content).hexdigest()
    with tempfile.NamedTemporaryFile(prefix="steward-job-") as fh:
        fh.write(content)
        fh.flush()
        ctx.artifacts.put(Path(fh.name), digest)
    return digest


def _run_validation(
    ctx: Context, who: Principal, found: Job, report: _Reporter, folder: Path
) -> dict[str, Any]:
    from steward.services import stored_data, validation

    options = validation.options_from_json(found.params.get("options") or {})
    report(0.02, "fetching data")
    paths: dict[str, Path] = {}
    for role in ("data", "reference"):
        if found.params.get(f"{role}_dataset"):
            # read through the dataset's source as the person who asked, grants as now
            ref = str(found.params[f"{role}_dataset"])
            paths[role] = stored_data.read(ctx, who, ref, folder, role)
        elif found.params.get(f"{role}_sha256"):
            paths[role] = folder / f"{role}{found.params[f'{role}_format']}"
            ctx.artifacts.download(str(found.params[f"{role}_sha256"]), paths[role])
    data = paths["data"]
    reference = paths.get("reference")
    report(0.05, "loading model and data")

    def progress(done: int, total: int, label: str) -> None:
        report(0.05 + 0.9 * (done / total if total else 0.0), label)

    assert found.version is not None
    run = validation.validate(
        ctx,
        who,
        found.model,
        found.version,
        data,
        options,
        reference=reference,
        progress=progress,
    )
    return {"check_run": run.id, "passed": run.passed}


def _run_monitor(ctx: Context, who: Principal, found: Job, report: _Reporter) -> dict[str, Any]:
    from steward.services import scheduler

    report(0.1, "reading and reducing the batch")
    engine = str(found.params.get("engine") or "duckdb")
    run = scheduler.run_one(ctx, who, str(found.params["monitor"]), engine=engine)
    return {"monitor_run": run.id, "monitor": str(found.params["monitor"])}


def _run_evidence(
    ctx: Context, who: Principal, found: Job, report: _Reporter, folder: Path
) -> dict[str, Any]:
    from steward.services import evidence

    report(0.1, "gathering the evidence")
    path = folder / "pack.zip"
    with path.open("wb") as out:
        summary = evidence.export_pack(
            ctx,
            who,
            found.model,
            out,
            versions=found.params.get("versions"),
            include_pdf=bool(found.params.get("include_pdf", True)),
        )
    report(0.9, "storing the pack")
    digest, size = sha256_file(path)
    ctx.artifacts.put(path, digest)
    return {
        "sha256": digest,
        "size": size,
        "manifest_sha256": summary.manifest_sha256,
        "filename": f"{found.model}-evidence.zip",
        "media_type": "application/zip",
    }


def _run_card(ctx: Context, who: Principal, found: Job, report: _Reporter) -> dict[str, Any]:
    from steward.services import modelcards

    report(0.1, "rendering the model card")
    assert found.version is not None
    card = modelcards.render(ctx, who, found.model, found.version, "pdf")
    report(0.9, "storing the PDF")
    return {
        "sha256": _put_bytes(ctx, card.content),
        "size": len(card.content),
        "filename": card.filename,
        "media_type": card.media_type,
    }


def run_claimed(ctx: Context, found: Job, worker: str) -> JobStatus:
    """Run a job this worker has claimed to its end, recording how it ended."""
    report = _Reporter(ctx, found.id, worker)
    result: dict[str, Any] | None = None
    error = ""
    try:
        who, where = _principal(ctx, found.id, found.requested_by)
        with tempfile.TemporaryDirectory(prefix="steward-job-") as tmp:
            if found.kind is JobKind.VALIDATION:
                result = _run_validation(where, who, found, report, Path(tmp))
            elif found.kind is JobKind.MONITOR_RUN:
                result = _run_monitor(where, who, found, report)
            elif found.kind is JobKind.EVIDENCE_PACK:
                result = _run_evidence(where, who, found, report, Path(tmp))
            else:
                result = _run_card(where, who, found, report)
        status = JobStatus.SUCCEEDED
    except Cancelled:
        status = JobStatus.CANCELLED
    except Lost:
        return JobStatus.QUEUED  # another worker owns it now: write nothing
    except StewardError as exc:
        status, error = JobStatus.FAILED, exc.detail
    except Exception as exc:  # a bug or a broken file: the job fails, the worker goes on
        log.exception("job %s failed", found.id)
        status, error = JobStatus.FAILED, f"unexpected error: {exc!r}"
    with ctx.uow.write() as uow:
        uow.jobs.finish(
            found.id, worker, status, uow.now, result=result, error=error[: rules.ERROR_MAX]
        )
        uow.commit()
    return status


def claim(ctx: Context, job_id: str, worker: str) -> Job | None:
    """Take a queued job for ``worker``: the job, or None when another claimer won."""
    with ctx.uow.write() as uow:
        won = uow.jobs.claim(job_id, worker, uow.now, uow.now + rules.LEASE)
        uow.commit()
        return uow.jobs.get(job_id) if won else None


def reclaim_expired(ctx: Context) -> tuple[list[str], list[str]]:
    """Jobs whose worker stopped reporting: queued again, or failed after the last try."""
    requeued: list[str] = []
    failed: list[str] = []
    with ctx.uow.write() as uow:
        for found in uow.jobs.expired(uow.now, 100):
            verdict = rules.expired_verdict(found.attempts)
            reason = rules.expired_reason(found.worker, found.lease_until, found.attempts)
            if uow.jobs.release(found.id, found.worker, uow.now, verdict, reason):
                (requeued if verdict is JobStatus.QUEUED else failed).append(found.id)
        uow.commit()
    return requeued, failed


def run_queued(
    ctx: Context,
    worker: str,
    *,
    limit: int = 20,
    stop: threading.Event | None = None,
    on_claim: Callable[[Job], None] | None = None,
) -> PassSummary:
    """One worker pass over the queue: reclaim abandoned jobs, then claim and run queued
    ones, oldest first, until none is left, ``limit`` have run or ``stop`` is set. Each
    job runs as its submitter, so the worker's own identity lends it no rights."""
    requeued, abandoned = reclaim_expired(ctx)
    ran: list[str] = []
    failed: list[str] = []
    while len(ran) < limit and not (stop is not None and stop.is_set()):
        with ctx.uow.read() as uow:
            candidates = uow.jobs.queued(limit)
        if not candidates:
            break
        claimed = None
        for job_id in candidates:
            claimed = claim(ctx, job_id, worker)
            if claimed is not None:
                break
        if claimed is None:
            continue  # others took them all: look again
        if on_claim is not None:
            on_claim(claimed)
        status = run_claimed(ctx, claimed, worker)
        ran.append(claimed.id)
        if status is JobStatus.FAILED:
            failed.append(claimed.id)
    return PassSummary(tuple(ran), tuple(failed), tuple(requeued), tuple(abandoned))


def open_result(
    ctx: Context, principal: Principal, job_id: str
) -> tuple[ResultFile, Iterator[bytes]]:
    """The file a job made and its bytes, checked against its digest as they are read."""
    found = result_file(ctx, principal, job_id)
    return found, ctx.artifacts.iter_verified(found.sha256)
