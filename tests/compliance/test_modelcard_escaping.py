"""Stored XSS through a model card: an owner's narrative must reach readers as text.

Markdown renderers pass raw HTML through, so a narrative holding ``<script>`` or an
``<img onerror>`` would run in the browser of whoever opens the exported card (a validator,
an auditor, a regulator). Every face that renders the card escapes it.
"""

from __future__ import annotations

import io
import re
import zipfile

from fastapi.testclient import TestClient

from steward.api.app import create_app
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.services import evidence, modelcards
from steward.services.context import Context

ATTACK = (
    'Fine. <script>alert("card")</script> <img src=x onerror="alert(1)"> '
    "<!-- hidden --> </div> Thresholds stay readable: <= 0.10 and a < b."
)
ADMIN = Principal(name="admin", roles=frozenset({OPERATOR}))


def _card_with_attack(local: Steward) -> None:
    local.create_model("credit", title="Credit <b>scoring</b>")
    local.log_version("credit", artifact=None, model=b"bytes", capture_git=False)
    local.set_narrative("credit", 1, intended_use=ATTACK)


def _no_raw_html(text: str) -> None:
    assert "<script" not in text
    assert "<img" not in text
    assert "<!--" not in text
    assert "</div>" not in text
    assert "<b>" not in text


def test_markdown_card_escapes_narrative_html(ctx: Context, local: Steward) -> None:
    _card_with_attack(local)
    md = modelcards.render(ctx, ADMIN, "credit", 1, "md").content.decode()
    _no_raw_html(md)
    assert '&lt;script>alert("card")&lt;/script>' in md
    assert '&lt;img src=x onerror="alert(1)">' in md
    assert "<= 0.10 and a < b" in md  # only what could open a tag is escaped
    assert "Credit &lt;b>scoring&lt;/b>" in md  # inventory fields too, not only narratives

    html = modelcards.render(ctx, ADMIN, "credit", 1, "html").content.decode()
    body = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    assert "&lt;script&gt;" in body and "<script" not in body
    assert "&lt;img src=x" in body and "<img" not in body


def test_exports_and_web_escape_the_narrative(ctx: Context, local: Steward, token: str) -> None:
    _card_with_attack(local)
    out = io.BytesIO()
    evidence.export_pack(ctx, ADMIN, "credit", out, include_pdf=False)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as pack:
        cards = [n for n in pack.namelist() if n.endswith(".md")]
        assert cards
        for name in cards:
            _no_raw_html(pack.read(name).decode())
    with TestClient(create_app(ctx)) as web:
        for fmt in ("md", "html"):
            response = web.get(
                f"/api/v1/models/credit/versions/1/model-card?format={fmt}",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
            text = re.sub(r"<style>.*?</style>", "", response.text, flags=re.S)
            assert "<script" not in text and "<img" not in text
