"""Object-level authorisation (OWASP API1): an owner acts on their own and their team's
models only, and segregation of duties cannot be escaped by handing a model away.

The attack as the security campaign ran it: ``bob`` owns another model and, with his
ordinary owner token, took over alice's ``credit-scoring`` (owner changed to himself,
a version uploaded, her v4 moved to validation, an alias set, the model card's
narrative rewritten). Each step must be refused, by the service whoever calls it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import ensure_user
from tests.risk_answers import CREDIT as CREDIT_ANSWERS

from steward.domain.errors import Conflict, Forbidden
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.specs import VersionSpec
from steward.services import (
    approvals,
    findings,
    identity,
    lifecycle,
    modelcards,
    models,
    policies,
    risk,
    versions,
)
from steward.services.context import Context

ADMIN = Principal(name="admin", roles=frozenset({OPERATOR}))
PACK = """\
pack: sod
version: "1"
requirements:
  - id: approvals.validation
    kind: approvals
    roles: [validator]
    count: 1
    independence: [not_version_creator, not_model_owner]
    to: [validation]
    tiers: [unassessed, low, medium, high, critical]
    controls: ["sr-26-2:SR26-2.independence"]
"""


def people(ctx: Context) -> None:
    for team in ("retail-credit-risk", "clinical-analytics", "model-risk"):
        identity.create_team(ctx, ADMIN, team)
    ensure_user(ctx, "alice", "owner", teams=("retail-credit-risk",))
    ensure_user(ctx, "carol", "owner", teams=("retail-credit-risk",))  # alice's teammate
    ensure_user(ctx, "bob", "owner", teams=("clinical-analytics",))
    ensure_user(ctx, "victor", "validator", teams=("model-risk",))
    ensure_user(ctx, "rita", "risk_officer")


def as_(ctx: Context, name: str) -> Principal:
    return identity.principal_for(ctx, name)


def credit_scoring(ctx: Context, tmp_path: Path, count: int = 4) -> None:
    """alice's model with ``count`` versions, and bob's own model."""
    people(ctx)
    alice = as_(ctx, "alice")
    models.create_model(ctx, alice, "credit-scoring", team="retail-credit-risk")
    for n in range(count):
        path = tmp_path / f"v{n}.bin"
        path.write_bytes(f"weights {n}".encode())
        versions.create_version(ctx, alice, "credit-scoring", VersionSpec(), path)
    models.create_model(ctx, as_(ctx, "bob"), "diabetes", team="clinical-analytics")


def snapshot(ctx: Context) -> tuple[object, ...]:
    model = models.get_model(ctx, ADMIN, "credit-scoring")
    v4 = versions.get_version(ctx, ADMIN, "credit-scoring", 4)
    return (
        model.owner,
        model.team,
        model.latest_version,
        v4.stage,
        versions.list_aliases(ctx, ADMIN, "credit-scoring"),
        modelcards.narratives(ctx, ADMIN, "credit-scoring", 4),
    )


def test_an_owner_cannot_take_over_another_owners_model(ctx: Context, tmp_path: Path) -> None:
    credit_scoring(ctx, tmp_path)
    before = snapshot(ctx)
    bob = as_(ctx, "bob")
    weights = tmp_path / "bob.bin"
    weights.write_bytes(b"bob's weights")
    attacks = [
        lambda: models.update_model(ctx, bob, "credit-scoring", owner="bob"),
        lambda: models.update_model(ctx, bob, "credit-scoring", title="Bob's now"),
        lambda: versions.create_version(ctx, bob, "credit-scoring", VersionSpec(), weights),
        lambda: lifecycle.transition(ctx, bob, "credit-scoring", 4, "validation", "mine"),
        lambda: versions.set_alias(ctx, bob, "credit-scoring", "champion", 4),
        lambda: modelcards.set_narrative(
            ctx, bob, "credit-scoring", 4, {"intended_use": "Anything bob likes."}
        ),
        lambda: approvals.request_transition(ctx, bob, "credit-scoring", 4, "validation", "x"),
        lambda: risk.assess(ctx, bob, "credit-scoring", CREDIT_ANSWERS),
        lambda: findings.open_finding(ctx, bob, "credit-scoring", title="t", severity="low"),
    ]
    for attack in attacks:
        with pytest.raises(Forbidden) as refused:
            attack()
        assert "credit-scoring" in str(refused.value)
    assert snapshot(ctx) == before
    # bob's own model stays his to change
    assert models.update_model(ctx, bob, "diabetes", title="Mine").title == "Mine"


def test_the_owner_and_their_team_act_on_the_model(ctx: Context, tmp_path: Path) -> None:
    credit_scoring(ctx, tmp_path, count=1)
    for name, alias in (("alice", "champion"), ("carol", "challenger")):
        who = as_(ctx, name)
        versions.set_alias(ctx, who, "credit-scoring", alias, 1)
        modelcards.set_narrative(ctx, who, "credit-scoring", 1, {"intended_use": f"by {name}"})
    assert versions.list_aliases(ctx, ADMIN, "credit-scoring") == {"champion": 1, "challenger": 1}
    # nor may an owner register a model into someone else's hands
    with pytest.raises(Forbidden):
        models.create_model(ctx, as_(ctx, "bob"), "planted", owner="alice")


def test_reassigning_a_model_is_for_admins_and_risk_officers(ctx: Context, tmp_path: Path) -> None:
    credit_scoring(ctx, tmp_path, count=1)
    with pytest.raises(Forbidden) as refused:
        models.update_model(ctx, as_(ctx, "alice"), "credit-scoring", owner="carol")
    assert refused.value.extra.get("permission") == "model:reassign"
    with pytest.raises(Forbidden):
        models.update_model(ctx, as_(ctx, "alice"), "credit-scoring", team="clinical-analytics")
    moved = models.update_model(ctx, as_(ctx, "rita"), "credit-scoring", owner="carol")
    assert moved.owner == "carol"


def test_ownership_cannot_change_while_a_request_is_open(ctx: Context, tmp_path: Path) -> None:
    credit_scoring(ctx, tmp_path, count=1)
    policies.load_pack(ctx, ADMIN, PACK, activate=True)
    alice = as_(ctx, "alice")
    opened = approvals.request_transition(ctx, alice, "credit-scoring", 1, "validation", "go")
    assert not opened.applied
    with pytest.raises(Conflict) as refused:
        models.update_model(ctx, as_(ctx, "rita"), "credit-scoring", owner="victor")
    assert opened.request.id in str(refused.value)
    assert models.get_model(ctx, ADMIN, "credit-scoring").owner == "alice"
    approvals.withdraw(ctx, alice, opened.request.id)
    assert models.update_model(ctx, ADMIN, "credit-scoring", owner="victor").owner == "victor"


def test_a_contributor_stays_non_independent_after_leaving_the_team(
    ctx: Context, tmp_path: Path
) -> None:
    """carol works on alice's model and also validates; leaving the team after the
    request is opened does not make her an independent approver of it."""
    credit_scoring(ctx, tmp_path, count=1)
    identity.grant_role(ctx, ADMIN, "carol", "validator")
    policies.load_pack(ctx, ADMIN, PACK, activate=True)
    opened = approvals.request_transition(
        ctx, as_(ctx, "alice"), "credit-scoring", 1, "validation", "go"
    )
    identity.remove_member(ctx, ADMIN, "retail-credit-risk", "carol")
    with pytest.raises(Forbidden) as refused:
        approvals.approve(ctx, as_(ctx, "carol"), opened.request.id, "looks fine")
    assert "team" in str(refused.value)
    assert opened.request.id not in {r.request.id for r in approvals.inbox(ctx, as_(ctx, "carol"))}
    # an independent validator's approval applies the move
    assert approvals.approve(ctx, as_(ctx, "victor"), opened.request.id, "ok").applied


def test_artifact_bytes_need_a_role(ctx: Context, tmp_path: Path) -> None:
    """The campaign downloaded artifacts as a user with no role; the version's metadata
    stays readable to them, its bytes are artifact:read (every role, no one else)."""
    credit_scoring(ctx, tmp_path, count=1)
    ensure_user(ctx, "nora")
    ensure_user(ctx, "audra", "auditor")
    nora = as_(ctx, "nora")
    assert versions.get_version(ctx, nora, "credit-scoring", 1).version == 1
    with pytest.raises(Forbidden) as refused:
        versions.open_artifact(ctx, nora, "credit-scoring", 1)
    assert refused.value.extra["permission"] == "artifact:read"
    with pytest.raises(Forbidden):
        versions.download_artifact(ctx, nora, "credit-scoring", 1, tmp_path / "stolen.bin")
    assert not (tmp_path / "stolen.bin").exists()
    _found, chunks = versions.open_artifact(ctx, as_(ctx, "audra"), "credit-scoring", 1)
    assert b"".join(chunks) == b"weights 0"
