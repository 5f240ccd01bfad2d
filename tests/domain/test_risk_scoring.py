"""The risk questionnaire: parsing with line numbers, answer checks, scoring and its reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.risk_answers import CREDIT, FORECAST

from steward.domain import risk
from steward.domain.errors import InvalidInput
from steward.domain.yamldoc import DocumentError


def test_the_shipped_questionnaire_covers_the_issue_topics() -> None:
    form = risk.shipped()
    assert (form.id, form.version) == ("steward-risk", "2026.11")
    ids = {q.id for q in form.questions}
    assert {
        "decision_impact",
        "autonomy",
        "personal_data",
        "scale",
        "regulated_domain",
        "annex_iii",
        "prohibited_practices",
        "third_party",
    } <= ids
    # every Annex III point 1-8 and every Art. 5(1)(a)-(h) practice can be answered
    annex = form.question("annex_iii")
    assert annex is not None
    points = {o.ref for o in annex.options if o.ref}
    assert {f"Annex III point {n}" for n in (1, 2, 3, 4, 6, 7, 8)} <= points
    assert {"Annex III point 5(a)", "Annex III point 5(b)", "Annex III point 5(c)"} <= points
    prohibited = form.question("prohibited_practices")
    assert prohibited is not None
    assert {o.ref for o in prohibited.options if o.ref} == {f"Art. 5(1)({c})" for c in "abcdefgh"}
    assert all(o.category == "prohibited" for o in prohibited.options if o.value != "none")


def test_credit_scoring_is_high_tier_and_eu_high_risk_with_reasons() -> None:
    result = risk.score(risk.shipped(), CREDIT)
    assert (result.tier, result.category, result.score) == ("high", "high", 17)
    by_answer = {(r.outcome, r.question, r.answer): r for r in result.reasons}
    annex = by_answer[("category", "annex_iii", "credit_scoring")]
    assert annex.value == "high"
    assert annex.ref == "Annex III point 5(b)"
    assert annex.controls == ("eu-ai-act:high-risk",)
    assert by_answer[("tier", "annex_iii", "credit_scoring")].value == "high"
    assert by_answer[("score", "decision_impact", "significant")].value == "+5"
    assert by_answer[("score", "regulated_domain", "credit")].value == "+3"
    # the summary lines say how the result follows from the answers
    summary_tier, summary_category = result.reasons[-2:]
    assert summary_tier.question is None
    assert summary_tier.text == "Tier high: the total score 17 reaches the high threshold (10)."
    assert "annex_iii=credit_scoring" in summary_category.text
    # every other reason cites the answer that caused it
    assert all(r.question and r.answer for r in result.reasons[:-2])
    # points of all score reasons add up to the score
    assert sum(int(r.value) for r in result.reasons if r.outcome == "score") == 17


def test_more_autonomy_and_scale_make_it_critical() -> None:
    answers = {**CREDIT, "autonomy": "fully_automated", "scale": "over_1m"}
    result = risk.score(risk.shipped(), answers)
    assert (result.tier, result.score) == ("critical", 21)


def test_a_floor_wins_over_a_low_score_and_says_which_answer() -> None:
    answers = {**FORECAST, "annex_iii": ["critical_infrastructure"]}
    result = risk.score(risk.shipped(), answers)
    assert (result.tier, result.category, result.score) == ("high", "high", 0)
    assert result.reasons[-2].text == (
        "Tier high: required by annex_iii=critical_infrastructure (the total score 0 alone "
        "would give low)."
    )


def test_prohibited_practice_is_critical_and_prohibited() -> None:
    answers = {**CREDIT, "prohibited_practices": ["social_scoring"], "transparency": ["none"]}
    result = risk.score(risk.shipped(), answers)
    assert (result.tier, result.category) == ("critical", "prohibited")
    prohibited = [r for r in result.reasons if r.outcome == "category" and r.question]
    assert {(r.answer, r.value) for r in prohibited} == {
        ("credit_scoring", "high"),
        ("social_scoring", "prohibited"),
    }
    assert "Art. 5(1)(c)" in result.reasons[-1].text or "social_scoring" in result.reasons[-1].text


def test_minimal_and_limited_categories() -> None:
    low = risk.score(risk.shipped(), FORECAST)
    assert (low.tier, low.category, low.score) == ("low", "minimal", 0)
    assert low.reasons[-1].controls == ("eu-ai-act:minimal-risk",)
    assert "below the medium threshold (5)" in low.reasons[-2].text
    chatbot = risk.score(
        risk.shipped(), {**FORECAST, "transparency": ["interacts_with_people", "synthetic_content"]}
    )
    assert chatbot.category == "limited"
    assert chatbot.reasons[-1].controls == ("eu-ai-act:limited-risk-transparency",)


def test_answers_are_normalised() -> None:
    form = risk.shipped()
    checked = risk.check_answers(
        form,
        {
            **CREDIT,
            "vulnerable_groups": False,  # YAML `no`
            "regulated_domain": ["insurance", "credit", "credit"],
            "annex_iii": "credit_scoring",  # one value for a multi question
        },
    )
    assert checked["vulnerable_groups"] == "no"
    assert checked["regulated_domain"] == ["credit", "insurance"]  # questionnaire order
    assert checked["annex_iii"] == ["credit_scoring"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "'colour' is not a question of steward-risk@2026.11"),
        ({"scale": "huge"}, "scale: 'huge' is not one of its answers; valid answers: under_1k"),
        ({"scale": ["under_1k"]}, "scale: expected one value"),
        (
            {"annex_iii": ["none", "employment"]},
            "annex_iii: 'none' cannot be combined with other answers",
        ),
        ({"regulated_domain": []}, "regulated_domain: give at least one answer"),
    ],
)
def test_bad_answers_are_refused_naming_the_question_and_the_fix(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        risk.score(risk.shipped(), {**CREDIT, **change})
    assert message in caught.value.detail


def test_unanswered_questions_are_listed() -> None:
    partial = {k: v for k, v in CREDIT.items() if k not in ("scale", "third_party")}
    with pytest.raises(InvalidInput, match=r"unanswered question\(s\): scale, third_party"):
        risk.check_answers(risk.shipped(), partial)


def test_an_answers_file_reports_lines() -> None:
    text = "\n".join(
        [f"{k}: {v if isinstance(v, str) else '[' + ', '.join(v) + ']'}" for k, v in CREDIT.items()]
    )
    text = text.replace("scale: under_100k", "scale: lots").replace(
        "third_party: in_house", "third_party: in_house\ncolor: blue"
    )
    doc = risk.load_answers(text, "answers.yaml")
    with pytest.raises(DocumentError) as caught:
        risk.check_answers(risk.shipped(), doc, "answers.yaml")
    detail = caught.value.detail
    assert "answers.yaml line 12: 'color' is not a question" in detail
    assert "answers.yaml line 5: scale: 'lots' is not one of its answers" in detail
    assert [p.line for p in caught.value.problems] == [12, 5]


def test_an_answers_file_syntax_error_has_its_line() -> None:
    with pytest.raises(DocumentError, match=r"answers.yaml line 2: "):
        risk.load_answers("scale: under_1k\n  autonomy: x: y\n", "answers.yaml")
    with pytest.raises(DocumentError, match="an answers file maps question ids to answers"):
        risk.load_answers("- a\n- b\n", "answers.yaml")


BROKEN = """\
questionnaire: custom
version: "1"
scoring:
  thresholds: {medium: 5, high: 4, critical: 18}
