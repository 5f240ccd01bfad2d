"""The object-level rule, pure: an owner's grants reach their own and their team's models."""

from __future__ import annotations

from steward.domain.permissions import (
    OPERATOR,
    ModelScope,
    Permission,
    Principal,
    authorize_on,
)

CREDIT = ModelScope(name="credit-scoring", owner="alice", team="retail-credit-risk")


def allowed(principal: Principal, permission: Permission) -> bool:
    return authorize_on(principal, permission, CREDIT).allowed


def test_owner_grants_stop_at_other_peoples_models() -> None:
    alice = Principal("alice", roles=frozenset({"owner"}))
    carol = Principal("carol", roles=frozenset({"owner"}), teams=frozenset({"retail-credit-risk"}))
    bob = Principal("bob", roles=frozenset({"owner"}), teams=frozenset({"clinical-analytics"}))
    assert allowed(alice, Permission.VERSION_WRITE) and allowed(carol, Permission.VERSION_WRITE)
    refused = authorize_on(bob, Permission.VERSION_WRITE, CREDIT)
    assert not refused.allowed
    assert "'credit-scoring' belongs to alice and team retail-credit-risk" in refused.reason
    # reading is never narrowed; a role granting on every model is not narrowed by owner
    assert allowed(bob, Permission.ARTIFACT_READ) and allowed(bob, Permission.GOVERNANCE_READ)
    both = Principal("bob", roles=frozenset({"owner", "validator"}))
    assert allowed(both, Permission.CHECK_RUN) and not allowed(both, Permission.ALIAS_WRITE)


def test_unscoped_roles_the_operator_and_anonymous_callers() -> None:
    rita = Principal("rita", roles=frozenset({"risk_officer"}))
    assert allowed(rita, Permission.MODEL_REASSIGN) and allowed(rita, Permission.RISK_ASSESS)
    assert not allowed(rita, Permission.VERSION_WRITE)  # the role table still decides first
    assert allowed(Principal("op", roles=frozenset({OPERATOR})), Permission.ALIAS_WRITE)
    anonymous = Principal("anonymous", anonymous=True)
    assert allowed(anonymous, Permission.VERSION_READ)
    assert not allowed(anonymous, Permission.ARTIFACT_READ)
    # a model without a team is reachable by its owner only
    lone = ModelScope(name="x", owner="alice", team="")
    nobody = Principal("nora", roles=frozenset({"owner"}), teams=frozenset({""}))
    assert not authorize_on(nobody, Permission.MODEL_WRITE, lone).allowed
