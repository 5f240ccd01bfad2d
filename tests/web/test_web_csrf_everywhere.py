"""Every form POST of the web UI refuses a request without the session's CSRF token
before it reads any input — checked over the app's own route table, so a new form
cannot forget it. (Sign-in has its own pre-session token, tested in test_web_pages.)"""

from __future__ import annotations

import re

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from tests.conftest import ensure_user
from tests.web.test_web_pages import PASSWORD, sign_in

from steward.api.app import create_app
from steward.domain.permissions import OPERATOR, Principal
from steward.services import identity
from steward.services.context import Context

OP = Principal(name="admin", roles=frozenset({OPERATOR}))
CSRF_MESSAGE = "CSRF check failed"


def _form_posts() -> list[str]:
    from steward.web import (
        admin_pages,
        governance_pages,
        impact_pages,
        pages,
        policy_pages,
        register_pages,
    )

    paths = []
    modules = (pages, governance_pages, admin_pages, policy_pages, register_pages, impact_pages)
    for module in modules:
        for route in module.router.routes:
            if isinstance(route, APIRoute) and "POST" in route.methods and route.path != "/login":
                paths.append(re.sub(r"\{[^}]+\}", "1", route.path))
    return paths


def test_every_web_form_post_checks_csrf_first(ctx: Context) -> None:
    ensure_user(ctx, "root", "admin")
    identity.set_password(ctx, OP, "root", PASSWORD)
    app = create_app(ctx)
    paths = _form_posts()
    assert len(paths) >= 15  # decisions, findings, reviews, evidence, admin, tokens, policies...
    with TestClient(app) as web:
        sign_in(web, "root")
        for path in paths:
            if path == "/logout":
                continue  # signing out without a token is refused too, but ends nothing
            for form in ({}, {"csrf_token": "forged"}):
                response = web.post(path, data=form, follow_redirects=False)
                assert response.status_code == 403, (path, form, response.status_code)
                assert CSRF_MESSAGE in response.text, path
