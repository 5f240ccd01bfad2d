"""The web UI in-process (Starlette TestClient) on SQLite and PostgreSQL: sessions,
CSRF, role-dependent pages, locales, inventory pagination."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from tests.conftest import ensure_user

from steward.api.app import create_app
from steward.domain.audit import AuditFilter
from steward.domain.permissions import OPERATOR, Principal
from steward.services import identity
from steward.services import models as model_service
from steward.services.context import Context
from steward.services.web_views import inventory
from steward.web import i18n

PASSWORD = "correct horse battery staple"
OP = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.fixture
def web(ctx: Context) -> Iterator[TestClient]:
    for name, role in (("olive", "owner"), ("val", "validator")):
        ensure_user(ctx, name, role)
        identity.set_password(ctx, OP, name, PASSWORD)
    with TestClient(create_app(ctx)) as client:
        yield client


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def sign_in(client: TestClient, user: str, password: str = PASSWORD) -> None:
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": user, "password": password, "csrf_token": _csrf(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_pages_need_a_session_and_the_cookie_is_httponly_lax(web: TestClient) -> None:
    response = web.get("/approvals", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fapprovals"
    form = web.get("/login")
    response = web.post(
        "/login",
        data={
            "username": "val",
            "password": PASSWORD,
            "csrf_token": _csrf(form.text),
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"  # never an open redirect
    cookie = response.headers["set-cookie"].lower()
    assert "steward_session=stw_" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_login_needs_its_csrf_token_and_the_right_password(web: TestClient, ctx: Context) -> None:
    web.get("/login")
    refused = web.post("/login", data={"username": "val", "password": PASSWORD})
    assert refused.status_code == 403
    form = web.get("/login")
    wrong = web.post(
        "/login",
        data={"username": "val", "password": "nope nope nope", "csrf_token": _csrf(form.text)},
    )
    assert wrong.status_code == 401
    assert "Wrong user name or password." in wrong.text
    with ctx.uow.read() as uow:
        failed = uow.audit.search(AuditFilter(action="auth.login_failed"), 10)
    assert [e.subject_id for e in failed] == ["val"]


def test_sign_out_revokes_the_session(web: TestClient, ctx: Context) -> None:
    sign_in(web, "val")
    secret = web.cookies.get("steward_session")
    page = web.get("/")
    assert page.status_code == 200 and "Signed in as val" in page.text
    forged = web.post("/logout", data={})
    assert forged.status_code == 403  # no CSRF token: still signed in
    out = web.post("/logout", data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    web.cookies.set("steward_session", secret or "")
    again = web.get("/", follow_redirects=False)
    assert again.status_code == 303  # the old cookie no longer opens a page
    with ctx.uow.read() as uow:
        ended = uow.audit.search(AuditFilter(action="session.ended"), 10)
    assert [e.actor for e in ended] == ["val"]


def test_decisions_need_csrf_and_the_permission(web: TestClient, ctx: Context) -> None:
    from steward.sdk.client import Steward
    from steward.sdk.local import LocalBackend

    owner = Steward(LocalBackend(ctx, "olive"))
    owner.create_model("m1", owner="olive")
    model_service.get_model(ctx, OP, "m1")
    sign_in(web, "olive")
    page = web.get("/approvals")
    assert page.status_code == 200
    assert 'value="approve"' not in page.text  # an owner is offered no approve button
    no_token = web.post("/approvals/req_123/decide", data={"verdict": "approve"})
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    with_token = web.post(
        "/approvals/req_123/decide",
        data={"verdict": "approve", "csrf_token": _csrf(page.text)},
    )
    assert with_token.status_code == 403
    assert "approval:decide" in with_token.text
    with ctx.uow.read() as uow:
        denied = uow.audit.search(AuditFilter(action="approval.denied"), 10)
    assert [e.actor for e in denied] == ["olive"]


def test_zh_tw_by_accept_language_and_by_the_switch(web: TestClient) -> None:
    sign_in(web, "val")
    zh = web.get("/", headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-TW">' in zh.text
    for label in ("模型清冊", "風險等級", "負責人", "登出"):
        assert label in zh.text
    assert "Model inventory" not in zh.text
    switched = web.get(
        "/lang/en?next=/", follow_redirects=True, headers={"Accept-Language": "zh-TW"}
    )
    assert "Model inventory" in switched.text  # the switch beats the browser's preference


def test_every_message_has_a_traditional_chinese_translation() -> None:
    with (i18n.LOCALE_DIR / "zh_TW" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    with (i18n.LOCALE_DIR / "messages.pot").open("rb") as fh:
        template = read_po(fh)
    ids = {m.id for m in template if m.id}
    assert len(ids) > 150
    untranslated = [m.id for m in catalog if m.id and not m.string]
    assert untranslated == []
    assert ids == {m.id for m in catalog if m.id}
    assert i18n.translations("zh-TW").gettext("Approve") == "核准"


def test_locale_formats_dates_and_numbers() -> None:
    assert i18n.Formatter("en").number(12345.678) == "12,345.678"
    assert i18n.Formatter("zh-TW").date(date(2026, 3, 1)) == "2026年3月1日"
    assert i18n.negotiate(None, "zh-Hant-TW,en") == "zh-TW"
    assert i18n.negotiate("en", "zh-TW") == "en"
    assert i18n.negotiate(None, "fr-FR") == "en"


def test_inventory_keyset_pages_cover_every_model_once_in_order(
    ctx: Context, web: TestClient
) -> None:
    tiers = ["high", "low", "medium", "unassessed", "critical"]
    past = date.today() - timedelta(days=3)
    for i in range(23):
        model_service.create_model(
            ctx,
            OP,
            f"model-{i:02d}",
            owner="olive",
            next_review_date=past if i % 7 == 0 else None,
            risk_tier=tiers[i % 5],
            risk_override_reason="test fixture" if i % 5 != 3 else None,
        )
    rank = {"critical": 4, "high": 3, "medium": 2, "low": 1, "unassessed": 0}
    for sort in ("name", "risk", "review"):
        seen, cursor = [], None
        while True:
            page = inventory(ctx, OP, sort=sort, cursor=cursor, limit=5)
            seen.extend(page.rows)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert sorted(r.name for r in seen) == [f"model-{i:02d}" for i in range(23)]
        if sort == "risk":
            keys = [(-rank[r.risk_tier], r.name) for r in seen]
            assert keys == sorted(keys)
        if sort == "review":
            assert [r.name for r in seen[:4]] == ["model-00", "model-07", "model-14", "model-21"]
    sign_in(web, "val")
    html = web.get("/?sort=review").text
    assert html.count('class="overdue') == 4
    bad = web.get("/?cursor=!!!")
    assert bad.status_code == 200 and "Invalid cursor" in bad.text


def test_inventory_and_model_list_share_one_query_and_one_cursor(ctx: Context) -> None:
    for i in range(7):
        model_service.create_model(
            ctx, OP, f"shared-{i}", owner="olive", title=f"Shared scorer {i}", team="risk"
        )
    model_service.create_model(ctx, OP, "other-0", owner="olive", team="ops")
    api = model_service.list_models(ctx, OP, team="risk", q="scorer", limit=3)
    web = inventory(ctx, OP, team="risk", q="scorer", limit=3)
    assert [m.name for m in api.items] == [r.name for r in web.rows]
    # A cursor from either face continues the other's listing.
    assert api.next_cursor == web.next_cursor
    assert api.next_cursor is not None
    rest = inventory(ctx, OP, team="risk", q="scorer", cursor=api.next_cursor, limit=10)
    assert [r.name for r in rest.rows] == [f"shared-{i}" for i in range(3, 7)]
    # The risk order pages from a name cursor too, reading the key from that model's row.
    first = inventory(ctx, OP, sort="risk", limit=4)
    assert first.next_cursor is not None
    after = inventory(ctx, OP, sort="risk", cursor=first.next_cursor, limit=10)
    assert len(first.rows) + len(after.rows) == 8
    assert not {r.name for r in first.rows} & {r.name for r in after.rows}
