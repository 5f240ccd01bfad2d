# ruff: noqa: RUF001  (Traditional Chinese uses full-width punctuation)
"""Administration pages in-process on SQLite and PostgreSQL: creating users (generated or
typed password, inline errors with the values kept), teams and membership, API tokens
(own vs everyone's), webhooks with their delivery log; CSRF and roles on every POST;
service messages translated on zh-TW pages (error codes, gate requirement kinds)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import ensure_user
from tests.web.test_web_pages import PASSWORD, sign_in

from steward.api.app import create_app
from steward.domain.audit import AuditFilter
from steward.domain.errors import Unauthenticated
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.policy import default_pack_text
from steward.domain.specs import VersionSpec
from steward.services import findings, identity, policies, tokens, versions, webhooks
from steward.services import models as model_service
from steward.services.context import Context
from steward.services.webhooks import Outgoing

OP = Principal(name="admin", roles=frozenset({OPERATOR}))
PEOPLE = {"olive": "owner", "val": "validator", "risa": "risk_officer", "aud": "auditor"}


@pytest.fixture
def web(ctx: Context, tmp_path: Path) -> Iterator[TestClient]:
    for name, role in {**PEOPLE, "root": "admin"}.items():
        ensure_user(ctx, name, role)
        identity.set_password(ctx, OP, name, PASSWORD)
    identity.create_team(ctx, OP, "model-validation", title="Model validation")
    olive = Principal(name="olive", roles=frozenset({"owner"}))
    model_service.create_model(ctx, olive, "churn", title="Churn", purpose="retention offers")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"not a real model, but real bytes")
    versions.create_version(ctx, olive, "churn", VersionSpec(description="first"), artifact)
    with TestClient(create_app(ctx)) as client:
        yield client


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _input_value(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*value="([^"]*)"', html)
    assert found, f"no #{element_id} with a value"
    return found.group(1)


def _user_names(ctx: Context) -> set[str]:
    return {u.name for u in identity.list_users(ctx, OP)}


def test_admin_creates_a_user_with_a_generated_password_shown_once(
    web: TestClient, ctx: Context
) -> None:
    sign_in(web, "root")
    form = web.get("/admin/users/new")
    assert form.status_code == 200 and 'name="password_mode"' in form.text
    assert "model-validation" in form.text  # teams to choose from
    made = web.post(
        "/admin/users",
        data={
            "name": "vera",
            "display_name": "Vera V",
            "email": "vera@example.org",
            "password_mode": "generate",
            "roles": ["validator", "approver"],
            "teams": ["model-validation"],
            "csrf_token": _csrf(form.text),
        },
    )
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    secret = _input_value(made.text, "new-password")
    assert len(secret) >= 20
    vera = identity.get_user(ctx, OP, "vera")
    assert vera.roles == {"validator", "approver"} and vera.teams == {"model-validation"}
    assert vera.email == "vera@example.org" and vera.has_password
    with ctx.uow.read() as uow:
        events = uow.audit.search(AuditFilter(action="user.created"), 10)
    created = [e for e in events if e.subject_id == "vera"]
    assert len(created) == 1 and created[0].actor == "root"
    assert secret not in created[0].payload  # never journalled
    # the admin page lists her; the password is not shown again anywhere
    listing = web.get("/admin")
    assert 'id="user-vera"' in listing.text and secret not in listing.text
    web.cookies.clear()
    sign_in(web, "vera", secret)
    assert "Signed in as vera" in web.get("/").text


def test_user_form_errors_are_inline_and_keep_the_values(web: TestClient, ctx: Context) -> None:
    sign_in(web, "root")
    token = _csrf(web.get("/admin/users/new").text)
    before = _user_names(ctx)
    base = {"display_name": "Bad Name", "email": "bad@example.org", "csrf_token": token}
    bad_name = web.post(
        "/admin/users", data={**base, "name": "-nope", "roles": ["owner"], "password_mode": "none"}
    )
    assert bad_name.status_code == 422 and "Invalid user name" in bad_name.text
    assert 'id="user-error"' in bad_name.text
    assert re.search(r'id="u-name"[^>]*value="-nope"[^>]*aria-invalid="true"', bad_name.text)
    assert _input_value(bad_name.text, "u-email") == "bad@example.org"
    assert re.search(r'value="owner" checked', bad_name.text)
    weak = web.post(
        "/admin/users",
        data={**base, "name": "wanda", "password_mode": "set", "password": "short"},
    )
    assert weak.status_code == 422 and "at least 12 characters" in weak.text
    assert 'value="set" checked' in weak.text and "short" not in _input_value(weak.text, "u-name")
    empty = web.post("/admin/users", data={**base, "name": "wanda", "password_mode": "set"})
    assert empty.status_code == 422 and "Type the initial password" in empty.text
    duplicate = web.post("/admin/users", data={**base, "name": "Olive", "password_mode": "none"})
    assert duplicate.status_code == 409 and "already exists" in duplicate.text
    unknown_team = web.post(
        "/admin/users",
        data={**base, "name": "wanda", "password_mode": "none", "teams": ["nosuch"]},
    )
    assert unknown_team.status_code == 404 and "nosuch" in unknown_team.text
    assert _user_names(ctx) == before  # nothing was created
    # without a password a service account is created and the admin page says so
    made = web.post(
        "/admin/users",
        data={**base, "name": "ci-bot", "password_mode": "none"},
        follow_redirects=False,
    )
    assert made.status_code == 303 and "notice=user_created" in made.headers["location"]
    assert not identity.get_user(ctx, OP, "ci-bot").has_password


def test_only_admins_create_users_and_teams_and_forged_posts_change_nothing(
    web: TestClient, ctx: Context
) -> None:
    before = _user_names(ctx)
    sign_in(web, "risa")
    home = web.get("/")
    assert 'href="/admin/users/new"' not in home.text and 'href="/admin"' not in home.text
    assert web.get("/admin/users/new").status_code == 403
    assert web.get("/admin/teams").status_code == 403
    assert web.get("/admin/webhooks").status_code == 403
    token = _csrf(home.text)
    refused = web.post(
        "/admin/users", data={"name": "mallory", "password_mode": "none", "csrf_token": token}
    )
    assert refused.status_code == 403 and "user:manage" in refused.text
    team = web.post("/admin/teams", data={"name": "rogue", "csrf_token": token})
    assert team.status_code == 403
    member = web.post(
        "/admin/teams/model-validation/members",
        data={"user": "risa", "change": "add", "csrf_token": token},
    )
    assert member.status_code == 403
    assert _user_names(ctx) == before
    assert [t.name for t in identity.list_teams(ctx, OP)] == ["model-validation"]
    web.cookies.clear()
    sign_in(web, "root")
    forged = web.post("/admin/users", data={"name": "mallory", "password_mode": "none"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert _user_names(ctx) == before


def test_teams_are_created_and_members_added_and_removed(web: TestClient, ctx: Context) -> None:
    sign_in(web, "root")
    page = web.get("/admin/teams")
    assert page.status_code == 200 and 'id="team-model-validation"' in page.text
    token = _csrf(page.text)
    bad = web.post(
        "/admin/teams", data={"name": "Risk Office", "title": "Risk", "csrf_token": token}
    )
    assert bad.status_code == 422 and "Invalid team name" in bad.text
    assert _input_value(bad.text, "t-name") == "Risk Office"
    assert _input_value(bad.text, "t-title") == "Risk"
    duplicate = web.post("/admin/teams", data={"name": "model-validation", "csrf_token": token})
    assert duplicate.status_code == 409 and "already exists" in duplicate.text
    assert re.search(r'id="t-name"[^>]*aria-invalid="true"', duplicate.text)
    made = web.post(
        "/admin/teams",
        data={"name": "risk-office", "title": "Risk office", "line": "second", "csrf_token": token},
        follow_redirects=False,
    )
    assert made.status_code == 303 and "notice=team_created" in made.headers["location"]
    assert identity.get_team(ctx, OP, "risk-office").line == "second"
    unknown = web.post(
        "/admin/teams", data={"name": "audit", "line": "fourth", "csrf_token": token}
    )
    assert unknown.status_code == 422 and "Unknown line of defence" in unknown.text
    assert re.search(r'id="t-line"[^>]*aria-invalid="true"', unknown.text)
    added = web.post(
        "/admin/teams/risk-office/members",
        data={"user": "risa", "change": "add", "csrf_token": token},
    )
    assert added.status_code == 200 and "The member was added to the team." in added.text
    assert identity.get_team(ctx, OP, "risk-office").members == ("risa",)
    assert "risk-office" in identity.get_user(ctx, OP, "risa").teams
    nobody = web.post(
        "/admin/teams/risk-office/members",
        data={"user": "ghost", "change": "add", "csrf_token": token},
    )
    assert nobody.status_code == 404 and 'id="member-error"' in nobody.text
    removed = web.post(
        "/admin/teams/risk-office/members",
        data={"user": "risa", "change": "remove", "csrf_token": token},
    )
    assert removed.status_code == 200 and "removed from the team" in removed.text
    assert identity.get_team(ctx, OP, "risk-office").members == ()


def test_a_user_creates_and_revokes_their_own_tokens_only(web: TestClient, ctx: Context) -> None:
    root_token = tokens.create_token(ctx, OP, user="root", name="root-ci")
    sign_in(web, "olive")
    page = web.get("/tokens")
    assert page.status_code == 200 and 'href="/tokens"' in page.text
    assert "root-ci" not in page.text  # only her own
    token = _csrf(page.text)
    bad = web.post("/tokens", data={"name": "ci", "expires_in_days": "soon", "csrf_token": token})
    assert bad.status_code == 422 and "whole number of days" in bad.text
    assert _input_value(bad.text, "tk-name") == "ci"
    unnamed = web.post("/tokens", data={"name": " ", "csrf_token": token})
    assert unnamed.status_code == 422 and "Name the token" in unnamed.text
    made = web.post("/tokens", data={"name": "ci", "expires_in_days": "30", "csrf_token": token})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    secret = _input_value(made.text, "token-secret")
    assert secret.startswith("stw_")
    assert tokens.authenticate(ctx, secret).name == "olive"
    listed = web.get("/tokens")
    assert secret not in listed.text  # shown once
    info = next(t for t in tokens.list_tokens(ctx, OP, user="olive") if t.name == "ci")
    assert info.expires_at is not None and f'id="token-{info.id}"' in listed.text
    # another user's token: neither created nor revoked from her session
    other = web.post("/tokens", data={"name": "x", "user": "root", "csrf_token": token})
    assert other.status_code == 403 and "only manage their own tokens" in other.text
    steal = web.post(f"/tokens/{root_token.info.id}/revoke", data={"csrf_token": token})
    assert steal.status_code == 403
    assert tokens.authenticate(ctx, root_token.token).name == "root"
    forged = web.post(f"/tokens/{info.id}/revoke", data={})
    assert forged.status_code == 403
    revoked = web.post(f"/tokens/{info.id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 200 and "The token was revoked" in revoked.text
    with pytest.raises(Unauthenticated):
        tokens.authenticate(ctx, secret)
    assert f'id="token-{info.id}"' not in revoked.text  # hidden unless show=all
    assert f'id="token-{info.id}"' in web.get("/tokens?show=all").text


def test_an_admin_sees_and_revokes_everyones_tokens_and_auditors_have_none(
    web: TestClient, ctx: Context
) -> None:
    olive_token = tokens.create_token(ctx, OP, user="olive", name="olive-laptop")
    sign_in(web, "root")
    page = web.get("/tokens")
    assert "olive-laptop" in page.text and 'id="tk-user"' in page.text
    assert "olive-laptop" in web.get("/tokens?user=olive").text
    assert "olive-laptop" not in web.get("/tokens?user=val").text
    token = _csrf(page.text)
    made = web.post("/tokens", data={"name": "for-val", "user": "val", "csrf_token": token})
    assert made.status_code == 200
    assert tokens.authenticate(ctx, _input_value(made.text, "token-secret")).name == "val"
    gone = web.post(
        f"/tokens/{olive_token.info.id}/revoke",
        data={"csrf_token": token, "back": "/tokens?user=olive"},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    assert gone.headers["location"] == "/tokens?user=olive&notice=token_revoked"
    with pytest.raises(Unauthenticated):
        tokens.authenticate(ctx, olive_token.token)
    web.cookies.clear()
    sign_in(web, "aud")  # auditors get tokens from an admin
    assert 'href="/tokens"' not in web.get("/").text
    refused = web.get("/tokens")
    assert refused.status_code == 403 and "token:manage" in refused.text


class _Receiver:
    """The delivery worker's HTTP sender, answering like a receiver that is down once."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    def __call__(self, outgoing: Outgoing, timestamp: int) -> tuple[int | None, str | None]:
        self.sent.append(outgoing)
        return (503, None) if len(self.sent) == 1 else (204, None)


