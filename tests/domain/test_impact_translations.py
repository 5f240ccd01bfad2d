# ruff: noqa: RUF001  (Traditional Chinese uses full-width punctuation)
"""The impact assessment form's Traditional Chinese words: complete for the shipped form
version, applied without changing what is checked (ids, required, Art. 27, references)."""

from __future__ import annotations

from dataclasses import replace

from steward.domain import impact, impact_texts


def test_the_shipped_translation_covers_the_title_every_section_and_field() -> None:
    english = impact.shipped()
    texts = impact_texts.shipped_texts("zh-TW")
    assert texts is not None and impact_texts.applies(english, texts)
    assert impact_texts.missing(english, texts) == []
    # no stray keys: a renamed field or section would leave its translation unused
    assert set(texts.fields) == {f.id for f in english.fields}
    assert set(texts.sections) == {f.section for f in english.fields}


def test_localizing_changes_words_only() -> None:
    english = impact.shipped()
    worded = impact_texts.in_language(english, "zh-TW")
    assert worded.title == "人工智慧影響評估"
    assert worded.fields[0].section == "系統與預期用途"
    for f_en, f_zh in zip(english.fields, worded.fields, strict=True):
        assert (f_zh.id, f_zh.refs, f_zh.required, f_zh.fria) == (
            f_en.id,
            f_en.refs,
            f_en.required,
            f_en.fria,
        )
        assert f_zh.text != f_en.text and f_zh.section != f_en.section
    assert [f.id for f in worded.required_for("high")] == [
        f.id for f in english.required_for("high")
    ]


def test_english_and_texts_for_another_version_leave_the_form_as_it_is() -> None:
    english = impact.shipped()
    assert impact_texts.in_language(english, "en") is english
    newer = replace(english, version="2099.1")
    assert impact_texts.in_language(newer, "zh-TW") is newer


def test_a_missing_text_falls_back_to_english_and_is_reported() -> None:
    english = impact.shipped()
    texts = impact_texts.parse_texts(
        'form: steward-impact\nversion: "2026.12"\nsections:\n  Benefits: 效益\n'
        "fields:\n  benefits: 有哪些效益？\n"
    )
    worded = impact_texts.localize(english, texts)
    benefits = next(f for f in worded.fields if f.id == "benefits")
    assert (benefits.section, benefits.text) == ("效益", "有哪些效益？")
    assert worded.fields[0] == english.fields[0]
    gaps = impact_texts.missing(english, texts)
    assert "title" in gaps and "harms" in gaps and "section:Harms" in gaps
    assert "benefits" not in gaps and "section:Benefits" not in gaps
