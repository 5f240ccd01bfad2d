"""`steward audit reconcile`: state-table edits the journal does not explain, on both databases.

A store is built through the real services (so the journal explains every
row), then changed with plain SQL, as someone with database access would; the
reconciliation must name exactly the rows that changed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from tests.conftest import ensure_user

from steward.domain.errors import Forbidden
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.reconcile import Discrepancy
from steward.domain.specs import VersionSpec
from steward.services import approvals, audit, identity, lifecycle, models, policies, versions
from steward.services import reconcile as rec
from steward.services.context import Context

ADMIN = Principal(name="admin", roles=frozenset({OPERATOR}))
PACK = """\
pack: gate
version: "1"
requirements:
  - id: approvals.entry
    kind: approvals
    roles: [validator]
    count: 1
    to: [validation]
    controls: ["sr-26-2:SR26-2.independence"]
"""
MakeFile = Callable[[bytes, str], Path]


def governed(ctx: Context, make_file: MakeFile) -> str:
    """Every kind of row reconcile compares, written by Steward itself; returns a request id."""
    policies.load_pack(ctx, ADMIN, PACK, activate=True)
    identity.create_team(ctx, ADMIN, "risk")
    ensure_user(ctx, "dev", "owner")
    ensure_user(ctx, "val", "validator", teams=("risk",))
    identity.add_member(ctx, ADMIN, "risk", "dev")
    identity.remove_member(ctx, ADMIN, "risk", "dev")
    identity.grant_role(ctx, ADMIN, "dev", "auditor")
    identity.revoke_role(ctx, ADMIN, "dev", "auditor")
    models.create_model(ctx, ADMIN, "credit", owner="dev")
    models.update_model(ctx, ADMIN, "credit", team="risk")
    dev = identity.principal_for(ctx, "dev")
    for n in (1, 2):
        versions.create_version(ctx, dev, "credit", VersionSpec(), make_file(b"w%d" % n, "m.bin"))
    versions.set_alias(ctx, dev, "credit", "champion", 1)
    versions.set_alias(ctx, dev, "credit", "challenger", 2)
    versions.delete_alias(ctx, dev, "credit", "challenger")
    rid = approvals.request_transition(ctx, dev, "credit", 1, "validation", "ready").request.id
    approvals.approve(ctx, identity.principal_for(ctx, "val"), rid, "checked")
    assert lifecycle.transitions(ctx, dev, "credit", 1)
    return rid


def sql(ctx: Context, statement: str, **params: Any) -> None:
    with ctx.uow.engine.begin() as conn:
        conn.execute(text(statement), params)


def found(ctx: Context) -> list[tuple[str, str, str]]:
    result = rec.reconcile(ctx, ADMIN)
    assert result.ok is not result.discrepancies
    return [(d.table, d.key, d.problem) for d in result.discrepancies]


def test_a_store_written_by_steward_reconciles(ctx: Context, make_file: MakeFile) -> None:
    governed(ctx, make_file)
    result = rec.reconcile(ctx, ADMIN)
    assert result.ok and result.discrepancies == ()
    assert result.events > 10 and result.rows > 10


def test_a_stage_set_by_sql_is_named(ctx: Context, make_file: MakeFile) -> None:
    governed(ctx, make_file)
    sql(ctx, "UPDATE model_versions SET stage = 'production' WHERE version = 2")
    result = rec.reconcile(ctx, ADMIN)
    assert [(d.table, d.key, d.problem, d.found, d.expected) for d in result.discrepancies] == [
        ("model_versions", "credit/2", "differs", "production", "development")
    ]
    assert "no version.transitioned event" in result.discrepancies[0].detail
    # verify cannot see this: the journal itself is intact
    assert audit.verify(ctx, ADMIN).ok


def test_a_role_inserted_by_sql_is_named(ctx: Context, make_file: MakeFile) -> None:
    governed(ctx, make_file)
    sql(
        ctx,
        'INSERT INTO user_roles ("user", role, granted_by, granted_at) '
        "VALUES ('dev', 'admin', 'admin', CURRENT_TIMESTAMP)",
    )
    assert found(ctx) == [("user_roles", "dev/admin", "unexplained")]


def test_every_kind_of_row_written_or_deleted_by_sql_is_named(
    ctx: Context, make_file: MakeFile
) -> None:
    rid = governed(ctx, make_file)
    sql(ctx, "UPDATE models SET owner = 'mallory' WHERE name = 'credit'")
    sql(ctx, "DELETE FROM aliases WHERE alias = 'champion'")
    sql(
        ctx,
        "INSERT INTO users (name, display_name, email, active, created_at, created_by, "
        "updated_at) VALUES ('mallory', '', '', true, CURRENT_TIMESTAMP, 'x', CURRENT_TIMESTAMP)",
    )
    sql(
        ctx,
        'INSERT INTO team_members (team, "user", added_by, added_at) '
        "VALUES ('risk', 'mallory', 'x', CURRENT_TIMESTAMP)",
    )
    sql(ctx, "UPDATE approvals SET decision = 'reject' WHERE request_id = :r", r=rid)
    assert found(ctx) == [
        ("models", "credit", "differs"),
        ("aliases", "credit/champion", "missing"),
        ("users", "mallory", "unexplained"),
        ("team_members", "risk/mallory", "unexplained"),
        ("approvals", f"{rid}/val", "differs"),
    ]


def test_deleting_all_events_is_caught_by_verify_and_reconcile(
    ctx: Context, make_file: MakeFile
) -> None:
    governed(ctx, make_file)
    sql(ctx, "DELETE FROM audit_events")
    assert not audit.verify(ctx, ADMIN).ok
    problems = found(ctx)
    assert ("user_roles", "val/validator", "unexplained") in problems
    assert ("model_versions", "credit/1", "unexplained") in problems
    assert {p for _, _, p in problems} == {"unexplained"}


def test_reconcile_needs_audit_read(ctx: Context) -> None:
    with pytest.raises(Forbidden):
        rec.reconcile(ctx, Principal(name="nobody", roles=frozenset()))


def test_discrepancies_serialise_for_the_faces() -> None:
    d = Discrepancy("users", "mallory", "unexplained", "present", None, "why")
    assert d.to_dict() == {
        "table": "users",
        "key": "mallory",
        "problem": "unexplained",
        "found": "present",
        "expected": None,
        "detail": "why",
    }
