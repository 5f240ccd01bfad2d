"""/api/v1/auth/sso/device: command-line sign-in through the single sign-on provider
(OAuth 2.0 device authorization grant, RFC 8628). The server talks to the provider with
its own client credentials; the command line only ever holds the device code.

/api/v1/auth/sso/backchannel-logout: the provider's back-channel logout (OpenID Connect
Back-Channel Logout 1.0) — the address an administrator registers at the provider as the
client's ``backchannel_logout_uri``. It needs no bearer token: the signed logout token is
the authentication."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from steward.api.deps import app_context, client_address, respond
from steward.api.schemas import _Strict
from steward.domain.entities import NewToken
from steward.services import sso

router = APIRouter(prefix="/api/v1/auth/sso", tags=["identity"])


class DevicePoll(_Strict):
    device_code: str = Field(description="The device_code from POST /api/v1/auth/sso/device")


@router.post("/device", response_model=dict[str, Any])
async def device_start(request: Request) -> Response:
    """Start a device sign-in: open ``verification_uri`` and type ``user_code`` there."""
    started = await run_in_threadpool(
        sso.device_start, app_context(request), client_address(request)
    )
    return respond(started)


@router.post("/device/token", response_model=NewToken)
async def device_token(body: DevicePoll, request: Request) -> Response:
    """A session token once the person approved at the provider; 428 until then."""
    done = await run_in_threadpool(
        sso.device_poll, app_context(request), body.device_code, client_address(request)
    )
    return respond(done.token)


class LogoutDone(_Strict):
    sessions_ended: int = Field(description="How many Steward sessions the logout ended")


@router.post("/backchannel-logout", response_model=LogoutDone)
async def backchannel_logout(
    request: Request,
    logout_token: str = Form("", description="The provider's signed logout token (a JWT)"),
) -> Response:
    """End the sessions the provider's logout token names (its subject, or one provider
    session by ``sid``); 400 for a token that does not verify, is stale or was replayed."""
    ended = await run_in_threadpool(sso.backchannel_logout, app_context(request), logout_token)
    answer = respond(LogoutDone(sessions_ended=ended))
    answer.headers["Cache-Control"] = "no-store"  # the specification's section 2.8
    return answer
