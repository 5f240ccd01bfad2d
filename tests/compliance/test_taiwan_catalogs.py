# ruff: noqa: RUF001  (Traditional Chinese uses full-width punctuation)
"""The Taiwan catalogs: every entry cites its source, article and date; Chinese is shown
on zh-TW pages and says whether it is text or a summary; the crosswalk names real ids."""

from __future__ import annotations

import pytest

from steward.compliance import catalogs, mapping
from steward.domain.yamldoc import DocumentError
from steward.web.i18n import control_title

TAIWAN = ("tw-fsc", "tw-ba-ai", "tw-ai-basic-act")


@pytest.mark.parametrize("framework", TAIWAN)
def test_every_entry_cites_source_article_and_date(framework: str) -> None:
    cat = catalogs.catalog(framework)
    for c in cat.controls:
        assert c.source.strip(), (framework, c.id)
        assert c.article.strip(), (framework, c.id)
        assert c.date[:4] in ("2024", "2026"), (framework, c.id, c.date)
        assert c.text_status, (framework, c.id)
    assert cat.sources and cat.license_note and cat.verification


@pytest.mark.parametrize("framework", TAIWAN)
def test_nothing_unverified_is_presented_as_verified_text(framework: str) -> None:
    for c in catalogs.catalog(framework).controls:
        if c.verified in ("false", "secondary"):
            # A summary or secondary copy says so; never "official text".
            assert c.text_status != "official text", (framework, c.id)
        if c.kind == "reported_provision":
            assert c.text.startswith("Reported, not text:")
            assert not c.assessable


def test_fsc_items_are_marked_as_summaries_with_chinese() -> None:
    fsc = catalogs.catalog("tw-fsc")
    shutdown = fsc.control("TW-FSC-AIG-Ch1.3")
    assert shutdown.assessable and shutdown.parent == "TW-FSC-AIG-Ch1"
    assert shutdown.text_status == "summary" and shutdown.verified == "false"
    assert "緊急關閉" in shutdown.text_zh
    assert "Steward's translation of a summary" in shutdown.text
    assert fsc.control("TW-FSC-AIG-Ch1").parent == "TW-FSC-1"
    assert shutdown.date == "2024-06-20"
    assert any("GL003920" in s for s in fsc.sources)  # where the primary text lives


def test_bankers_association_articles_in_chinese_with_our_translation() -> None:
    ba = catalogs.catalog("tw-ba-ai")
    art3 = ba.control("Art. 3")
    assert art3.title_zh == "第三條" and art3.assessable
    assert art3.text_zh.startswith("金融機構於第一條所載範圍內運用人工智慧")
    assert art3.text.endswith("(Steward's translation)")
    assert art3.text_status == "secondary copy of the text"
    assert ba.control("Art. 5").text_status.endswith("(truncated)")
    assert "1120237675" in ba.version and art3.date == "2024-03-14"
    assert "2025" in ba.status  # the reported revision is named, not catalogued


def test_basic_act_chinese_is_labelled_by_where_it_comes_from() -> None:
    act = catalogs.catalog("tw-ai-basic-act")
    # Arts. 1-4: a secondary copy of NSTC's official Chinese text, with where it came from.
    for ref in ("Art. 1", "Art. 2", "Art. 3", "Art. 4"):
        found = act.control(ref)
        assert "secondary copy of the text" in found.text_status, ref
        assert "EtonMu/global-ai-data-regulation-map" in found.text_status, ref
        assert "9265421c901dbcc7a5a0fe2df7558741068d9df2" in found.text_status, ref
        assert "GL000592" in found.text_status, ref
    assert act.control("Art. 3").text_zh.startswith("本法所稱人工智慧，指具自主運行能力之系統")
    assert "七、問責" in act.control("Art. 4").text_zh
    # Arts. 5-20: Chinese and NSTC's English from the same secondary copy, and it says so.
    for n in range(5, 21):
        found = act.control(f"Art. {n}")
        assert found.text_status.startswith("secondary copy of the text"), n
        assert "9265421c901dbcc7a5a0fe2df7558741068d9df2" in found.text_status, n
        assert found.verified == "secondary" and not found.assessable, n
        assert found.text_zh and found.text and found.title_zh, n
    art19, art20 = act.control("Art. 19"), act.control("Art. 20")
    assert art19.text_zh.startswith("政府使用人工智慧執行業務或提供服務，應進行風險評估")
    assert art20.text_zh == "本法自公布之日起施行。"
    assert art20.text == "This Act shall take effect on the date of its promulgation."
    # Art. 4's English is whole now, and says which part Steward read on NSTC's site.
    assert act.control("Art. 4").text.endswith("external social responsibilities.")
    assert "rest of text_en" in act.control("Art. 4").text_status
    # The reported provisions stay topics: no Chinese, never text.
    assert all(not c.text_zh for c in act.controls if c.kind == "reported_provision")
    assert "Arts. 1-20" in act.verification
    assert act.control("Art. 4 P2").title_in("zh-TW") == "人類自主"


def test_zh_tw_pages_show_the_chinese_titles() -> None:
    assert control_title("zh-TW", "tw-fsc", "TW-FSC-AIG-GP-5.2", "x") == "簽訂書面契約"
    assert control_title("zh-TW", "tw-ba-ai", "Art. 4", "x") == "第四條"
    assert control_title("en", "tw-ba-ai", "Art. 4", "x") == "Sustainable development"


def test_crosswalk_relates_taiwan_items_to_nist_iso_and_eu() -> None:
    shipped = mapping.shipped()
    entry = shipped.entry("tw-fsc", "TW-FSC-AIG-Ch1.3")
    assert entry is not None and "eu-ai-act:Art. 14" in entry.related
    walk = mapping.crosswalk(shipped, "tw-fsc", "nist-ai-rmf")
    pair = next(p for p in walk.pairs if (p.source, p.target) == ("TW-FSC-AIG-Ch1.3", "MANAGE 2.4"))
    assert "steward crosswalk" in pair.basis
    # either direction
    back = mapping.crosswalk(shipped, "eu-ai-act", "tw-ai-basic-act")
    assert any(p.source == "Art. 14" and p.target == "Art. 4 P2" for p in back.pairs)
    for cat in TAIWAN:
        for e in (e for (f, _), e in shipped.entries.items() if f == cat):
            assert e.related, (cat, e.control)


def test_a_related_id_that_does_not_exist_is_refused_with_its_line() -> None:
    text = (
        "mapping: mine\nversion: '1'\ncontrols:\n  tw-ba-ai:\n"
        "    Art. 3: {evidence: [inventory], related: ['nist-ai-rmf:GOVERN 99']}\n"
    )
    with pytest.raises(DocumentError, match="GOVERN 99"):
        mapping.parse(text, "mine.yaml")


def test_the_oscal_catalog_carries_the_citation_and_the_chinese() -> None:
    from datetime import UTC, datetime

    from steward.compliance import oscal

    doc = oscal.catalog_document("tw-ba-ai", datetime(2026, 12, 7, tzinfo=UTC))
    text = oscal.to_json(doc).decode()
    assert "金融機構於第一條所載範圍內運用人工智慧" in text
    assert '"name": "article"' in text and "2024-03-14" in text
