"""`steward token create|list|revoke`, on the host and over the API."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.cli import helpers
from tests.cli.helpers import flat
from tests.conftest import LiveServer
from typer.testing import Result


def run(home: Path, *args: str) -> Result:
    return helpers.run(home, *args, actor="admin")


def ok(home: Path, *args: str) -> Result:
    return helpers.ok(home, *args, actor="admin")


def as_json(home: Path, *args: str) -> Any:
    return helpers.as_json(home, *args, actor="admin")


def test_create_shows_the_secret_once_and_list_never_does(tmp_path: Path) -> None:
    ok(tmp_path, "user", "create", "bob", "--role", "owner")
    ok(tmp_path, "user", "create", "carol")
    made = ok(tmp_path, "token", "create", "--user", "bob", "--name", "laptop")
    printed = made.stdout.splitlines()
    token_id = printed[0].split()[1]
    assert printed[0] == f"Token {token_id} for bob:"
    secret = printed[1]
    assert re.fullmatch(r"stw_[A-Za-z0-9_-]{43}", secret)
    assert "Store it now: it cannot be shown again." in made.stderr

    data = as_json(tmp_path, "token", "create", "--user", "carol", "--expires-in-days", "7")
    assert data["token"].startswith("stw_") and data["token"] != secret
    assert (data["user"], data["name"], data["created_by"]) == ("carol", "", "admin")
    assert data["expires_at"] is not None and data["revoked_at"] is None

    table = flat(ok(tmp_path, "token", "list").stdout)
    assert "id user name created expires revoked last used" in table
    assert f"{token_id} bob laptop" in table
    assert data["id"] in table
    assert secret not in table and data["token"] not in table
    listed = as_json(tmp_path, "token", "list", "--user", "bob")
    assert [(t["id"], t["user"], t["name"]) for t in listed] == [(token_id, "bob", "laptop")]
    assert "token" not in listed[0]


def test_revoke_and_errors(tmp_path: Path) -> None:
    ok(tmp_path, "user", "create", "bob", "--role", "owner")
    made = as_json(tmp_path, "token", "create", "--user", "bob")
    revoked = ok(tmp_path, "token", "revoke", made["id"])
    assert f"Revoked {made['id']} (bob)" in revoked.stdout
    listed = as_json(tmp_path, "token", "list")
    assert listed[0]["revoked_at"] is not None
    # Revoking again is harmless and records nothing new.
    ok(tmp_path, "token", "revoke", made["id"])
    actions = [e["action"] for e in as_json(tmp_path, "audit", "log")]
    assert actions == ["user.created", "token.created", "token.revoked"]

    unknown = run(tmp_path, "token", "revoke", "tok_nope")
    assert unknown.exit_code == 1
    assert "No token with id 'tok_nope'. List them with `steward token list`." in unknown.stderr
    expiry = run(tmp_path, "token", "create", "--user", "bob", "--expires-in-days", "0")
    assert expiry.exit_code == 1
    assert "expires_in_days must be between 1 and 3650" in expiry.stderr
    nobody = run(tmp_path, "token", "create", "--user", " ")
    assert nobody.exit_code == 1
    assert "A token needs the user it acts as" in nobody.stderr
    stranger = run(tmp_path, "token", "create", "--user", "zoe")
    assert stranger.exit_code == 1
    assert "No user named 'zoe'" in flat(stranger.stderr)
    assert "steward user create zoe" in flat(stranger.stderr)
    ok(tmp_path, "user", "disable", "bob")
    disabled = run(tmp_path, "token", "create", "--user", "bob")
    assert disabled.exit_code == 1
    assert "User bob is disabled" in flat(disabled.stderr)
    missing = run(tmp_path, "token", "create")
    assert missing.exit_code == 2
    assert "--user" in flat(missing.stderr)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_tokens_made_on_the_host_work_over_the_api_for_their_own_user_only(
    tmp_path: Path, live_server: LiveServer
) -> None:
    # The test server's store lives in tmp_path, exactly where `--home tmp_path` looks.
    ok(tmp_path, "user", "create", "bob", "--role", "owner")
    ok(tmp_path, "user", "create", "carol", "--role", "owner")
    bob = as_json(tmp_path, "token", "create", "--user", "bob", "--name", "cli")
    carol = as_json(tmp_path, "token", "create", "--user", "carol")
    remote = ["--url", live_server.url, "--token", bob["token"]]
    nowhere = tmp_path / "unused"
    me = httpx.get(
        f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {bob['token']}"}
    )
    assert me.json()["user"] == "bob"

    own = as_json(nowhere, *remote, "token", "create", "--user", "bob", "--name", "ci")
    assert (own["user"], own["created_by"]) == ("bob", "bob")
    refused = run(nowhere, *remote, "token", "list", "--user", "carol")
    assert refused.exit_code == 1
    assert "bob may only manage their own tokens" in flat(refused.stderr)
    listed = as_json(nowhere, *remote, "token", "list")
    assert {t["user"] for t in listed} == {"bob"}
    assert {t["name"] for t in listed} == {"cli", "ci"}

    other = run(nowhere, *remote, "token", "create", "--user", "carol")
    assert other.exit_code == 1
    assert "bob may only manage their own tokens" in flat(other.stderr)
    steal = run(nowhere, *remote, "token", "revoke", carol["id"])
    assert steal.exit_code == 1
    assert "bob may only manage their own tokens" in flat(steal.stderr)

    assert f"Revoked {own['id']} (bob)" in ok(nowhere, *remote, "token", "revoke", own["id"]).stdout
    after = as_json(tmp_path, "token", "list", "--user", "carol")
    assert [t["revoked_at"] for t in after] == [None]

    ok(tmp_path, "token", "revoke", bob["id"])
    locked_out = run(nowhere, *remote, "token", "list")
    assert locked_out.exit_code == 1
    assert f"API token {bob['id']} was revoked." in flat(locked_out.stderr)
