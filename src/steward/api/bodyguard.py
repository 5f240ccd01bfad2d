"""Authenticate, authorise and size-check a request before anyone reads its body.

Starlette parses a multipart body (spooling it to disk) as soon as a route asks for
its form fields — which happens before the route's own permission check. So for
every request to /api/v1 that carries a body, this ASGI middleware first resolves
the bearer token (401 for a bad one), refuses callers who could not possibly be
allowed (403: anonymous or role-less callers uploading, or a caller without the
upload's permission), then enforces a per-route size cap: uploads up to the
artifact limit, everything else up to ``max_json_bytes`` (413). A declared
``Content-Length`` over the cap is refused without reading a byte; a chunked body
is counted as it streams and cut off at the cap.

The principal resolved here is reused by the route (``deps.principal``), so the
token is looked up once. The service layer still makes every decision about the
object itself; this is only the coarse gate that keeps bodies off the server.
"""

from __future__ import annotations

import json
import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from steward.api import problems
from steward.api.deps import principal
from steward.domain.errors import StewardError
from steward.domain.permissions import Permission, Principal, ensure
from steward.services.context import Context

_BODY_METHODS = {"POST", "PUT", "PATCH"}
_NO_TOKEN_NEEDED = {
    "/api/v1/auth/login",
    "/api/v1/auth/sso/device",
    "/api/v1/auth/sso/device/token",
    "/api/v1/auth/sso/backchannel-logout",
}
# Multipart uploads and the permission each needs (object-level checks stay in services).
UPLOADS: tuple[tuple[re.Pattern[str], Permission | None], ...] = (
    (re.compile(r"^/api/v1/models/[^/]+/versions$"), Permission.VERSION_WRITE),
    (re.compile(r"^/api/v1/models/[^/]+/versions/[^/]+/amend$"), Permission.VERSION_WRITE),
    (re.compile(r"^/api/v1/models/[^/]+/versions/[^/]+/validate$"), Permission.CHECK_RUN),
    (re.compile(r"^/api/v1/evidence/verify$"), None),
)
UPLOAD_OVERHEAD = 1024 * 1024  # multipart boundaries and small form fields


def _upload(path: str) -> tuple[bool, Permission | None]:
    for pattern, permission in UPLOADS:
        if pattern.match(path):
            return True, permission
    return False, None


class BodyGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if (
            scope["type"] != "http"
            or scope["method"] not in _BODY_METHODS
            or not path.startswith("/api/v1/")
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        ctx: Context = request.app.state.ctx
        is_upload, permission = _upload(path)
        if path not in _NO_TOKEN_NEEDED:
            try:
                who = await run_in_threadpool(_gate, request, permission)
            except StewardError as refused:
                await _problem(send, refused.status, refused.to_problem())
                return
            except problems.DATABASE_DOWN:
                await _problem(send, 503, problems.UNAVAILABLE)
                return
            scope.setdefault("state", {})["steward_principal"] = who
        limit = (
            ctx.settings.max_artifact_bytes + UPLOAD_OVERHEAD
            if is_upload
            else ctx.settings.max_json_bytes
        )
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0
        over = False  # the body passed the cap: the app's answer is replaced by a 413
        replaced = False

        async def counted() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Stop feeding the parser; whatever it makes of the cut-off body
                    # (FastAPI turns it into a 400) is answered as 413 below.
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal replaced
            if over:
                if not replaced and message["type"] == "http.response.start":
                    replaced = True
                    await _too_large(send, limit)
                return
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not over:
                raise
        if over and not replaced:
            await _too_large(send, limit)


def _gate(request: Request, permission: Permission | None) -> Principal:
    who = principal(request)  # 401 for a missing, unknown, revoked or expired token
    if permission is not None:
        ensure(who, permission)  # the services' refusal: 401 anonymous, 403 otherwise
    return who


async def _too_large(send: Send, limit: int) -> None:
    detail = (
        f"The request body is larger than this route accepts ({limit} bytes). Uploads are "
        "capped by STEWARD_MAX_ARTIFACT_BYTES, other bodies by STEWARD_MAX_JSON_BYTES."
    )
    await _problem(
        send,
        413,
        {
            "type": "https://steward.dev/problems/request-too-large",
            "title": "Request body too large",
            "status": 413,
            "detail": detail,
            "code": "request-too-large",
            "limit": limit,
        },
    )


async def _problem(send: Send, status: int, body: dict[str, object]) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(payload)).encode()),
        # the body was not read: the connection cannot carry another request
        (b"connection", b"close"),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    if status == 503:
        headers.append((b"retry-after", problems.UNAVAILABLE_RETRY_AFTER.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
