"""Users and teams: entities and the rules for what people type."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from steward.domain.errors import InvalidInput
from steward.domain.permissions import Role, parse_role

__all__ = [
    "LINES",
    "Role",
    "Team",
    "User",
    "display_name",
    "email",
    "line_of_defence",
    "parse_role",
    "password_problem",
    "team_name",
    "user_name",
]

# Login names: what an OS account, a service account or an e-mail address looks like.
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,199}$")
_TEAM = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 12

# The three lines of defence a team belongs to (what policy packs' ``lines`` and
# ``forbid_lines`` name): the first line builds and uses models, the second challenges them
# (risk management and independent validation), the third audits both and must stay out of
# approving what it will later audit.
LINES: dict[str, str] = {
    "first": "development and business",
    "second": "risk and validation",
    "third": "internal audit",
}
MAX_PASSWORD = 1024


@dataclass(frozen=True)
class User:
    name: str
    display_name: str
    email: str
    active: bool
    roles: frozenset[str]
    teams: frozenset[str]
    has_password: bool
    created_at: datetime
    created_by: str
    updated_at: datetime
    disabled_at: datetime | None = None


@dataclass(frozen=True)
class Team:
    name: str
    title: str
    description: str
    members: tuple[str, ...]
    created_at: datetime
    created_by: str
    line: str | None = None  # first / second / third; None until an admin states it


def line_of_defence(value: str | None) -> str | None:
    """A team's line of defence as typed (``first``, ``second``, ``third``); '' clears it."""
    if value is None or value == "":
        return None
    if value not in LINES:
        raise InvalidInput(
            f"Unknown line of defence {value!r}: use "
            + ", ".join(f"{k} ({v})" for k, v in LINES.items())
            + ", e.g. `--line second` for a validation team.",
            field="line",
        )
    return value


def user_name(value: str) -> str:
    if not isinstance(value, str) or not _USER.match(value):
        raise InvalidInput(
            f"Invalid user name {value!r}: use 1-200 letters, digits, '.', '_', '@', '+' or '-', "
            "starting with a letter or digit (for example 'alice' or 'ci-bot').",
            field="name",
        )
    return value


def team_name(value: str) -> str:
    if not isinstance(value, str) or not _TEAM.match(value):
        raise InvalidInput(
            f"Invalid team name {value!r}: use 1-100 lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (for example 'model-validation').",
            field="team",
        )
    return value


def display_name(value: str) -> str:
    value = (value or "").strip()
    if len(value) > 200:
        raise InvalidInput("A display name has at most 200 characters.", field="display_name")
    return value


def email(value: str) -> str:
    value = (value or "").strip()
    if value and (len(value) > 254 or not _EMAIL.match(value)):
        raise InvalidInput(
            f"Invalid e-mail address {value!r}: use the form name@example.org, or leave it empty.",
            field="email",
        )
    return value


def password_problem(user: str, password: str) -> str | None:
    """Why a new password is refused, or None. Length is what matters (NIST SP 800-63B)."""
    if len(password) < MIN_PASSWORD:
        return f"A password needs at least {MIN_PASSWORD} characters; a passphrase works well."
    if len(password) > MAX_PASSWORD:
        return f"A password has at most {MAX_PASSWORD} characters."
    if password.strip().casefold() == user.casefold():
        return "A password may not be the user name."
    if len(set(password)) < 4:
        return "A password needs at least 4 different characters."
    return None


def roles_of(values: list[str] | tuple[str, ...] | frozenset[str]) -> frozenset[Role]:
    return frozenset(parse_role(v) for v in values)
