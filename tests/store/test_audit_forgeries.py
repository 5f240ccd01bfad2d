"""Forgeries a hash chain cannot see, tried as an attacker with database write access.

Each test builds a journal through the real services, then writes to the
database directly — with a correct chain hash where the attack needs one — and
checks that `steward audit verify` names the event and what was done. The
attacker has the database, never the key file under STEWARD_HOME.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from steward import bootstrap
from steward.domain.audit import Tampering, seal
from steward.domain.permissions import Principal
from steward.services import audit, identity, models
from steward.services.context import Context
from steward.settings import Settings
from steward.store import database
from steward.trust import auditkey

COLUMNS = "seq, time, actor, action, subject_type, subject_id, payload, prev_hash, hash"


def journal(ctx: Context, who: Principal) -> None:
    models.create_model(ctx, who, "credit", purpose="Approve consumer loans")
    identity.create_user(ctx, who, "bob", roles=("auditor",))
    models.update_model(ctx, who, "credit", team="")
    assert audit.verify(ctx, who).ok


def head(ctx: Context) -> Any:
    with ctx.uow.engine.connect() as conn:
        return conn.execute(
            text(f"SELECT {COLUMNS}, mac FROM audit_events ORDER BY seq DESC LIMIT 1")
        ).one()


def append(ctx: Context, mac: str | None = None, **event: Any) -> None:
    """What an attacker does: a new event after the head, with a valid chain hash."""
    last = head(ctx)
    forged = seal(seq=last.seq + 1, prev_hash=last.hash, **event)
    row = {
        "seq": forged.seq,
        "time": forged.time,
        "actor": forged.actor,
        "action": forged.action,
        "subject_type": forged.subject_type,
        "subject_id": forged.subject_id,
        "payload": forged.payload,
        "prev_hash": forged.prev_hash,
        "hash": forged.hash,
        "mac": mac,
    }
    with ctx.uow.engine.begin() as conn:
        conn.execute(
            text(
                f"INSERT INTO audit_events ({COLUMNS}, mac) VALUES (:seq, :time, :actor, "
                ":action, :subject_type, :subject_id, :payload, :prev_hash, :hash, :mac)"
            ),
            row,
        )


def test_every_event_steward_writes_carries_a_mac_from_the_key_file(
    ctx: Context, alice: Principal
) -> None:
    journal(ctx, alice)
    ring = auditkey.load(ctx.settings.audit_key_path)
    assert ring is not None and ring.since == 1
    assert ctx.settings.audit_key_path.stat().st_mode & 0o777 == 0o600
    with ctx.uow.engine.connect() as conn:
        macs = conn.execute(text("SELECT hash, mac FROM audit_events")).all()
    assert macs and all(mac == ring.mac(digest) for digest, mac in macs)


def test_a_chain_correct_role_grant_appended_by_sql_is_forged(
    ctx: Context, alice: Principal
) -> None:
    journal(ctx, alice)
    last = head(ctx)
    append(
        ctx,
        time=last.time,
        actor="alice",
        action="role.granted",
        subject_type="user",
        subject_id="bob",
        payload={"role": "admin"},
    )
    result = audit.verify(ctx, alice)
    assert (result.ok, result.kind, result.broken_seq) == (False, Tampering.FORGED, last.seq + 1)
    assert "has no MAC" in result.detail
    assert result.checked == last.seq  # everything before it still verifies

    # A made-up MAC, or one copied from another event, does not help either.
    for mac in (f"{'0' * 16}:{'ab' * 32}", last.mac):
        with ctx.uow.engine.begin() as conn:
            conn.execute(
                text("UPDATE audit_events SET mac = :m WHERE seq = :s"),
                {"m": mac, "s": last.seq + 1},
            )
        again = audit.verify(ctx, alice)
        assert (again.ok, again.kind) == (False, Tampering.FORGED)


def test_a_replayed_copy_of_an_old_event_is_flagged(ctx: Context, alice: Principal) -> None:
    journal(ctx, alice)
    with ctx.uow.engine.connect() as conn:
        grant = conn.execute(
            text(f"SELECT {COLUMNS}, mac FROM audit_events WHERE action = 'user.created'")
        ).one()
    last = head(ctx)
    # The same event again (with its MAC), relinked at the head and dated now.
    append(
        ctx,
        time=last.time,
        actor=grant.actor,
        action=grant.action,
        subject_type=grant.subject_type,
        subject_id=grant.subject_id,
        payload=json.loads(grant.payload),
        mac=grant.mac,
    )
    result = audit.verify(ctx, alice)
    assert (result.ok, result.kind, result.broken_seq) == (False, Tampering.REPLAYED, last.seq + 1)
    assert f"repeats event {grant.seq}" in result.detail


def test_a_backdated_event_is_flagged(ctx: Context, alice: Principal) -> None:
    journal(ctx, alice)
    last = head(ctx)
    append(
        ctx,
        time="2020-01-01T00:00:00.000000Z",
        actor="alice",
        action="model.updated",
        subject_type="model",
        subject_id="credit",
        payload={"after": {"owner": "mallory"}, "before": {}, "fields": ["owner"]},
    )
    result = audit.verify(ctx, alice)
    assert (result.ok, result.kind, result.broken_seq) == (False, Tampering.BACKDATED, last.seq + 1)
    assert "before event" in result.detail


def test_an_empty_journal_over_populated_tables_fails(ctx: Context, alice: Principal) -> None:
    journal(ctx, alice)
    with ctx.uow.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events"))
    result = audit.verify(ctx, alice)
    assert (result.ok, result.kind, result.broken_seq) == (False, Tampering.REMOVED, 1)
    assert "the journal was deleted" in result.detail


def test_an_empty_store_verifies(ctx: Context, alice: Principal) -> None:
    assert audit.verify(ctx, alice).ok


def test_without_the_key_file_nothing_is_called_authenticated(
    ctx: Context, alice: Principal
) -> None:
    journal(ctx, alice)
    ctx.settings.audit_key_path.rename(ctx.settings.audit_key_path.with_suffix(".away"))
    result = audit.verify(ctx, alice)
    assert (result.ok, result.kind, result.broken_seq) == (False, Tampering.FORGED, 1)
    assert "no audit key is available" in result.detail


def test_a_lost_key_is_replaced_and_older_events_reported_unauthenticated(
    ctx: Context, alice: Principal
) -> None:
    journal(ctx, alice)
    last = head(ctx).seq
    ctx.settings.audit_key_path.unlink()  # the key file is lost
    models.create_model(ctx, alice, "fraud")  # the next write creates a new key
    ring = auditkey.load(ctx.settings.audit_key_path)
    assert ring is not None and ring.since == last + 1
    result = audit.verify(ctx, alice)
    assert result.ok
    assert result.unauthenticated_before == last + 1


def test_a_rotated_key_still_checks_the_events_of_the_old_one(
    ctx: Context, alice: Principal
) -> None:
    journal(ctx, alice)
    old = auditkey.load(ctx.settings.audit_key_path)
    new = auditkey.rotate(ctx.settings.audit_key_path)
    assert old is not None and new.keys[1:] == old.keys and new.current_id != old.current_id
    models.create_model(ctx, alice, "fraud")
    assert head(ctx).mac.startswith(new.current_id + ":")
    result = audit.verify(ctx, alice)
    assert result.ok and result.unauthenticated_before is None


def test_upgrading_authenticates_the_existing_journal_when_the_key_is_there(
    settings: Settings, alice: Principal
) -> None:
    engine = database.make_engine(settings.database_url)
    try:
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(database.MIGRATIONS))
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0016")
        # A journal written before MACs existed: two events, chained by hand.
        first = seal(
            seq=1,
            time="2026-01-01T00:00:00.000000Z",
            actor="alice",
            action="team.created",
            subject_type="team",
            subject_id="risk",
            payload={"title": "", "description": "", "members": [], "line": None},
            prev_hash="0" * 64,
        )
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"INSERT INTO audit_events ({COLUMNS}) VALUES (:seq, :time, :actor, "
                    ":action, :subject_type, :subject_id, :payload, :prev_hash, :hash)"
                ),
                {k: getattr(first, k) for k in COLUMNS.replace(" ", "").split(",")},
            )
            conn.execute(
                text(
                    "INSERT INTO teams (name, title, description, created_at, created_by) "
                    "VALUES ('risk', '', '', CURRENT_TIMESTAMP, 'alice')"
                )
            )
    finally:
        engine.dispose()
    ctx = bootstrap.build(settings, migrate=True)  # what `steward init` does
    try:
        result = audit.verify(ctx, alice)
        assert result.ok and result.unauthenticated_before is None
        with ctx.uow.engine.connect() as conn:
            assert conn.execute(text("SELECT mac FROM audit_events")).scalar_one()
    finally:
        ctx.uow.engine.dispose()


def test_upgrading_without_the_key_reports_events_unauthenticated_honestly(
    settings: Settings, alice: Principal
) -> None:
    """A key lost after the upgrade: the next write starts a new key at its own event."""
    ctx = bootstrap.build(settings, migrate=True)
    try:
        journal(ctx, alice)
        settings.audit_key_path.unlink()
        with ctx.uow.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET mac = NULL"))
        models.create_model(ctx, alice, "fraud")
        result = audit.verify(ctx, alice)
        assert result.ok
        assert result.unauthenticated_before == head(ctx).seq
    finally:
        ctx.uow.engine.dispose()
