"""Request-scoped dependencies: the context and the authenticated principal."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from steward import wire
from steward.domain.errors import Unauthenticated
from steward.domain.permissions import Principal
from steward.services import tokens
from steward.services.context import Context

ANONYMOUS = Principal(name="anonymous", anonymous=True)


async def context(request: Request) -> Context:
    # async on purpose: a plain attribute read should not cost a thread-pool hop.
    return app_context(request)


def app_context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def principal(request: Request) -> Principal:
    ctx = app_context(request)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return tokens.authenticate(ctx, token.strip())
    if header:
        raise Unauthenticated("Use the header 'Authorization: Bearer <token>'.")
    if ctx.settings.allow_anonymous_read:
        return ANONYMOUS
    raise Unauthenticated(
        "This server needs an API token: send 'Authorization: Bearer <token>'. "
        "Create one on the server host with `steward token create --user NAME`."
    )


def respond(value: Any, status: int = 200, tp: Any = None) -> Response:
    """Serialise entities once, with the same adapter the remote SDK reads them with."""
    return Response(wire.dump_json(value, tp), status_code=status, media_type="application/json")