questions:
  - id: impact
    text: Impact?
    type: choice
    options:
      - {value: low, label: Low}
      - {value: high, label: High, tier: extreme}
  - id: impact
    text: Again?
    type: pick
    controls: ["eu-ai-act:Art. 99"]
    options:
      - {value: a, label: A, points: -1}
"""


def test_a_broken_questionnaire_lists_every_problem_with_its_line() -> None:
    with pytest.raises(DocumentError) as caught:
        risk.parse(BROKEN, "custom.yaml")
    lines = [(p.line, p.message) for p in caught.value.problems]
    assert (4, "scoring.thresholds must increase: medium < high < critical (got 5, 4, 18)") in lines
    assert any(
        line == 11 and "tier 'extreme' of impact=high is not a tier" in m for line, m in lines
    )
    assert any(
        line == 12 and "question id 'impact' is used twice (first on line 6)" in m
        for line, m in lines
    )
    assert any(line == 14 and "question type 'pick' is not known" in m for line, m in lines)
    assert any(line == 15 and "eu-ai-act has no control 'Art. 99'" in m for line, m in lines)
    assert any(line == 16 and "needs a list of at least two options" in m for line, m in lines)
    assert any(line == 17 and "points of impact=a must be a whole number" in m for line, m in lines)
    assert caught.value.detail.startswith("custom.yaml line 4: ")
    assert [p.line for p in caught.value.problems] == sorted(p or 0 for p, _ in lines)


def test_questionnaire_yaml_syntax_errors_have_lines() -> None:
    with pytest.raises(DocumentError, match=r"q\.yaml line 3: duplicate key 'version'"):
        risk.parse("questionnaire: x\nversion: '1'\nversion: '2'\n", "q.yaml")


def _assessment(**changes: Any) -> risk.RiskAssessment:
    base = risk.RiskAssessment(
        id="ra_1",
        model="credit",
        questionnaire="steward-risk",
        questionnaire_version="2026.11",
        answers={},
        tier="high",
        category="high",
        score=17,
        reasons=[],
        assessed_by="alice",
        assessed_at=datetime(2026, 3, 1, tzinfo=UTC),
        model_fields={"purpose": "Approve loans", "business_unit": "Retail", "team": "risk"},
    )
    return replace(base, **changes)


def test_staleness() -> None:
    current = _assessment()
    fields = {"purpose": "Approve loans", "business_unit": "Retail", "team": "risk"}
    assert risk.changed_fields(current, fields) == []
    assert risk.staleness(current, "2026.11", [], "steward-risk") is None
    reason = risk.staleness(current, "2027.01")
    assert reason is not None
    assert "questionnaire version 2026.11; the current version is 2027.01" in reason
    assert "`steward risk assess credit`" in reason
    changed = risk.changed_fields(current, {**fields, "team": "growth", "purpose": "Limits"})
    assert changed == ["purpose", "team"]
    reason = risk.staleness(current, "2026.11", changed)
    assert reason is not None
    assert reason.startswith("The model's purpose, team changed after risk assessment ra_1")
    other = risk.staleness(current, "2026.11", [], "other-form")
    assert other is not None and "not 'other-form'" in other
    gone = risk.staleness(
        _assessment(superseded_at=datetime(2026, 4, 1, tzinfo=UTC), superseded_by="ra_2"), "2026.11"
    )
    assert gone is not None and "superseded by ra_2" in gone
