"""/notifications: the signed-in person's notifications (mark read, mark all read) and
their notification preferences. Everything here is the caller's own: the service takes
the recipient from the session, never from the form."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from steward.domain.errors import InvalidInput
from steward.domain.notifications import KIND_TEXT, LANGUAGES, Delivery, Kind, headline
from steward.services import notifications
from steward.web.pages import Page, _page

router = APIRouter(include_in_schema=False)


def _view(
    page: Page, *, refused: InvalidInput | None = None, typed: dict[str, str] | None = None
) -> Response:
    assert page.principal is not None
    found = notifications.list_mine(page.ctx, page.principal, limit=100)
    prefs = notifications.get_prefs(page.ctx, page.principal)
    return page.render(
        "notifications.html",
        status=422 if refused is not None else 200,
        notes=found,
        headline=lambda note: headline(note, page.lang),
        prefs=prefs,
        kinds=[(k.value, KIND_TEXT[page.lang][k]) for k in Kind],
        deliveries=[d.value for d in Delivery],
        languages=LANGUAGES,
        refused=refused,
        typed=typed or {},
    )


@router.get("/notifications")
async def notifications_page(request: Request) -> Response:
    return await _page(request, _view)


@router.post("/notifications/read-all")
async def read_all(request: Request, csrf_token: str = Form("")) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        notifications.mark_all_read(page.ctx, page.principal)
        return RedirectResponse("/notifications?notice=notifications_read", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)


@router.post("/notifications/{notification_id}/read")
async def read_one(request: Request, notification_id: int, csrf_token: str = Form("")) -> Response:
    def build(page: Page) -> Response:
        assert page.principal is not None
        notifications.mark_read(page.ctx, page.principal, notification_id)
        return RedirectResponse("/notifications?notice=notifications_read", status_code=303)

    return await _page(request, build, csrf_token=csrf_token)


@router.post("/notifications/preferences")
async def save_preferences(request: Request) -> Response:
    form = await request.form()
    kinds = [str(v) for v in form.getlist("email_kinds")]
    delivery = str(form.get("delivery", ""))
    language = str(form.get("language", ""))
    timezone = str(form.get("timezone", ""))

    def build(page: Page) -> Response:
        assert page.principal is not None
        try:
            notifications.set_prefs(
                page.ctx,
                page.principal,
                email_kinds=kinds,
                delivery=delivery,
                language=language,
                timezone=timezone,
            )
        except InvalidInput as refused:
            typed = {"timezone": timezone, "language": language, "delivery": delivery}
            return _view(page, refused=refused, typed=typed)
        return RedirectResponse("/notifications?notice=preferences_saved", status_code=303)

    return await _page(request, build, csrf_token=str(form.get("csrf_token", "")))
