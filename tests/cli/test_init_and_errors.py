"""`steward --help`, `steward init`, and how the CLI reports errors (message, exit status)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from tests.cli.helpers import ENV, flat
from tests.conftest import LiveServer, free_port
from typer.testing import CliRunner, Result

from steward.cli.main import app
from steward.store.database import SCHEMA_HEAD

GROUPS = {
    "init": [],
    "server": [],
    "demo": [],
    "model": ["create", "list", "show", "update", "history"],
    "version": ["create", "list", "show", "download", "alias", "transition"],
    "audit": ["log", "verify", "export"],
    "token": ["create", "list", "revoke"],
}


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env={**ENV, **(env or {})}, catch_exceptions=False)


def test_help_lists_every_command_group_and_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    text = flat(result.stdout)
    for group in GROUPS:
        assert re.search(rf"\b{group}\b", text), group
    for option in ("--url", "--token", "--home", "--as"):
        assert option in text
    for group, commands in GROUPS.items():
        sub = invoke(group, "--help")
        assert sub.exit_code == 0, group
        for command in commands:
            assert re.search(rf"\b{command}\b", flat(sub.stdout)), (group, command)
    bare = invoke()
    assert "Usage" in bare.output and "model" in bare.output  # no arguments: the help


def test_init_creates_the_store_then_reports_it_current(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    first = invoke("--home", str(home), "init")
    assert first.exit_code == 0
    assert f"Created a new Steward store (schema {SCHEMA_HEAD})" in flat(first.stderr)
    assert (home / "steward.db").is_file()
    again = invoke("--home", str(home), "init")
    assert again.exit_code == 0
    assert f"Database schema is current ({SCHEMA_HEAD})" in flat(again.stderr)


def test_home_can_come_from_the_environment(tmp_path: Path) -> None:
    made = invoke(
        "model",
        "create",
        "credit",
        "--json",
        env={"STEWARD_HOME": str(tmp_path), "STEWARD_USER": "dana"},
    )
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["created_by"] == "dana"
    assert (tmp_path / "steward.db").is_file()


def test_a_store_at_an_unknown_schema_is_refused_with_the_fix(tmp_path: Path) -> None:
    assert invoke("--home", str(tmp_path), "init").exit_code == 0
    with sqlite3.connect(tmp_path / "steward.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '0000'")
    result = invoke("--home", str(tmp_path), "model", "list")
    assert result.exit_code == 1
    message = flat(result.stderr)
    assert "The database schema is at revision 0000, which this Steward does not know" in message
    assert f"only goes up to {SCHEMA_HEAD}" in message
    assert "never downgrades" in message


def test_unknown_commands_and_options_exit_2() -> None:
    result = invoke("models", "list")
    assert result.exit_code == 2
    assert "No such command 'models'" in flat(result.stderr)
    result = invoke("model", "list", "--colour", "red")
    assert result.exit_code == 2
    assert "No such option: --colour" in flat(result.stderr)


def test_steward_errors_print_one_line_and_exit_1(tmp_path: Path) -> None:
    result = invoke("--home", str(tmp_path), "model", "show", "nope")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: Model 'nope' does not exist. List models with `steward model list`.\n"
    )
    result = invoke("--home", str(tmp_path), "model", "create", "Bad Name")
    assert result.exit_code == 1
    assert "Error: Invalid model name 'Bad Name'" in result.stderr


def test_an_unreachable_server_is_named(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = invoke("--url", url, "--token", "stw_x", "model", "list")
    assert result.exit_code == 1
    assert f"Cannot reach the Steward server at {url}" in flat(result.stderr)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_server_authentication_errors_and_env_configuration(
    live_server: LiveServer, token: str
) -> None:
    missing = invoke("--url", live_server.url, "model", "list")
    assert missing.exit_code == 1
    assert "This server needs an API token" in flat(missing.stderr)
    wrong = invoke("--url", live_server.url, "--token", "stw_" + "a" * 43, "model", "list")
    assert wrong.exit_code == 1
    assert "Unknown API token. Create one with `steward token create`." in flat(wrong.stderr)
    malformed = invoke("--url", live_server.url, "--token", "secret", "model", "list")
    assert malformed.exit_code == 1
    assert "not a Steward API token (they start with 'stw_')" in flat(malformed.stderr)
    from_env = invoke(
        "model",
        "create",
        "credit",
        "--json",
        env={"STEWARD_URL": live_server.url, "STEWARD_TOKEN": token},
    )
    assert from_env.exit_code == 0, from_env.output
    assert json.loads(from_env.stdout)["created_by"] == "alice"
