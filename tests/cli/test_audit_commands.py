"""`steward audit log|verify|export`."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from tests.cli.helpers import as_json, flat, ok, run
from tests.conftest import LiveServer

from steward.domain.audit import AuditEvent, canonical_json, verify


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A store with five events: two models by alice, a version, a move, one by bob."""
    where = tmp_path / "store"
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    ok(where, "model", "create", "credit")
    ok(where, "model", "create", "churn")
    ok(where, "version", "create", "credit", str(artifact), "--no-git")
    ok(where, "version", "transition", "credit", "1", "--to", "validation", "-m", "please check")
    ok(where, "model", "update", "churn", "--title", "Churn", actor="bob")
    return where


def test_log_table_shows_each_event(home: Path) -> None:
    log = flat(ok(home, "audit", "log").stdout)
    assert "seq time (UTC) actor action subject details" in log
    assert "1 " in log and "alice model.created model:credit" in log
    assert "alice version.created version:credit/1" in log
    assert (
        "alice version.transitioned version:credit/1 development -> validation: please check"
        in (log)
    )
    assert "bob model.updated model:churn title: '' -> 'Churn'" in log


def test_log_json_and_filters(home: Path) -> None:
    events = as_json(home, "audit", "log")
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert set(events[0]) == {
        "seq",
        "time",
        "actor",
        "action",
        "subject_type",
        "subject_id",
        "payload",
        "prev_hash",
        "hash",
    }
    assert [e["action"] for e in events] == [
        "model.created",
        "model.created",
        "version.created",
        "version.transitioned",
        "model.updated",
    ]

    def seqs(*args: str) -> list[int]:
        return [e["seq"] for e in as_json(home, "audit", "log", *args)]

    assert seqs("--model", "credit") == [1, 3, 4]
    assert seqs("--actor", "bob") == [5]
    assert seqs("--action", "version.transitioned") == [4]
    assert seqs("--after", "3") == [4, 5]
    assert seqs("--limit", "2") == [1, 2]
    assert seqs("--since", events[2]["time"]) == [3, 4, 5]
    assert seqs("--until", events[1]["time"]) == [1, 2]
    assert seqs("--since", "2000-01-01T00:00Z", "--until", "2000-01-02T00:00Z") == []
    assert seqs("--since", events[3]["time"].replace("Z", "+00:00")) == [4, 5]


def test_log_refuses_bad_times_and_limits(home: Path) -> None:
    bad = run(home, "audit", "log", "--since", "last week")
    assert bad.exit_code == 2
    assert "'last week' is not an ISO 8601 time" in flat(bad.stderr)
    naive = run(home, "audit", "log", "--until", "2026-01-01T00:00")
    assert naive.exit_code == 2
    assert "has no time zone" in flat(naive.stderr)
    limit = run(home, "audit", "log", "--limit", "0")
    assert limit.exit_code == 1
    assert "limit must be between 1 and 10000" in limit.stderr


def test_verify_intact_then_tampered(home: Path) -> None:
    intact = ok(home, "audit", "verify")
    head = as_json(home, "audit", "log")[-1]["hash"]
    assert f"Audit chain intact: 5 events, head #5 {head}" in flat(intact.stdout)
    result = as_json(home, "audit", "verify")
    assert result == {
        "ok": True,
        "checked": 5,
        "head_seq": 5,
        "head_hash": head,
        "broken_seq": None,
        "kind": None,
        "detail": "",
        "unauthenticated_before": None,
    }

    with sqlite3.connect(home / "steward.db") as db:  # failure injection: edit history
        db.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    broken = run(home, "audit", "verify")
    assert broken.exit_code == 1
    message = flat(broken.stderr)
    assert "Audit chain broken at event 3 (altered)" in message
    assert "2 events before it verify" in message
    data = json.loads(run(home, "audit", "verify", "--json").stdout)
    assert (data["ok"], data["broken_seq"], data["kind"], data["checked"]) == (
        False,
        3,
        "altered",
        2,
    )


def test_export_writes_json_lines_that_verify_on_their_own(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "journal.jsonl"
    result = ok(home, "audit", "export", "-o", str(out))
    assert f"Wrote 5 events to {out}" in flat(result.stdout)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [e["seq"] for e in lines] == [1, 2, 3, 4, 5]
    assert lines[3]["payload"]["justification"] == "please check"
    events = [
        AuditEvent(
            e["seq"],
            e["time"],
            e["actor"],
            e["action"],
            e["subject_type"],
            e["subject_id"],
            canonical_json(e["payload"]),
            e["prev_hash"],
            e["hash"],
        )
        for e in lines
    ]
    assert verify(events).ok
    assert [e.hash for e in events] == [e["hash"] for e in as_json(home, "audit", "log")]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_audit_commands_against_a_server(
    tmp_path: Path, live_server: LiveServer, token: str
) -> None:
    remote = ["--url", live_server.url, "--token", token]
    nowhere = tmp_path / "unused"
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    ok(nowhere, *remote, "model", "create", "credit")
    ok(nowhere, *remote, "version", "create", "credit", str(artifact), "--no-git")
    events = as_json(nowhere, *remote, "audit", "log", "--model", "credit")
    assert [(e["actor"], e["action"]) for e in events] == [
        ("alice", "model.created"),
        ("alice", "version.created"),
    ]
    # user.created: the token fixture creates alice (admin) first
    assert "Audit chain intact: 4 events" in flat(ok(nowhere, *remote, "audit", "verify").stdout)
    out = tmp_path / "remote.jsonl"
    assert "Wrote 4 events" in ok(nowhere, *remote, "audit", "export", "-o", str(out)).stdout
    assert [json.loads(x)["action"] for x in out.read_text().splitlines()] == [
        "user.created",
        "token.created",
        "model.created",
        "version.created",
    ]
