"""The journal page's verify result names checkpoint failures (no event number to give)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.conftest import ensure_user
from tests.web.test_web_pages import OP, PASSWORD, sign_in

from steward.api.app import create_app
from steward.domain import checkpoint as cp
from steward.services import identity, models, transparency
from steward.services.context import Context
from steward.trust.log_key import LogKey


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_forged_checkpoint_shows_on_the_verify_result(ctx: Context) -> None:
    ensure_user(ctx, "aud", "auditor")
    identity.set_password(ctx, OP, "aud", PASSWORD)
    models.create_model(ctx, OP, "credit", purpose="p")
    made = transparency.create_checkpoint(ctx, OP, publish_to=[])
    parsed, _ = cp.parse(made.note)
    forged = LogKey(parsed.origin, ed25519.Ed25519PrivateKey.generate()).sign(parsed)
    with TestClient(create_app(ctx)) as web:
        sign_in(web, "aud")
        assert "✓" in web.get("/audit/verify").text
        with ctx.uow.engine.begin() as conn:
            conn.execute(text("UPDATE audit_checkpoints SET note = :n"), {"n": forged})
        page = web.get("/audit/verify").text
    assert "A signed checkpoint does not check out" in page and "was forged" in page
    assert "#None" not in page


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_journal_page_shows_the_checkpoint_and_verifies_each_event(ctx: Context) -> None:
    """An auditor signs a checkpoint from the page, then checks single events against it;
    an event changed after the checkpoint no longer checks out."""
    ensure_user(ctx, "aud", "auditor")
    ensure_user(ctx, "val", "validator")
    for who in ("aud", "val"):
        identity.set_password(ctx, OP, who, PASSWORD)
    models.create_model(ctx, OP, "credit", purpose="p")
    with TestClient(create_app(ctx)) as web:
        sign_in(web, "aud")
        page = web.get("/audit").text
        assert "No checkpoint yet" in page and "Sign a checkpoint now" in page
        assert "Not covered by a signed checkpoint yet" in web.get("/audit/events/1/check").text
        form = web.get("/audit").text
        token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = web.post("/audit/checkpoints", data={"csrf_token": token}, follow_redirects=False)
        assert signed.status_code == 303 and signed.headers["location"].endswith("checkpointed")
        page = web.get("/audit?notice=checkpointed").text
        assert "A new checkpoint was signed and published." in page
        assert "Checkpoint 1 covers events 1" in page
        assert "In the log signed by checkpoint 1" in web.get("/audit/events/1/check").text
        # a forged form (no CSRF token) signs nothing
        assert web.post("/audit/checkpoints", data={}).status_code in (400, 403)
        with ctx.uow.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 1"))
        changed = web.get("/audit/events/1/check").text
        assert "Does not check out against checkpoint 1" in changed
        # zh-TW page, same answer translated
        web.cookies.set("steward_lang", "zh-TW")
        assert "驗證此事件" in web.get("/audit").text
    with TestClient(create_app(ctx)) as web:
        sign_in(web, "val")
        page = web.get("/audit").text
        assert "Verify this event" in page
        assert "Sign a checkpoint now" not in page  # validators may read, not sign
