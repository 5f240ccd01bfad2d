"""Replaying the journal into the state it explains, and comparing, without a database."""

from __future__ import annotations

from typing import Any

from steward.domain.audit import Action, seal
from steward.domain.reconcile import State, compare, replay


def events(*items: tuple[Action, str, dict[str, Any]], actor: str = "alice") -> list[Any]:
    out, prev = [], "0" * 64
    for seq, (action, subject, payload) in enumerate(items, start=1):
        event = seal(
            seq=seq,
            time="2026-01-01T00:00:00.000000Z",
            actor=actor,
            action=action.value,
            subject_type="x",
            subject_id=subject,
            payload=payload,
            prev_hash=prev,
        )
        prev = event.hash
        out.append(event)
    return out


JOURNAL = events(
    (Action.MODEL_CREATED, "credit", {"after": {"owner": "alice", "tags": []}}),
    (Action.MODEL_UPDATED, "credit", {"before": {"team": ""}, "after": {"team": "risk"}}),
    (Action.VERSION_CREATED, "credit/1", {"model": "credit", "version": 1, "stage": "development"}),
    (
        Action.VERSION_TRANSITIONED,
        "credit/1",
        {"model": "credit", "version": 1, "to": "validation"},
    ),
    (Action.ALIAS_SET, "credit/champion", {"model": "credit", "alias": "champion", "after": 1}),
    (Action.ALIAS_SET, "credit/old", {"model": "credit", "alias": "old", "after": 1}),
    (Action.ALIAS_DELETED, "credit/old", {"model": "credit", "alias": "old", "after": None}),
    (Action.USER_CREATED, "bob", {"roles": ["owner"], "teams": ["risk"]}),
    (Action.ROLE_GRANTED, "bob", {"role": "auditor"}),
    (Action.ROLE_REVOKED, "bob", {"role": "owner"}),
    (Action.TEAM_CREATED, "risk", {"members": []}),
    (Action.TEAM_CREATED, "gone", {"members": ["bob"]}),
    (Action.TEAM_DELETED, "gone", {"members": ["bob"]}),
    (Action.TEAM_MEMBER_REMOVED, "risk", {"user": "bob"}),
    (Action.TEAM_MEMBER_ADDED, "risk", {"user": "bob"}),
    (Action.TRANSITION_REQUESTED, "r1", {"model": "credit", "version": 1, "to": "approved"}),
    (Action.APPROVAL_GIVEN, "r1", {"decision": "approve"}),
    (Action.TOKEN_CREATED, "tok", {}),  # not a reconciled table: ignored
)


def expected_state() -> State:
    return State(
        models={"credit": ("alice", "risk")},
        versions={("credit", 1): "validation"},
        aliases={("credit", "champion"): 1},
        users={"bob"},
        roles={("bob", "auditor")},
        teams={"risk"},
        members={("risk", "bob")},
        requests={"r1": ("credit", 1, "approved")},
        approvals={("r1", "alice"): "approve"},
    )


def test_replay_builds_what_each_event_explains() -> None:
    state, count = replay(JOURNAL)
    assert count == len(JOURNAL)
    assert state == expected_state()


def test_matching_tables_reconcile() -> None:
    result = compare(expected_state(), replay(JOURNAL)[0], len(JOURNAL))
    assert result.ok and result.discrepancies == () and result.rows == 9


def test_each_difference_is_named_once_in_table_order() -> None:
    actual = expected_state()
    actual.versions[("credit", 1)] = "production"
    actual.roles.add(("bob", "admin"))
    del actual.aliases[("credit", "champion")]
    result = compare(actual, replay(JOURNAL)[0], len(JOURNAL))
    assert [(d.table, d.key, d.problem, d.found, d.expected) for d in result.discrepancies] == [
        ("model_versions", "credit/1", "differs", "production", "validation"),
        ("aliases", "credit/champion", "missing", None, "present"),
        ("user_roles", "bob/admin", "unexplained", "present", None),
    ]
    assert not result.ok
    assert result.to_dict()["discrepancies"][0]["table"] == "model_versions"
