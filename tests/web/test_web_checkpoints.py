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
