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

from steward.domain import form_texts
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


def parse_texts(text: str) -> FormTexts:
    doc = form_texts.document(text, "impact assessment form texts")
    return FormTexts(
        form=str(doc.get("form") or ""),
        version=str(doc.get("version") or ""),
        title=str(doc.get("title") or "").strip(),
        sections=form_texts.words(doc.get("sections"), fold=True),
        fields=form_texts.words(doc.get("fields"), fold=True),
    )


@cache
def shipped_texts(code: str) -> FormTexts | None:
    """The texts Steward ships for page language ``code``; None for English or unknown."""
    text = form_texts.shipped(SHIPPED, code)
    return None if text is None else parse_texts(text)


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
