"""The risk questionnaire page and assessment reasons in the page's language.

The questionnaire's words come from :mod:`steward.domain.risk_texts`; a scored reason is
re-worded here from what it records (outcome, value, question, answer) and the worded
questionnaire, never from its English text. English pages, reasons of another questionnaire
version and reasons this module does not know keep their stored English.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from steward.domain import risk_texts
from steward.domain.risk import Questionnaire, Reason
from steward.web.i18n import DEFAULT, LABELS, N_

CATEGORY_MEANINGS: dict[str, str] = {
    "prohibited": N_("a practice prohibited by Art. 5"),
    "high": N_("a high-risk system under Art. 6(2) and Annex III"),
    "limited": N_("transparency obligations under Art. 50"),
    "minimal": N_("no specific obligations"),
}


class RiskText:
    """The questionnaire (:meth:`form`) and a result's reasons (:meth:`reason`) in ``code``."""

    def __init__(self, gettext: Callable[[str], str], code: str, english: Questionnaire) -> None:
        self._ = gettext
        self.code = code
        self.english = english
        self.worded = risk_texts.in_language(english, code)
        self.translate = code != DEFAULT and self.worded is not english

    def form(self) -> Questionnaire:
        return self.worded

    def _label(self, value: str) -> str:
        return self._(LABELS[value]) if value in LABELS else value

    def reason(self, reason: Reason, result: Any, version: str | None = None) -> str:
        """``reason`` of ``result`` (a preview's scoring or a stored assessment, both with
        ``tier``, ``category``, ``score`` and ``reasons``); ``version``: the questionnaire
        version the result was scored under, when it is not the current one's."""
        if not self.translate or (version is not None and version != self.english.version):
            return reason.text
        try:
            text = self._reason(reason, result)
        except (KeyError, TypeError, ValueError, IndexError):
            text = None
        return reason.text if text is None else text

    def _reason(self, r: Reason, result: Any) -> str | None:
        _ = self._
        if r.question is not None and r.answer is not None:
            question = self.worded.question(r.question)
            option = question.option(r.answer) if question is not None else None
            if option is None:
                return None
            what = (option.reason or option.label).rstrip(".。")
            if r.outcome == "score":
                return _(N_("%(what)s (+%(points)s points).")) % {
                    "what": what,
                    "points": option.points,
                }
            if r.outcome == "tier":
                return _(N_("%(what)s: the tier is at least %(tier)s.")) % {
                    "what": what,
                    "tier": self._label(r.value),
                }
            if r.outcome == "category":
                return _(N_("%(answer)s (%(ref)s): %(meaning)s.")) % {
                    "answer": option.label,
                    "ref": r.ref or "EU AI Act",
                    "meaning": _(CATEGORY_MEANINGS[r.value]),
                }
            return None
        if r.outcome == "tier":
            return self._tier_summary(result)
        if r.outcome == "category":
            return self._category_summary(result)
        return None

    def _tier_summary(self, result: Any) -> str:
        _ = self._
        tier, total = str(result.tier), int(result.score)
        thresholds = self.english.thresholds
        by_score = "low"
        for step in ("medium", "high", "critical"):
            if total >= thresholds[step]:
                by_score = step
        if tier == by_score and by_score != "low":
            return _(
                N_("Tier %(tier)s: the total score %(total)s reaches its threshold (%(at)s).")
            ) % {
                "tier": self._label(tier),
                "total": total,
                "at": thresholds[tier],
            }
        if tier == by_score:
            return _(
                N_(
                    "Tier low: the total score %(total)s is below the medium threshold "
                    "(%(at)s) and no answer requires more."
                )
            ) % {"total": total, "at": thresholds["medium"]}
        floor_by = [
            f"{r.question}={r.answer}"
            for r in result.reasons
            if r.outcome == "tier" and r.question is not None and r.value == tier
        ]
        return _(
            N_(
                "Tier %(tier)s: required by %(answers)s (the total score %(total)s alone would "
                "give %(by_score)s)."
            )
        ) % {
            "tier": self._label(tier),
            "answers": ", ".join(floor_by),
            "total": total,
            "by_score": self._label(by_score),
        }

    def _category_summary(self, result: Any) -> str:
        _ = self._
        category = str(result.category)
        cites = [
            f"{r.question}={r.answer}"
            for r in result.reasons
            if r.outcome == "category" and r.question is not None and r.value == category
        ]
        if cites:
            return _(N_("EU AI Act category %(category)s: %(meaning)s (%(answers)s).")) % {
                "category": self._label(category),
                "meaning": _(CATEGORY_MEANINGS[category]),
                "answers": ", ".join(cites),
            }
        return _(
            N_(
                "EU AI Act category minimal: no answer places the system under Art. 5 "
                "(prohibited), Art. 6 and Annex III (high-risk) or Art. 50 (transparency)."
            )
        )
