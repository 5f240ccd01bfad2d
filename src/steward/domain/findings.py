"""Findings and waivers: what is wrong with a model, and which requirement is excused.

A *finding* is an issue raised by a person or automatically (a failed check, a
deploy that loaded a foreign artifact, a monitoring alert). It has a severity,
an owner, a due date and a status that moves along a small, explicit table:

    open ─► in_remediation ─► resolved | accepted
      └──────────────────────► resolved | accepted
    resolved | accepted ─► open  (reopened)

Open and in-remediation findings count against the gates; resolving or accepting
one needs a note saying why. A *waiver* excuses one policy requirement on one
version until an expiry date; expired or revoked waivers stop counting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from steward.domain.errors import Conflict, InvalidInput


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Severity | str) -> bool:
        return self.rank >= parse_severity(other).rank


_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}
# Severity names in ascending order, from the enum so they are listed once.
SEVERITIES: tuple[str, ...] = tuple(s.value for s in sorted(Severity, key=lambda s: s.rank))


class FindingStatus(StrEnum):
    OPEN = "open"
    IN_REMEDIATION = "in_remediation"
    RESOLVED = "resolved"
    ACCEPTED = "accepted"

    @property
    def is_open(self) -> bool:
        """Open and in-remediation findings are the ones gates count."""
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset({FindingStatus.OPEN, FindingStatus.IN_REMEDIATION})
CLOSED_STATUSES = frozenset({FindingStatus.RESOLVED, FindingStatus.ACCEPTED})

# The legal moves. Closing (resolved/accepted) needs a note; reopening is allowed.
MOVES: dict[FindingStatus, frozenset[FindingStatus]] = {
    FindingStatus.OPEN: frozenset(
        {FindingStatus.IN_REMEDIATION, FindingStatus.RESOLVED, FindingStatus.ACCEPTED}
    ),
    FindingStatus.IN_REMEDIATION: frozenset(
        {FindingStatus.OPEN, FindingStatus.RESOLVED, FindingStatus.ACCEPTED}
    ),
    FindingStatus.RESOLVED: frozenset({FindingStatus.OPEN}),
    FindingStatus.ACCEPTED: frozenset({FindingStatus.OPEN}),
}

# Steward's default time to remediate, by severity, when no due date is given.
DEFAULT_DUE_DAYS: dict[Severity, int] = {
    Severity.CRITICAL: 14,
    Severity.HIGH: 30,
    Severity.MEDIUM: 90,
    Severity.LOW: 180,
}

MAX_TITLE = 200
MAX_TEXT = 20_000
_SOURCE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
# Requirement ids as policy packs write them: "approvals.independent", "checks.fairness".
_REQUIREMENT = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$")


@dataclass(frozen=True)
class Finding:
    id: int
    model: str
    version: int | None
    title: str
    description: str
    severity: Severity
    status: FindingStatus
    source: str  # "manual", "check", "deploy", "monitoring", "review", ...
    source_ref: str | None
    owner: str
    due_date: date | None
    evidence: dict[str, Any]
    opened_by: str
    opened_at: datetime
    updated_at: datetime
    resolution: str | None = None  # the note given when it was resolved or accepted
    closed_by: str | None = None
    closed_at: datetime | None = None
    comments: int = 0  # how many comments it has
    # "version": this version only; "model": the model and every version serving its
    # population (data and drift findings), so it blocks every version's gate.
    scope: str = "version"
    # A finding Steward wrote: its message key and parameters (domain.finding_messages), so
    # pages word it in their language; None for a finding a person wrote.
    message_key: str | None = None
    message_params: dict[str, Any] | None = None

    def overdue(self, today: date) -> bool:
        return self.status.is_open and self.due_date is not None and self.due_date < today


@dataclass(frozen=True)
class FindingComment:
    id: int
    finding_id: int
    author: str
    body: str
    at: datetime


@dataclass(frozen=True)
class Waiver:
    id: int
    model: str
    version: int
    requirement: str
    reason: str
    granted_by: str
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.expires_at > now else "expired"


# -- parsing and rules ---------------------------------------------------------------


SCOPES = ("version", "model")
# Findings from these sources are about the population a model serves, not one artifact.
MODEL_SCOPED_SOURCES = frozenset({"monitor", "monitoring", "drift"})


def scope(value: str | None, *, version: int | None, source: str) -> str:
    """The scope a finding is opened with: as stated, else model for drift/monitoring
    findings and findings naming no version, else version."""
    if value is None or value == "":
        if source in MODEL_SCOPED_SOURCES or version is None:
            return "model"
        return "version"
    text = str(value).strip().lower()
    if text not in SCOPES:
        raise InvalidInput(
            f"Unknown finding scope {value!r}: use 'version' (this version only) or 'model' "
            "(the model and every version serving its population, e.g. data or drift).",
            field="scope",
        )
    if text == "version" and version is None:
        raise InvalidInput(
            "A finding scoped to a version must name the version; give --version N or use "
            "--scope model.",
            field="scope",
        )
    return text


def parse_severity(value: Severity | str) -> Severity:
    try:
        return Severity(str(value).strip().lower())
    except ValueError:
        raise InvalidInput(
            f"Unknown severity {value!r}; use one of: {', '.join(s.value for s in Severity)}.",
            field="severity",
        ) from None


def parse_status(value: FindingStatus | str) -> FindingStatus:
    try:
        return FindingStatus(str(value).strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        raise InvalidInput(
            f"Unknown finding status {value!r}; use one of: "
            f"{', '.join(s.value for s in FindingStatus)}.",
            field="status",
        ) from None


def title(value: str) -> str:
    text = (value or "").strip()
    if not text or len(text) > MAX_TITLE or "\n" in text:
        raise InvalidInput(
            f"A finding needs a one-line title of 1-{MAX_TITLE} characters "
            "saying what is wrong (e.g. 'Approval rate gap between age groups').",
            field="title",
        )
    return text


def text_field(value: str | None, name: str, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"The {name} must not be empty.", field=name)
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            f"The {name} is {len(text)} characters; keep it under {MAX_TEXT} "
            "(attach long material as evidence instead).",
            field=name,
        )
    return text


def source(value: str) -> str:
    if not isinstance(value, str) or not _SOURCE.match(value):
        raise InvalidInput(
            f"Invalid finding source {value!r}: use a short lowercase word such as "
            "'manual', 'check', 'deploy' or 'monitoring'.",
            field="source",
        )
    return value


def requirement_id(value: str) -> str:
    text = (value or "").strip()
    if not _REQUIREMENT.match(text):
        raise InvalidInput(
            f"Invalid requirement id {value!r}: waivers name a policy requirement such as "
            "'approvals.independent' (lowercase parts joined by dots). "
            "List them with `steward policy show`.",
            field="requirement",
        )
    return text


def default_due(severity: Severity, today: date) -> date:
    return today + timedelta(days=DEFAULT_DUE_DAYS[severity])


def ensure_move(finding: Finding, target: FindingStatus, note: str | None) -> None:
    """Refuse an illegal status change, naming the moves that are allowed."""
    if target == finding.status:
        raise Conflict(f"Finding {finding.id} is already {target.value}.", finding=finding.id)
    allowed = MOVES[finding.status]
    if target not in allowed:
        raise Conflict(
            f"Finding {finding.id} cannot go from {finding.status.value} to {target.value}; "
            f"from {finding.status.value} it may go to: "
            f"{', '.join(sorted(s.value for s in allowed))}.",
            finding=finding.id,
        )
    if target in CLOSED_STATUSES and not (note or "").strip():
        raise InvalidInput(
            f"Marking finding {finding.id} {target.value} needs a note saying why, e.g. "
            "'fixed in version 4' or 'risk accepted by the credit committee'.",
            field="note",
        )


def waiver_expiry(value: datetime | date | str, now: datetime) -> datetime:
    """An expiry moment in the future. A bare date means the end of that day (UTC)."""
    moment: datetime
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value + timedelta(days=1), time(0), tzinfo=UTC)
    else:
        text = str(value).strip()
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                moment = datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)
            else:
                moment = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise InvalidInput(
                f"Expiry {text!r} is not a date; use YYYY-MM-DD or an ISO 8601 time "
                "with a zone, e.g. 2027-03-31 or 2027-03-31T17:00Z.",
                field="expires",
            ) from None
    if moment.tzinfo is None:
        raise InvalidInput(
            f"Expiry {value!s} has no time zone; add Z for UTC or an offset.", field="expires"
        )
    moment = moment.astimezone(UTC)
    if moment <= now:
        raise InvalidInput(
            f"A waiver must expire in the future; {moment:%Y-%m-%d %H:%M} UTC has passed. "
            "Give a later --expires date.",
            field="expires",
        )
    return moment
