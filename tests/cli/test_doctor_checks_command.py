"""`steward doctor` as an operator runs it: a Rich table or --json, exit 1 when a check
fails, and it still reports when the settings or the schema are what is broken."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text
from tests.cli.helpers import ENV, flat, ok
from typer.testing import CliRunner, Result

from steward.cli.main import app
from steward.store import database


def doctor(home: Path, *args: str, **env: str) -> Result:
    return CliRunner().invoke(
        app, ["--home", str(home), "doctor", *args], env={**ENV, **env}, catch_exceptions=False
    )


def test_a_healthy_store_exits_0_with_a_table_of_checks(tmp_path: Path) -> None:
    ok(tmp_path, "init")
    result = doctor(tmp_path)
    assert result.exit_code == 0, result.output
    out = flat(result.stdout)
    for name in ("configuration", "home", "audit key", "database", "artifacts", "worker"):
        assert f"{name} ok" in out
    assert "Found 0 leftover spool file(s)" in out


def test_an_external_worker_without_a_heartbeat_fails_with_its_fix(tmp_path: Path) -> None:
    ok(tmp_path, "init")
    result = doctor(tmp_path, "--json", STEWARD_WORKER="external")
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["ok"] is False
    worker = next(c for c in body["checks"] if c["name"] == "worker")
    assert worker["ok"] is False and "start `steward worker`" in worker["fix"]
    # a running worker's heartbeat makes it pass (`--once` marks itself stopped, so
    # only a worker that is still running counts)
    ok(tmp_path, "worker", "--once")
    assert doctor(tmp_path, STEWARD_WORKER="external").exit_code == 1


def test_a_setting_that_does_not_parse_is_reported_not_raised(tmp_path: Path) -> None:
    result = doctor(tmp_path, "--json", STEWARD_WORKER="sidecar")
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["checks"] == [
        {
            "name": "configuration",
            "ok": False,
            "detail": "STEWARD_WORKER='sidecar' must be 'internal' (the API processes deliver "
            "webhooks) or 'external' (a `steward worker` process does)",
            "fix": "correct the environment variable named above",
        }
    ]


def test_an_old_schema_is_diagnosed_where_other_commands_refuse_to_start(tmp_path: Path) -> None:
    ok(tmp_path, "init")
    engine = create_engine(f"sqlite:///{tmp_path / 'steward.db'}")
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE alembic_version SET version_num = :r"),
            {"r": database.known_revisions()[-2]},
        )
    engine.dispose()
    result = doctor(tmp_path)
    assert result.exit_code == 1
    out = flat(result.stdout)
    assert "database FAIL" in out and "run `steward init`" in out
    assert "Failed: database" in flat(result.stderr)
