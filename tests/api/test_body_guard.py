"""Attack (#12.7): a 1 GiB multipart POST with a bogus token was spooled before the 401,
and callers without the right got 413 instead of 403. Now the body is not read at all
until the caller is authenticated, authorised and under the route's size cap.

The app is driven in-process through httpx's ASGI transport with a streamed body that
counts the chunks the server pulls: a refusal must come after at most one chunk.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tests.conftest import ensure_user

from steward import bootstrap
from steward.api.app import create_app
from steward.domain.permissions import OPERATOR, Principal
from steward.services import models, tokens
from steward.services.context import Context
from steward.settings import Settings

OP = Principal(name="admin", roles=frozenset({OPERATOR}))
CHUNK = 1024 * 1024
BOUNDARY = "steward-test-boundary"


class Body:
    """A multipart body of ``chunks`` MiB that records how much of it was consumed."""

    def __init__(self, chunks: int) -> None:
        self.chunks, self.pulled = chunks, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="artifact"; '
            'filename="m.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        for i in range(self.chunks):
            self.pulled += 1
            yield (head if i == 0 else b"") + b"x" * CHUNK
        yield f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.fixture
def guarded(settings: Settings) -> Any:
    ctx = bootstrap.build(
        settings.with_(max_artifact_bytes=4 * CHUNK, max_json_bytes=64 * 1024), migrate=True
    )
    ensure_user(ctx, "alice", "owner")
    ensure_user(ctx, "nobody")  # a user with no role
    models.create_model(ctx, OP, "credit")
    yield ctx
    ctx.uow.engine.dispose()


def _post(ctx: Context, path: str, token: str | None, body: Any, **headers: str) -> Any:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(ctx))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            if token:
                headers["authorization"] = f"Bearer {token}"
            return await client.post(path, content=body, headers=headers)

    return asyncio.run(go())


MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def test_a_bogus_token_is_refused_before_the_body_is_read(guarded: Context) -> None:
    body = Body(64)
    answer = _post(guarded, "/api/v1/models/credit/versions", "stw_bogus", body, **MULTIPART)
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["code"] == "unauthenticated"
    assert body.pulled <= 1
    no_token = Body(64)
    assert (
        _post(guarded, "/api/v1/models/credit/versions", None, no_token, **MULTIPART).status_code
        == 401
    )
    assert no_token.pulled <= 1


def test_a_caller_without_the_permission_gets_403_not_413(guarded: Context) -> None:
    token = tokens.create_token(guarded, OP, user="nobody").token
    body = Body(64)  # far over the cap as well: the permission is said first
    answer = _post(guarded, "/api/v1/models/credit/versions", token, body, **MULTIPART)
    assert answer.status_code == 403, answer.text
    assert answer.json()["permission"] == "version:write"
    assert body.pulled <= 1


def test_an_authorised_caller_over_the_cap_gets_413(guarded: Context) -> None:
    token = tokens.create_token(guarded, OP, user="alice").token
    streamed = Body(64)  # chunked: no Content-Length, cut off as it streams
    answer = _post(guarded, "/api/v1/models/credit/versions", token, streamed, **MULTIPART)
    assert answer.status_code == 413, answer.text
    assert answer.json()["code"] == "request-too-large"
    assert streamed.pulled <= 6  # the cap (4 MiB + overhead), not the 64 MiB sent
    declared = _post(
        guarded,
        "/api/v1/models",
        token,
        b"{" + b" " * (128 * 1024) + b"}",
        **{"content-type": "application/json"},
    )
    assert declared.status_code == 413 and declared.json()["limit"] == 64 * 1024
    small = _post(
        guarded,
        "/api/v1/models",
        token,
        b'{"name": "scoring"}',
        **{"content-type": "application/json"},
    )
    assert small.status_code == 201, small.text
