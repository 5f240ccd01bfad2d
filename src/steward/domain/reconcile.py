"""Replay the journal and compare it with the state tables.

Verify proves the journal is the one Steward wrote; it says nothing about the
tables beside it. Someone with database access can set a version's stage to
``production`` or add a row to ``user_roles`` without touching the journal.
Replaying the journal gives the state Steward's own changes explain; every row
that differs from it was written some other way, and is named here.

Reconciled: models (existence, owner, team), versions and their stages,
aliases, users, role grants, teams, team members, transition requests and
approvals. Pure: the service passes events in and a snapshot of the tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from steward.domain.audit import Action, AuditEvent


@dataclass
class State:
    """What the tables hold (or what the journal says they should hold)."""

    models: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (owner, team)
    versions: dict[tuple[str, int], str] = field(default_factory=dict)  # -> stage
    aliases: dict[tuple[str, str], int] = field(default_factory=dict)  # -> version
    users: set[str] = field(default_factory=set)
    roles: set[tuple[str, str]] = field(default_factory=set)  # (user, role)
    teams: set[str] = field(default_factory=set)
    members: set[tuple[str, str]] = field(default_factory=set)  # (team, user)
    requests: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # -> model, v, to
    approvals: dict[tuple[str, str], str] = field(default_factory=dict)  # (request, who) -> dec

    def is_empty(self) -> bool:
        return not any(
            (self.models, self.versions, self.users, self.roles, self.teams, self.requests)
        )

    def row_count(self) -> int:
        return sum(
            len(part)
            for part in (
                self.models,
                self.versions,
                self.aliases,
                self.users,
                self.roles,
                self.teams,
                self.members,
                self.requests,
                self.approvals,
            )
        )


@dataclass(frozen=True)
class Discrepancy:
    table: str
    key: str  # the row, as a person would name it
    problem: str  # "unexplained" | "missing" | "differs"
    found: str | None  # what the table holds (None: no row)
    expected: str | None  # what the journal explains (None: no row)
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": self.key,
            "problem": self.problem,
            "found": self.found,
            "expected": self.expected,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Reconciliation:
    ok: bool
    events: int  # journal events replayed
    rows: int  # state rows compared
    discrepancies: tuple[Discrepancy, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "rows": self.rows,
            "discrepancies": [d.to_dict() for d in self.discrepancies],
        }


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _model_fields(state: State, name: str, after: dict[str, Any]) -> None:
    owner, team = state.models.get(name, ("", ""))
    if "owner" in after:
        owner = _text(after["owner"])
    if "team" in after:
        team = _text(after["team"])
    state.models[name] = (owner, team)


def apply(state: State, event: AuditEvent) -> None:
    """Change ``state`` as Steward did when it wrote ``event``."""
    action, sid = event.action, event.subject_id
    if action not in _REPLAYED:
        return
    data: dict[str, Any] = json.loads(event.payload)
    if action == Action.MODEL_CREATED:
        state.models[sid] = ("", "")
        _model_fields(state, sid, data.get("after") or {})
    elif action in (Action.MODEL_UPDATED, Action.RISK_OVERRIDDEN):
        _model_fields(state, sid, data.get("after") or {})
    elif action == Action.VERSION_CREATED:
        state.versions[(data["model"], int(data["version"]))] = str(data["stage"])
    elif action == Action.VERSION_TRANSITIONED:
        state.versions[(data["model"], int(data["version"]))] = str(data["to"])
    elif action == Action.ALIAS_SET:
        state.aliases[(data["model"], data["alias"])] = int(data["after"])
    elif action == Action.ALIAS_DELETED:
        state.aliases.pop((data["model"], data["alias"]), None)
    elif action == Action.USER_CREATED:
        state.users.add(sid)
        state.roles.update((sid, str(r)) for r in data.get("roles") or ())
        state.members.update((str(t), sid) for t in data.get("teams") or ())
    elif action == Action.ROLE_GRANTED:
        state.roles.add((sid, str(data["role"])))
    elif action == Action.ROLE_REVOKED:
        state.roles.discard((sid, str(data["role"])))
    elif action == Action.TEAM_CREATED:
        state.teams.add(sid)
        state.members.update((sid, str(u)) for u in data.get("members") or ())
    elif action == Action.TEAM_DELETED:
        state.teams.discard(sid)
        state.members = {m for m in state.members if m[0] != sid}
    elif action == Action.TEAM_MEMBER_ADDED:
        state.members.add((sid, str(data["user"])))
    elif action == Action.TEAM_MEMBER_REMOVED:
        state.members.discard((sid, str(data["user"])))
    elif action == Action.TRANSITION_REQUESTED:
        state.requests[sid] = (data["model"], int(data["version"]), str(data["to"]))
    else:  # approval given or rejected: the actor is the approver
        state.approvals[(sid, event.actor)] = str(data["decision"])


_REPLAYED = frozenset(
    {
        Action.MODEL_CREATED,
        Action.MODEL_UPDATED,
        Action.RISK_OVERRIDDEN,
        Action.VERSION_CREATED,
        Action.VERSION_TRANSITIONED,
        Action.ALIAS_SET,
        Action.ALIAS_DELETED,
        Action.USER_CREATED,
        Action.ROLE_GRANTED,
        Action.ROLE_REVOKED,
        Action.TEAM_CREATED,
        Action.TEAM_DELETED,
        Action.TEAM_MEMBER_ADDED,
        Action.TEAM_MEMBER_REMOVED,
        Action.TRANSITION_REQUESTED,
        Action.APPROVAL_GIVEN,
        Action.APPROVAL_REJECTED,
    }
)
# The actions reconcile replays, for a repository to fetch only those.
REPLAYED_ACTIONS: tuple[str, ...] = tuple(sorted(a.value for a in _REPLAYED))


def replay(events: Iterable[AuditEvent]) -> tuple[State, int]:
    state = State()
    count = 0
    for event in events:
        apply(state, event)
        count += 1
    return state, count


# What the journal event that would explain a row of each table is called.
_EXPLAINED_BY = {
    "models": "model.created",
    "models.owner/team": "model.created or model.updated",
    "model_versions": "version.created",
    "model_versions.stage": "version.transitioned",
    "aliases": "alias.set",
    "users": "user.created",
    "user_roles": "role.granted (or the roles of user.created)",
    "teams": "team.created",
    "team_members": "team.member_added (or team.created / user.created)",
    "transition_requests": "transition.requested",
    "approvals": "approval.given or approval.rejected",
}


def _compare_sets(
    table: str, actual: Iterable[Any], expected: Iterable[Any], name: Any
) -> list[Discrepancy]:
    have, want = set(actual), set(expected)
    found = [
        Discrepancy(
            table,
            name(k),
            "unexplained",
            "present",
            None,
            f"{table} row {name(k)} has no {_EXPLAINED_BY[table]} event in the journal: "
            "it was written outside Steward",
        )
        for k in sorted(have - want)
    ]
    found += [
        Discrepancy(
            table,
            name(k),
            "missing",
            None,
            "present",
            f"the journal says {table} row {name(k)} exists, but it does not: it was "
            "deleted outside Steward",
        )
        for k in sorted(want - have)
    ]
    return found


def _compare_maps(
    table: str,
    column: str,
    actual: dict[Any, Any],
    expected: dict[Any, Any],
    name: Any,
    show: Any = str,
) -> list[Discrepancy]:
    found = _compare_sets(table, actual, expected, name)
    for k in sorted(set(actual) & set(expected)):
        if actual[k] != expected[k]:
            by = _EXPLAINED_BY.get(f"{table}.{column}", _EXPLAINED_BY[table])
            found.append(
                Discrepancy(
                    table,
                    name(k),
                    "differs",
                    show(actual[k]),
                    show(expected[k]),
                    f"{table} row {name(k)} has {column} {show(actual[k])} but the journal "
                    f"explains {show(expected[k])}: changed outside Steward (no {by} event)",
                )
            )
    return found


def compare(actual: State, expected: State, events: int) -> Reconciliation:
    """Every row of ``actual`` the journal does not explain, and every explained row missing."""

    def pair(k: tuple[Any, Any]) -> str:
        return f"{k[0]}/{k[1]}"

    def owner_team(v: tuple[str, str]) -> str:
        return f"owner={v[0]!r} team={v[1]!r}"

    def request(v: tuple[str, int, str]) -> str:
        return f"{v[0]}/{v[1]} -> {v[2]}"

    found = [
        *_compare_maps("models", "owner/team", actual.models, expected.models, str, owner_team),
        *_compare_maps("model_versions", "stage", actual.versions, expected.versions, pair),
        *_compare_maps("aliases", "version", actual.aliases, expected.aliases, pair),
        *_compare_sets("users", actual.users, expected.users, str),
        *_compare_sets("user_roles", actual.roles, expected.roles, pair),
        *_compare_sets("teams", actual.teams, expected.teams, str),
        *_compare_sets("team_members", actual.members, expected.members, pair),
        *_compare_maps(
            "transition_requests", "target", actual.requests, expected.requests, str, request
        ),
        *_compare_maps("approvals", "decision", actual.approvals, expected.approvals, pair),
    ]
    return Reconciliation(not found, events, actual.row_count(), tuple(found))
