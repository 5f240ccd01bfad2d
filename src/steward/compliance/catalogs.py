"""Control catalogs: the frameworks Steward maps its evidence to.

The source files under ``sources/`` are shipped verbatim (each keeps its
sources, verification status and licence note); this module reads each one
into the same shape — a :class:`Catalog` of :class:`Control` s with their
parent, kind and, where the source says so, verification status and the date
the obligation applies from. ``assessable`` controls are the ones coverage is
computed for (NIST AI RMF subcategories, ISO/IEC 42001 Annex A controls, EU AI
Act articles and Annex IV sections, SR 26-2 themes, SR 11-7 requirements, Taiwan
FSC principles and guideline items, Bankers Association articles, AI Basic Act
principles, NIST AI 600-1 GAI risks); the rest (functions, objectives, clauses, Annex III
areas, risk categories, life-cycle stages, NIST AI 600-1 suggested actions) can still be
cited by policy packs.

Pure: reads package data, imports nothing of the database or the faces.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from steward.domain.errors import NotFound

# Regulation (EU) 2026/1744 moved the high-risk dates (Art. 113 as amended; the source
# file marks the amendment `verified: secondary`).
EU_ANNEX_III_DATE = "2027-12-02"
EU_ANNEX_I_DATE = "2028-08-02"
_EU_HIGH_RISK_NOTE = (
    f"Annex III high-risk systems from {EU_ANNEX_III_DATE}, Annex I systems from "
    f"{EU_ANNEX_I_DATE} (Regulation (EU) 2026/1744; verified from secondary sources)"
)


@dataclass(frozen=True)
class Control:
    framework: str
    id: str
    title: str
    text: str
    kind: str  # subcategory, control, article, annex_iv_section, theme, requirement, ...
    parent: str | None = None
    assessable: bool = False
    verified: str = ""  # as the source says: "true", "secondary", "false" or "" (not stated)
    applies_from: str | None = None  # ISO date the obligation applies from, when dated
    applies_note: str = ""
    # The title in Traditional Chinese where the source has one (shown on zh-TW pages).
    title_zh: str = ""
    # Citation of the entry itself (set for the Taiwan and NIST AI 600-1 catalogs, whose
    # entries come from several documents): source document, article or section, date.
    source: str = ""
    article: str = ""
    date: str = ""
    # The Chinese text or summary, and what it is: "official text", "secondary copy of
    # the text", "summary" (never the instrument's words) or "reported topic".
    text_zh: str = ""
    text_status: str = ""
    # Which models the control concerns: "" for all, "generative" for NIST AI 600-1.
    applies_to: str = ""
    # Ids (in the same catalog) of the controls this one addresses: the GAI risks a
    # NIST AI 600-1 suggested action is tagged with.
    addresses: tuple[str, ...] = ()

    def title_in(self, locale: str) -> str:
        """The title in ``locale`` ("zh-TW" or "en") when the catalog has it, else ``title``."""
        if locale.lower().startswith("zh") and self.title_zh:
            return self.title_zh
        return self.title

    def text_in(self, locale: str) -> str:
        """The text (or summary) in ``locale`` when the catalog has it, else ``text``."""
        if locale.lower().startswith("zh") and self.text_zh:
            return self.text_zh
        return self.text


@dataclass(frozen=True)
class Catalog:
    id: str  # what policy packs and the mapping cite: "<id>:<control id>"
    title: str
    short: str
    version: str
    status: str  # e.g. "in force", "superseded by SR 26-2", "administrative guidance"
    sources: tuple[str, ...]
    license_note: str
    verification: str
    file: str
    controls: tuple[Control, ...]

    @property
    def assessable(self) -> tuple[Control, ...]:
        return tuple(c for c in self.controls if c.assessable)

    def counts(self) -> dict[str, int]:
        return dict(Counter(c.kind for c in self.controls))

    def control(self, control_id: str) -> Control:
        for c in self.controls:
            if c.id == control_id:
                return c
        raise NotFound(
            f"{self.short} has no control {control_id!r}. List them with "
            f"`steward compliance controls {self.id}`.",
            framework=self.id,
            control=control_id,
        )


def _read(name: str) -> dict[str, Any]:
    text = resources.files("steward.compliance").joinpath("sources", name).read_text("utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict), name
    return data


def _flat(value: Any) -> str:
    return " ".join(str(value).split())


def _sources(raw: Any) -> tuple[str, ...]:
    """Sources are strings in some files and {what, url|repo, note} mappings in others."""
    out: list[str] = []
    for item in raw if isinstance(raw, list) else [raw]:
        if isinstance(item, dict):
            parts = [str(item.get("what", ""))]
            for key in ("url", "path"):
                value = item.get(key)
                if value:
                    parts.append(", ".join(value) if isinstance(value, list) else str(value))
            if item.get("repo"):
                parts.append(f"{item['repo']}@{item.get('commit', '')}".rstrip("@"))
            if item.get("note"):
                parts.append(str(item["note"]))
            out.append(_flat(" — ".join(p for p in parts if p)))
        elif item:
            out.append(_flat(item))
    return tuple(out)


def _nist() -> Catalog:
    file = "nist-ai-rmf-1.0.yaml"
    d = _read(file)
    controls: list[Control] = []
    for fn in d["functions"]:
        controls.append(
            Control("nist-ai-rmf", fn["id"], fn["id"].title(), fn["summary"], "function")
        )
        for cat in fn["categories"]:
            controls.append(
                # NIST AI 100-1 gives categories and subcategories no title apart from
                # their outcome statement, so the statement is the title too.
                Control(
                    "nist-ai-rmf",
                    cat["id"],
                    _flat(cat["text"]),
                    _flat(cat["text"]),
                    "category",
                    fn["id"],
                )
            )
            for sub in cat["subcategories"]:
                controls.append(
                    Control(
                        "nist-ai-rmf",
                        sub["id"],
                        _flat(sub["text"]),
                        _flat(sub["text"]),
                        "subcategory",
                        cat["id"],
                        assessable=True,
                        verified="true",
                    )
                )
    return Catalog(
        id="nist-ai-rmf",
        title=d["framework"],
        short=d["short"],
        version=str(d["version"]),
        status="in force (voluntary framework)",
        sources=_sources(d["source"]),
        license_note=_flat(d["license_note"]),
        verification="text reproduced verbatim from NIST AI 100-1 and cross-checked",
        file=file,
        controls=tuple(controls),
    )


def _iso() -> Catalog:
    file = "iso-iec-42001-2023-annex-a.yaml"
    d = _read(file)
    controls: list[Control] = []
    for clause in d["management_system_clauses"]:
        controls.append(Control("iso-42001", str(clause["id"]), clause["title"], "", "clause"))
    for obj in d["objectives"]:
        controls.append(Control("iso-42001", obj["id"], obj["title"], "", "objective"))
        for ctl in obj["controls"]:
            controls.append(
                Control(
                    "iso-42001",
                    ctl["id"],
                    ctl["title"],
                    # Our own one-line summary: the standard's text is copyrighted.
                    _flat(ctl.get("intent", "")),
                    "control",
                    obj["id"],
                    assessable=True,
                    verified="secondary",
                )
            )
    return Catalog(
        id="iso-42001",
        title=d["framework"],
        short=d["short"],
        version=str(d["version"]),
        status="in force (certifiable standard)",
        sources=_sources(d["source"]),
        license_note=_flat(d["license_note"]),
        verification="ids and titles cross-checked against public statements of applicability",
        file=file,
        controls=tuple(controls),
    )


def _eu() -> Catalog:
    file = "eu-ai-act.yaml"
    d = _read(file)
    fid = "eu-ai-act"
    dates = d["application_dates_original"]
    controls: list[Control] = []
    for cat in d["risk_categories"]:
        dated = {
            "prohibited": (dates["chapters_I_II (incl. Art. 4, Art. 5)"], "Art. 5, Art. 113"),
            "high-risk": (EU_ANNEX_III_DATE, _EU_HIGH_RISK_NOTE),
            "limited-risk-transparency": (
                dates["general (incl. Art. 50, Annex III high-risk)"],
                "Art. 50 from the general date (unchanged by 2026/1744)",
            ),
            "minimal-risk": (dates["chapters_I_II (incl. Art. 4, Art. 5)"], "Art. 4 AI literacy"),
        }.get(cat["id"], (None, ""))
        controls.append(
            Control(
                fid,
                cat["id"],
                _flat(cat["title"]),
                _flat(cat.get("summary", cat.get("ref", ""))),
                "risk_category",
                verified=str(cat.get("verified", "")).lower(),
                applies_from=dated[0],
                applies_note=dated[1],
            )
        )
        for area in cat.get("annex_iii_areas") or []:
            controls.append(
                Control(
                    fid,
                    f"III.{area['point']}",
                    _flat(area["area"]),
                    _flat(area["use_cases"]),
                    "annex_iii_area",
                    "high-risk",
                    verified=str(cat.get("verified", "")).lower(),
                    applies_from=EU_ANNEX_III_DATE,
                    applies_note=_EU_HIGH_RISK_NOTE,
                )
            )
    for art in d["high_risk_articles"]:
        text = " ".join(
            f"{o['ref']}: {_flat(o['requirement'])}"
            for o in art["obligations"]
            if "requirement" in o
        )
        controls.append(
            Control(
                fid,
                art["id"],
                _flat(art["title"]),
                text,
                "article",
                "high-risk",
                assessable=True,
                verified=str(art.get("verified", "")).lower(),
                applies_from=EU_ANNEX_III_DATE,
                applies_note=_EU_HIGH_RISK_NOTE,
            )
        )
    for art in d["more_obligations"]:
        controls.append(
            Control(
                fid,
                art["id"],
                _flat(art["title"]),
                _flat(art["summary"]),
                "article",
                "high-risk",
                assessable=True,
                # Short paraphrases; the source says to check the consolidated text.
                verified="false",
                applies_from=EU_ANNEX_III_DATE,
                applies_note=_EU_HIGH_RISK_NOTE,
            )
        )
    annex = d["annex_iv_technical_documentation"]
    for section in annex["sections"]:
        controls.append(
            Control(
                fid,
                section["id"],
                _flat(section["title"]),
                "; ".join(_flat(i) for i in section["items"]),
                "annex_iv_section",
                "Art. 11",
                assessable=True,
                verified=str(annex.get("verified", "")).lower(),
                applies_from=EU_ANNEX_III_DATE,
                applies_note=_EU_HIGH_RISK_NOTE,
            )
        )
    amendment = d["amendments"][0]
    return Catalog(
        id=fid,
        title=_flat(d["framework"]),
        short="EU AI Act",
        version=_flat(d["version"]),
        status=(
            f"in force; amended by {amendment['act']}: {_flat(amendment['state'])} (reported in "
            f"force {amendment['in_force']}; secondary sources): {_EU_HIGH_RISK_NOTE}"
        ),
        sources=_sources(d["source"]),
        license_note=_flat(d["license_note"]),
        verification=(
            "articles and annexes read in the 2024 OJ text; the 2026 amendment verified from "
            "secondary sources only"
        ),
        file=file,
        controls=tuple(controls),
    )


def _sr26() -> Catalog:
    file = "sr-26-2.yaml"
    d = _read(file)
    controls = tuple(
        Control(
            "sr-26-2",
            t["id"],
            t["title"],
            _flat(t["summary"]),
            "theme",
            assessable=True,
            verified="secondary",
            applies_from="2026-04-17",
        )
        for t in d["themes"]
    )
    return Catalog(
        id="sr-26-2",
        title=d["framework"],
        short=d["short"],
        version=str(d["version"]),
        status="in force (supervisory guidance, non-binding)",
        sources=_sources(d["source"]),
        license_note=_flat(d["license_note"]),
        verification=_flat(d["status"]),
        file=file,
        controls=controls,
    )


def _sr11() -> Catalog:
    file = "sr-11-7.yaml"
    d = _read(file)
    controls = tuple(
        Control(
            "sr-11-7",
            r["id"],
            r["title"],
            _flat(r["requirement"]),
            "requirement",
            _flat(r["section"]),
            assessable=True,
            verified=str(r.get("verified", "")).lower(),
        )
        for r in d["requirements"]
    )
    return Catalog(
        id="sr-11-7",
        title=d["framework"],
        short="SR 11-7",
        version=str(d["version"]),
        status="superseded by SR 26-2 on 2026-04-17 (kept as common vocabulary)",
        sources=_sources(d["source"]),
        license_note=_flat(d["license_note"]),
        verification=_flat(d["verification_note"]),
        file=file,
        controls=controls,
    )


def _bilingual(title: str) -> tuple[str, str]:
    """("中文", "English") from a source title written "中文 — English"."""
    zh, sep, en = title.partition(" — ")
    return (zh.strip(), en.strip()) if sep else ("", title.strip())


_FSC_DATE = "2024-06-20"
_FSC_SOURCE = (
    "FSC, 金融業運用人工智慧(AI)指引 (Guidelines for the Use of AI in the Financial Industry)"
)
# Items the mapping assesses: risk-based implementation, third-party oversight and the
# chapter items (independent review, human override, emergency shutdown, remedies, ...).
_FSC_ASSESSED = ("GP-4", "GP-5", "Ch1.", "Ch2.", "Ch3.", "Ch5.")


def _joined(raw: Any) -> str:
    if isinstance(raw, dict):
        return _flat(" — ".join(str(raw[k]) for k in ("name", "url", "type") if raw.get(k)))
    if isinstance(raw, list):
        return "; ".join(_flat(x) for x in raw)
    return _flat(raw or "")


def _fsc_items() -> list[Control]:
    """The guideline's item structure (preamble, general provisions, six chapters) from
    ``tw-fsc-ai-guidelines-items.yaml``: every item is a summary from secondary sources
    (the guideline PDF could not be read), so the Chinese is ``summary`` and never text."""
    d = _read("tw-fsc-ai-guidelines-items.yaml")
    out: list[Control] = []
    for item in d["items"]:
        iid = str(item["id"])
        short = iid.removeprefix("TW-FSC-AIG-")
        chapter = short.removeprefix("Ch").split(".")[0] if short.startswith("Ch") else ""
        kind = "chapter" if chapter and "." not in short else "guideline_item"
        parent = (
            f"TW-FSC-{chapter}"
            if kind == "chapter"
            else (f"TW-FSC-AIG-Ch{chapter}" if chapter else None)
        )
        text_en = _flat(item["text_en"])
        zh = item.get("text_zh") or item["summary_zh_secondary"]
        out.append(
            Control(
                "tw-fsc",
                iid,
                text_en if len(text_en) <= 120 else text_en[:117] + "...",
                f"{text_en} (Steward's translation of a summary; not the guideline's text)",
                kind,
                parent,
                assessable=short.startswith(_FSC_ASSESSED),
                verified=str(item["verified"]).lower(),
                applies_from=_FSC_DATE,
                title_zh=_flat(item.get("title_zh") or zh)[:60],
                source=_joined(item["source"]) or _FSC_SOURCE,
                article=f"{_flat(item['part'])} ({short})",
                date=_FSC_DATE,
                text_zh=_flat(zh),
                text_status="official text" if item.get("text_zh") else "summary",
            )
        )
    return out


def _tw() -> Catalog:
    file = "tw-fsc-ai-guidelines.yaml"
    d = _read(file)
    source = _sources(d["source"])[0]
    controls: list[Control] = [
        Control(
            "tw-fsc",
            p["id"],
            _bilingual(p["title"])[1],
            _flat(p["summary"]),
            "principle",
            assessable=True,
            verified="secondary",
            applies_from=_FSC_DATE,
            title_zh=_bilingual(p["title"])[0],
            source=source,
            article=f"核心原則 {p['id'].rsplit('-', 1)[1]} / chapter {p['id'].rsplit('-', 1)[1]}",
            date=_FSC_DATE,
            text_status="summary",
        )
        for p in d["principles"]
    ]
    controls += [
        Control(
            "tw-fsc",
            s["id"],
            _bilingual(s["title"])[1],
            "",
            "lifecycle_stage",
            title_zh=_bilingual(s["title"])[0],
            source=source,
            article="總則 / AI系統生命週期 (general provisions, AI system life cycle)",
            date=_FSC_DATE,
            text_status="summary",
        )
        for s in d["lifecycle_stages"]
    ]
    controls += _fsc_items()
    items = _read("tw-fsc-ai-guidelines-items.yaml")["metadata"]
    return Catalog(
        id="tw-fsc",
        title=d["framework"],
        short=d["short"],
        version=str(d["version"]),
        status="administrative guidance (not binding law)",
        sources=_sources(d["source"])
        + tuple(f"not read (primary): {u}" for u in items["primary_locations_not_read"]),
        license_note=_flat(d["license_note"]),
        verification=f"{_flat(d['status'])}; items: {_flat(items['status_of_this_catalog'])}",
        file=file,
        controls=tuple(controls),
    )


def _tw_ba() -> Catalog:
    """The Bankers Association's self-regulatory rules on AI: Arts. 1-4 and the opening
    of Art. 5 in Chinese from a reproduction of the 2024 text, with Steward's translation;
    the other provisions as reported topics (never assessed: their text is not known)."""
    file = "tw-ba-ai-rules.yaml"
    d = _read(file)
    meta = d["metadata"]
    fid = "tw-ba-ai"
    dated = "2024-03-14"  # the FSC letter agreeing to the filing (同意備查)
    numerals = "一二三四五六七八九十"
    controls: list[Control] = []
    for a in d["articles"]:
        n = int(a["article"])
        label = _flat(a["title_en"]).removesuffix(" (descriptive label)")
        controls.append(
            Control(
                fid,
                f"Art. {n}",
                label,
                f"{_flat(a['text_en'])} (Steward's translation)",
                "article",
                # Art. 1-2 state purpose and definitions; the rest bind the institution.
                assessable=n >= 3,
                verified=str(a["verified"]).lower(),
                applies_from=dated,
                title_zh=f"第{numerals[n - 1]}條",
                source=_joined(a["source"]),
                article=f"第{numerals[n - 1]}條 (Art. {n})",
                date=dated,
                text_zh=_flat(a["text_zh"]),
                text_status="secondary copy of the text"
                + (" (truncated)" if a.get("text_zh_truncated") else ""),
            )
        )
    reported = d["missing"]["reported_content_unverified"]
    for i, topic in enumerate(reported["items"], start=1):
        controls.append(
            Control(
                fid,
                f"reported-{i}",
                _flat(topic)[:120],
                f"Reported, not text: {_flat(topic)}",
                "reported_provision",
                verified="false",
                source="; ".join(reported["sources"]),
                article="article number unknown (Arts. 5-16)",
                date=dated,
                text_status="reported topic",
            )
        )
    return Catalog(
        id=fid,
        title=f"{meta['issuer_en']} — {meta['instrument_zh']} ({meta['instrument_en']})",
        short="TW BA AI Rules",
        version=_flat(meta["version"]),
        status=(
            f"self-regulatory rules in force since {dated}; {_flat(meta['later_revision_note'])}"
        ),
        sources=tuple(dict.fromkeys(c.source for c in controls)),
        license_note=(
            "Self-regulatory rules of a trade association; Chinese text reproduced for "
            f"reference with its source named. {_flat(meta['english_note'])}"
        ),
        verification=_flat(meta["status_of_this_catalog"]),
        file=file,
        controls=tuple(controls),
    )


def _tw_ai_basic_act() -> Catalog:
    """Taiwan's AI Basic Act: all 20 articles in Chinese and NSTC's official English (Arts.
    1-3 and the opening of Art. 4 read on NSTC's site, the rest from a named secondary copy),
    the Art. 4 principles by their official names (assessed), and the provisions reported by
    secondary sources before the text was reached (listed, never assessed)."""
    file = "tw-ai-basic-act.yaml"
    d = _read(file)
    fid = "tw-ai-basic-act"
    promulgated = "2026-01-14"
    controls: list[Control] = [
        Control(
            fid,
            a["id"],
            _flat(a["title"]),
            _flat(a["text"]),
            "article",
            verified=str(a["verified"]),
            applies_from=promulgated,
            applies_note=f"duties for: {', '.join(a['duties_for'])}",
            title_zh=str(a.get("title_zh") or ""),
            source=_flat(a["source"]),
            article=a["id"],
            date=str(a["date"]),
            text_zh=_flat(a.get("text_zh") or ""),
            # Arts. 5-20 say in the file where both texts come from (a secondary copy);
            # Arts. 1-4 carry English read on NSTC's site and say where the Chinese is from.
            text_status=_flat(a["text_status"])
            if a.get("text_status")
            else (
                f"official English text ({_flat(a['verified_scope'])}); Chinese "
                + (_flat(a["text_zh_status"]) if a.get("text_zh") else "not reached")
            ),
        )
        for a in d["articles"]
    ]
    controls += [
        Control(
            fid,
            p["id"],
            _flat(p["title"]),
            _flat(p["verified_scope"]),
            "principle",
            p["article"],
            assessable=True,
            verified=str(p["verified"]),
            applies_from=promulgated,
            applies_note=_flat(p["title_zh_note"]),
            title_zh=str(p["title_zh"]),
            source=_flat(p["source"]),
            article=p["article"],
            date=str(p["date"]),
            text_status="official English name; Chinese label as reported",
        )
        for p in d["principles"]
    ]
    controls += [
        Control(
            fid,
            r["id"],
            _flat(r["topic"])[:120],
            f"Reported, not text: {_flat(r['topic'])} (sources: {'; '.join(r['sources'])})",
            "reported_provision",
            verified=str(r["verified"]),
            applies_note=f"duties for: {', '.join(r['duties_for'])}",
            source="; ".join(r["sources"]),
            article=_flat(r["article"]),
            date=_flat(r["date"]),
            text_status="reported topic",
        )
        for r in d["reported"]
    ]
    return Catalog(
        id=fid,
        title=_flat(d["framework"]),
        short=d["short"],
        version=_flat(d["version"]),
        status="in force since 2026-01-14 (framework act; duties mainly on government)",
        sources=_sources(d["source"]),
        license_note=_flat(d["license_note"]),
        verification=_flat(d["status"]),
        file=file,
        controls=tuple(controls),
    )


def _nist_genai() -> Catalog:
    """NIST AI 600-1: the twelve GAI risks (assessed, for generative models only) and the
    Section 3 suggested actions (not assessed; each names its AI RMF subcategory as
    ``parent`` and the risks it addresses)."""
    file = "nist-ai-600-1.yaml"
    d = _read(file)
    fid = "nist-ai-600-1"
    primary = _sources(d["source"])[0]
    risks = [
        Control(
            fid,
            r["id"],
            r["title"],
            _flat(r["definition"]),
            "gai_risk",
            assessable=True,
            verified=str(r["verified"]),
            source=primary,
            article=r["section"],
            date=str(d["date"]),
            text_status="definition (NIST text, secondary transcription)",
            applies_to=str(d["applies_to"]),
        )
        for r in d["risks"]
    ]
    risk_ids = {r.id for r in risks}
    actions = []
    for a in d.get("actions", []):
        addresses = tuple(str(x) for x in a["risks"])
        unknown = set(addresses) - risk_ids
        assert not unknown, f"{file}: {a['id']} addresses unknown risks {sorted(unknown)}"
        unmapped = a.get("risks_unmapped") or []
        actions.append(
            Control(
                fid,
                a["id"],
                # NIST gives the actions no title apart from their text.
                _flat(a["text"]),
                _flat(a["text"]),
                "gai_action",
                parent=str(a["subcategory"]),  # the NIST AI RMF subcategory, e.g. GOVERN 1.1
                verified=str(a["verified"]),
                source=primary,
                article=f"Section 3, {a['subcategory']}",
                date=str(d["date"]),
                text_status="suggested action (NIST text, secondary transcription)"
                + (f"; also tagged {', '.join(unmapped)}" if unmapped else ""),
                applies_to=str(d["applies_to"]),
                addresses=addresses,
            )
        )
    return Catalog(
        id=fid,
        title=_flat(d["framework"]),
        short=d["short"],
        version=str(d["version"]),
        status="in force (voluntary profile); applies to generative models only",
        sources=_sources(d["source"]),
        license_note=_flat(d["license_note"]),
        verification=_flat(d["status"])
        + (" " + _flat(d["actions_status"]) if d.get("actions_status") else ""),
        file=file,
        controls=tuple(risks + actions),
    )


@cache
def catalogs() -> tuple[Catalog, ...]:
    """Every shipped catalog, in a stable order."""
    return (
        _nist(),
        _nist_genai(),
        _iso(),
        _eu(),
        _sr26(),
        _sr11(),
        _tw(),
        _tw_ba(),
        _tw_ai_basic_act(),
    )


def catalog(framework: str) -> Catalog:
    for c in catalogs():
        if c.id == framework:
            return c
    raise NotFound(
        f"No control catalog {framework!r}; catalogs are "
        f"{', '.join(c.id for c in catalogs())} (`steward compliance catalogs`).",
        framework=framework,
    )


@cache
def control_index() -> dict[tuple[str, str], Control]:
    return {(c.framework, c.id): c for cat in catalogs() for c in cat.controls}


@cache
def _addressed_by() -> dict[tuple[str, str], tuple[str, ...]]:
    found: dict[tuple[str, str], list[str]] = {}
    for cat in catalogs():
        for c in cat.controls:
            for target in c.addresses:
                found.setdefault((cat.id, target), []).append(c.id)
    return {k: tuple(v) for k, v in found.items()}


def addressed_by(framework: str, control: str) -> tuple[str, ...]:
    """Ids of the controls of ``framework`` that address ``control`` (for a NIST AI 600-1
    GAI risk: the suggested actions tagged with it), in catalog order."""
    return _addressed_by().get((framework, control), ())


def control_ids_document() -> dict[str, Any]:
    """What ``steward/policies/control_ids.json`` holds: every citable id per framework.

    Regenerate the file with ``python -m steward.compliance.catalogs --write-control-ids``;
    a test fails when it differs from the catalogs.
    """
    return {
        "_about": (
            "Control ids a policy requirement may cite as '<framework>:<id>'. Generated from "
            "the compliance catalogs (steward/compliance/sources) by "
            "`python -m steward.compliance.catalogs --write-control-ids`; do not edit by hand."
        ),
        "frameworks": {
            cat.id: {"title": cat.title, "ids": sorted(c.id for c in cat.controls)}
            for cat in catalogs()
        },
    }


def _main(argv: list[str]) -> int:
    import json
    import sys
    from pathlib import Path

    if argv != ["--write-control-ids"]:
        sys.stderr.write("usage: python -m steward.compliance.catalogs --write-control-ids\n")
        return 2
    target = Path(str(resources.files("steward.policies").joinpath("control_ids.json")))
    target.write_text(
        json.dumps(control_ids_document(), indent=1, ensure_ascii=False) + "\n", "utf-8"
    )
    sys.stdout.write(f"wrote {target}\n")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
