"""Who may do what. Permissions are data; ``authorize`` is a pure function.

Roles arrive with governance; until then every authenticated principal may do
everything and an anonymous one (a server started with anonymous reads
allowed) may only read. Services call :func:`ensure` for every use case, so
roles slot in here without touching the faces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from steward.domain.errors import Forbidden


class Permission(StrEnum):
    MODEL_READ = "model:read"
    MODEL_WRITE = "model:write"
    VERSION_READ = "version:read"
    VERSION_WRITE = "version:write"
    VERSION_TRANSITION = "version:transition"
    ALIAS_WRITE = "alias:write"
    AUDIT_READ = "audit:read"
    TOKEN_MANAGE = "token:manage"
    # governance
    USER_MANAGE = "user:manage"  # users, teams, role assignments, other users' tokens
    GOVERNANCE_READ = "governance:read"  # assessments, policies, requests, findings, reviews...
    RISK_ASSESS = "risk:assess"
    POLICY_MANAGE = "policy:manage"
    APPROVAL_REQUEST = "approval:request"
    APPROVAL_DECIDE = "approval:decide"
    WAIVER_GRANT = "waiver:grant"
    FINDING_WRITE = "finding:write"
    REVIEW_COMPLETE = "review:complete"
    DEPLOY_RECORD = "deploy:record"
    WEBHOOK_MANAGE = "webhook:manage"
    EVIDENCE_EXPORT = "evidence:export"
    # validation
    CHECK_RUN = "check:run"  # run a validation suite or record externally computed results


READ_ONLY = frozenset({Permission.MODEL_READ, Permission.VERSION_READ, Permission.AUDIT_READ})


# The person running Steward embedded on the store's host: they hold the
# database file anyway, so they may bootstrap other users' tokens.
OPERATOR = "operator"


@dataclass(frozen=True)
class Principal:
    name: str
    anonymous: bool = False
    roles: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def authorize(principal: Principal, permission: Permission) -> Decision:
    if principal.anonymous:
        if permission in READ_ONLY:
            return Decision(True, "anonymous reads are enabled on this server")
        return Decision(
            False, f"{permission.value} needs an API token; anonymous users may only read"
        )
    return Decision(True, f"{principal.name} is authenticated")


def ensure(principal: Principal, permission: Permission) -> None:
    decision = authorize(principal, permission)
    if not decision.allowed:
        raise Forbidden(decision.reason, permission=permission.value)
