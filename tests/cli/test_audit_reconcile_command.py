"""`steward audit reconcile`: exit 0 when the journal explains the tables, 1 naming each row."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli.helpers import flat, ok, run


def test_reconcile_names_a_stage_set_by_sql(tmp_path: Path) -> None:
    home = tmp_path / "store"
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    ok(home, "model", "create", "credit")
    ok(home, "version", "create", "credit", str(artifact), "--no-git")
    clean = ok(home, "audit", "reconcile")
    assert "State reconciled: the journal (2 events replayed) explains all 2 rows" in flat(
        clean.stdout
    )

    with sqlite3.connect(home / "steward.db") as db:  # failure injection: bypass Steward
        db.execute("UPDATE model_versions SET stage = 'production'")
    broken = run(home, "audit", "reconcile")
    assert broken.exit_code == 1
    table = flat(broken.stdout)
    assert "model_versions credit/1 differs production development" in table
    message = flat(broken.stderr)
    assert "1 rows the journal does not explain" in message
    assert "`steward audit verify`" in message
    # verify still passes: the journal is intact, only the table was changed
    assert run(home, "audit", "verify").exit_code == 0

    data = json.loads(run(home, "audit", "reconcile", "--json").stdout)
    assert data["ok"] is False
    assert [(d["table"], d["key"], d["problem"]) for d in data["discrepancies"]] == [
        ("model_versions", "credit/1", "differs")
    ]


def test_verify_names_a_forged_event(tmp_path: Path) -> None:
    """A database-only writer appends a chain-correct event; verify exits 1 naming it."""
    from steward.domain.audit import seal

    home = tmp_path / "store"
    ok(home, "model", "create", "credit")
    with sqlite3.connect(home / "steward.db") as db:
        seq, time, digest = db.execute("SELECT seq, time, hash FROM audit_events").fetchone()
        forged = seal(
            seq=seq + 1,
            time=time,
            actor="alice",
            action="role.granted",
            subject_type="user",
            subject_id="mallory",
            payload={"role": "admin"},
            prev_hash=digest,
        )
        db.execute(
            "INSERT INTO audit_events (seq, time, actor, action, subject_type, subject_id, "
            "payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                forged.seq,
                forged.time,
                forged.actor,
                forged.action,
                forged.subject_type,
                forged.subject_id,
                forged.payload,
                forged.prev_hash,
                forged.hash,
            ),
        )
    broken = run(home, "audit", "verify")
    assert broken.exit_code == 1
    assert "Audit chain broken at event 2 (forged): event 2 has no MAC" in flat(broken.stderr)


def test_verify_says_which_events_predate_a_replaced_key(tmp_path: Path) -> None:
    home = tmp_path / "store"
    ok(home, "model", "create", "credit")
    (home / "keys" / "audit.key").unlink()  # the key file is lost
    ok(home, "model", "create", "churn")  # the next write starts a new key at event 2
    result = ok(home, "audit", "verify")
    assert "Audit chain intact: 2 events" in flat(result.stdout)
    assert "Events before #2 carry no MAC the audit key can check" in flat(result.stderr)


def test_rotate_key_keeps_old_events_verifying(tmp_path: Path) -> None:
    home = tmp_path / "store"
    ok(home, "model", "create", "credit")
    old = json.loads((home / "keys" / "audit.key").read_text())["keys"]
    rotated = flat(ok(home, "audit", "rotate-key").stdout)
    assert "New events are authenticated with key" in rotated
    keys = json.loads((home / "keys" / "audit.key").read_text())["keys"]
    assert keys[1:] == old and keys[0] not in old
    assert (home / "keys" / "audit.key").stat().st_mode & 0o777 == 0o600
    ok(home, "model", "create", "churn")
    assert "Audit chain intact: 2 events" in flat(ok(home, "audit", "verify").stdout)


def test_rotate_key_refuses_a_remote_server(tmp_path: Path) -> None:
    result = run(tmp_path, "--url", "http://127.0.0.1:9", "audit", "rotate-key")
    assert result.exit_code != 0
    assert "run `steward audit rotate-key` on the server host" in flat(result.stderr)
