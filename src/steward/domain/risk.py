"""Risk assessment: a versioned questionnaire, scored into a tier and an EU AI Act category.

The questionnaire is YAML (``policies/risk-questionnaire.yaml`` ships with
Steward). Each answer option may add ``points`` (summed; the total reaches a
tier threshold — SR 26-2 materiality), set a ``tier`` floor, and place the
system in an EU AI Act ``category`` (the most severe wins). :func:`score` is
pure and returns every reason with the answer that caused it, so a reviewer
sees *why* a model is high-risk, not just that it is.

An assessment goes stale (:func:`staleness`) when it was made under another
questionnaire version, or when the model's purpose, business unit or team —
what the answers were about — changed afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from steward.domain import yamldoc
from steward.domain.entities import ASSESSED_TIERS
from steward.domain.errors import InvalidInput
from steward.domain.policy import known_controls
from steward.domain.yamldoc import DocumentError, LineList, LineMap, Problem

TIERS = ASSESSED_TIERS  # what an assessment can give
SCORED_TIERS = TIERS[1:]  # the tiers a questionnaire's total score reaches (low: below them)
CATEGORIES = ("minimal", "limited", "high", "prohibited")  # least to most severe
QUESTION_TYPES = ("choice", "multi")
# Model fields the answers describe: changing one after an assessment makes it stale.
ASSESSED_FIELDS = ("purpose", "business_unit", "team")
SHIPPED = "risk-questionnaire.yaml"

_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_VALUE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_QID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,39}$")
_CATEGORY_REF = {
    "prohibited": "eu-ai-act:prohibited",
    "high": "eu-ai-act:high-risk",
    "limited": "eu-ai-act:limited-risk-transparency",
    "minimal": "eu-ai-act:minimal-risk",
}


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    points: int = 0
    tier: str | None = None  # floor
    category: str | None = None
    reason: str = ""
    ref: str = ""
    controls: tuple[str, ...] = ()
    exclusive: bool = False


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    type: str  # choice | multi
    options: tuple[Option, ...]
    help: str = ""
    ref: str = ""
    controls: tuple[str, ...] = ()
    optional: bool = False  # may be left unanswered (e.g. only for classifiers)

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options)


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: str
    title: str
    description: str
    thresholds: dict[str, int]  # tier -> lowest total reaching it (medium, high, critical)
    questions: tuple[Question, ...]

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)


@dataclass(frozen=True)
class Reason:
    """Why the tier or category is what it is, and the answer that caused it.

    ``outcome`` is ``tier``, ``category`` or ``score`` (points added); ``question``
    and ``answer`` are empty only for the summary lines.
    """

    outcome: str
    value: str
    question: str | None
    answer: str | None
    text: str
    ref: str = ""
    controls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scoring:
    tier: str
    category: str
    score: int
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class RiskAssessment:
    id: str
    model: str
    questionnaire: str
    questionnaire_version: str
    answers: dict[str, str | list[str]]
    tier: str
    category: str
    score: int
    reasons: list[Reason]
    assessed_by: str
    assessed_at: datetime
    # The model fields the answers were about, as they were when assessed.
    model_fields: dict[str, str] = field(default_factory=dict)
    superseded_at: datetime | None = None
    superseded_by: str | None = None
    audit_seq: int = 0

    @property
    def current(self) -> bool:
        return self.superseded_at is None


@dataclass(frozen=True)
class AssessmentStatus:
    """The model's current assessment (if any) and why it does not count (if so)."""

    model: str
    assessment: RiskAssessment | None
    problem: str | None
    questionnaire: str


# -- the questionnaire -------------------------------------------------------------------


def shipped_text() -> str:
    return resources.files("steward.policies").joinpath(SHIPPED).read_text("utf-8")


@cache
def shipped() -> Questionnaire:
    """The questionnaire Steward ships (parsed once)."""
    return parse(shipped_text(), SHIPPED)


