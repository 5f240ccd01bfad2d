"""Tampering with the journal directly in the database is detected and classified.

Each test builds a journal through the real services, then edits, deletes,
inserts or reorders rows with plain SQL — what someone with database access
could do — and checks that verification names the event and the kind of
tampering. Restoring the original rows makes the chain verify again, which
proves it was the tampering (and nothing else) that broke it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from tests.attacker import rebuild_tree
from typer.testing import CliRunner

import steward
from steward.domain.audit import GENESIS, AuditEvent, AuditFilter, Tampering, Verification, seal
from steward.domain.permissions import Principal
from steward.domain.specs import VersionSpec
from steward.services import audit, lifecycle, models, versions
from steward.services.context import Context

MakeFile = Callable[[bytes, str], Path]
COLUMNS = "seq, time, actor, action, subject_type, subject_id, payload, prev_hash, hash"
Row = tuple[Any, ...]
NAMES = [c.strip() for c in COLUMNS.split(",")]
INSERT = f"INSERT INTO audit_events ({COLUMNS}) VALUES ({', '.join(':' + n for n in NAMES)})"


def build_journal(ctx: Context, who: Principal, make_file: MakeFile) -> list[AuditEvent]:
    models.create_model(ctx, who, "credit", purpose="Approve consumer loans")
    for n in (1, 2):
        versions.create_version(ctx, who, "credit", VersionSpec(), make_file(b"w%d" % n, "m.bin"))
    for stage in ("validation", "approved", "production"):
        lifecycle.transition(ctx, who, "credit", 1, stage, f"v1 to {stage}")
    versions.set_alias(ctx, who, "credit", "champion", 1)
    for stage in ("validation", "approved", "production"):
        lifecycle.transition(ctx, who, "credit", 2, stage, f"v2 to {stage}")
    versions.set_alias(ctx, who, "credit", "champion", 2)
    models.update_model(ctx, who, "credit", team="risk")
    events = audit.list_events(ctx, who, AuditFilter(), 1000)
    assert [e.seq for e in events] == list(range(1, 14))
    assert audit.verify(ctx, who).ok
    return events


def rows(ctx: Context) -> list[Row]:
    with ctx.uow.engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(text(f"SELECT {COLUMNS} FROM audit_events ORDER BY seq"))
        ]


def sql(ctx: Context, *statements: str, **params: Any) -> None:
    with ctx.uow.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def restore(ctx: Context, saved: list[Row]) -> None:
    with ctx.uow.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events"))
        conn.execute(text(INSERT), [dict(zip(NAMES, row, strict=True)) for row in saved])


def shift(ctx: Context, first: int, delta: int) -> None:
    """Renumber seq >= first by delta, through negative values so the primary key never clashes."""
    sql(
        ctx,
        "UPDATE audit_events SET seq = -(seq + :delta) WHERE seq >= :first",
        "UPDATE audit_events SET seq = -seq WHERE seq < 0",
        first=first,
        delta=delta,
    )


def check(
    ctx: Context, who: Principal, events: list[AuditEvent], broken: int, kind: Tampering
) -> Verification:
    result = audit.verify(ctx, who)
    assert (result.ok, result.broken_seq, result.kind) == (False, broken, kind), result.detail
    assert result.checked == broken - 1
    before = GENESIS if broken == 1 else events[broken - 2].hash
    assert (result.head_seq, result.head_hash) == (broken - 1, before)
    return result


def check_restored(ctx: Context, who: Principal, saved: list[Row]) -> None:
    restore(ctx, saved)
    assert rows(ctx) == saved
    assert audit.verify(ctx, who).ok


def test_an_edited_event_is_altered(ctx: Context, alice: Principal, make_file: MakeFile) -> None:
    events = build_journal(ctx, alice, make_file)
    saved = rows(ctx)
    seq = next(e.seq for e in events if '"v1 to production"' in e.payload)

    # A plain edit of the justification.
    sql(
        ctx,
        "UPDATE audit_events SET payload = REPLACE(payload, 'v1 to production', "
        "'v1 to production, signed off by the CRO') WHERE seq = :seq",
        seq=seq,
    )
    result = check(ctx, alice, events, seq, Tampering.ALTERED)
    assert f"event {seq} was changed after it was written" in result.detail
    check_restored(ctx, alice, saved)

    # Who did it: the actor column rewritten.
    sql(ctx, "UPDATE audit_events SET actor = 'bob' WHERE seq = 3")
    check(ctx, alice, events, 3, Tampering.ALTERED)
    check_restored(ctx, alice, saved)

    # An edit whose hash was recomputed with the documented formula is still caught,
    # and blamed on the edited event: its successor links to the original hash.
    target = events[seq - 1]
    forged = seal(
        seq=seq,
        time=target.time,
        actor=target.actor,
        action=target.action,
        subject_type=target.subject_type,
        subject_id=target.subject_id,
        payload={**target.payload_dict(), "justification": "rubber stamp"},
        prev_hash=target.prev_hash,
    )
    sql(
        ctx,
        "UPDATE audit_events SET payload = :payload, hash = :hash WHERE seq = :seq",
        payload=forged.payload,
        hash=forged.hash,
        seq=seq,
    )
    result = check(ctx, alice, events, seq, Tampering.ALTERED)
    assert "hash recomputed" in result.detail
    check_restored(ctx, alice, saved)


def test_a_deleted_event_is_removed(ctx: Context, alice: Principal, make_file: MakeFile) -> None:
    events = build_journal(ctx, alice, make_file)
    saved = rows(ctx)

    sql(ctx, "DELETE FROM audit_events WHERE seq = 7")
    result = check(ctx, alice, events, 7, Tampering.REMOVED)
    assert "event 7 is missing" in result.detail
    check_restored(ctx, alice, saved)

    # Deleted and the later events renumbered to close the gap.
    sql(ctx, "DELETE FROM audit_events WHERE seq = 7")
    shift(ctx, 8, -1)
    assert [r[0] for r in rows(ctx)] == list(range(1, 13))
    result = check(ctx, alice, events, 7, Tampering.REMOVED)
    assert "is the original 8" in result.detail
    check_restored(ctx, alice, saved)

    # The first event, renumbered.
    sql(ctx, "DELETE FROM audit_events WHERE seq = 1")
    shift(ctx, 2, -1)
    check(ctx, alice, events, 1, Tampering.REMOVED)
    check_restored(ctx, alice, saved)


def test_deleting_the_newest_events_needs_an_external_head_hash(
    ctx: Context, alice: Principal, make_file: MakeFile
) -> None:
    events = build_journal(ctx, alice, make_file)
    recorded_head = audit.verify(ctx, alice).head_hash
    sql(ctx, "DELETE FROM audit_events WHERE seq > 11")
    with ctx.uow.engine.begin() as conn:
        # Without a published checkpoint, an attacker who also trims the Merkle tree
        # leaves an intact journal (tests/store/test_checkpoint_attacks.py has the rest).
        rebuild_tree(conn)
    result = audit.verify(ctx, alice)
    assert result.ok  # the chain that is left is intact...
    assert (result.head_seq, result.head_hash) == (11, events[10].hash)
    assert result.head_hash != recorded_head  # ...but not the head recorded earlier


def test_a_forged_event_is_inserted(ctx: Context, alice: Principal, make_file: MakeFile) -> None:
    events = build_journal(ctx, alice, make_file)
    saved = rows(ctx)
    original = events[5]
    assert original.seq == 6

    # A forger who knows the formula: a valid hash linking to event 5.
    forged = seal(
        seq=6,
        time=original.time,
        actor="mallory",
        action="version.transitioned",
        subject_type="version",
        subject_id="credit/2",
        payload={
            "model": "credit",
            "version": 2,
            "from": "development",
            "to": "production",
            "justification": "trust me",
            "caused_by": None,
        },
        prev_hash=events[4].hash,
    )
    shift(ctx, 6, 1)
    sql(ctx, INSERT, **dict(zip(NAMES, _row(forged), strict=True)))
    assert [r[0] for r in rows(ctx)] == list(range(1, 15))
    result = check(ctx, alice, events, 6, Tampering.INSERTED)
    assert "event 6 was inserted" in result.detail
    check_restored(ctx, alice, saved)

    # A clumsier forger: a copy of event 6 with a made-up hash.
    shift(ctx, 6, 1)
    sql(
        ctx,
        INSERT,
        **dict(zip(NAMES, _row(original), strict=True)) | {"actor": "mallory", "hash": "ab" * 32},
    )
    result = check(ctx, alice, events, 6, Tampering.INSERTED)
    assert "now numbered 7 is the original 6" in result.detail
    check_restored(ctx, alice, saved)


def test_swapped_events_are_reordered(ctx: Context, alice: Principal, make_file: MakeFile) -> None:
    events = build_journal(ctx, alice, make_file)
    saved = rows(ctx)

    # Swap the seq of two neighbours through a temporary value.
    sql(
        ctx,
        "UPDATE audit_events SET seq = -1 WHERE seq = 9",
        "UPDATE audit_events SET seq = 9 WHERE seq = 10",
        "UPDATE audit_events SET seq = 10 WHERE seq = -1",
    )
    result = check(ctx, alice, events, 9, Tampering.REORDERED)
    assert "events 9 and 10 were swapped" in result.detail
    check_restored(ctx, alice, saved)

    # Exchange every column but seq between two neighbours.
    names = NAMES[1:]
    sets = ", ".join(f"{n} = :{n}" for n in names)
    for seq, source in ((4, events[4]), (5, events[3])):
        sql(
            ctx,
            f"UPDATE audit_events SET {sets} WHERE seq = :seq",
            seq=seq,
            **dict(zip(names, _row(source)[1:], strict=True)),
        )
    check(ctx, alice, events, 4, Tampering.REORDERED)
    check_restored(ctx, alice, saved)

    # Event 2 moved three places later (3, 4, 5 move up one).
    sql(
        ctx,
        "UPDATE audit_events SET seq = -100 WHERE seq = 2",
        "UPDATE audit_events SET seq = -(seq - 1) WHERE seq IN (3, 4, 5)",
        "UPDATE audit_events SET seq = -seq WHERE seq < 0 AND seq > -100",
        "UPDATE audit_events SET seq = 5 WHERE seq = -100",
    )
    result = check(ctx, alice, events, 2, Tampering.REORDERED)
    assert "appears later in the journal" in result.detail
    check_restored(ctx, alice, saved)


def _row(event: AuditEvent) -> Row:
    return (
        event.seq,
        event.time,
        event.actor,
        event.action,
        event.subject_type,
        event.subject_id,
        event.payload,
        event.prev_hash,
        event.hash,
    )


# -- the command line ------------------------------------------------------------------


def test_cli_verify_exits_0_when_intact_and_1_naming_the_broken_event(
    tmp_path: Path, make_file: MakeFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    from steward.cli.main import app

    for name in ("STEWARD_URL", "STEWARD_DATABASE_URL", "STEWARD_ARTIFACTS_URL", "STEWARD_HOME"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    with steward.connect(home=str(home), actor="alice") as client:
        client.create_model("credit")
        client.log_version("credit", artifact=make_file(b"w", "m.bin"), capture_git=False)
        for stage in ("validation", "approved", "production"):
            client.transition("credit", 1, to=stage, justification="ok")
        head = client.verify_audit().head_hash
    runner = CliRunner()
    env = {"COLUMNS": "200"}

    intact = runner.invoke(app, ["--home", str(home), "audit", "verify"], env=env)
    assert intact.exit_code == 0, intact.output
    assert "Audit chain intact: 5 events, head #5" in intact.output
    assert head in intact.output
    as_json = runner.invoke(app, ["--home", str(home), "audit", "verify", "--json"], env=env)
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout) | {"detail": ""} == {
        "ok": True,
        "checked": 5,
        "head_seq": 5,
        "head_hash": head,
        "broken_seq": None,
        "kind": None,
        "detail": "",
    }

    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{home / 'steward.db'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"))
    engine.dispose()

    broken = runner.invoke(app, ["--home", str(home), "audit", "verify"], env=env)
    assert broken.exit_code == 1
    assert "Audit chain broken at event 3 (altered)" in broken.output
    assert "2 events before it verify" in broken.output
    as_json = runner.invoke(app, ["--home", str(home), "audit", "verify", "--json"], env=env)
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert (report["ok"], report["broken_seq"], report["kind"]) == (False, 3, "altered")