def test_webhooks_are_created_listed_logged_and_deleted(web: TestClient, ctx: Context) -> None:
    sign_in(web, "root")
    page = web.get("/admin/webhooks")
    assert page.status_code == 200 and 'value="finding.opened"' in page.text
    token = _csrf(page.text)
    bad = web.post(
        "/admin/webhooks",
        data={"url": "ftp://hooks.example.com", "events": ["finding.opened"], "csrf_token": token},
    )
    assert bad.status_code == 422 and "http:// or https://" in bad.text
    assert _input_value(bad.text, "wh-url") == "ftp://hooks.example.com"
    assert 'value="finding.opened" checked' in bad.text
    none = web.post(
        "/admin/webhooks", data={"url": "https://hooks.example.com/s", "csrf_token": token}
    )
    assert none.status_code == 422 and "Choose the events" in none.text
    made = web.post(
        "/admin/webhooks",
        data={
            "url": "https://hooks.example.com/s",
            "events": ["finding.opened"],
            "description": "risk channel",
            "csrf_token": token,
        },
    )
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    secret = _input_value(made.text, "webhook-secret")
    hook = webhooks.list_webhooks(ctx, OP)[0]
    assert secret.startswith("whsec_") and hook.events == ["finding.opened"]
    assert secret not in web.get("/admin/webhooks").text
    # a journal event is queued, the first attempt fails, the retry succeeds
    findings.open_finding(ctx, OP, "churn", title="Calibration drifts", severity="high")
    receiver = _Receiver()
    webhooks.deliver_due(ctx, receiver, backoff_base=timedelta(0))  # retry due at once
    log = web.get(f"/admin/webhooks/{hook.id}")
    assert log.status_code == 200 and "finding.opened" in log.text
    assert "HTTP 503" in log.text and 'class="delivery-pending"' in log.text
    webhooks.deliver_due(ctx, receiver)
    log = web.get(f"/admin/webhooks/{hook.id}")
    assert 'class="delivery-delivered"' in log.text and "2 attempt(s)" in log.text
    assert "delivery-delivered" in web.get(f"/admin/webhooks/{hook.id}?status=delivered").text
    assert "delivery-" not in web.get(f"/admin/webhooks/{hook.id}?status=failed").text
    forged = web.post(f"/admin/webhooks/{hook.id}/delete", data={})
    assert forged.status_code == 403 and webhooks.get_webhook(ctx, OP, hook.id).active
    deleted = web.post(f"/admin/webhooks/{hook.id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 200 and "The webhook was deleted" in deleted.text
    assert not webhooks.get_webhook(ctx, OP, hook.id).active
    assert f'id="webhook-{hook.id}"' in web.get("/admin/webhooks?show=all").text
    web.cookies.clear()
    sign_in(web, "risa")
    refused = web.post(
        "/admin/webhooks",
        data={
            "url": "https://evil.example.com",
            "events": ["*"],
            "csrf_token": _csrf(web.get("/").text),
        },
    )
    assert refused.status_code == 403 and len(webhooks.list_webhooks(ctx, OP)) == 0
    assert web.get(f"/admin/webhooks/{hook.id}").status_code == 403


def test_gate_checklist_is_translated_by_requirement_kind_in_zh_tw(
    web: TestClient, ctx: Context
) -> None:
    policies.load_pack(ctx, OP, default_pack_text(), source="default", activate=True)
    sign_in(web, "root")
    english = web.get("/models/churn")
    assert english.status_code == 200 and "Gate checklist" in english.text
    assert "Details (English)" not in english.text
    web.cookies.set("steward_lang", "zh-TW")
    page = web.get("/models/churn")
    assert page.status_code == 200
    gate = page.text.split('id="gate-h"', 1)[1].split("</table>", 1)[0]
    # the unassessed model's risk requirement, in Chinese, with the English detail kept
    assert "風險評估" in gate
    assert "沒有最新的風險評估" in gate
    # the English detail names the page that fixes it, not the CLI command
    assert "詳細說明（英文）" in gate and "the Assess risk page of the model" in gate
    assert "steward risk assess" not in gate
    assert 'lang="en"' in gate


def test_service_errors_are_translated_by_code_in_zh_tw(web: TestClient, ctx: Context) -> None:
    sign_in(web, "root")
    web.cookies.set("steward_lang", "zh-TW")
    token = _csrf(web.get("/admin").text)
    # a role that does not exist: invalid-input on the field "role" (governance page)
    bad = web.post(
        "/admin/users/olive/roles", data={"role": "wizard", "change": "grant", "csrf_token": token}
    )
    assert bad.status_code == 422
    assert "部分輸入未被接受" in bad.text and "問題出在欄位：角色" in bad.text
    assert "wizard" in bad.text  # the English detail is kept
    missing = web.post("/tokens/tok_nosuch/revoke", data={"csrf_token": token})
    assert missing.status_code == 404 and "您要求的項目不存在" in missing.text
    duplicate = web.post(
        "/admin/users", data={"name": "olive", "password_mode": "none", "csrf_token": token}
    )
    assert duplicate.status_code == 409
    assert "已有名為 olive 的使用者" in duplicate.text and "already exists" in duplicate.text
    # English pages show the service's own wording only
    web.cookies.set("steward_lang", "en")
    again = web.post("/tokens/tok_nosuch/revoke", data={"csrf_token": token})
    assert "What you asked for does not exist." not in again.text and "tok_nosuch" in again.text


def test_admin_pages_in_traditional_chinese(web: TestClient) -> None:
    sign_in(web, "root")
    web.cookies.set("steward_lang", "zh-TW")
    for url, word in (
        ("/admin/users/new", "建立使用者"),
        ("/admin/teams", "建立團隊"),
        ("/tokens", "API 權杖"),
        ("/admin/webhooks", "新增 Webhook"),
    ):
        page = web.get(url)
        assert page.status_code == 200 and word in page.text, url
