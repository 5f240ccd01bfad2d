"""Security headers on every response, and a Content-Security-Policy the pages pass.

The web UI loads scripts, styles and images only from Steward itself (htmx and
Vega are vendored under /static); chart specs travel in ``<script
type="application/json">`` data blocks, which CSP does not execute. /docs is the one
page that loads Swagger UI from a CDN and runs an inline start-up script: its policy
allows that CDN and that script's hash only. API responses (JSON, files, model
cards) may style themselves inline but never run a script.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_COMMON = "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    f"connect-src 'self'; font-src 'self'; form-action 'self'; {_COMMON}"
)
# Documents Steward generates (model cards, JSON, downloads): inline styles, no scripts.
DOCUMENT_CSP = (
    f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; {_COMMON}"
)
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_FAVICON = "https://fastapi.tiangolo.com"

_BASELINE = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_csp(html: str) -> str:
    """The /docs policy: Swagger UI from its CDN plus exactly the page's inline scripts."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {DOCS_CDN} {hashes}; "
        # Swagger UI (React) sets style attributes: inline styles on this page only.
        f"style-src 'self' {DOCS_CDN} 'unsafe-inline'; img-src 'self' data: {DOCS_FAVICON}; "
        f"connect-src 'self'; form-action 'self'; {_COMMON}"
    )


def _policy_for(path: str) -> bytes:
    if path.startswith("/api/") or path == "/openapi.json":
        return DOCUMENT_CSP.encode()
    return PAGE_CSP.encode()


class SecurityHeaders:
    """ASGI middleware: adds the baseline headers and a CSP unless a route set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = _policy_for(str(scope.get("path", "")))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                wanted = (*_BASELINE, (b"content-security-policy", policy))
                headers.extend(_missing(present, wanted))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _missing(
    present: set[bytes], wanted: Iterable[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in wanted if k not in present]
