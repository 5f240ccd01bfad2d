"""The shipped catalogs and the evidence mapping: counts, ids, every entry real."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from steward.compliance import catalogs, mapping
from steward.compliance.mapping import EvidenceKind
from steward.domain import policy
from steward.domain.errors import InvalidInput, NotFound
from steward.domain.yamldoc import DocumentError


def kinds(framework: str) -> dict[str, int]:
    return catalogs.catalog(framework).counts()


def test_catalog_counts_match_the_frameworks() -> None:
    assert kinds("nist-ai-rmf") == {"function": 4, "category": 19, "subcategory": 72}
    assert kinds("iso-42001") == {"clause": 12, "objective": 9, "control": 38}
    # EU AI Act: Arts 9-15, 17, 72, 73 in detail + Arts 18, 19, 26, 27, 43, 49; Annex III
    # areas 1-8; Annex IV sections 1-9; the four risk categories.
    assert kinds("eu-ai-act") == {
        "risk_category": 4,
        "annex_iii_area": 8,
        "article": 16,
        "annex_iv_section": 9,
    }
    assert kinds("sr-26-2") == {"theme": 9}
    assert kinds("sr-11-7") == {"requirement": 22}
    assert kinds("tw-fsc") == {
        "principle": 6,
        "lifecycle_stage": 4,
        "chapter": 6,
        "guideline_item": 29,
    }
    assert kinds("tw-ba-ai") == {"article": 5, "reported_provision": 7}
    assert kinds("nist-ai-600-1") == {"gai_risk": 12, "gai_action": 211}
    assert kinds("tw-ai-basic-act") == {"article": 20, "principle": 7, "reported_provision": 11}
    articles = {c.id for c in catalogs.catalog("eu-ai-act").controls if c.kind == "article"}
    assert articles == {
        f"Art. {n}" for n in (9, 10, 11, 12, 13, 14, 15, 17, 18, 19, 26, 27, 43, 49, 72, 73)
    }


def test_catalogs_carry_sources_verification_licence_and_2026_dates() -> None:
    for cat in catalogs.catalogs():
        assert cat.sources and cat.license_note and cat.verification, cat.id
        assert len({c.id for c in cat.controls}) == len(cat.controls), f"duplicate id in {cat.id}"
    eu = catalogs.catalog("eu-ai-act")
    assert "2026/1744" in eu.status
    assert eu.control("Art. 9").applies_from == "2027-12-02"
    assert eu.control("III.5").title.startswith("Access to essential")
    assert eu.control("prohibited").applies_from == "2025-02-02"
    assert catalogs.catalog("sr-11-7").status.startswith("superseded by SR 26-2")
    assert catalogs.catalog("sr-11-7").control("SR117-IV-5").verified == "false"
    # ISO text is copyrighted: ids, titles and our own one-line intent only
    iso = catalogs.catalog("iso-42001").control("A.6.2.4")
    assert iso.title == "AI system verification and validation"
    assert len(iso.text) < 120
    with pytest.raises(NotFound, match="steward compliance controls nist-ai-rmf"):
        catalogs.catalog("nist-ai-rmf").control("GOVERN 9.9")
    with pytest.raises(NotFound, match="catalogs are nist-ai-rmf, nist-ai-600-1, iso-42001"):
        catalogs.catalog("cobit")


def test_every_assessable_control_is_mapped_to_real_kinds_or_a_reason() -> None:
    shipped = mapping.shipped()
    index = catalogs.control_index()
    for (framework, control), entry in shipped.entries.items():
        assert (framework, control) in index, (framework, control)
        assert index[(framework, control)].assessable, (framework, control)
        assert bool(entry.evidence) != bool(entry.organisational), (framework, control)
        assert all(isinstance(k, EvidenceKind) for k in entry.evidence)
    for cat in catalogs.catalogs():
        missing = [c.id for c in cat.assessable if shipped.entry(cat.id, c.id) is None]
        assert missing == [], f"{cat.id} controls without a mapping entry: {missing}"
    used = {k for e in shipped.entries.values() for k in e.evidence}
    assert used == set(EvidenceKind), f"unused evidence kinds: {set(EvidenceKind) - used}"
    training = shipped.entry("nist-ai-rmf", "GOVERN 2.2")
    assert training is not None and training.organisational  # staff training


def test_control_ids_json_is_generated_from_the_catalogs() -> None:
    shipped = json.loads(
        resources.files("steward.policies").joinpath("control_ids.json").read_text("utf-8")
    )
    assert shipped == catalogs.control_ids_document(), (
        "regenerate: python -m steward.compliance.catalogs --write-control-ids"
    )
    known = policy.known_controls()
    assert "III.5" in known["eu-ai-act"] and "GOVERN 1.6" in known["nist-ai-rmf"]


def test_mapping_problems_are_listed_with_their_lines() -> None:
    text = """mapping: ours
