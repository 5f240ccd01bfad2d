"""Single sign-on rules: which Steward roles and teams a provider's claims give a user.

An administrator writes mapping rules (``STEWARD_OIDC_RULES``), one per line or separated
by ``;``::

    groups=risk-validators -> role:validator
    groups=risk-validators -> team:model-validation
    groups=steward-admins  -> role:admin

A rule matches when the claim equals the value, or, for a list claim (``groups``),
contains it. The roles and teams that any rule names are *managed*: at each sign-in a
user holds exactly the managed ones their claims map to, so a group removed at the
provider removes the role at the next sign-in. Roles and teams no rule names stay as an
admin set them (a local break-glass admin, a team the provider knows nothing about).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from steward.domain.errors import InvalidInput
from steward.domain.identity import team_name, user_name
from steward.domain.permissions import parse_role

__all__ = ["Grants", "Rule", "managed", "map_claims", "parse_rules", "username"]

_KINDS = ("role", "team")


@dataclass(frozen=True)
class Rule:
    claim: str
    value: str
    kind: str  # role | team
    target: str

    def matches(self, claims: Mapping[str, object]) -> bool:
        found = claims.get(self.claim)
        if isinstance(found, list | tuple):
            return any(_text(item) == self.value for item in found)
        return found is not None and _text(found) == self.value


@dataclass(frozen=True)
class Grants:
    roles: frozenset[str]
    teams: frozenset[str]


def _text(value: object) -> str:
    # JSON booleans are written as in the token ("true"), so `email_verified=true` matches.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_rules(text: str | None) -> tuple[Rule, ...]:
    """Rules as written in the setting; a bad one is refused naming it and the form."""
    rules: list[Rule] = []
    for raw in (text or "").replace(";", "\n").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        left, arrow, right = line.partition("->")
        claim, equals, value = left.strip().partition("=")
        kind, colon, target = right.strip().partition(":")
        if not (arrow and equals and colon and claim.strip() and value.strip() and target):
            raise InvalidInput(
                f"SSO rule {line!r} is not of the form 'CLAIM=VALUE -> role:ROLE' or "
                "'CLAIM=VALUE -> team:TEAM' (e.g. 'groups=risk-validators -> role:validator').",
                field="rules",
            )
        kind = kind.strip()
        target = target.strip()
        if kind not in _KINDS:
            raise InvalidInput(
                f"SSO rule {line!r} maps to {kind!r}: map to role:NAME or team:NAME.",
                field="rules",
            )
        target = parse_role(target).value if kind == "role" else team_name(target)
        rules.append(Rule(claim.strip(), value.strip(), kind, target))
    return tuple(rules)


def managed(rules: tuple[Rule, ...]) -> Grants:
    """The roles and teams the provider decides (any rule names them)."""
    return Grants(
        roles=frozenset(r.target for r in rules if r.kind == "role"),
        teams=frozenset(r.target for r in rules if r.kind == "team"),
    )


def map_claims(claims: Mapping[str, object], rules: tuple[Rule, ...]) -> Grants:
    """The managed roles and teams these claims give."""
    hits = [r for r in rules if r.matches(claims)]
    return Grants(
        roles=frozenset(r.target for r in hits if r.kind == "role"),
        teams=frozenset(r.target for r in hits if r.kind == "team"),
    )


def username(claims: Mapping[str, object], claim: str) -> str:
    """The Steward user name a provider's claims name, checked as any user name is."""
    value = claims.get(claim)
    if not isinstance(value, str) or not value:
        raise InvalidInput(
            f"The provider's ID token has no {claim!r} claim to name the Steward user; "
            f"set STEWARD_OIDC_USERNAME_CLAIM to a claim it sends (e.g. 'email' or 'sub').",
            field="username_claim",
        )
    return user_name(value)
