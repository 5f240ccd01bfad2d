"""The model card's compliance section: the coverage service's result for the model, with
the Taiwan catalogs' Chinese titles beside the English and the EU/Taiwan obligation dates;
in the JSON card, Markdown, HTML and the PDF."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from tests.compliance import test_modelcards_and_evidence as base

from steward.services import compliance, modelcards

AUDRA, MODEL, Demo = base.AUDRA, base.MODEL, base.Demo
demo = base.demo  # the demo store fixture (sqlite and PostgreSQL)


def _tables(card: object) -> dict[str, dict[str, object]]:
    section = card.section("compliance")  # type: ignore[attr-defined]
    return {b["caption"]: b for b in section.blocks if b["kind"] == "table"}


def test_card_shows_the_coverage_service_result_with_chinese_titles(demo: Demo) -> None:
    card = modelcards.model_card(demo.ctx, AUDRA, MODEL, 2)
    tables = _tables(card)
    cov = compliance.model_coverage(demo.ctx, AUDRA, MODEL)
    # The same statuses as the coverage service (not recomputed by the card).
    for framework in ("tw-fsc", "tw-ba-ai", "tw-ai-basic-act", "eu-ai-act"):
        rows = tables[f"Coverage of {framework}"]["rows"]
        want = [[c.control, c.status.value] for c in cov.controls if c.framework == framework]
        assert [[r[0], r[3]] for r in rows] == want, framework  # type: ignore[index]
    fsc = {r[0]: r for r in tables["Coverage of tw-fsc"]["rows"]}  # type: ignore[index]
    assert "緊急" in fsc["TW-FSC-AIG-Ch1.3"][2]  # the emergency shutdown item
    basic = {r[0]: r for r in tables["Coverage of tw-ai-basic-act"]["rows"]}  # type: ignore[index]
    assert "公平" in basic["Art. 4 P6"][2]
    summary = {r[0]: r for r in tables["Coverage per framework"]["rows"]}  # type: ignore[index]
    assert {f.framework for f in cov.frameworks} == set(summary)
    obligations = tables["Obligations and the dates they apply from"]["rows"]
    dates = {(r[0], r[3]) for r in obligations}  # type: ignore[index]
    assert ("tw-ai-basic-act", "2026-01-14") in dates
    assert ("eu-ai-act", "2027-12-02") in dates  # the demo's credit model is high-risk


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_compliance_section_in_markdown_html_and_pdf(demo: Demo, tmp_path: Path) -> None:
    if demo.kind != "sqlite":
        pytest.skip("rendering does not depend on the database")
    md = modelcards.render(demo.ctx, AUDRA, MODEL, 2, "md").content.decode()
    assert "Compliance coverage" in md and "TW-FSC-AIG-Ch1.3" in md and "緊急" in md
    html = modelcards.render(demo.ctx, AUDRA, MODEL, 2, "html").content.decode()
    assert "Coverage of tw-ai-basic-act" in html and "2026-01-14" in html and "公平" in html
    pdf = modelcards.render(demo.ctx, AUDRA, MODEL, 2, "pdf").content
    path = tmp_path / "card.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Compliance coverage" in text and "Coverage of tw-fsc" in text
    assert "TW-FSC-AIG-Ch1.3" in " ".join(text.split()) and "2027-12-02" in text


def test_zh_tw_card_shows_the_compliance_section_in_chinese(demo: Demo) -> None:
    """The section's heading, labels, columns, captions and status words are translated on
    a zh-TW card like the rest of its structure; the evidence (ids, dates) stays as is."""
    if demo.kind != "sqlite":
        pytest.skip("rendering does not depend on the database")
    from steward.web.i18n import translations

    zh = translations("zh-TW").gettext
    html = modelcards.render(
        demo.ctx, AUDRA, MODEL, 2, "html", translate=zh, lang="zh-TW"
    ).content.decode()
    section = html[html.index('<section id="compliance">') :]
    section = section[: section.index("</section>")]
    for english, chinese in [
        ("Compliance coverage", "法遵涵蓋情形"),
        ("Coverage computed", "涵蓋情形計算時間"),
        ("Coverage per framework", "各框架的涵蓋情形"),
        ("Obligations and the dates they apply from", "義務及其適用日期"),
        ("framework", "框架"),
        ("applies from", "適用日期"),
        ("obligation", "義務"),
    ]:
        assert zh(english) == chinese
        assert chinese in section, english
    assert "tw-ai-basic-act 的涵蓋情形" in section  # the caption with its framework id
    assert "Coverage of" not in section and "Obligations and the dates" not in section
    # Status words: the coverage service's statuses and "applies" / "not yet".
    card = modelcards.model_card(demo.ctx, AUDRA, MODEL, 2)
    statuses = {
        r[3]
        for t in _tables(card).values()
        for r in t["rows"]  # type: ignore[attr-defined]
        if t.get("word_columns") == [3]
    }
    assert statuses and all(f"<td>{zh(s)}</td>" in section for s in statuses), statuses
    assert all(zh(s) != s for s in statuses)
    assert "<td>已適用</td>" in section and "<td>applies</td>" not in section
    # The evidence stays as recorded: ids and dates.
    assert "公平與不歧視" in section and "2026-01-14" in section
    # The English card is unchanged.
    english = modelcards.render(demo.ctx, AUDRA, MODEL, 2, "html").content.decode()
    assert "Coverage of tw-ai-basic-act" in english and "<td>applies</td>" in english
