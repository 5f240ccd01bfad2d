"""Single sign-on in the web UI: ``/sso/login`` sends the browser to the provider with a
fresh state, nonce and PKCE challenge (their secrets sealed into a short-lived cookie scoped
to ``/sso``), ``/sso/callback`` finishes it through ``services.sso.complete`` and opens
the same session cookie a password sign-in does. A refused sign-in is a page that says
why and offers to start again; nothing is signed in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from steward.domain.errors import StewardError
from steward.services import identity, sso
from steward.web import session
from steward.web.pages import Page

router = APIRouter(include_in_schema=False)
FLOW_COOKIE = "steward_sso_flow"


def _failed(page: Page, refused: StewardError) -> Response:
    response = page.render(
        "sso_failed.html",
        status=refused.status if 400 <= refused.status < 600 else 401,
        message=str(refused),
        error=refused,
        sso_name=page.ctx.settings.oidc_name,
    )
    response.delete_cookie(FLOW_COOKIE, path="/sso")
    return response


@router.get("/sso/login")
async def sso_login(request: Request, next: str = "/") -> Response:
    def job() -> Response:
        page = Page(request)
        try:
            url, sealed = sso.begin(
                page.ctx, str(request.url_for("sso_callback")), session.safe_next(next)
            )
        except StewardError as refused:
            return _failed(page, refused)
        moved = RedirectResponse(url, status_code=303)
        # Lax, not Strict: the provider's redirect back is a top-level cross-site navigation.
        moved.set_cookie(
            FLOW_COOKIE,
            sealed,
            max_age=sso.FLOW_SECONDS,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/sso",
        )
        return moved

    return await run_in_threadpool(job)


@router.get("/sso/callback", name="sso_callback")
async def sso_callback(request: Request) -> Response:
    def job() -> Response:
        page = Page(request)
        try:
            done, target = sso.complete(
                page.ctx, request.cookies.get(FLOW_COOKIE), dict(request.query_params)
            )
        except StewardError as refused:
            return _failed(page, refused)
        moved = RedirectResponse(session.safe_next(target), status_code=303)
        session.set_session(moved, request, done.token.token, identity.SESSION_HOURS * 3600)
        session.mark_sso(moved, request, identity.SESSION_HOURS * 3600)
        moved.delete_cookie(FLOW_COOKIE, path="/sso")
        return moved

    return await run_in_threadpool(job)
