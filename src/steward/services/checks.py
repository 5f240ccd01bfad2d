"""Check runs: store validation results as evidence bound to artifact and data.

Steward's validation engine and external tools (through the API) both end
here. A run is bound to the version's artifact hash at the moment it is
stored; failed checks open findings in the same transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import timedelta
from typing import Any

from steward.domain.audit import Action
from steward.domain.checks import CheckRun, RunRecord, run_passed, validate_record
from steward.domain.errors import InvalidInput, NotFound
from steward.domain.findings import SEVERITIES
from steward.domain.permissions import Permission, Principal, ensure
from steward.services.access import ensure_model
from steward.services.context import Context, version_row_id
from steward.store.uow import UnitOfWork

# Results older than this or from the future are refused: a clock this far off is a mistake.
_SKEW = timedelta(minutes=10)


def store_run(
    ctx: Context, principal: Principal, model: str, version: int, record: RunRecord
) -> CheckRun:
    ensure(principal, Permission.CHECK_RUN)
    with ctx.uow.write() as uow:
        ensure_model(uow, principal, Permission.CHECK_RUN, model)
        run = store_run_in_uow(uow, ctx, principal.name, model, version, record)
        uow.commit()
    return run


def store_run_in_uow(
    uow: UnitOfWork, ctx: Context, actor: str, model: str, version: int, record: RunRecord
) -> CheckRun:
    """Store a run inside the caller's transaction (the caller checked permissions)."""
    _validate(record, uow)
    _mid, vid = version_row_id(uow, model, version)
    row = uow.versions.row_by_id(vid)
    artifact = str(row["artifact_sha256"])
    if record.artifact_sha256 is not None and record.artifact_sha256 != artifact:
        raise InvalidInput(
            f"These results were computed on artifact {record.artifact_sha256[:12]}…, but "
            f"version {version} of {model!r} is {artifact[:12]}…; results on another model "
            "never count. Run the checks on this version's artifact.",
            field="artifact_sha256",
        )
    for evidence in record.evidence:
        if not ctx.artifacts.exists(evidence.sha256):
            raise InvalidInput(
                f"Evidence file {evidence.name!r} ({evidence.sha256[:12]}…) is not in the "
                "artifact store; store it before recording the run.",
                field="evidence",
            )
    run_id = "run_" + secrets.token_hex(8)
    passed = run_passed(record.results)
    failed = [r.name for r in record.results if r.passed is False]
    event = uow.record(
        actor,
        Action.CHECK_RUN_RECORDED,
        "version",
        f"{model}/{version}",
        {
            "model": model,
            "version": version,
            "run": run_id,
            "suite": record.suite,
            "suite_version": record.suite_version,
            "source": record.source.value,
            "artifact_sha256": artifact,
            "data_fingerprint": record.data_fingerprint,
            "passed": passed,
            "failed": failed,
            "results": len(record.results),
        },
    )
    uow.check_runs.insert(
        {
            "id": run_id,
            "version_id": vid,
            "suite": record.suite,
            "suite_version": record.suite_version,
            "source": record.source.value,
            "artifact_sha256": artifact,
            "data_fingerprint": record.data_fingerprint,
            "passed": passed,
            "started_at": record.started_at,
            "finished_at": record.finished_at,
            "created_by": actor,
            "summary": record.summary,
            "evidence": [
                {"name": e.name, "sha256": e.sha256, "media_type": e.media_type, "size": e.size}
                for e in record.evidence
            ],
            "audit_seq": event.seq,
        },
        record.results,
    )
    if failed:
        _open_findings(uow, actor, model, version, run_id, record, _mid)
    runs = uow.check_runs.runs(run_id=run_id)
    return runs[0]


def _open_findings(
    uow: UnitOfWork,
    actor: str,
    model: str,
    version: int,
    run_id: str,
    record: RunRecord,
    mid: int,
) -> None:
    # Imported here: findings belong to their own use-case module.
    from steward.domain import finding_messages
    from steward.services import findings

    for result in record.results:
        if result.passed is not False:
            continue
        limit = (
            f" (threshold: {result.threshold.op} {result.threshold.limit})"
            if result.threshold
            else ""
        )
        value = "" if result.value is None else f"; value {result.value:.6g}"
        findings.open_in_uow(
            uow,
            actor,
            model_id=mid,
            model=model,
            version=version,
            title=f"Check failed: {result.name}",
            description=(result.message or f"{result.name} did not pass") + value + limit,
            severity=_severity(result.details),
            source="check",
            source_ref=f"{run_id}:{result.name}",
            evidence={"run": run_id, "check": result.name, "value": result.value},
            message_key=finding_messages.CHECK_FAILED,
            message_params={
                "check": result.name,
                "message": result.message or "",
                "value": result.value,
                "op": result.threshold.op if result.threshold else None,
                "limit": result.threshold.limit if result.threshold else None,
            },
        )


def _severity(details: dict[str, Any]) -> str:
    severity = details.get("severity")
    return severity if severity in SEVERITIES else "high"


def _validate(record: RunRecord, uow: UnitOfWork) -> None:
    validate_record(record)
    if record.finished_at > uow.now + _SKEW:
        raise InvalidInput(
            "finished_at is in the future; send times with their zone (e.g. ...Z).",
            field="finished_at",
        )


def get_run(ctx: Context, principal: Principal, run_id: str) -> CheckRun:
    ensure(principal, Permission.GOVERNANCE_READ)  # results are governance records, not metadata
    with ctx.uow.read() as uow:
        runs = uow.check_runs.runs(run_id=run_id)
    if not runs:
        raise NotFound(
            f"No check run {run_id!r}. List a version's runs with "
            "`steward check list MODEL VERSION`.",
            run=run_id,
        )
    return runs[0]


def list_runs(
    ctx: Context, principal: Principal, model: str, version: int, *, limit: int = 100
) -> list[CheckRun]:
    ensure(principal, Permission.GOVERNANCE_READ)
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000.", field="limit")
    with ctx.uow.read() as uow:
        _mid, vid = version_row_id(uow, model, version)
        return uow.check_runs.runs(version_id=vid, limit=limit)


def without_results(run: CheckRun) -> CheckRun:
    """A run's header, for listings that would otherwise carry every result."""
    return replace(run, results=())
