"""`steward user ...` and `steward team ...`, embedded and against a server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.cli.helpers import ENV, as_json, flat, ok, run
from tests.conftest import LiveServer
from typer.testing import CliRunner, Result

from steward.cli.main import app

PASSWORD = "correct horse battery staple"


def with_input(home: Path, text: str, *args: str, actor: str = "root") -> Result:
    return CliRunner().invoke(app, ["--home", str(home), "--as", actor, *args], input=text, env=ENV)


def test_users_teams_and_roles_embedded(tmp_path: Path) -> None:
    ok(tmp_path, "team", "create", "validation", "--title", "Model validation", actor="root")
    made = as_json(
        tmp_path,
        "user",
        "create",
        "vera",
        "--display-name",
        "Vera V",
        "--role",
        "validator",
        "--team",
        "validation",
        actor="root",
    )
    assert (made["name"], sorted(made["roles"]), made["teams"]) == (
        "vera",
        ["validator"],
        ["validation"],
    )
    shown = flat(ok(tmp_path, "user", "create", "otto", "--role", "owner", actor="root").stdout)
    assert "User otto" in shown and "roles owner" in shown and "status active" in shown
    table = flat(ok(tmp_path, "user", "list", actor="root").stdout)
    assert "name display name status roles teams password" in table
    assert "vera Vera V active validator validation" in table
    assert [u["name"] for u in as_json(tmp_path, "user", "list", "--role", "owner")] == ["otto"]

    granted = as_json(tmp_path, "user", "grant", "otto", "approver", "risk_officer")
    assert sorted(granted["roles"]) == ["approver", "owner", "risk_officer"]
    revoked = as_json(tmp_path, "user", "revoke", "otto", "risk_officer")
    assert sorted(revoked["roles"]) == ["approver", "owner"]
    team = as_json(tmp_path, "team", "add", "validation", "otto")
    assert team["members"] == ["otto", "vera"]
    assert "validation Model validation - otto, vera" in flat(ok(tmp_path, "team", "list").stdout)
    # lines of defence: set, shown, refused when unknown, cleared, journalled
    assert as_json(tmp_path, "team", "update", "validation", "--line", "second")["line"] == "second"
    assert "line second (risk and validation)" in flat(
        ok(tmp_path, "team", "show", "validation").stdout
    )
    wrong = run(tmp_path, "team", "update", "validation", "--line", "fourth")
    assert wrong.exit_code == 1 and "Unknown line of defence 'fourth'" in flat(wrong.stderr)
    assert "--line second" in flat(wrong.stderr)
    nothing = run(tmp_path, "team", "update", "validation")
    assert nothing.exit_code == 1 and "Nothing to change" in flat(nothing.stderr)
    assert as_json(tmp_path, "team", "update", "validation", "--line", "")["line"] is None
    assert as_json(tmp_path, "team", "remove", "validation", "otto")["members"] == ["vera"]
    assert (
        "Deleted team validation (1 members)."
        in ok(tmp_path, "team", "delete", "validation").stdout
    )

    off = as_json(tmp_path, "user", "disable", "otto", "--reason", "left")
    assert off["active"] is False
    assert [u["name"] for u in as_json(tmp_path, "user", "list", "--disabled")] == ["otto"]
    assert as_json(tmp_path, "user", "enable", "otto")["active"] is True

    bad = run(tmp_path, "user", "grant", "otto", "wizard")
    assert bad.exit_code == 1
    assert "Unknown role 'wizard'; roles are: admin, owner, validator" in flat(bad.stderr)
    assert len(bad.stderr.strip().splitlines()) == 1
    missing = run(tmp_path, "user", "show", "ghost")
    assert missing.exit_code == 1 and "steward user create ghost" in flat(missing.stderr)

    roles = flat(ok(tmp_path, "user", "roles").stdout)
    assert (
        "auditor reads everything (journal, governance records, evidence), changes nothing" in roles
    )
    assert "(no role) any user model:read, version:read" in roles
    actions = [e["action"] for e in as_json(tmp_path, "audit", "log")]
    assert actions[:4] == ["team.created", "user.created", "user.created", "role.granted"]
    assert "user.disabled" in actions and "team.deleted" in actions


def test_passwords_and_login(tmp_path: Path) -> None:
    ok(tmp_path, "user", "create", "vera", "--role", "validator", actor="root")
    short = with_input(tmp_path, "short\n", "user", "password", "vera", "--password-stdin")
    assert short.exit_code == 1 and "at least 12 characters" in short.stderr
    done = with_input(tmp_path, PASSWORD + "\n", "user", "password", "vera", "--password-stdin")
    assert done.exit_code == 0, done.output
    assert "Password set for vera." in done.stdout
    prompted = with_input(
        tmp_path, "another fine passphrase\nanother fine passphrase\n", "user", "password", "vera"
    )
    assert prompted.exit_code == 0, prompted.output
    wrong = with_input(tmp_path, "not it at all\n", "user", "login", "vera", "--password-stdin")
    assert wrong.exit_code == 1
    assert "Wrong user name or password." in wrong.stderr
    session = with_input(
        tmp_path,
        "another fine passphrase\n",
        "user",
        "login",
        "vera",
        "--password-stdin",
        "--json",
    )
    assert session.exit_code == 0, session.output
    assert '"name": "login session"' in session.stdout and '"token": "stw_' in session.stdout
    empty = with_input(tmp_path, "", "user", "create", "nora", "--password-stdin")
    assert empty.exit_code == 1 and "No password on standard input" in empty.stderr
    failed = as_json(tmp_path, "audit", "log", "--action", "auth.login_failed")
    assert [(e["actor"], e["payload"]) for e in failed] == [("vera", '{"reason":"wrong password"}')]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_user_commands_over_the_api(tmp_path: Path, live_server: LiveServer, token: str) -> None:
    remote = ["--url", live_server.url, "--token", token]  # alice, an admin
    nowhere = tmp_path / "unused"
    made = as_json(nowhere, *remote, "user", "create", "bob", "--role", "auditor")
    assert made["roles"] == ["auditor"] and made["created_by"] == "alice"
    bob = as_json(tmp_path, "token", "create", "--user", "bob", actor="root")["token"]
    as_bob = ["--url", live_server.url, "--token", bob]
    refused = run(nowhere, *as_bob, "user", "grant", "bob", "admin")
    assert refused.exit_code == 1
    assert "bob may not user:manage: they hold roles auditor" in flat(refused.stderr)
    assert [u["name"] for u in as_json(nowhere, *as_bob, "user", "list")] == ["alice", "bob"]
    entered = with_input(
        nowhere, PASSWORD + "\n", *remote, "user", "password", "bob", "--password-stdin"
    )
    assert entered.exit_code == 0, entered.output
    session = with_input(
        nowhere,
        PASSWORD + "\n",
        "--url",
        live_server.url,
        "user",
        "login",
        "bob",
        "--password-stdin",
    )
    assert session.exit_code == 0, session.output
    secret = session.stdout.splitlines()[1]
    me = httpx.get(f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json() == {"user": "bob", "anonymous": False, "roles": ["auditor"], "teams": []}
