"""Which obligations apply to a model and from when; NIST AI 600-1 only for generative
models. Pure: facts built directly, the shipped catalogs and mapping."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from steward.compliance import catalogs, coverage, mapping, obligations
from steward.compliance.coverage import ModelFacts, is_generative

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
CREDIT = ModelFacts(
    model="credit-scoring",
    fields={"title": "Credit", "purpose": "credit decisions"},
    risk_tier="high",
    status="active",
    next_review_date=None,
    eu_category="high",
)


def _by_ref(facts: ModelFacts, today: date) -> dict[tuple[str, str], obligations.Obligation]:
    return {(o.framework, o.ref): o for o in obligations.for_model(facts, today)}


def test_a_high_risk_credit_model_gets_the_omnibus_dates() -> None:
    rows = _by_ref(CREDIT, NOW.date())
    high = rows[("eu-ai-act", "Arts. 9-15, 17, 26, 27, 72, 73")]
    assert high.applies_from == "2027-12-02" and not high.in_effect
    assert "originally 2026-08-02" in high.basis and "2028-08-02" in high.basis
    assert "secondary sources" in high.basis  # the OJ publication is not stated as fact
    assert rows[("eu-ai-act", "Art. 5")].in_effect
    assert rows[("tw-ai-basic-act", "Art. 4")].applies_from == "2026-01-14"
    assert rows[("tw-fsc", "核心原則 1-6")].in_effect
    assert ("eu-ai-act", "Art. 50") not in rows  # no transparency answer
    assert all(fw != "nist-ai-600-1" for fw, _ in rows)
    dates = [o.applies_from for o in obligations.for_model(CREDIT, NOW.date())]
    assert dates == sorted(dates)
    # the same rows on the coverage result every face shows
    cov = coverage.for_model(CREDIT, mapping.shipped(), NOW)
    assert cov.obligations == obligations.for_model(CREDIT, NOW.date())
    # on the day, it applies
    assert _by_ref(CREDIT, date(2027, 12, 2))[
        ("eu-ai-act", "Arts. 9-15, 17, 26, 27, 72, 73")
    ].in_effect


def test_a_chatbot_gets_art_50_from_august_2026_and_the_genai_profile() -> None:
    bot = replace(CREDIT, eu_category="limited", generative=True, transparency_duties=True)
    rows = _by_ref(bot, NOW.date())
    assert rows[("eu-ai-act", "Art. 50")].applies_from == "2026-08-02"
    assert rows[("eu-ai-act", "Art. 50(2)")].applies_from == "2026-12-02"
    assert rows[("nist-ai-600-1", "Section 2")].in_effect
    assert ("eu-ai-act", "Arts. 9-15, 17, 26, 27, 72, 73") not in rows


def test_without_a_risk_assessment_no_eu_row_is_guessed() -> None:
    unassessed = replace(CREDIT, eu_category=None)
    assert all(o.framework != "eu-ai-act" for o in obligations.for_model(unassessed, NOW.date()))


def test_nist_600_1_is_assessed_only_for_generative_models() -> None:
    cat = catalogs.catalog("nist-ai-600-1")
    assert len(cat.assessable) == 12
    assert cat.control("GAI-2").title == "Confabulation"
    assert all(c.source and c.article and c.date == "2024-07-26" for c in cat.controls)
    # The suggested actions are catalogued but not assessed: guidance, not evidence.
    assert "211 suggested actions" in cat.verification and "GV-4.3-001" in cat.verification
    shipped = mapping.shipped()
    plain = coverage.for_model(CREDIT, shipped, NOW)
    assert all(c.framework != "nist-ai-600-1" for c in plain.controls)
    genai = coverage.for_model(replace(CREDIT, generative=True), shipped, NOW)
    assert sum(c.framework == "nist-ai-600-1" for c in genai.controls) == 12


def test_generative_comes_from_the_question_or_synthetic_content() -> None:
    assert is_generative({"generative": "yes"})
    assert is_generative({"transparency": ["interacts_with_people", "synthetic_content"]})
    assert is_generative({"transparency": "synthetic_content"})
    assert not is_generative({"generative": "no", "transparency": ["none"]})
    assert not is_generative({})