def parse(text: str, source: str = "questionnaire") -> Questionnaire:
    """Parse and validate a questionnaire; :class:`DocumentError` lists every problem."""
    doc = yamldoc.load(text, source)
    if not isinstance(doc, LineMap):
        raise DocumentError(
            source,
            [
                Problem(
                    1,
                    "a questionnaire is a mapping with 'questionnaire', 'version', "
                    "'scoring' and 'questions'",
                )
            ],
        )
    problems: list[Problem] = []
    yamldoc.unknown_keys(
        doc,
        {"questionnaire", "version", "title", "description", "scoring", "questions"},
        "the questionnaire",
        problems,
    )
    qid = yamldoc.text(doc, "questionnaire", problems, required=True)
    if qid and not _QID.match(qid):
        problems.append(
            Problem(
                yamldoc.line_of(doc, "questionnaire"),
                f"questionnaire id {qid!r} must be lower-case letters, digits, '.', '_' or '-'",
            )
        )
    version = yamldoc.text(doc, "version", problems, required=True)
    if version and not _VERSION.match(version):
        problems.append(
            Problem(
                yamldoc.line_of(doc, "version"),
                f"version {version!r} must be 1-40 letters, digits, '.', '_', "
                "'+' or '-' (e.g. 2026.11)",
            )
        )
    thresholds = _thresholds(doc, problems)
    questions: list[Question] = []
    raw = doc.get("questions")
    if not isinstance(raw, list) or not raw:
        problems.append(
            Problem(
                yamldoc.line_of(doc, "questions") or doc.line,
                "'questions' must be a non-empty list",
            )
        )
    else:
        seen: dict[str, int | None] = {}
        for entry in raw:
            question = _question(entry, problems)
            if question is None:
                continue
            line = yamldoc.line_of(entry)
            if question.id in seen:
                problems.append(
                    Problem(
                        line,
                        f"question id {question.id!r} is used twice "
                        f"(first on line {seen[question.id]}); ids must "
                        "be unique",
                    )
                )
            seen.setdefault(question.id, line)
            questions.append(question)
    if problems:
        raise DocumentError(source, sorted(problems, key=lambda p: p.line or 0))
    return Questionnaire(
        id=qid or "",
        version=version or "",
        title=_plain(doc.get("title")),
        description=_plain(doc.get("description")),
        thresholds=thresholds,
        questions=tuple(questions),
    )


