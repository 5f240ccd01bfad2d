"""RFC 9457 problem+json for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException

from steward import extras
from steward.domain.errors import StewardError, Unauthenticated

MEDIA_TYPE = "application/problem+json"
MAX_INT = 2**31 - 1  # the smallest integer column of the supported databases
log = logging.getLogger("steward.api")
# Pydantic's wording for the two mistakes people make most, said so they can act on it.
_FRIENDLY = {
    "extra_forbidden": "unknown field; remove it",
    "missing": "required field is missing",
}


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `code` is stable for programs, `detail` is "
    "written for people and names the fix. Errors may add context members "
    "(`field`, `model`, `version`, `permission`, `errors`, ...).",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
    },
    "additionalProperties": True,
}
_WHY = {
    401: "No, unknown, revoked or expired token",
    403: "The caller's roles or relation to the object do not allow this",
    404: "An object named in the path or body does not exist",
    409: "The request conflicts with the object's current state",
    413: "The request body is larger than this route accepts",
    422: "The request is malformed or names invalid values",
    429: "Too many attempts; retry after the Retry-After header's seconds",
    500: "An unexpected failure (logged); nothing was changed",
    503: "The database is unreachable (retry after Retry-After seconds) or its schema needs "
    "`steward init`",
}


def document(operation: dict[str, Any], method: str, path: str, *, public: bool) -> None:
    """Add the problem responses ``operation`` can give to its OpenAPI description."""
    # Any operation can meet a missing object (a path id, a body reference, "the active
    # pack"), a throttled client or a store being upgraded.
    codes = {404, 422, 429, 500, 503}
    if not public or method == "post":  # signing in with a wrong password is a 401 too
        codes.add(401)
    if not public:
        codes.add(403)
    if method in ("post", "put", "patch", "delete"):
        codes |= {409, 413}
    content = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    responses = operation.setdefault("responses", {})
    for code in sorted(codes):
        responses[str(code)] = {"description": _WHY[code], "content": content}


# What a request meets while the database is away (also answered by the body guard,
# which authenticates before the app's own handlers run).
UNAVAILABLE: dict[str, Any] = {
    "type": "https://steward.dev/problems/database-unavailable",
    "title": "Database unavailable",
    "status": 503,
    "detail": "The database could not be reached; nothing was changed. Try again in a few "
    "seconds.",
    "code": "database-unavailable",
}
UNAVAILABLE_RETRY_AFTER = "5"
DATABASE_DOWN = (OperationalError, InterfaceError)


def problem(status: int, title: str, detail: str, code: str, **extra: Any) -> JSONResponse:
    body = {
        **extra,  # first, so it can never overwrite the RFC 9457 members
        "type": f"https://steward.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _out_of_range() -> JSONResponse:
    return problem(
        422,
        "Number out of range",
        f"A number in the request is larger than Steward stores (ids, versions and counts "
        f"are at most {MAX_INT}); no such record can exist.",
        "out-of-range",
    )


_ANONYMOUS_WRITE = Unauthenticated(
    "Changing anything needs an API token of a user with a role; anonymous callers may "
    "only read the inventory and version metadata. Send 'Authorization: Bearer <token>'."
)


def _anonymous_write(request: Request) -> bool:
    """A body-carrying request the body guard resolved to the anonymous principal."""
    who = request.scope.get("state", {}).get("steward_principal")
    return request.method in ("POST", "PUT", "PATCH") and bool(getattr(who, "anonymous", False))


def install(app: FastAPI) -> None:
    @app.exception_handler(StewardError)
    async def steward_error(request: Request, exc: StewardError) -> JSONResponse:
        body = exc.to_problem()
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if exc.status == 429 and "retry_after" in exc.extra:
            headers = {"Retry-After": str(exc.extra["retry_after"])}
        return JSONResponse(body, status_code=exc.status, media_type=MEDIA_TYPE, headers=headers)

    @app.exception_handler(ModuleNotFoundError)
    async def missing_module(request: Request, exc: ModuleNotFoundError) -> JSONResponse:
        # An optional library this server was installed without: say which extra adds it.
        found = extras.from_import_error(exc)
        if found is None:
            return await unexpected(request, exc)
        return await steward_error(request, found)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        if _anonymous_write(request):
            # A caller without a token may only read (servers with anonymous reads): tell
            # them to authenticate, not how their body would have fared (no 422 first).
            return await steward_error(request, _ANONYMOUS_WRITE)
        broken = next((e for e in exc.errors() if e["type"] == "json_invalid"), None)
        if broken is not None:
            reason = broken.get("ctx", {}).get("error", "JSON decode error")
            where = broken["loc"][-1] if broken["loc"] else "?"
            return problem(
                422,
                "Invalid input",
                f"The request body is not valid JSON ({reason} at character {where}). "
                "Send a JSON object with 'Content-Type: application/json'.",
                "invalid-input",
            )
        errors = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p != "body"),
                "message": _FRIENDLY.get(err["type"], err["msg"]),
            }
            for err in exc.errors()
        ]
        detail = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors[:10])
        return problem(
            422,
            "Invalid input",
            f"Invalid request: {detail}. See /docs for what this endpoint accepts.",
            "invalid-input",
            errors=errors,
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        return problem(
            exc.status_code,
            str(exc.detail),
            f"{request.method} {request.url.path}: {exc.detail}",
            code,
        )

    @app.exception_handler(UnicodeEncodeError)
    async def unencodable(request: Request, exc: UnicodeEncodeError) -> JSONResponse:
        # JSON may escape a lone UTF-16 surrogate ("\\ud800"); no database can store it.
        if "surrogate" not in exc.reason:
            return await unexpected(request, exc)
        return problem(
            422,
            "Text is not valid Unicode",
            "The request contains a lone UTF-16 surrogate (an escape such as \\ud800 without "
            "its pair), which is not a character: send valid UTF-8 text.",
            "invalid-text",
        )

    @app.exception_handler(OverflowError)
    async def overflow(request: Request, exc: OverflowError) -> JSONResponse:
        return _out_of_range()

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> JSONResponse:
        # PostgreSQL refuses numbers beyond its column types ("out of range").
        if "range" not in str(exc.orig) and "too large" not in str(exc.orig):
            return await unexpected(request, exc)
        return _out_of_range()

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # PostgreSQL restarting, a network cut, SQLite busy beyond its timeout: the request
        # was rolled back, and trying again shortly is the right answer, not a 500.
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        response = JSONResponse(UNAVAILABLE, status_code=503, media_type=MEDIA_TYPE)
        response.headers["Retry-After"] = UNAVAILABLE_RETRY_AFTER
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "Internal error",
            "The server hit an unexpected error; it has been logged. Nothing was changed.",
            "internal-error",
        )
