"""/api/v1/notifications — the calling user's own notifications and preferences."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from steward.api.deps import Caller, caller, respond
from steward.api.schemas import PreferencesBody
from steward.domain.notifications import Notification, OutboxStatus, Preferences
from steward.services import notifications

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("", response_model=list[Notification])
async def list_(
    unread_only: bool = False,
    limit: int = 50,
    before: int | None = None,
    call: Caller = Depends(caller),
) -> Response:
    found = await call.run(
        notifications.list_mine, unread_only=unread_only, limit=limit, before=before
    )
    return respond(found, tp=list[Notification])


@router.get("/unread", response_model=dict[str, int])
async def unread(call: Caller = Depends(caller)) -> Response:
    return respond({"unread": await call.run(notifications.unread_count)})


@router.post("/read-all", response_model=dict[str, int])
async def read_all(call: Caller = Depends(caller)) -> Response:
    return respond({"changed": await call.run(notifications.mark_all_read)})


@router.post("/{notification_id}/read", response_model=dict[str, int])
async def read(notification_id: int, call: Caller = Depends(caller)) -> Response:
    return respond({"changed": await call.run(notifications.mark_read, notification_id)})


@router.get("/preferences", response_model=Preferences)
async def get_preferences(call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(notifications.get_prefs))


@router.put("/preferences", response_model=Preferences)
async def set_preferences(body: PreferencesBody, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(notifications.set_prefs, **body.model_dump()))


@router.post("/test-email", response_model=dict[str, str])
async def test_email(call: Caller = Depends(caller)) -> Response:
    return respond({"address": await call.run(notifications.send_test)})


@router.get("/outbox", response_model=OutboxStatus)
async def outbox(call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(notifications.status))
