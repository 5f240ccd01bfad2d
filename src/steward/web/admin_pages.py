"""Administration pages beyond ``/admin``: creating users and teams, team membership, API
tokens (everyone's own; an admin sees and revokes all) and webhooks with their delivery
log. Every POST carries the CSRF token; the services check every permission again, and a
refusal is shown with the service's reason (translated by error code on zh-TW pages)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from steward.domain import webhooks as hook_rules
from steward.domain.entities import TokenInfo
from steward.domain.errors import Forbidden, InvalidInput, StewardError
from steward.domain.permissions import Role
from steward.services import identity, tokens, webhooks
from steward.web import i18n, session
from steward.web.pages import _ENVS, NOTICES, Page, _csrf_refusal, _page

router = APIRouter(include_in_schema=False)
GENERATED_PASSWORD_BYTES = 18  # token_urlsafe: 24 characters

NOTICES.update(
    {
        "user_created": i18n.N_("The user was created."),
        "team_created": i18n.N_("The team was created."),
        "member_added": i18n.N_("The member was added to the team."),
        "member_removed": i18n.N_("The member was removed from the team."),
        "line_set": i18n.N_("The team's line of defence was set; gates read it from now on."),
        "token_revoked": i18n.N_("The token was revoked; it no longer works."),
        "webhook_deleted": i18n.N_(
            "The webhook was deleted: nothing more is sent to it and its log is kept."
        ),
    }
)
i18n.LABELS.update(
    {
        "revoked": i18n.N_("revoked"),
        "expired": i18n.N_("expired"),
        "pending": i18n.N_("pending"),
        "delivered": i18n.N_("delivered"),
        "cancelled": i18n.N_("cancelled"),
        "deleted": i18n.N_("deleted"),
    }
)
for _code, _env in _ENVS.items():
    i18n.install_helpers(_env, _code)


def _ensure_admin(page: Page, permission: str = "user:manage") -> None:
    if not page.can(permission):
        raise Forbidden(
            page.gettext("Only administrators may do this (it needs %(permission)s); ask an admin.")
            % {"permission": permission},
            permission=permission,
        )


def _guarded(
    page: Page, csrf_token: str, permission: str | None = "user:manage"
) -> Response | None:
    """Refuse a forged POST, then a caller without the permission, before reading input."""
    if not session.csrf_valid(page.secret, csrf_token):
        return _csrf_refusal(page)
    if permission is not None and not page.can(permission):
        refused = Forbidden(
            page.gettext("Only administrators may do this (it needs %(permission)s); ask an admin.")
            % {"permission": permission},
            permission=permission,
        )
        return page.refusal(refused, "/")
    return None


def _no_store(response: Response) -> Response:
    """A page that shows a secret once must not be kept by the browser or a proxy."""
    response.headers["cache-control"] = "no-store"
    return response


# -- users ----------------------------------------------------------------------------------


def _user_form(
    page: Page, status: int = 200, values: dict[str, Any] | None = None, error: Any = None
) -> Response:
    _ensure_admin(page)
    assert page.principal is not None
    teams = identity.list_teams(page.ctx, page.principal)
    form = {
        "name": "",
        "display_name": "",
        "email": "",
        "password_mode": "generate",
        "roles": [],
        "teams": [],
    }
    form.update(values or {})
    return page.render(
        "admin_user_new.html",
        status=status,
        form=form,
        error=error,
        field=(error.extra.get("field") if error is not None else None),
        roles=[r.value for r in Role],
        teams=teams,
    )


@router.get("/admin/users/new")
async def new_user(request: Request) -> Response:
    return await _page(request, lambda page: _user_form(page))


@router.post("/admin/users")
async def create_user(
    request: Request,
    name: str = Form(""),
    display_name: str = Form(""),
    email: str = Form(""),
    password_mode: str = Form("generate"),
    password: str = Form(""),
    roles: list[str] = Form([]),
    teams: list[str] = Form([]),
    csrf_token: str = Form(""),
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        refused = _guarded(page, csrf_token)
        if refused is not None:
            return refused
        values = {
            "name": name.strip(),
            "display_name": display_name,
            "email": email,
            "password_mode": password_mode,
            "roles": roles,
            "teams": teams,
        }
        generated = None
        try:
            if password_mode == "generate":
                generated = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
                chosen: str | None = generated
            elif password_mode == "set":
                if not password:
                    raise InvalidInput(
                        "Type the initial password (at least 12 characters), or choose to "
                        "generate one.",
                        field="password",
                    )
                chosen = password
            elif password_mode == "none":
                chosen = None
            else:
                raise InvalidInput(
                    "Choose how the user gets a password: generate, set or none.",
                    field="password",
                )
            user = identity.create_user(
                page.ctx,
                page.principal,
                name.strip(),
                display_name=display_name,
                email=email,
                roles=roles,
                teams=teams,
                password=chosen,
            )
        except Forbidden as refused_:
            return page.refusal(refused_, "/admin")
        except StewardError as bad:
            return _user_form(page, status=bad.status, values=values, error=bad)
        if generated is None:
            return RedirectResponse(
                f"/admin?notice=user_created#user-{quote(user.name)}", status_code=303
            )
        return _no_store(page.render("admin_user_created.html", user=user, password=generated))

    return await _page(request, build)


# -- teams ----------------------------------------------------------------------------------


def _teams_page(
    page: Page,
    status: int = 200,
    form: dict[str, str] | None = None,
    error: Any = None,
    member_error: Any = None,
    member_team: str = "",
    line_error: Any = None,
    line_team: str = "",
) -> Response:
    _ensure_admin(page)
    assert page.principal is not None
    return page.render(
        "admin_teams.html",
        status=status,
        teams=identity.list_teams(page.ctx, page.principal),
        users=[u.name for u in identity.list_users(page.ctx, page.principal, active=True)],
        form=form or {"name": "", "title": "", "description": "", "line": ""},
        error=error,
        field=(error.extra.get("field") if error is not None else None),
        member_error=member_error,
        member_team=member_team,
        line_error=line_error,
        line_team=line_team,
    )


@router.get("/admin/teams")
async def teams_page(request: Request) -> Response:
    return await _page(request, lambda page: _teams_page(page))


@router.post("/admin/teams")
async def create_team(
    request: Request,
    name: str = Form(""),
    title: str = Form(""),
    description: str = Form(""),
    line: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        refused = _guarded(page, csrf_token)
        if refused is not None:
            return refused
        form = {"name": name.strip(), "title": title, "description": description, "line": line}
        try:
            if len(description) > 2000:
                raise InvalidInput(
                    "A team description has at most 2000 characters.", field="description"
                )
            team = identity.create_team(
                page.ctx,
                page.principal,
                name.strip(),
                title=title,
                description=description,
                line=line or None,
            )
        except Forbidden as refused_:
            return page.refusal(refused_, "/admin/teams")
        except StewardError as bad:
            if bad.extra.get("team") == name.strip() and "field" not in bad.extra:
                bad.extra["field"] = "name"  # a duplicate name: point at the name field
            return _teams_page(page, status=bad.status, form=form, error=bad)
        return RedirectResponse(
            f"/admin/teams?notice=team_created#team-{quote(team.name)}", status_code=303
        )

    return await _page(request, build)


@router.post("/admin/teams/{team}/members")
async def change_member(
    request: Request,
    team: str,
    user: str = Form(""),
    change: str = Form("add"),
    csrf_token: str = Form(""),
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        refused = _guarded(page, csrf_token)
        if refused is not None:
            return refused
        try:
            if not user.strip():
                raise InvalidInput("Choose the user to add to the team.", field="user")
            if change == "add":
                identity.add_member(page.ctx, page.principal, team, user.strip())
            elif change == "remove":
                identity.remove_member(page.ctx, page.principal, team, user.strip())
            else:
                raise InvalidInput("Choose add or remove.", field="change")
        except Forbidden as refused_:
            return page.refusal(refused_, "/admin/teams")
        except StewardError as bad:
            return _teams_page(page, status=bad.status, member_error=bad, member_team=team)
        notice = "member_added" if change == "add" else "member_removed"
        return RedirectResponse(f"/admin/teams?notice={notice}#team-{quote(team)}", status_code=303)

    return await _page(request, build)


@router.post("/admin/teams/{team}/line")
async def set_line(
    request: Request, team: str, line: str = Form(""), csrf_token: str = Form("")
) -> Response:
    """A team's line of defence (first, second, third, or none), as `steward team update
    NAME --line`; the gate reads it at the next check."""

    def build(page: Page) -> Response:
        assert page.principal is not None
        refused = _guarded(page, csrf_token)
        if refused is not None:
            return refused
        try:
            identity.update_team(page.ctx, page.principal, team, line=line)
        except Forbidden as refused_:
            return page.refusal(refused_, "/admin/teams")
        except StewardError as bad:
            return _teams_page(page, status=bad.status, line_error=bad, line_team=team)
        return RedirectResponse(f"/admin/teams?notice=line_set#team-{quote(team)}", status_code=303)

    return await _page(request, build)


# -- API tokens -----------------------------------------------------------------------------


def _token_state(info: TokenInfo, now: datetime) -> str:
    if info.revoked_at is not None:
        return "revoked"
    if info.expires_at is not None and info.expires_at <= now:
        return "expired"
    return "active"


def _tokens_page(
    page: Page,
    *,
    user: str = "",
    show: str = "live",
    status: int = 200,
    created: Any = None,
    form: dict[str, str] | None = None,
    error: Any = None,
) -> Response:
    assert page.principal is not None
    admin = page.can("user:manage")
    if not page.can("token:manage"):
        raise Forbidden(
            page.gettext(
                "Your roles do not include managing API tokens (token:manage); an admin "
                "issues tokens for you."
            ),
            permission="token:manage",
        )
    wanted = (user or None) if admin else page.principal.name
    now = page.ctx.uow.clock()
    listed = sorted(
        tokens.list_tokens(page.ctx, page.principal, user=wanted),
        key=lambda t: t.created_at,
        reverse=True,
    )
    rows = [{"t": t, "state": _token_state(t, now)} for t in listed]
    if show != "all":
        rows = [r for r in rows if r["state"] == "active"]
    users = [u.name for u in identity.list_users(page.ctx, page.principal)] if admin else []
    return page.render(
        "tokens.html",
        status=status,
        rows=rows,
        admin=admin,
        users=users,
        user=wanted or "",
        show=show,
        created=created,
        form=form or {"name": "", "expires_in_days": "", "user": page.principal.name},
        error=error,
        field=(error.extra.get("field") if error is not None else None),
        session_name=identity.SESSION_TOKEN_NAME,
    )


@router.get("/tokens")
async def tokens_page(request: Request, user: str = "", show: str = "live") -> Response:
    return await _page(request, lambda page: _tokens_page(page, user=user, show=show))


@router.post("/tokens")
async def create_token(
    request: Request,
    name: str = Form(""),
    expires_in_days: str = Form(""),
    user: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        refused = _guarded(page, csrf_token, permission=None)
        if refused is not None:
            return refused
        owner = user.strip() or page.principal.name
        form = {"name": name, "expires_in_days": expires_in_days, "user": owner}
        try:
            days = None
            if expires_in_days.strip():
                try:
                    days = int(expires_in_days)
                except ValueError as bad:
                    raise InvalidInput(
                        f"Expiry {expires_in_days!r} is not a whole number of days; leave it "
                        "empty for a token that does not expire.",
                        field="expires_in_days",
                    ) from bad
            if not name.strip():
                raise InvalidInput(
                    "Name the token after where it is used (e.g. 'ci' or 'laptop'), so you "
                    "know which one to revoke.",
                    field="name",
                )
            issued = tokens.create_token(
                page.ctx, page.principal, user=owner, name=name.strip(), expires_in_days=days
            )
        except Forbidden as refused_:
            return page.refusal(refused_, "/tokens")
        except StewardError as bad:
            return _tokens_page(page, status=bad.status, form=form, error=bad)
        return _no_store(_tokens_page(page, created=issued))

    return await _page(request, build)


@router.post("/tokens/{token_id}/revoke")
async def revoke_token(
    request: Request, token_id: str, back: str = Form("/tokens"), csrf_token: str = Form("")
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        refused = _guarded(page, csrf_token, permission=None)
        if refused is not None:
            return refused
        target = session.safe_next(back)
        try:
            tokens.revoke_token(page.ctx, page.principal, token_id)
        except StewardError as refused_:
            return page.refusal(refused_, target)
        path, _, query = target.partition("?")
        kept = [(k, v) for k, v in parse_qsl(query) if k != "notice"]
        query = urlencode([*kept, ("notice", "token_revoked")])
        return RedirectResponse(f"{path}?{query}", status_code=303)

    return await _page(request, build)


# -- webhooks -------------------------------------------------------------------------------


def _webhooks_page(
    page: Page,
    *,
    show: str = "active",
    status: int = 200,
    created: Any = None,
    form: dict[str, Any] | None = None,
    error: Any = None,
) -> Response:
    _ensure_admin(page, "webhook:manage")
    assert page.principal is not None
    hooks = webhooks.list_webhooks(page.ctx, page.principal, include_deleted=show == "all")
    return page.render(
        "webhooks.html",
        status=status,
        hooks=hooks,
        show=show,
        events=hook_rules.EVENTS,
        created=created,
        form=form or {"url": "", "events": [], "description": ""},
        error=error,
        field=(error.extra.get("field") if error is not None else None),
    )


@router.get("/admin/webhooks")
async def webhooks_page(request: Request, show: str = "active") -> Response:
    return await _page(request, lambda page: _webhooks_page(page, show=show))


@router.post("/admin/webhooks")
async def create_webhook(
    request: Request,
    url: str = Form(""),
    events: list[str] = Form([]),
    description: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        refused = _guarded(page, csrf_token, "webhook:manage")
        if refused is not None:
            return refused
        form = {"url": url, "events": events, "description": description}
        try:
            made = webhooks.create_webhook(
                page.ctx, page.principal, url=url, events=events, description=description
            )
        except Forbidden as refused_:
            return page.refusal(refused_, "/admin/webhooks")
        except StewardError as bad:
            return _webhooks_page(page, status=bad.status, form=form, error=bad)
        return _no_store(_webhooks_page(page, created=made))

    return await _page(request, build)


@router.post("/admin/webhooks/{webhook_id}/delete")
async def delete_webhook(request: Request, webhook_id: str, csrf_token: str = Form("")) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        refused = _guarded(page, csrf_token, "webhook:manage")
        if refused is not None:
            return refused
        try:
            webhooks.delete_webhook(page.ctx, page.principal, webhook_id)
        except StewardError as refused_:
            return page.refusal(refused_, "/admin/webhooks")
        return RedirectResponse("/admin/webhooks?notice=webhook_deleted", status_code=303)

    return await _page(request, build)


@router.get("/admin/webhooks/{webhook_id}")
async def webhook_log(request: Request, webhook_id: str, status: str = "") -> Response:
    def build(page: Page) -> Response:
        _ensure_admin(page, "webhook:manage")
        assert page.principal is not None
        hook = webhooks.get_webhook(page.ctx, page.principal, webhook_id)
        error = None
        try:
            log = webhooks.list_deliveries(
                page.ctx, page.principal, webhook_id, status=status or None, limit=200
            )
        except StewardError as bad:
            if isinstance(bad, Forbidden):
                raise
            error, log = bad, []
        return page.render(
            "admin_webhook_log.html",
            hook=hook,
            log=log,
            status_filter=status,
            statuses=[s.value for s in hook_rules.DeliveryStatus],
            error=error,
        )

    return await _page(request, build)