version: "1"
freshness_days: {check_results: 0, reviews: 5}
controls:
  nist-ai-rmf:
    GOVERN 9.9: {evidence: [inventory]}
    GOVERN 1.6: {evidence: [inventory, crystal_ball]}
    GOVERN 2.2: {evidence: [inventory], organisational: both}
  cobit:
    X: {evidence: [inventory]}
"""
    with pytest.raises(DocumentError) as caught:
        mapping.parse(text, "ours.yaml")
    lines = {(p.line, p.message.split(":")[0]) for p in caught.value.problems}
    messages = " | ".join(p.message for p in caught.value.problems)
    assert "freshness for check_results must be 1-3650 days" in messages
    assert "freshness applies to check_results, monitoring, risk_assessment, not 'reviews'" in (
        messages
    )
    assert "nist-ai-rmf has no control 'GOVERN 9.9'" in messages
    assert "unknown evidence kind 'crystal_ball'" in messages
    assert "give either 'evidence' (a list of kinds) or 'organisational'" in messages
    assert "unknown framework 'cobit'" in messages
    assert {line for line, _ in lines} == {3, 6, 7, 8, 9}


def test_a_user_file_extends_the_shipped_mapping(tmp_path: Path) -> None:
    ours = tmp_path / "ours.yaml"
    ours.write_text(
        'mapping: bank\nversion: "7"\nfreshness_days: {check_results: 30}\ncontrols:\n'
        "  nist-ai-rmf:\n"
        '    GOVERN 2.2: {evidence: [reviews], note: "Training is part of our review"}\n'
    )
    merged = mapping.load(ours)
    ours_entry = merged.entry("nist-ai-rmf", "GOVERN 2.2")
    assert ours_entry is not None and ours_entry.evidence == (EvidenceKind.REVIEWS,)
    assert merged.entry("nist-ai-rmf", "GOVERN 1.6") == mapping.shipped().entry(
        "nist-ai-rmf", "GOVERN 1.6"
    )
    assert merged.freshness_days[EvidenceKind.CHECK_RESULTS] == 30
    assert merged.sources == ("mapping.yaml", "ours.yaml")
    with pytest.raises(InvalidInput, match="STEWARD_COMPLIANCE_MAPPING"):
        mapping.load(tmp_path / "absent.yaml")


def test_the_crosswalk_combines_published_pairs_and_shared_evidence() -> None:
    walk = mapping.crosswalk(mapping.shipped(), "nist-ai-rmf", "iso-42001")
    by_pair = {(p.source, p.target): p for p in walk.pairs}
    # published (Microsoft crosswalk listed by NIST AIRC): GOVERN 1.6 -> A.4.2 ... A.4.6
    assert "published" in by_pair[("GOVERN 1.6", "A.4.2")].basis
    # same evidence in Steward's mapping: MEASURE 2.5 and A.7.4 both need check results and
    # data that passed its dataset's quality rules
    same = by_pair[("MEASURE 2.5", "A.7.4")]
    assert same.basis == ("same evidence",)
    assert same.evidence == (EvidenceKind.CHECK_RESULTS, EvidenceKind.DATA_QUALITY)
    assert walk.published_source and "Microsoft" in walk.published_source
    # other pairs of frameworks relate by evidence only
    other = mapping.crosswalk(mapping.shipped(), "sr-11-7", "eu-ai-act")
    assert other.published_source is None
    assert ("SR117-VI-4", "Art. 12") in {(p.source, p.target) for p in other.pairs}
    with pytest.raises(InvalidInput, match="two different frameworks"):
        mapping.crosswalk(mapping.shipped(), "tw-fsc", "tw-fsc")


def test_every_ai_basic_act_entry_cites_its_source_article_and_date() -> None:
    """Nothing in the Taiwan AI Basic Act catalog is without a source, an article and a date;
    what could not be read in an official text says so instead of inventing it."""
    from importlib import resources

    import yaml

    text = resources.files("steward.compliance").joinpath("sources", "tw-ai-basic-act.yaml")
    doc = yaml.safe_load(text.read_text("utf-8"))
    entries = doc["articles"] + doc["principles"] + doc["reported"]
    for entry in entries:
        assert entry.get("source") or entry.get("sources"), entry["id"]
        assert entry.get("article") or entry["id"].startswith("Art. "), entry["id"]
        assert entry.get("date"), entry["id"]
        # "secondary": text read in a secondary copy of the official text (Arts. 5-20).
        assert entry["verified"] in ("true", "secondary", "false"), entry["id"]
    assert all(r["verified"] == "false" for r in doc["reported"])
    cat = catalogs.catalog("tw-ai-basic-act")
    assert "PARTIAL" in cat.verification
    # Reported provisions are listed, never assessed; the principles are, in both languages.
    assert {c.kind for c in cat.assessable} == {"principle"}
    fairness = cat.control("Art. 4 P6")
    assert (fairness.title, fairness.title_zh) == (
        "Fairness and Non-discrimination",
        "公平與不歧視",
    )
    assert (
        fairness.title_in("zh-TW") == "公平與不歧視" and fairness.title_in("en") == fairness.title
    )
