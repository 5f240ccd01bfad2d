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

from steward.domain.errors import InvalidInput, LogoutRefused
from steward.domain.identity import team_name, user_name
from steward.domain.permissions import parse_role

__all__ = [
    "BACKCHANNEL_EVENT",
    "Grants",
    "LogoutRequest",
    "Rule",
    "logout_request",
    "managed",
    "map_claims",
    "parse_rules",
    "username",
]

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


# -- back-channel logout (OpenID Connect Back-Channel Logout 1.0) -----------------------------

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# A logout token issued longer ago than this is refused as stale; its id (jti) is kept at
# least this long, so a replay inside the window is refused as a replay.
LOGOUT_TOKEN_MAX_AGE = 600


@dataclass(frozen=True)
class LogoutRequest:
    """Who the provider signed out: its subject, its session (``sid``), or both."""

    subject: str | None
    sid: str | None
    jti: str
    issued_at: int


def logout_request(claims: Mapping[str, object], now: float) -> LogoutRequest:
    """The claims of a verified logout token (signature, issuer and audience already
    checked) as a request, or InvalidInput naming what makes it not a logout token.

    The checks are the specification's section 2.6: a ``sub`` or a ``sid``, the
    back-channel logout event, no ``nonce`` (which tells an ID token apart), a ``jti`` to
    refuse replays, and an ``iat`` neither stale nor from the future.
    """
    events = claims.get("events")
    if not isinstance(events, Mapping) or BACKCHANNEL_EVENT not in events:
        raise LogoutRefused(
            "The token is not a logout token: its 'events' claim does not hold the "
            f"back-channel logout event ({BACKCHANNEL_EVENT}).",
            field="logout_token",
        )
    if "nonce" in claims:
        raise LogoutRefused(
            "The token carries a 'nonce', so it is an ID token, not a logout token; refused.",
            field="logout_token",
        )
    subject, sid = _claim(claims, "sub"), _claim(claims, "sid")
    if subject is None and sid is None:
        raise LogoutRefused(
            "The logout token names neither a subject ('sub') nor a session ('sid').",
            field="logout_token",
        )
    jti = _claim(claims, "jti")
    if jti is None:
        raise LogoutRefused(
            "The logout token has no 'jti', so a replay could not be told apart; refused.",
            field="logout_token",
        )
    issued = claims.get("iat")
    if not isinstance(issued, int | float) or isinstance(issued, bool):
        raise LogoutRefused("The logout token has no 'iat' (issued-at) time.", field="logout_token")
    if issued < now - LOGOUT_TOKEN_MAX_AGE or issued > now + 60:
        raise LogoutRefused(
            f"The logout token was issued at {int(issued)}, more than "
            f"{LOGOUT_TOKEN_MAX_AGE} s from this server's clock ({int(now)}); refused as "
            "stale. Check both clocks.",
            field="logout_token",
        )
    return LogoutRequest(subject=subject, sid=sid, jti=jti[:255], issued_at=int(issued))


def _claim(claims: Mapping[str, object], name: str) -> str | None:
    value = claims.get(name)
    return None if value is None or value == "" else _text(value)
