"""Deploy records: what runs is checked against what was approved; mismatches raise findings."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from tests.trust.receiver import receiver

from steward.domain.audit import Action, AuditFilter
from steward.domain.errors import Forbidden, InvalidInput, NotFound
from steward.domain.findings import Finding
from steward.domain.lifecycle import Stage
from steward.domain.permissions import Principal
from steward.domain.trust import DeployStatus, assess_deployment
from steward.sdk.client import Steward
from steward.services import deployments, transparency, webhooks
from steward.services.context import Context, model_id
from steward.webhooks.deliver import deliver_now


def _promote(st: Steward, model: str, version: int) -> None:
    for stage in ("validation", "approved", "production"):
        st.transition(model, version, to=stage, justification=f"to {stage}")


@pytest.fixture
def credit(local: Steward, tmp_path: Path) -> dict[int, str]:
    """credit v1 in production, v2 approved; their sha256 by version."""
    local.create_model("credit")
    digests = {}
    for n in (1, 2):
        path = tmp_path / f"v{n}.bin"
        path.write_bytes(f"weights {n}".encode())
        digests[n] = local.log_version("credit", artifact=path, capture_git=False).artifact.sha256
    _promote(local, "credit", 1)
    local.transition("credit", 2, to="validation", justification="review")
    local.transition("credit", 2, to="approved", justification="ok")
    return digests


def _open_findings(ctx: Context, model: str) -> list[Finding]:
    with ctx.uow.read() as uow:
        return uow.findings.open_for_model(model_id(uow, model))


def _journal(ctx: Context, action: Action) -> list[dict[str, object]]:
    with ctx.uow.read() as uow:
        events = uow.audit.stream(AuditFilter(actions=(action.value,)))
        return [json.loads(e.payload) for e in events]


def test_the_production_artifact_is_verified_and_signed(
    ctx: Context, alice: Principal, credit: dict[int, str]
) -> None:
    found = deployments.record_deployment(
        ctx,
        alice,
        "credit",
        environment="prod",
        sha256=credit[1].upper(),
        details={"host": "srv-1", "image": "credit:1"},
    )
    assert (found.status, found.version, found.signed) == (DeployStatus.VERIFIED, 1, True)
    assert found.finding_id is None and found.details == {"host": "srv-1", "image": "credit:1"}
    assert found.artifact_sha256 == credit[1]
    [payload] = _journal(ctx, Action.DEPLOY_RECORDED)
    assert payload["status"] == "verified" and payload["sha256"] == credit[1]
    assert _journal(ctx, Action.DEPLOY_MISMATCH) == []
    assert deployments.list_deployments(ctx, alice, model="credit") == [found]
    # The record cites its journal event by Merkle leaf: provable against a checkpoint.
    assert found.leaf_index == found.audit_seq - 1
    auditor = Principal("ada", roles=frozenset({"auditor"}))
    transparency.create_checkpoint(ctx, auditor, publish_to=[])
    proof = transparency.inclusion_proof(ctx, auditor, found.audit_seq)
    assert proof.leaf_index == found.leaf_index and proof.verify()
    assert proof.event["action"] == Action.DEPLOY_RECORDED.value


def test_a_foreign_hash_opens_a_critical_finding_and_fires_the_webhook(
    ctx: Context, alice: Principal, credit: dict[int, str]
) -> None:
    foreign = hashlib.sha256(b"someone's hotfix").hexdigest()
    with receiver() as rx:
        hook = webhooks.create_webhook(ctx, alice, url=rx.url, events=["deploy.mismatch"])
        rx.secret = hook.secret
        found = deployments.record_deployment(
            ctx, alice, "credit", environment="prod", sha256=foreign
        )
        assert found.status is DeployStatus.MISMATCH and found.version is None
        assert "not a registered version of credit (in production: 1)" in found.reason
        [finding] = _open_findings(ctx, "credit")
        assert finding.id == found.finding_id
        assert (finding.severity.value, finding.source) == ("critical", "deploy")
        assert finding.source_ref == f"prod:{foreign}"
        deliver_now(ctx)
        [got] = rx.wait_for(1)
    assert got.valid and got.event == "deploy.mismatch"
    body = got.json()
    assert body["data"]["sha256"] == foreign and body["data"]["finding_id"] == finding.id
    # reported again: recorded again, but the open finding is not duplicated
    again = deployments.record_deployment(ctx, alice, "credit", environment="prod", sha256=foreign)
    assert again.finding_id == finding.id
    assert len(deployments.list_deployments(ctx, alice, status="mismatch")) == 2
    assert len(_journal(ctx, Action.FINDING_OPENED)) == 1


def test_an_approved_but_not_promoted_version_is_a_mismatch_in_production_only(
    ctx: Context, alice: Principal, credit: dict[int, str]
) -> None:
    prod = deployments.record_deployment(
        ctx, alice, "credit", environment="prod-eu", sha256=credit[2]
    )
    assert prod.status is DeployStatus.MISMATCH and prod.version == 2
    assert "stage approved, not production" in prod.reason
    staging = deployments.record_deployment(
        ctx, alice, "credit", environment="staging", sha256=credit[2]
    )
    assert staging.status is DeployStatus.VERIFIED and not staging.signed
    claimed = deployments.record_deployment(
        ctx, alice, "credit", environment="prod", sha256=credit[2], version=1
    )
    assert claimed.status is DeployStatus.MISMATCH
    assert "reported as version 1" in claimed.reason
    [finding] = [f for f in _open_findings(ctx, "credit") if f.id == claimed.finding_id]
    assert finding.severity.value == "critical" and finding.version == 2


def test_a_replaced_production_version_may_no_longer_run_in_production(
    local: Steward, ctx: Context, alice: Principal, credit: dict[int, str]
) -> None:
    local.transition("credit", 2, to="production", justification="v2 replaces v1")
    old = deployments.record_deployment(ctx, alice, "credit", environment="prod", sha256=credit[1])
    assert old.status is DeployStatus.MISMATCH and "deprecated" in old.reason
    new = deployments.record_deployment(ctx, alice, "credit", environment="prod", sha256=credit[2])
    assert new.status is DeployStatus.VERIFIED and new.signed


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"environment": "prod", "sha256": "abc"}, InvalidInput, "not a sha256 digest"),
        ({"environment": "Prod!", "sha256": "a" * 64}, InvalidInput, "Environment"),
        ({"environment": "prod", "sha256": "a" * 64, "version": 0}, InvalidInput, "positive"),
        (
            {"environment": "prod", "sha256": "a" * 64, "details": {"x" * 65: "1"}},
            InvalidInput,
            "Detail key",
        ),
    ],
)
def test_bad_reports_are_refused_and_nothing_is_recorded(
    ctx: Context,
    alice: Principal,
    credit: dict[int, str],
    fields: dict[str, object],
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        deployments.record_deployment(ctx, alice, "credit", **fields)  # type: ignore[arg-type]
    assert deployments.list_deployments(ctx, alice) == []
    assert _journal(ctx, Action.DEPLOY_MISMATCH) == _journal(ctx, Action.DEPLOY_RECORDED) == []


def test_who_may_record_and_read(ctx: Context, credit: dict[int, str]) -> None:
    validator = Principal(name="vera", roles=frozenset({"validator"}))
    owner = Principal(name="alice", roles=frozenset({"owner"}))  # credit's owner
    stranger = Principal(name="olga", roles=frozenset({"owner"}))  # owns other models
    for refused in (validator, stranger):
        with pytest.raises(Forbidden):
            deployments.record_deployment(
                ctx, refused, "credit", environment="prod", sha256=credit[1]
            )
    assert (
        deployments.record_deployment(
            ctx, owner, "credit", environment="prod", sha256=credit[1]
        ).reported_by
        == "alice"
    )
    assert len(deployments.list_deployments(ctx, validator, environment="prod")) == 1
    with pytest.raises(NotFound):
        deployments.record_deployment(ctx, owner, "nope", environment="prod", sha256=credit[1])
    with pytest.raises(InvalidInput, match="verified or mismatch"):
        deployments.list_deployments(ctx, owner, status="bad")


def test_assessment_rules() -> None:
    versions = [(1, Stage.PRODUCTION, "a" * 64), (2, Stage.REJECTED, "b" * 64)]
    assert assess_deployment("m", "production", "a" * 64, versions).status is DeployStatus.VERIFIED
    rejected = assess_deployment("m", "staging", "b" * 64, versions)
    assert rejected.status is DeployStatus.MISMATCH and "rejected" in rejected.reason
    assert assess_deployment("m", "dev", "a" * 64, versions).version == 1
    assert assess_deployment("m", "production-us", "c" * 64, []).reason.endswith(
        "(in production: none)"
    )
