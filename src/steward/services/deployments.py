"""Deploy records: what a deploy step or serving process says it actually loaded.

A record whose sha256 is not an artifact the environment may run (for production:
a version in the production stage) is a *mismatch*: it opens a critical finding
(through the findings service, so the gates see it) and journals
``deploy.mismatch``, which is sent to webhook subscribers — in the same
transaction as the record itself.
"""

from __future__ import annotations

from typing import Any

from steward.domain import finding_messages, trust
from steward.domain.audit import Action
from steward.domain.errors import InvalidInput
from steward.domain.permissions import Permission, Principal, ensure
from steward.domain.trust import Deployment, DeployStatus
from steward.services import findings
from steward.services.access import check_first, ensure_model
from steward.services.context import Context, model_id
from steward.services.models import check_limit


def record_deployment(
    ctx: Context,
    principal: Principal,
    model: str,
    *,
    environment: str,
    sha256: str,
    version: int | None = None,
    details: dict[str, Any] | None = None,
) -> Deployment:
    ensure(principal, Permission.DEPLOY_RECORD)
    check_first(ctx, principal, Permission.DEPLOY_RECORD, model)
    env = trust.environment_name(environment)
    digest = trust.sha256_hex(sha256)
    extra = trust.deploy_details(details)
    if version is not None and version < 1:
        raise InvalidInput("version must be a positive version number.", field="version")
    with ctx.uow.write() as uow:
        mid = model_id(uow, model)
        ensure_model(uow, principal, Permission.DEPLOY_RECORD, model)
        uow.models.lock(mid)  # judge against stages no concurrent promotion is changing
        verdict = trust.assess_deployment(
            model, env, digest, uow.deployments.versions_of(mid), version
        )
        vid = None
        if verdict.version is not None:
            row = uow.versions.row(mid, verdict.version)
            assert row is not None
            vid = int(row["id"])
        signed = vid is not None and uow.signing.signed_artifact(vid, digest)
        finding_id = None
        payload: dict[str, Any] = {
            "model": model,
            "environment": env,
            "sha256": digest,
            "version": verdict.version,
            "claimed_version": version,
            "status": verdict.status.value,
            "reason": verdict.reason,
            "signed": signed,
            "details": extra,
        }
        if verdict.status is DeployStatus.MISMATCH:
            production = trust.is_production(env)
            finding = findings.open_in_uow(
                uow,
                principal.name,
                model_id=mid,
                model=model,
                version=verdict.version,
                title=f"Unapproved artifact reported in {env}"[:200],
                description=(
                    f"{principal.name} reported that {env} loaded {model} artifact {digest}: "
                    f"{verdict.reason}. Deploy the approved version (see `steward version list "
                    f"{model} --stage production`) or take it through the gates."
                ),
                severity="critical" if production else "high",
                source="deploy",
                source_ref=f"{env}:{digest}",
                evidence={"environment": env, "sha256": digest, "details": extra},
                message_key=finding_messages.DEPLOY_UNAPPROVED,
                message_params={
                    "environment": env,
                    "reporter": principal.name,
                    "model": model,
                    "sha256": digest,
                    "reason": verdict.reason,
                },
            )
            finding_id = finding.id
            payload["finding_id"] = finding_id
            action = Action.DEPLOY_MISMATCH
        else:
            action = Action.DEPLOY_RECORDED
        event = uow.record(principal.name, action, "model", model, payload)
        deployment_id = uow.deployments.insert(
            {
                "model_id": mid,
                "version_id": vid,
                "environment": env,
                "artifact_sha256": digest,
                "status": verdict.status.value,
                "reason": verdict.reason,
                "signed": signed,
                "details": extra,
                "finding_id": finding_id,
                "reported_by": principal.name,
                "reported_at": uow.now,
                "audit_seq": event.seq,
            }
        )
        result = uow.deployments.get(deployment_id)
        uow.commit()
    return result


def list_deployments(
    ctx: Context,
    principal: Principal,
    *,
    model: str | None = None,
    environment: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[Deployment]:
    """Deploy records, newest first."""
    ensure(principal, Permission.GOVERNANCE_READ)
    check_limit(limit)
    if status is not None and status not in {s.value for s in DeployStatus}:
        raise InvalidInput(
            f"Unknown deploy status {status!r}; use verified or mismatch.", field="status"
        )
    env = trust.environment_name(environment) if environment is not None else None
    with ctx.uow.read() as uow:
        mid = model_id(uow, model) if model is not None else None
        return uow.deployments.search(model_id=mid, environment=env, status=status, limit=limit)
