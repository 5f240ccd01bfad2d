# ruff: noqa: RUF001  (Traditional Chinese uses full-width punctuation)
"""The risk questionnaire's Traditional Chinese words: complete for the shipped
questionnaire version, applied without changing anything that scores."""

from __future__ import annotations

from dataclasses import replace

from tests.risk_answers import CREDIT

from steward.domain import risk, risk_texts


def test_the_shipped_translation_covers_every_question_option_and_reason() -> None:
    english = risk.shipped()
    texts = risk_texts.shipped_texts("zh-TW")
    assert texts is not None and risk_texts.applies(english, texts)
    assert risk_texts.missing(english, texts) == []


def test_localizing_changes_words_only_and_scores_the_same() -> None:
    english = risk.shipped()
    worded = risk_texts.in_language(english, "zh-TW")
    assert worded.questions[0].text == "模型的輸出對個人有什麼影響？"
    assert worded.description.startswith("依模型的預期用途")
    for q_en, q_zh in zip(english.questions, worded.questions, strict=True):
        assert (q_zh.id, q_zh.type, q_zh.ref, q_zh.controls, q_zh.optional) == (
            q_en.id,
            q_en.type,
            q_en.ref,
            q_en.controls,
            q_en.optional,
        )
        assert q_zh.text != q_en.text
        for o_en, o_zh in zip(q_en.options, q_zh.options, strict=True):
            assert (o_zh.value, o_zh.points, o_zh.tier, o_zh.category, o_zh.exclusive) == (
                o_en.value,
                o_en.points,
                o_en.tier,
                o_en.category,
                o_en.exclusive,
            )
            assert bool(o_zh.reason) == bool(o_en.reason)
    a, b = risk.score(english, CREDIT), risk.score(worded, CREDIT)
    assert (a.tier, a.category, a.score) == (b.tier, b.category, b.score)


def test_english_and_texts_for_another_version_leave_the_questionnaire_as_it_is() -> None:
    english = risk.shipped()
    assert risk_texts.in_language(english, "en") is english
    newer = replace(english, version="2099.1")
    assert risk_texts.in_language(newer, "zh-TW") is newer


def test_a_missing_text_falls_back_to_english_and_is_reported() -> None:
    english = risk.shipped()
    texts = risk_texts.parse_texts(
        'questionnaire: steward-risk\nversion: "2026.11"\nquestions:\n'
        "  scale:\n    text: 每年影響多少人？\n    options:\n      under_1k: 少於 1,000 人\n"
    )
    worded = risk_texts.localize(english, texts)
    scale = worded.question("scale")
    assert scale is not None and scale.text == "每年影響多少人？"
    assert [o.label for o in scale.options][:2] == ["少於 1,000 人", "1,000 to 100,000"]
    assert worded.question("autonomy") == english.question("autonomy")
    gaps = risk_texts.missing(english, texts)
    assert "scale=under_100k" in gaps and "autonomy" in gaps and "scale" not in gaps
