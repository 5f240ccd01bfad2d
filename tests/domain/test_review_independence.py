"""Who may complete a periodic review: one rule, with its reason, for every face."""

from __future__ import annotations

from steward.domain.permissions import Principal
from steward.domain.reviews import may_complete

VAL = Principal(name="val", roles=frozenset({"validator"}))
OWNER_VALIDATOR = Principal(name="olive", roles=frozenset({"validator", "owner"}))
OWNER = Principal(name="omar", roles=frozenset({"owner"}))


def test_an_independent_validator_may_complete() -> None:
    assert may_complete(VAL, "churn", owner="olive").allowed


def test_the_owner_may_not_even_as_a_validator() -> None:
    decision = may_complete(OWNER_VALIDATOR, "churn", owner="olive")
    assert not decision.allowed
    assert "olive owns 'churn'" in decision.reason and "independent validator" in decision.reason


def test_a_role_without_the_permission_is_told_which_permission() -> None:
    decision = may_complete(OWNER, "churn", owner="someone")
    assert not decision.allowed and "review:complete" in decision.reason
