"""The risk questionnaire in another language: its words only.

``policies/risk-questionnaire.<code>.yaml`` holds, per question id and option value, the
question's text and help and each option's label and reason. :func:`localize` returns the
questionnaire with those words in place and everything that scores (points, tiers,
categories, references, controls, ids and values) untouched, English wherever a text is
missing. The English questionnaire stays the one that is scored and stored; a translation
written for another questionnaire version is not applied (its words may mean other answers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache

from steward.domain import form_texts
from steward.domain.risk import Option, Question, Questionnaire

# Languages with shipped questionnaire texts: page language code -> file in steward.policies.
SHIPPED: dict[str, str] = {"zh-TW": "risk-questionnaire.zh-TW.yaml"}


@dataclass(frozen=True)
class QuestionTexts:
    text: str = ""
    help: str = ""
    options: Mapping[str, str] = field(default_factory=dict)  # value -> label
    reasons: Mapping[str, str] = field(default_factory=dict)  # value -> reason


@dataclass(frozen=True)
class QuestionnaireTexts:
    questionnaire: str
    version: str
    title: str
    description: str
    questions: Mapping[str, QuestionTexts]


def parse_texts(text: str) -> QuestionnaireTexts:
    doc = form_texts.document(text, "questionnaire texts")
    questions: dict[str, QuestionTexts] = {}
    for qid, entry in (doc.get("questions") or {}).items():
        if not isinstance(entry, dict):
            continue
        questions[str(qid)] = QuestionTexts(
            text=str(entry.get("text") or "").strip(),
            help=str(entry.get("help") or "").strip(),
            options=form_texts.words(entry.get("options")),
            reasons=form_texts.words(entry.get("reasons")),
        )
    return QuestionnaireTexts(
        questionnaire=str(doc.get("questionnaire") or ""),
        version=str(doc.get("version") or ""),
        title=str(doc.get("title") or "").strip(),
        description=str(doc.get("description") or "").strip(),
        questions=questions,
    )


@cache
def shipped_texts(code: str) -> QuestionnaireTexts | None:
    """The texts Steward ships for page language ``code``; None for English or unknown."""
    text = form_texts.shipped(SHIPPED, code)
    return None if text is None else parse_texts(text)


def _option(option: Option, words: QuestionTexts) -> Option:
    return replace(
        option,
        label=words.options.get(option.value) or option.label,
        reason=(words.reasons.get(option.value) or option.reason) if option.reason else "",
    )


def _question(question: Question, words: QuestionTexts | None) -> Question:
    if words is None:
        return question
    return replace(
        question,
        text=words.text or question.text,
        help=(words.help or question.help) if question.help else "",
        options=tuple(_option(o, words) for o in question.options),
    )


def applies(questionnaire: Questionnaire, texts: QuestionnaireTexts | None) -> bool:
    return (
        texts is not None
        and texts.questionnaire == questionnaire.id
        and texts.version == questionnaire.version
    )


def localize(questionnaire: Questionnaire, texts: QuestionnaireTexts | None) -> Questionnaire:
    """``questionnaire`` worded from ``texts``; unchanged when they are for another one."""
    if texts is None or not applies(questionnaire, texts):
        return questionnaire
    return replace(
        questionnaire,
        title=texts.title or questionnaire.title,
        description=texts.description or questionnaire.description,
        questions=tuple(_question(q, texts.questions.get(q.id)) for q in questionnaire.questions),
    )


def in_language(questionnaire: Questionnaire, code: str) -> Questionnaire:
    """The questionnaire in page language ``code`` where Steward ships its words."""
    return localize(questionnaire, shipped_texts(code))


def missing(questionnaire: Questionnaire, texts: QuestionnaireTexts) -> list[str]:
    """What ``texts`` leave in English: ``question``, ``question.help``, ``question=value``,
    ``question=value.reason`` (a test keeps the shipped translation complete)."""
    gaps: list[str] = []
    for q in questionnaire.questions:
        words = texts.questions.get(q.id, QuestionTexts())
        if not words.text:
            gaps.append(q.id)
        if q.help and not words.help:
            gaps.append(f"{q.id}.help")
        for o in q.options:
            if not words.options.get(o.value):
                gaps.append(f"{q.id}={o.value}")
            if o.reason and not words.reasons.get(o.value):
                gaps.append(f"{q.id}={o.value}.reason")
    return gaps
