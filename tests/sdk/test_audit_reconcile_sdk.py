"""`Steward.reconcile_audit()`, embedded and over HTTP (GET /api/v1/audit/reconcile)."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from tests.conftest import LiveServer, ensure_user

from steward.sdk.client import Steward
from steward.services.context import Context


def test_reconcile_over_both_transports(client: Steward, ctx: Context) -> None:
    client.create_model("credit")
    ensure_user(ctx, "carol", "owner")
    clean = client.reconcile_audit()
    assert clean.ok and clean.discrepancies == () and clean.rows >= 1

    with ctx.uow.engine.begin() as conn:  # failure injection: a row Steward never wrote
        conn.execute(
            text(
                'INSERT INTO user_roles ("user", role, granted_by, granted_at) '
                "VALUES ('carol', 'risk_officer', 'x', CURRENT_TIMESTAMP)"
            )
        )
    result = client.reconcile_audit()
    assert not result.ok
    keys = [(d.table, d.key, d.problem) for d in result.discrepancies]
    assert ("user_roles", "carol/risk_officer", "unexplained") in keys


def test_reconcile_route_needs_a_token(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/api/v1/audit/reconcile")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
