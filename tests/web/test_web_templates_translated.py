"""Every word a template shows goes through gettext.

The catalog test (test_web_pages) proves each *extracted* message has a zh-TW
translation; this one proves no text escaped extraction: outside Jinja expressions,
scripts and styles, a template's text nodes and user-facing attributes (title,
aria-label, placeholder, alt) hold no words except the names below, which are the same
in every language (file formats, units, hash names, example identifiers and URLs).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "steward" / "web" / "templates"
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
WORD = re.compile(r"[A-Za-z]{2,}")
VISIBLE_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}
SAME_IN_EVERY_LANGUAGE = {
    "HTML",  # file formats
    "PDF",
    "sha256",  # hash name
    "ms",  # milliseconds
    "approval.given",  # an example audit action to filter by
    "https://hooks.example.com/steward",  # an example URL
}


class _Words(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self._check(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._check(data)

    def _check(self, text: str) -> None:
        for token in text.split():
            if token not in SAME_IN_EVERY_LANGUAGE and WORD.search(token):
                self.found.append(token)


def untranslated(source: str) -> list[str]:
    # Jinja expressions become a neutral placeholder without letters.
    words = _Words()
    words.feed(JINJA.sub(" 0 ", source))
    return words.found


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_template_parses(template: str) -> None:
    # Babel's extractor skips a template it cannot parse without a word, and its messages
    # would then silently stay English.
    Environment(extensions=["jinja2.ext.i18n"]).parse(
        (TEMPLATES / template).read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_template_has_no_text_outside_gettext(template: str) -> None:
    found = untranslated((TEMPLATES / template).read_text(encoding="utf-8"))
    assert found == [], f"wrap in {{{{ _(...) }}}} in {template}: {found}"


def test_the_check_finds_untranslated_text() -> None:
    source = '<p>{{ _("Fine") }}</p><button title="Close">x</button><p>Approve</p>'
    assert untranslated(source) == ["Close", "Approve"]
