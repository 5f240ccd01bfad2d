"""Browser sessions and CSRF protection.

A session is a login token (``services.identity.login``: 8 hours, revocable, audited)
whose secret lives in an HttpOnly, SameSite=Lax cookie. Every form that POSTs carries
a CSRF token derived from that secret with HMAC, so a page on another site — which can
neither read the cookie nor this page — cannot produce it. The sign-in form, before a
session exists, uses a double-submit cookie instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from fastapi.responses import Response

SESSION_COOKIE = "steward_session"
LOGIN_CSRF_COOKIE = "steward_login_csrf"
# Marks a session opened through single sign-on, so signing out also ends the provider's
# session. It carries no secret: a forged one only sends the browser to the provider's
# sign-out page.
SSO_COOKIE = "steward_sso"
CSRF_FIELD = "csrf_token"
_LABEL = b"steward web csrf v1"


def csrf_for(session_secret: str) -> str:
    return hmac.new(session_secret.encode(), _LABEL, hashlib.sha256).hexdigest()


def csrf_valid(session_secret: str | None, submitted: str | None) -> bool:
    if not session_secret or not submitted:
        return False
    return hmac.compare_digest(csrf_for(session_secret), submitted)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def login_csrf_valid(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    return bool(cookie and submitted and hmac.compare_digest(cookie, submitted))


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session(response: Response, request: Request, secret: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def set_login_csrf(response: Response, request: Request, value: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        value,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/login",
    )


def mark_sso(response: Response, request: Request, max_age: int) -> None:
    response.set_cookie(
        SSO_COOKIE,
        "1",
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(SSO_COOKIE, path="/")


def safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
