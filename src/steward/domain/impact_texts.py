"""The impact assessment form in another language: its words only.

``policies/impact-assessment.<code>.yaml`` holds the form's title, each section's title
(keyed by its English title) and each field's question (keyed by field id).
:func:`localize` returns the form with those words in place and everything else (ids,
references, which fields are required, which are EU AI Act Art. 27) untouched, English
wherever a text is missing. The English form stays the one that is checked and stored; a
translation written for another form version is not applied (its words may ask other
questions). The same mechanism as :mod:`steward.domain.risk_texts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

import yaml

from steward.domain.impact import ImpactForm

# Languages with shipped form texts: page language code -> file in steward.policies.
SHIPPED: dict[str, str] = {"zh-TW": "impact-assessment.zh-TW.yaml"}


@dataclass(frozen=True)
class FormTexts:
    form: str
    version: str
    title: str
    sections: Mapping[str, str]  # English section title -> its words
    fields: Mapping[str, str]  # field id -> the question's words


def _words(node: Any) -> dict[str, str]:
    if not isinstance(node, dict):
        return {}
    return {str(k): " ".join(str(v).split()) for k, v in node.items() if isinstance(v, str | int)}


def parse_texts(text: str) -> FormTexts:
    doc = yaml.safe_load(text) or {}
    if not isinstance(doc, dict):
        raise ValueError("impact assessment form texts are a mapping")
    return FormTexts(
        form=str(doc.get("form") or ""),
        version=str(doc.get("version") or ""),
        title=str(doc.get("title") or "").strip(),
        sections=_words(doc.get("sections")),
        fields=_words(doc.get("fields")),
    )


@cache
def shipped_texts(code: str) -> FormTexts | None:
    """The texts Steward ships for page language ``code``; None for English or unknown."""
    name = SHIPPED.get(code)
    if name is None:
        return None
    return parse_texts(resources.files("steward.policies").joinpath(name).read_text("utf-8"))


def applies(form: ImpactForm, texts: FormTexts | None) -> bool:
    return texts is not None and texts.form == form.id and texts.version == form.version


def localize(form: ImpactForm, texts: FormTexts | None) -> ImpactForm:
    """``form`` worded from ``texts``; unchanged when they are for another form or version."""
    if texts is None or not applies(form, texts):
        return form
    return replace(
        form,
        title=texts.title or form.title,
        fields=tuple(
            replace(
                f,
                section=texts.sections.get(f.section) or f.section,
                text=texts.fields.get(f.id) or f.text,
            )
            for f in form.fields
        ),
    )


def in_language(form: ImpactForm, code: str) -> ImpactForm:
    """The form in page language ``code`` where Steward ships its words."""
    return localize(form, shipped_texts(code))


def missing(form: ImpactForm, texts: FormTexts) -> list[str]:
    """What ``texts`` leave in English: ``title``, ``section:TITLE``, field ids (a test
    keeps the shipped translation complete)."""
    gaps: list[str] = [] if texts.title else ["title"]
    for section in dict.fromkeys(f.section for f in form.fields):
        if not texts.sections.get(section):
            gaps.append(f"section:{section}")
    gaps += [f.id for f in form.fields if not texts.fields.get(f.id)]
    return gaps