def _plain(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def _thresholds(doc: LineMap, problems: list[Problem]) -> dict[str, int]:
    scoring = doc.get("scoring")
    line = yamldoc.line_of(doc, "scoring") or doc.line
    if not isinstance(scoring, LineMap):
        problems.append(
            Problem(
                line,
                "'scoring' must be a mapping with 'thresholds', e.g. "
                "thresholds: {medium: 5, high: 10, critical: 18}",
            )
        )
        return {}
    yamldoc.unknown_keys(scoring, {"thresholds"}, "scoring", problems)
    raw = scoring.get("thresholds")
    tline = yamldoc.line_of(scoring, "thresholds") or scoring.line
    if not isinstance(raw, LineMap):
        problems.append(
            Problem(
                tline,
                "'scoring.thresholds' must map medium, high and "
                "critical to the lowest total score reaching them",
            )
        )
        return {}
    out: dict[str, int] = {}
    for tier in SCORED_TIERS:
        value = raw.get(tier)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(
                Problem(
                    yamldoc.line_of(raw, tier),
                    f"scoring.thresholds.{tier} must be a positive integer",
                )
            )
        else:
            out[tier] = value
    for key in raw:
        if key not in SCORED_TIERS:
            problems.append(
                Problem(
                    yamldoc.line_of(raw, key),
                    f"unknown tier {key!r} in scoring.thresholds; use medium, "
                    "high and critical (low is everything below medium)",
                )
            )
    if len(out) == len(SCORED_TIERS) and not out["medium"] < out["high"] < out["critical"]:
        problems.append(
            Problem(
                tline,
                "scoring.thresholds must increase: medium < high < "
                f"critical (got {out['medium']}, {out['high']}, "
                f"{out['critical']})",
            )
        )
    return out


def _controls(node: LineMap, problems: list[Problem]) -> tuple[str, ...]:
    raw = node.get("controls")
    if raw is None:
        return ()
    line = yamldoc.line_of(node, "controls")
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        problems.append(Problem(line, "'controls' must be a list of 'framework:id' texts"))
        return ()
    catalog = known_controls()
    for control in raw:
        framework, _, cid = control.partition(":")
        if framework not in catalog:
            problems.append(
                Problem(
                    line,
                    f"unknown framework {framework!r} in control "
                    f"{control!r}; use one of: {', '.join(sorted(catalog))}",
                )
            )
        elif cid not in catalog[framework]:
            problems.append(Problem(line, f"{framework} has no control {cid!r} (in {control!r})"))
    return tuple(raw)


def _question(entry: Any, problems: list[Problem]) -> Question | None:
    if not isinstance(entry, LineMap):
        problems.append(
            Problem(
                yamldoc.line_of(entry),
                "each question must be a mapping with id, text, type and options",
            )
        )
        return None
    yamldoc.unknown_keys(
        entry,
        {"id", "text", "help", "type", "ref", "controls", "options", "optional"},
        "a question",
        problems,
    )
    qid = yamldoc.text(entry, "id", problems, required=True) or ""
    if qid and not _ID.match(qid):
        problems.append(
            Problem(
                yamldoc.line_of(entry, "id"),
                f"question id {qid!r} must start with a letter and use lower-case "
                "letters, digits and '_'",
            )
        )
    text = yamldoc.text(entry, "text", problems, required=True) or ""
    kind = yamldoc.text(entry, "type", problems, required=True) or ""
    if kind and kind not in QUESTION_TYPES:
        problems.append(
            Problem(
                yamldoc.line_of(entry, "type"),
                f"question type {kind!r} is not known; use choice (one answer) "
                "or multi (all that apply)",
            )
        )
    controls = _controls(entry, problems)
    raw = entry.get("options")
    options: list[Option] = []
    if not isinstance(raw, list) or len(raw) < 2:
        problems.append(
            Problem(
                yamldoc.line_of(entry, "options"),
                f"question {qid!r} needs a list of at least two options",
            )
        )
    if isinstance(raw, list):
        for item in raw:
            option = _option(item, qid, problems)
            if option is None:
                continue
            if any(o.value == option.value for o in options):
                problems.append(
                    Problem(
                        yamldoc.line_of(item, "value"),
                        f"option {option.value!r} appears twice in question {qid!r}",
                    )
                )
            options.append(option)
        if kind == "choice" and any(o.exclusive for o in options):
            problems.append(
                Problem(
                    yamldoc.line_of(entry, "options"),
                    f"'exclusive' only makes sense in a multi question; "
                    f"{qid!r} is a choice (one answer anyway)",
                )
            )
    return Question(
        id=qid,
        text=text,
        type=kind,
        options=tuple(options),
        help=_plain(entry.get("help")),
        ref=_plain(entry.get("ref")),
        controls=controls,
        optional=entry.get("optional") is True,
    )


def _option(item: Any, qid: str, problems: list[Problem]) -> Option | None:
    if not isinstance(item, LineMap):
        problems.append(
            Problem(
                yamldoc.line_of(item),
                f"each option of {qid!r} must be a mapping with value and label",
            )
        )
        return None
    yamldoc.unknown_keys(
        item,
        {"value", "label", "points", "tier", "category", "reason", "ref", "controls", "exclusive"},
        f"an option of {qid!r}",
        problems,
    )
    value = item.get("value")
    if isinstance(value, bool):  # yes/no written unquoted
        value = "yes" if value else "no"
    if not isinstance(value, str) or not _VALUE.match(value):
        problems.append(
            Problem(
                yamldoc.line_of(item, "value"),
                f"option value {value!r} of {qid!r} must be lower-case letters, digits, '_' or '-'",
            )
        )
        value = ""
    label = yamldoc.text(item, "label", problems, required=True) or ""
    points = item.get("points", 0)
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        problems.append(
            Problem(
                yamldoc.line_of(item, "points"),
                f"points of {qid}={value} must be a whole number >= 0",
            )
        )
        points = 0
    tier = item.get("tier")
    if tier is not None and tier not in TIERS:
        problems.append(
            Problem(
                yamldoc.line_of(item, "tier"),
                f"tier {tier!r} of {qid}={value} is not a tier; use one of: {', '.join(TIERS)}",
            )
        )
        tier = None
    category = item.get("category")
    if category is not None and category not in CATEGORIES:
        problems.append(
            Problem(
                yamldoc.line_of(item, "category"),
                f"category {category!r} of {qid}={value} is not an EU AI Act "
                f"category; use one of: {', '.join(CATEGORIES)}",
            )
        )
        category = None
    exclusive = item.get("exclusive", False)
    if not isinstance(exclusive, bool):
        problems.append(
            Problem(yamldoc.line_of(item, "exclusive"), "'exclusive' must be true or false")
        )
        exclusive = False
    return Option(
        value=value,
        label=label,
        points=points,
        tier=tier,
        category=category,
        reason=_plain(item.get("reason")),
        ref=_plain(item.get("ref")),
        controls=_controls(item, problems),
        exclusive=exclusive,
    )


# -- answers -----------------------------------------------------------------------------

Answers = dict[str, str | list[str]]


def load_answers(text: str, source: str) -> LineMap:
    """Parse an answers file (``question: value`` or ``question: [a, b]``), keeping lines."""
    doc = yamldoc.load(text, source)
    if not isinstance(doc, LineMap):
        raise DocumentError(
            source,
            [
                Problem(
                    1,
                    "an answers file maps question ids to answers, e.g. "
                    "'decision_impact: significant'; see the ids with `steward risk questionnaire`",
                )
            ],
        )
    return doc


def check_answers(
    questionnaire: Questionnaire, answers: Mapping[str, Any], source: str | None = None
) -> Answers:
    """Validate answers against the questionnaire and normalise them.

    Every question must be answered: a ``choice`` with one of its values, a
    ``multi`` with a list (a single value is accepted as a list of one; an
    ``exclusive`` option such as ``none`` stands alone). Problems name the
    question, the valid values and — for an answers file — the line.
    """
    if not isinstance(answers, Mapping):
        raise InvalidInput(
            "answers must map question ids to answers, e.g. {'decision_impact': 'significant'}.",
            field="answers",
        )
    problems: list[Problem] = []

    def line(key: str) -> int | None:
        return yamldoc.line_of(answers, key) if isinstance(answers, LineMap) else None

    out: Answers = {}
    for key in answers:
        if not isinstance(key, str) or questionnaire.question(key) is None:
            problems.append(
                Problem(
                    line(str(key)),
                    (
                        f"{key!r} is not a question of {questionnaire.ref}; questions: "
                        f"{', '.join(q.id for q in questionnaire.questions)}"
                    ),
                )
            )
    for question in questionnaire.questions:
        if question.id not in answers:
            continue
        answer = _check_answer(question, answers[question.id], line(question.id), problems)
        if answer is not None:
            out[question.id] = answer
    missing = [q.id for q in questionnaire.questions if q.id not in answers and not q.optional]
    if missing:
        problems.append(
            Problem(
                getattr(answers, "line", None) or None,
                (
                    f"unanswered question(s): {', '.join(missing)}; every question needs an answer "
                    "(`steward risk questionnaire` lists them with their values)"
                ),
            )
        )
    if problems:
        if source is not None:
            raise DocumentError(source, problems)
        raise InvalidInput(
            "; ".join(p.message for p in problems),
            field="answers",
            problems=[p.message for p in problems],
        )
    return out


def _check_answer(
    question: Question, raw: Any, line: int | None, problems: list[Problem]
) -> str | list[str] | None:
    def bad(message: str) -> None:
        problems.append(
            Problem(line, f"{question.id}: {message}; valid answers: {', '.join(question.values)}")
        )

    if question.type == "choice":
        value = _value(raw)
        if value is None:
            bad(f"expected one value, got {raw!r}")
            return None
        if question.option(value) is None:
            bad(f"{value!r} is not one of its answers")
            return None
        return value
    items = raw if isinstance(raw, list | tuple | LineList) else [raw]
    values: list[str] = []
    for item in items:
        value = _value(item)
        if value is None or question.option(value) is None:
            bad(f"{item!r} is not one of its answers")
            return None
        if value not in values:
            values.append(value)
    if not values:
        bad("give at least one answer (use the 'none' option if nothing applies)")
        return None
    exclusive = [v for v in values if (o := question.option(v)) is not None and o.exclusive]
    if exclusive and len(values) > 1:
        bad(f"{exclusive[0]!r} cannot be combined with other answers")
        return None
    return [v for v in question.values if v in values]  # questionnaire order


def _value(raw: Any) -> str | None:
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    if isinstance(raw, str) and raw.strip():
        return raw.strip()
    return None


# -- scoring -----------------------------------------------------------------------------


def score(questionnaire: Questionnaire, answers: Mapping[str, Any]) -> Scoring:
    """Tier and EU AI Act category of valid answers, with the reason for each."""
    checked = check_answers(questionnaire, answers)
    reasons: list[Reason] = []
    total = 0
    floor = "low"
    floor_by: list[str] = []
    category = "minimal"
    category_by: list[Reason] = []
    for question in questionnaire.questions:
        if question.id not in checked:  # an optional question left unanswered
            continue
        answer = checked[question.id]
        for value in [answer] if isinstance(answer, str) else answer:
            option = question.option(value)
            assert option is not None
            ref = option.ref or question.ref
            controls = option.controls or question.controls
            what = (option.reason or option.label).rstrip(".")
            cite = f"{question.id}={value}"
            if option.points:
                total += option.points
                reasons.append(
                    Reason(
                        "score",
                        f"+{option.points}",
                        question.id,
                        value,
                        f"{what} (+{option.points} point{'s' if option.points > 1 else ''}).",
                        ref,
                        controls,
                    )
                )
            if option.tier:
                reasons.append(
                    Reason(
                        "tier",
                        option.tier,
                        question.id,
                        value,
                        f"{what}: the tier is at least {option.tier}.",
                        ref,
                        controls,
                    )
                )
                if TIERS.index(option.tier) > TIERS.index(floor):
                    floor, floor_by = option.tier, [cite]
                elif option.tier == floor:
                    floor_by.append(cite)
            if option.category:
                reason = Reason(
                    "category",
                    option.category,
                    question.id,
                    value,
                    f"{option.label} ({ref or 'EU AI Act'}): {_category_text(option.category)}.",
                    ref,
                    controls or (_CATEGORY_REF[option.category],),
                )
                reasons.append(reason)
                if CATEGORIES.index(option.category) > CATEGORIES.index(category):
                    category, category_by = option.category, [reason]
                elif option.category == category:
                    category_by.append(reason)
    by_score = "low"
    for tier in SCORED_TIERS:
        if total >= questionnaire.thresholds[tier]:
            by_score = tier
    tier = by_score if TIERS.index(by_score) >= TIERS.index(floor) else floor
    if tier == by_score and by_score != "low":
        summary = (
            f"Tier {tier}: the total score {total} reaches the {tier} threshold "
            f"({questionnaire.thresholds[tier]})."
        )
    elif tier == by_score:
        summary = (
            f"Tier low: the total score {total} is below the medium threshold "
            f"({questionnaire.thresholds['medium']}) and no answer requires more."
        )
    else:
        summary = (
            f"Tier {tier}: required by {', '.join(floor_by)} (the total score {total} "
            f"alone would give {by_score})."
        )
    reasons.append(Reason("tier", tier, None, None, summary, "", ("sr-26-2:SR26-2.materiality",)))
    if category_by:
        cites = ", ".join(f"{r.question}={r.answer}" for r in category_by)
        text = f"EU AI Act category {category}: {_category_text(category)} ({cites})."
    else:
        text = (
            "EU AI Act category minimal: no answer places the system under Art. 5 "
            "(prohibited), Art. 6 and Annex III (high-risk) or Art. 50 (transparency)."
        )
    reasons.append(Reason("category", category, None, None, text, "", (_CATEGORY_REF[category],)))
    return Scoring(tier=tier, category=category, score=total, reasons=tuple(reasons))


def _category_text(category: str) -> str:
    return {
        "prohibited": "a practice prohibited by Art. 5",
        "high": "a high-risk system under Art. 6(2) and Annex III",
        "limited": "transparency obligations under Art. 50",
        "minimal": "no specific obligations",
    }[category]


# -- currency ----------------------------------------------------------------------------


def changed_fields(assessment: RiskAssessment, current: Mapping[str, str]) -> list[str]:
    """Assessed model fields whose value differs now from when it was assessed."""
    return [
        f for f in ASSESSED_FIELDS if assessment.model_fields.get(f, "") != (current.get(f) or "")
    ]


def staleness(
    assessment: RiskAssessment,
    questionnaire_version: str,
    model_changed_fields_since: Iterable[str] = (),
    questionnaire_id: str | None = None,
) -> str | None:
    """Why ``assessment`` no longer counts, or None while it is current."""
    if assessment.superseded_at is not None:
        return (
            f"Risk assessment {assessment.id} of {assessment.model!r} was superseded by "
            f"{assessment.superseded_by}."
        )
    if questionnaire_id is not None and assessment.questionnaire != questionnaire_id:
        return (
            f"Risk assessment {assessment.id} answered questionnaire "
            f"{assessment.questionnaire!r}, not {questionnaire_id!r}; assess again with "
            f"`steward risk assess {assessment.model}`."
        )
    if assessment.questionnaire_version != questionnaire_version:
        return (
            f"Risk assessment {assessment.id} answered questionnaire version "
            f"{assessment.questionnaire_version}; the current version is "
            f"{questionnaire_version}. Assess again with "
            f"`steward risk assess {assessment.model}`."
        )
    changed = sorted(set(model_changed_fields_since))
    if changed:
        return (
            f"The model's {', '.join(changed)} changed after risk assessment "
            f"{assessment.id} ({assessment.assessed_at:%Y-%m-%d}); the answers may no longer "
            f"hold. Assess again with `steward risk assess {assessment.model}`."
        )
    return None


def missing(model: str) -> str:
    return (
        f"{model!r} has no risk assessment; answer the questionnaire with "
        f"`steward risk assess {model}`."
    )
