"""The anonymous-read attack on the web UI: on a server that allows anonymous reads, a
visitor without a session, and a signed-in user without a role, open a model page
that has a check run, a finding, a narrative, a request and a review behind it.
Neither may see any of them; a validator (governance:read) sees them on the same page,
so the assertions below would catch a page that showed them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.api.test_anonymous_read import OPERATOR_P, SECRETS, seed
from tests.conftest import TEST_OUTBOUND_ALLOW, ensure_user
from tests.web.test_web_pages import PASSWORD, sign_in

from steward import bootstrap
from steward.api.app import create_app
from steward.services import identity, tokens
from steward.settings import Settings

PAGES = (
    "/",
    "/models/credit-scoring",
    "/models/credit-scoring?version=1",
    "/models/credit-scoring/monitoring",
    "/models/credit-scoring/versions/1/card?format=html",
    "/compliance/models/credit-scoring",
    "/audit",
    "/audit/witnesses",
    "/findings",
    "/reviews",
    "/approvals",
)


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    ctx = bootstrap.build(
        Settings(
            home=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'steward.db'}",
            artifacts_url=str(tmp_path / "artifacts"),
            allow_anonymous_read=True,
            outbound_allow=TEST_OUTBOUND_ALLOW,
        ),
        migrate=True,
    )
    ensure_user(ctx, "alice", "admin")
    ensure_user(ctx, "nora")  # no role
    ensure_user(ctx, "vera", "validator")
    for name in ("nora", "vera"):
        identity.set_password(ctx, OPERATOR_P, name, PASSWORD)
    secret = tokens.create_token(ctx, OPERATOR_P, user="alice", name="seed").token
    with TestClient(create_app(ctx)) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        values = seed(client, tmp_path)
        del client.headers["Authorization"]
        yield client, values
    ctx.uow.engine.dispose()


def test_an_anonymous_visitor_is_sent_to_sign_in_and_sees_nothing(
    web: tuple[TestClient, dict[str, str]],
) -> None:
    client, values = web
    for page in PAGES:
        response = client.get(page, follow_redirects=False)
        assert response.status_code == 303, page
        assert response.headers["location"].startswith("/login?"), page
        assert not any(s in response.text for s in SECRETS), page
        assert values["run_id"] not in response.text, page


def test_a_user_without_a_role_sees_the_inventory_and_versions_only(
    web: tuple[TestClient, dict[str, str]],
) -> None:
    client, values = web
    sign_in(client, "nora")
    page = client.get("/models/credit-scoring?version=1")
    assert page.status_code == 200
    assert "credit-scoring" in page.text and "v1" in page.text  # the inventory and versions
    assert 'id="restricted"' in page.text
    for hidden in (*SECRETS, values["run_id"], 'id="validation-h"', 'id="findings-h"'):
        assert hidden not in page.text, hidden
    inventory = client.get("/")
    assert inventory.status_code == 200 and "credit-scoring" in inventory.text
    assert "Open findings" not in inventory.text and "Last validation" not in inventory.text
    for governed in PAGES[3:]:
        refused = client.get(governed)
        assert refused.status_code == 403, governed
        assert not any(s in refused.text for s in SECRETS), governed


def test_a_validator_sees_what_was_kept_from_them(
    web: tuple[TestClient, dict[str, str]],
) -> None:
    client, values = web
    sign_in(client, "vera")
    page = client.get("/models/credit-scoring?version=1").text
    assert values["run_id"] in page and SECRETS[0] in page and SECRETS[2] in page
    assert 'id="restricted"' not in page
    assert "Open findings" in client.get("/").text
