"""RFC 9457 problem+json for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from steward.domain.errors import StewardError

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("steward.api")
# Pydantic's wording for the two mistakes people make most, said so they can act on it.
_FRIENDLY = {
    "extra_forbidden": "unknown field; remove it",
    "missing": "required field is missing",
}


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


def install(app: FastAPI) -> None:
    @app.exception_handler(StewardError)
    async def steward_error(request: Request, exc: StewardError) -> JSONResponse:
        body = exc.to_problem()
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if exc.status == 429 and "retry_after" in exc.extra:
            headers = {"Retry-After": str(exc.extra["retry_after"])}
        return JSONResponse(body, status_code=exc.status, media_type=MEDIA_TYPE, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
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

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "Internal error",
            "The server hit an unexpected error; it has been logged. Nothing was changed.",
            "internal-error",
        )
