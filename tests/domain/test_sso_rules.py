"""Single sign-on mapping rules: what an administrator writes, what claims map to."""

from __future__ import annotations

import pytest

from steward.domain import sso
from steward.domain.errors import InvalidInput

RULES = """
# validators
groups=risk-validators -> role:validator
groups=risk-validators -> team:model-validation ; groups = Steward Admins -> role:Admin
email_verified=true -> role:auditor
"""


def test_rules_parse_with_comments_separators_and_role_spelling() -> None:
    rules = sso.parse_rules(RULES)
    assert [(r.claim, r.value, r.kind, r.target) for r in rules] == [
        ("groups", "risk-validators", "role", "validator"),
        ("groups", "risk-validators", "team", "model-validation"),
        ("groups", "Steward Admins", "role", "admin"),
        ("email_verified", "true", "role", "auditor"),
    ]
    assert sso.managed(rules) == sso.Grants(
        roles=frozenset({"validator", "admin", "auditor"}),
        teams=frozenset({"model-validation"}),
    )


def test_list_claims_match_by_membership_and_scalars_by_equality() -> None:
    rules = sso.parse_rules(RULES)
    both = sso.map_claims({"groups": ["Steward Admins", "risk-validators"]}, rules)
    assert both.roles == {"admin", "validator"} and both.teams == {"model-validation"}
    assert sso.map_claims({"groups": ["risk-validators-2"]}, rules).roles == frozenset()
    assert sso.map_claims({"groups": "risk-validators"}, rules).roles == {"validator"}
    assert sso.map_claims({"email_verified": True}, rules).roles == {"auditor"}
    assert sso.map_claims({"email_verified": False}, rules).roles == frozenset()
    assert sso.map_claims({}, rules) == sso.Grants(frozenset(), frozenset())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("groups -> role:validator", "not of the form"),
        ("groups=x role:validator", "not of the form"),
        ("groups=x -> validator", "not of the form"),
        ("groups=x -> group:validator", "map to role:NAME or team:NAME"),
        ("groups=x -> role:superuser", "Unknown role 'superuser'"),
        ("groups=x -> team:Not A Team", "Invalid team name"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_fix(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        sso.parse_rules(text)


def test_the_user_name_comes_from_the_configured_claim_and_is_checked() -> None:
    assert sso.username({"preferred_username": "dana"}, "preferred_username") == "dana"
    assert sso.username({"email": "dana@example.org"}, "email") == "dana@example.org"
    with pytest.raises(InvalidInput, match="STEWARD_OIDC_USERNAME_CLAIM"):
        sso.username({"sub": "x"}, "preferred_username")
    with pytest.raises(InvalidInput, match="Invalid user name"):
        sso.username({"preferred_username": "../root"}, "preferred_username")
