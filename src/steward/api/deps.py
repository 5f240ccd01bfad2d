"""Request-scoped dependencies: the context and the authenticated principal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from steward import wire
from steward.domain.errors import Unauthenticated
from steward.domain.permissions import Principal
from steward.services import tokens
from steward.services.context import Context

T = TypeVar("T")
ANONYMOUS = Principal(name="anonymous", anonymous=True)


def app_context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def principal(request: Request) -> Principal:
    # BodyGuard resolved the token before the body was read: reuse its answer.
    resolved: Principal | None = request.scope.get("state", {}).get("steward_principal")
    if resolved is not None:
        return resolved
    ctx = app_context(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        who = tokens.authenticate(ctx, token.strip())
        request.scope.setdefault("state", {})["steward_principal"] = who  # for the access log
        return who
    if header:
        raise Unauthenticated("Use the header 'Authorization: Bearer <token>'.")
    if ctx.settings.allow_anonymous_read:
        return ANONYMOUS
    raise Unauthenticated(
        "This server needs an API token: send 'Authorization: Bearer <token>'. "
        "Create one on the server host with `steward token create --user NAME`."
    )


class Caller:
    """The request's credentials, resolved together with the use case in one worker thread.

    Resolving the token in its own dependency cost a second thread-pool hop per
    request; ``await caller.run(service_fn, *args)`` authenticates and runs the
    synchronous use case in a single hop.
    """

    def __init__(self, request: Request) -> None:
        self.request = request
        self.ctx = app_context(request)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def job() -> T:
            return fn(self.ctx, principal(self.request), *args, **kwargs)

        return await run_in_threadpool(job)


# Documented in OpenAPI (the /docs "Authorize" button) by create_app rather than as a
# Security dependency: that dependency re-parsed the header on every request for nothing,
# since the token is checked in Caller.run together with the use case.
BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API token: `steward token create --user NAME` on the server host.",
}


async def caller(request: Request) -> Caller:
    return Caller(request)


def respond(value: Any, status: int = 200, tp: Any = None) -> Response:
    """Serialise entities once, with the same adapter the remote SDK reads them with."""
    return Response(wire.dump_json(value, tp), status_code=status, media_type="application/json")


def document(rendered: Any) -> Response:
    """A rendered document (model card, OSCAL, BOM) with the file name it should be saved as."""
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={"Content-Disposition": f'inline; filename="{rendered.filename}"'},
    )


def client_address(request: Request) -> str:
    """The caller's address, which sign-in throttles count by (behind a proxy, the one
    its forwarded headers name when the server trusts them)."""
    return request.client.host if request.client else "unknown"
