"""The web UI asks the same object-level rule: bob is offered no move on alice's model,
and a forged form is refused with the service's reason on a page, never a 500."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from tests.services.test_object_authorisation import ADMIN, credit_scoring
from tests.web.test_web_pages import PASSWORD, sign_in

from steward.api.app import create_app
from steward.services import approvals, identity
from steward.services.context import Context


def test_bob_gets_no_request_form_and_a_forged_one_is_refused(ctx: Context, tmp_path: Path) -> None:
    credit_scoring(ctx, tmp_path, count=1)
    for name in ("alice", "bob"):
        identity.set_password(ctx, ADMIN, name, PASSWORD)
    before = snapshot_v1(ctx)
    with TestClient(create_app(ctx)) as web:
        sign_in(web, "alice")
        assert "request-form" in web.get("/models/credit-scoring?version=1").text
        web.cookies.clear()
        sign_in(web, "bob")
        page = web.get("/models/credit-scoring?version=1")
        assert page.status_code == 200
        assert "request-form" not in page.text
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        forged = web.post(
            "/models/credit-scoring/versions/1/request",
            data={"to": "validation", "justification": "mine now", "csrf_token": csrf},
            follow_redirects=False,
        )
        assert forged.status_code == 403
        assert "credit-scoring" in forged.text and "alice" in forged.text
    assert snapshot_v1(ctx) == before


def snapshot_v1(ctx: Context) -> object:
    return [r.id for r in approvals.list_requests(ctx, ADMIN, model="credit-scoring")]


def test_bob_gets_no_impact_form_on_alices_model_and_a_forged_one_is_refused(
    ctx: Context, tmp_path: Path
) -> None:
    from steward.services import impact

    credit_scoring(ctx, tmp_path, count=1)
    for name in ("alice", "bob"):
        identity.set_password(ctx, ADMIN, name, PASSWORD)
    with TestClient(create_app(ctx)) as web:
        sign_in(web, "alice")
        assert "impact-form" in web.get("/models/credit-scoring/impact").text
        web.cookies.clear()
        sign_in(web, "bob")
        page = web.get("/models/credit-scoring/impact")
        assert page.status_code == 200
        assert "impact-form" not in page.text and "impact-decide" not in page.text
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        forged = web.post(
            "/models/credit-scoring/impact",
            data={"intended_purpose": "mine now", "csrf_token": csrf},
            follow_redirects=False,
        )
        assert forged.status_code == 403 and "credit-scoring" in forged.text
    assert impact.history(ctx, ADMIN, "credit-scoring") == []
