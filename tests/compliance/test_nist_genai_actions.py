"""NIST AI 600-1 Section 3: the suggested actions, their AI RMF subcategory and the GAI
risks they address; listed per risk by coverage, carried by the OSCAL catalog."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from trestle.oscal import catalog as ocat

from steward.compliance import catalogs, coverage, mapping, oscal
from steward.compliance.coverage import ModelFacts

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
GENAI = ModelFacts(
    model="assistant",
    fields={"title": "Assistant", "purpose": "answers customer questions"},
    risk_tier="medium",
    status="active",
    next_review_date=None,
    generative=True,
)


def actions() -> list[catalogs.Control]:
    return [c for c in catalogs.catalog("nist-ai-600-1").controls if c.kind == "gai_action"]


def test_every_action_cites_source_section_date_and_a_real_subcategory() -> None:
    rmf = {c.id for c in catalogs.catalog("nist-ai-rmf").controls if c.kind == "subcategory"}
    risks = {c.id for c in catalogs.catalog("nist-ai-600-1").assessable}
    found = actions()
    assert len(found) == 211
    for a in found:
        assert re.fullmatch(r"(GV|MP|MS|MG)-\d+\.\d+-\d{3}", a.id), a.id
        assert a.source.startswith("NIST AI 600-1") and a.date == "2024-07-26", a.id
        assert a.article == f"Section 3, {a.parent}", a.id
        assert a.parent in rmf, (a.id, a.parent)
        # the id's function and category.subcategory are the subcategory's
        fn = {"GV": "GOVERN", "MP": "MAP", "MS": "MEASURE", "MG": "MANAGE"}[a.id[:2]]
        assert a.parent == f"{fn} {a.id.split('-')[1]}", a.id
        assert a.addresses and set(a.addresses) <= risks, a.id
        assert not a.assessable and a.verified == "secondary" and a.text, a.id
        assert a.applies_to == "generative"


def test_the_catalog_says_how_many_actions_and_which_ids_are_missing() -> None:
    numbers: dict[str, list[int]] = defaultdict(list)
    for a in actions():
        prefix, sub, n = a.id.split("-")
        numbers[f"{prefix}-{sub}"].append(int(n))
    gaps = [
        f"{k}-{i:03d}" for k, ns in numbers.items() for i in range(1, max(ns) + 1) if i not in ns
    ]
    assert gaps == ["GV-4.3-001"]
    status = catalogs.catalog("nist-ai-600-1").verification
    assert "211 suggested actions" in status and "about 212" in status
    assert all(g in status for g in gaps)


def test_risk_names_map_to_ids_including_the_variants_the_text_uses() -> None:
    cat = catalogs.catalog("nist-ai-600-1")
    # "CBRN Information and Capability" is GAI-1
    assert cat.control("GV-1.3-007").addresses == ("GAI-1", "GAI-8", "GAI-9")
    # a comma instead of a semicolon between two risks
    assert cat.control("MG-3.2-004").addresses == ("GAI-3", "GAI-7")
    # "Environmental" is GAI-5 (Environmental Impacts)
    assert cat.control("MS-2.12-002").addresses == ("GAI-5",)
    # a tag that names no Section 2 risk is kept, not forced onto one
    civil = cat.control("GV-1.4-002")
    assert civil.addresses == ("GAI-1", "GAI-4", "GAI-11")
    assert "Civil Rights violations" in civil.text_status
    assert catalogs.addressed_by("nist-ai-600-1", "GAI-5") == (
        "MS-2.11-003",
        "MS-2.12-002",
        "MS-2.12-003",
        "MS-2.12-004",
    )
    tagged = sum(1 for a in actions() if "GAI-2" in a.addresses)
    assert len(catalogs.addressed_by("nist-ai-600-1", "GAI-2")) == tagged == 18


def test_coverage_lists_per_risk_the_actions_that_address_it_for_generative_models() -> None:
    shipped = mapping.shipped()
    cov = coverage.for_model(GENAI, shipped, NOW)
    rows = {c.control: c for c in cov.controls if c.framework == "nist-ai-600-1"}
    assert set(rows) == {f"GAI-{i}" for i in range(1, 13)}  # the actions are not assessed
    for risk, row in rows.items():
        assert row.actions == catalogs.addressed_by("nist-ai-600-1", risk)
        assert row.actions, risk
    # the actions are guidance: the status comes from the evidence alone
    assert rows["GAI-5"].status == coverage.Status.ORGANISATIONAL
    plain = coverage.for_model(replace(GENAI, generative=False), shipped, NOW)
    assert all(c.framework != "nist-ai-600-1" for c in plain.controls)
    assert all(not c.actions for c in plain.controls)


def test_control_info_names_both_directions() -> None:
    shipped = mapping.shipped()
    cat = catalogs.catalog("nist-ai-600-1")
    risk = mapping.control_info(cat.control("GAI-11"), shipped)
    assert "GV-1.4-001" in risk.addressed_by and len(risk.addressed_by) == 14
    action = mapping.control_info(cat.control("GV-1.4-001"), shipped)
    assert action.addresses == ("GAI-3", "GAI-6", "GAI-11") and action.parent == "GOVERN 1.4"


def test_the_oscal_catalog_carries_the_actions_and_their_risks(tmp_path: Path) -> None:
    path = tmp_path / "genai.json"
    path.write_bytes(oscal.to_json(oscal.catalog_document("nist-ai-600-1", NOW)))
    loaded = ocat.Catalog.oscal_read(path)
    props = {}
    for c in loaded.controls or []:
        values = {p.name: p.value for p in c.props or []}
        props[values["label"]] = values
    assert len(props) == 223
    one = props["MS-2.12-003"]
    assert one["kind"] == "gai_action" and one["rmf-subcategory"] == "MEASURE 2.12"
    assert one["addresses"] == "GAI-5" and one["article"] == "Section 3, MEASURE 2.12"
    assert props["GV-1.3-007"]["addresses"] == "GAI-1 GAI-8 GAI-9"
    assert "addresses" not in props["GAI-1"]
