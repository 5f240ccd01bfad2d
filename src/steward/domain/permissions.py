"""Who may do what. Permissions are data; ``authorize`` is a pure function.

Every user holds zero or more :class:`Role` s; :data:`ROLE_PERMISSIONS` says
what each role grants. A user with no role may only read models and version
metadata (no artifact bytes); anonymous callers, where a server allows them, the
same (docs/permissions.md); an auditor reads everything (audit journal, governance records, evidence
export) and changes nothing; an admin may do everything. The embedded store's
host user acts as :data:`OPERATOR` and keeps every permission (they hold the
database file anyway). Services call :func:`ensure` for every use case, and
every refusal names the role(s) that would grant the permission.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from steward.domain.errors import Forbidden, InvalidInput, StewardError, Unauthenticated


class Permission(StrEnum):
    MODEL_READ = "model:read"
    MODEL_WRITE = "model:write"
    MODEL_REASSIGN = "model:reassign"  # change a model's owner or team
    VERSION_READ = "version:read"
    VERSION_WRITE = "version:write"
    ARTIFACT_READ = "artifact:read"  # download a version's artifact bytes
    VERSION_TRANSITION = "version:transition"
    ALIAS_WRITE = "alias:write"
    AUDIT_READ = "audit:read"
    AUDIT_CHECKPOINT = "audit:checkpoint"  # sign and publish a tree head of the journal
    WITNESS_MANAGE = "witness:manage"  # register / remove checkpoint witnesses (admin only)
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
    # monitoring
    MONITOR_MANAGE = "monitor:manage"  # configure, change or delete monitors
    MONITOR_RUN = "monitor:run"  # feed production data and labels, run due monitors
    ALERT_RESOLVE = "alert:resolve"  # acknowledge and resolve monitoring alerts
    # data connections the server reads through (admin only: they open the server's reach)
    CONNECTION_MANAGE = "connection:manage"
    # datasets as governed assets (docs/datasets.md)
    DATASET_WRITE = "dataset:write"  # register, document, snapshot datasets, set their rules
    DATASET_APPROVE = "dataset:approve"  # approve a dataset version for use


class Role(StrEnum):
    """The roles an admin grants (`steward user grant NAME ROLE`)."""

    ADMIN = "admin"
    OWNER = "owner"  # model owner / developer
    VALIDATOR = "validator"  # independent validation and periodic review
    RISK_OFFICER = "risk_officer"
    APPROVER = "approver"  # e.g. a member of the AI ethics board
    AUDITOR = "auditor"  # reads everything, changes nothing
    DATA_STEWARD = "data_steward"  # data governance: curates datasets, approves their versions


# Anonymous principals (a server started with anonymous reads allowed) see the
# inventory and version metadata only: never the journal, findings, people,
# artifacts or evidence (docs/permissions.md).
READ_ONLY = frozenset({Permission.MODEL_READ, Permission.VERSION_READ})

# What an authenticated user with no role may do: the same, and no artifact bytes.
NO_ROLE = frozenset({Permission.MODEL_READ, Permission.VERSION_READ})

_READ_ALL = NO_ROLE | {
    Permission.AUDIT_READ,
    Permission.GOVERNANCE_READ,
    Permission.ARTIFACT_READ,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.OWNER: _READ_ALL
    | {
        Permission.MODEL_WRITE,
        Permission.VERSION_WRITE,
        Permission.VERSION_TRANSITION,
        Permission.ALIAS_WRITE,
        Permission.TOKEN_MANAGE,
        Permission.RISK_ASSESS,
        Permission.APPROVAL_REQUEST,
        Permission.FINDING_WRITE,
        Permission.DEPLOY_RECORD,
        Permission.CHECK_RUN,
        Permission.MONITOR_MANAGE,
        Permission.MONITOR_RUN,
        Permission.DATASET_WRITE,
    },
    Role.VALIDATOR: _READ_ALL
    | {
        Permission.TOKEN_MANAGE,
        Permission.APPROVAL_DECIDE,
        Permission.FINDING_WRITE,
        Permission.REVIEW_COMPLETE,
        Permission.CHECK_RUN,
        Permission.MONITOR_RUN,
        Permission.ALERT_RESOLVE,
    },
    Role.RISK_OFFICER: _READ_ALL
    | {
        Permission.TOKEN_MANAGE,
        Permission.RISK_ASSESS,
        Permission.POLICY_MANAGE,
        Permission.MODEL_REASSIGN,
        Permission.APPROVAL_DECIDE,
        Permission.WAIVER_GRANT,
        Permission.FINDING_WRITE,
        Permission.EVIDENCE_EXPORT,
        Permission.MONITOR_MANAGE,
        Permission.ALERT_RESOLVE,
    },
    Role.APPROVER: _READ_ALL
    | {Permission.TOKEN_MANAGE, Permission.APPROVAL_DECIDE, Permission.FINDING_WRITE},
    # Signing a checkpoint changes no governed state: it attests what the journal holds.
    Role.AUDITOR: _READ_ALL | {Permission.EVIDENCE_EXPORT, Permission.AUDIT_CHECKPOINT},
    # A data governance committee member: works on every dataset, never on models.
    Role.DATA_STEWARD: _READ_ALL
    | {Permission.TOKEN_MANAGE, Permission.DATASET_WRITE, Permission.DATASET_APPROVE},
}

ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.ADMIN: "everything, including users, teams, roles and other users' tokens",
    Role.OWNER: "registers and documents models and versions, assesses risk, requests moves",
    Role.VALIDATOR: "independent validation: runs checks, decides requests, completes reviews",
    Role.RISK_OFFICER: (
        "assesses risk, manages policy packs, reassigns model ownership, grants waivers, "
        "decides requests"
    ),
    Role.APPROVER: "decides transition requests (e.g. an AI ethics board member)",
    Role.AUDITOR: "reads everything (journal, governance records, evidence), changes nothing",
    Role.DATA_STEWARD: (
        "data governance: registers and curates datasets, approves dataset versions for use"
    ),
}

_ROLE_NAMES = frozenset(r.value for r in Role)

# Roles whose grants reach only the models the holder owns or whose team they belong
# to (OWASP API1: object-level authorisation). A validator or risk officer works on
# every model: independence is what their role is for.
SCOPED_ROLES = frozenset({Role.OWNER})

# The person running Steward embedded on the store's host: they hold the
# database file anyway, so they keep every permission.
OPERATOR = "operator"


def parse_role(value: str) -> Role:
    """A role from user input, or a refusal listing the roles."""
    try:
        return Role(value.strip().lower().replace("-", "_"))
    except ValueError:
        raise InvalidInput(
            f"Unknown role {value!r}; roles are: {', '.join(r.value for r in Role)}.",
            field="role",
        ) from None


def granting_roles(permission: Permission) -> list[Role]:
    return [role for role, granted in ROLE_PERMISSIONS.items() if permission in granted]


def permissions_of(roles: frozenset[str]) -> frozenset[Permission]:
    """Everything a set of stored role names grants (unknown names grant nothing)."""
    if OPERATOR in roles:
        return frozenset(Permission)
    granted: set[Permission] = set(NO_ROLE)
    for name in roles:
        if name in _ROLE_NAMES:
            granted |= ROLE_PERMISSIONS[Role(name)]
    return frozenset(granted)


@dataclass(frozen=True)
class Principal:
    name: str
    anonymous: bool = False
    roles: frozenset[str] = field(default_factory=frozenset)
    teams: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


def authorize(principal: Principal, permission: Permission) -> Decision:
    if principal.anonymous:
        if permission in READ_ONLY:
            return Decision(True, "anonymous reads are enabled on this server")
        return Decision(
            False,
            f"{permission.value} needs an API token of a user with a role; anonymous callers "
            "may only read the inventory and version metadata",
        )
    if OPERATOR in principal.roles:
        return Decision(True, f"{principal.name} operates this store (embedded, on its host)")
    holding = sorted(r for r in principal.roles if r in _ROLE_NAMES)
    for name in holding:
        if permission in ROLE_PERMISSIONS[Role(name)]:
            return Decision(True, f"{principal.name} holds role {name}, which grants it")
    if permission in NO_ROLE:
        return Decision(True, f"every user may {permission.value}")
    grantors = ", ".join(r.value for r in granting_roles(permission))
    held = f"roles {', '.join(holding)}" if holding else "no role"
    return Decision(
        False,
        f"{principal.name} may not {permission.value}: they hold {held}; it is granted by "
        f"{grantors}. An admin grants a role with `steward user grant {principal.name} ROLE`.",
    )


def refusal(principal: Principal, decision: Decision, permission: Permission) -> StewardError:
    """401 for a caller without credentials (they should authenticate), else 403."""
    if principal.anonymous:
        return Unauthenticated(decision.reason, permission=permission.value)
    return Forbidden(decision.reason, permission=permission.value)


def ensure(principal: Principal, permission: Permission) -> None:
    decision = authorize(principal, permission)
    if not decision.allowed:
        raise refusal(principal, decision, permission)


@dataclass(frozen=True)
class ModelScope:
    """Who a model belongs to: what object-level authorisation is judged against."""

    name: str
    owner: str
    team: str


def authorize_on(principal: Principal, permission: Permission, model: ModelScope) -> Decision:
    """``authorize`` for an act on one model: a permission that only a scoped role
    (owner) grants reaches the holder's own models and their teams' models."""
    decision = authorize(principal, permission)
    if not decision.allowed or principal.anonymous or OPERATOR in principal.roles:
        return decision
    if permission in _READ_ALL:
        return decision  # reading is never scoped: the inventory is shared
    unscoped = sorted(
        r
        for r in principal.roles
        if r in _ROLE_NAMES
        and Role(r) not in SCOPED_ROLES
        and permission in ROLE_PERMISSIONS[Role(r)]
    )
    if unscoped:
        return Decision(True, f"{principal.name} holds role {unscoped[0]}, which grants it")
    if principal.name == model.owner:
        return Decision(True, f"{principal.name} owns {model.name!r}")
    if model.team and model.team in principal.teams:
        return Decision(True, f"{principal.name} is in team {model.team}, which holds it")
    team = f" and team {model.team}" if model.team else ""
    return Decision(
        False,
        f"{principal.name} may {permission.value} only on models they own or their team "
        f"holds; {model.name!r} belongs to {model.owner or 'nobody'}{team}. Ask its owner, "
        "or an admin or risk officer to reassign it with `steward model update NAME --owner`.",
    )


def ensure_on(principal: Principal, permission: Permission, model: ModelScope) -> None:
    decision = authorize_on(principal, permission, model)
    if not decision.allowed:
        if principal.anonymous:
            raise refusal(principal, decision, permission)
        raise Forbidden(decision.reason, permission=permission.value, model=model.name)
