"""Attack (#12.10): Steward's pages could be framed (clickjacking), sniffed and leaked
their URLs in Referer, with no Content-Security-Policy. Every response now carries the
headers; /docs admits Swagger UI's CDN and its own inline script, nothing else."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest
from tests.conftest import LiveServer

from steward.api.headers import DOCUMENT_CSP, PAGE_CSP

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _directives(csp: str) -> dict[str, list[str]]:
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in csp.split(";")) if part
    }


def _baseline(response: httpx.Response) -> dict[str, list[str]]:
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in ("same-origin", "no-referrer")
    csp = _directives(response.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    return csp


@sqlite_only
def test_pages_api_and_static_files_carry_the_security_headers(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        for path in ("/login", "/static/app.css", "/", "/no-such-page"):
            csp = _baseline(http.get(path, follow_redirects=False))
            assert csp["script-src"] == ["'self'"]  # no inline script, no eval
            assert csp["style-src"] == ["'self'"]
        for path in ("/api/v1/health", "/api/v1/models", "/openapi.json"):
            csp = _baseline(http.get(path))
            assert csp["default-src"] == ["'none'"] and "script-src" not in csp
    assert PAGE_CSP != DOCUMENT_CSP


@sqlite_only
def test_docs_allows_swagger_from_its_cdn_and_only_its_own_inline_script(
    live_server: LiveServer,
) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        docs = http.get("/docs")
    assert docs.status_code == 200 and "SwaggerUIBundle" in docs.text
    csp = _baseline(docs)
    inline = re.findall(r"<script>(.*?)</script>", docs.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert csp["script-src"] == ["'self'", "https://cdn.jsdelivr.net", f"'sha256-{digest}'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    for src in re.findall(r'<script src="([^"]+)"', docs.text):
        assert src.startswith("https://cdn.jsdelivr.net/")
