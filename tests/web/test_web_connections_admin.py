"""Data connections and lines of defence in the web admin, over HTTP.

An admin registers a PostgreSQL connection whose password is typed into a password
field: the list names the credential held and never shows it; the store holds it
sealed (the database file does not contain it); a refused form is shown again without
it. A non-admin is refused the page and the forms (403, nothing written), and a form
without its CSRF token is refused whoever sends it. A team's line of defence is set
from the teams page, through the same service as `steward team update NAME --line`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.conftest import TEST_OUTBOUND_ALLOW
from tests.web.test_web_pages import PASSWORD, sign_in

from steward import bootstrap
from steward.api.app import create_app
from steward.domain.permissions import OPERATOR, Principal
from steward.services import connections, identity
from steward.services.context import Context
from steward.settings import Settings

OP = Principal(name="admin", roles=frozenset({OPERATOR}))
SECRET = "pg-password-nobody-may-read-back"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Context, TestClient]]:
    ctx = bootstrap.build(
        Settings(
            home=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'steward.db'}",
            artifacts_url=str(tmp_path / "artifacts"),
            outbound_allow=TEST_OUTBOUND_ALLOW,
        ),
        migrate=True,
    )
    identity.create_user(ctx, OP, "root", roles=("admin",), password=PASSWORD)
    identity.create_user(ctx, OP, "olive", roles=("owner",), password=PASSWORD)
    identity.create_team(ctx, OP, "model-validation")
    with TestClient(create_app(ctx)) as client:
        yield ctx, client
    ctx.uow.engine.dispose()


def csrf_of(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def register(client: TestClient, csrf: str, **fields: str) -> httpx.Response:
    form = {
        "csrf_token": csrf,
        "name": "warehouse",
        "kind": "postgresql",
        "location": "postgresql://reader@127.0.0.1:5432/credit",
        "description": "read-only replica",
        "cred_password": SECRET,
        "roles": "validator",
        "teams": "model-validation",
        **fields,
    }
    return client.post("/admin/connections", data=form, follow_redirects=False)


def stored_bytes(tmp: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp.glob("steward.db*"))


def test_an_admin_registers_lists_and_removes_a_connection(
    site: tuple[Context, TestClient], tmp_path: Path
) -> None:
    ctx, client = site
    sign_in(client, "root")
    page = client.get("/admin/connections")
    assert page.status_code == 200 and 'type="password"' in page.text
    made = register(client, csrf_of(page.text))
    assert made.status_code == 303, made.text
    listed = client.get(made.headers["location"])
    assert "The data connection was registered" in listed.text
    assert "warehouse" in listed.text and "password" in listed.text  # the key held
    assert SECRET not in listed.text
    assert listed.headers["cache-control"] == "no-store"
    found = connections.get_connection(ctx, OP, "warehouse")
    assert found.credential_keys == ["password"]
    assert found.roles == ["validator"] and found.teams == ["model-validation"]
    assert SECRET.encode() not in stored_bytes(tmp_path)  # sealed at rest

    # refused input: the form comes back with the service's reason, without the secret
    again = register(client, csrf_of(listed.text), name="lake", kind="folder", location="/srv")
    assert again.status_code == 422
    assert "takes no credential" in again.text and SECRET not in again.text
    assert 'value="lake"' in again.text

    gone = client.post(
        "/admin/connections/warehouse/delete",
        data={"csrf_token": csrf_of(listed.text)},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    assert connections.list_connections(ctx, OP) == []


def test_a_non_admin_and_a_forged_form_are_refused(site: tuple[Context, TestClient]) -> None:
    ctx, client = site
    sign_in(client, "olive")
    assert client.get("/admin/connections").status_code == 403
    csrf = csrf_of(client.get("/tokens").text)  # a valid token of her own session
    refused = register(client, csrf)
    assert refused.status_code == 403
    assert "connection:manage" in refused.text
    line = client.post(
        "/admin/teams/model-validation/line", data={"line": "third", "csrf_token": csrf}
    )
    assert line.status_code == 403
    assert connections.list_connections(ctx, OP) == []
    assert identity.get_team(ctx, OP, "model-validation").line is None
    client.cookies.clear()
    sign_in(client, "root")
    forged = register(client, "not-the-token")
    assert forged.status_code == 403
    assert connections.list_connections(ctx, OP) == []


def test_an_admin_sets_and_clears_a_teams_line_of_defence(
    site: tuple[Context, TestClient],
) -> None:
    ctx, client = site
    sign_in(client, "root")
    csrf = csrf_of(client.get("/admin/teams").text)
    done = client.post(
        "/admin/teams/model-validation/line",
        data={"line": "second", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert identity.get_team(ctx, OP, "model-validation").line == "second"
    shown = client.get(done.headers["location"]).text
    assert "line of defence was set" in shown
    bad = client.post(
        "/admin/teams/model-validation/line", data={"line": "fourth", "csrf_token": csrf}
    )
    assert bad.status_code == 422 and "Unknown line of defence" in bad.text
    client.post("/admin/teams/model-validation/line", data={"line": "", "csrf_token": csrf})
    assert identity.get_team(ctx, OP, "model-validation").line is None
