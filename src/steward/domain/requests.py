"""Transition requests, approvals, policy pack records and gate reports as entities."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from steward.domain.lifecycle import Outcome, Stage


class RequestStatus(StrEnum):
    OPEN = "open"
    APPLIED = "applied"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class Approval:
    id: int
    request: str
    approver: str
    decision: Verdict
    comment: str
    roles: list[str]
    teams: list[str]
    artifact_sha256: str
    training_fingerprint: str | None
    evaluation_fingerprint: str | None
    policy: str
    at: datetime
    audit_seq: int


@dataclass(frozen=True)
class TransitionRequest:
    id: str
    model: str
    version: int
    from_stage: Stage
    to_stage: Stage
    justification: str
    requested_by: str
    requested_at: datetime
    status: RequestStatus
    closed_by: str | None
    closed_at: datetime | None
    close_reason: str | None
    approvals: list[Approval] = field(default_factory=list)


@dataclass(frozen=True)
class GateReport:
    """The gate's verdict on one move: what ``steward gate check`` prints."""

    model: str
    version: int
    from_stage: Stage
    to_stage: Stage
    allowed: bool
    policy: str | None  # name@version of the active pack, None when none is active
    outcomes: list[Outcome]
    request: str | None = None  # the open request whose approvals were counted


@dataclass(frozen=True)
class RequestResult:
    """What requesting, approving or rejecting did: the request and the gate after it."""

    request: TransitionRequest
    gate: GateReport
    applied: bool


@dataclass(frozen=True)
class PolicyPackInfo:
    name: str
    version: str
    sha256: str
    description: str
    requirements: int
    loaded_by: str
    loaded_at: datetime
    active: bool
