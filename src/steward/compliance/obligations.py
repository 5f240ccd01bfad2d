"""Which obligations apply to a model, and from which date.

Computed from the model's current risk assessment (its EU AI Act category, whether it
is generative) and the dates the catalogs record, so every face shows the same
timeline: the web compliance page of a model, ``steward compliance coverage``, the SDK
and REST. The EU dates follow the AI Act as amended by the 2026 digital omnibus, whose
Official Journal publication Steward could only confirm from secondary sources — each
row says which dates are amended and how sure that is (``basis``).

Pure: reads the catalogs, imports nothing of the database or the faces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from steward.compliance import catalogs

if TYPE_CHECKING:  # coverage builds its result with these rows
    from steward.compliance.coverage import ModelFacts

_OMNIBUS = (
    "Regulation (EU) 2026/1744 (digital omnibus; adopted, OJ publication from secondary sources)"
)


@dataclass(frozen=True)
class Obligation:
    framework: str
    ref: str  # article or section
    what: str
    applies_from: str  # ISO date
    in_effect: bool  # applies_from <= today
    basis: str  # why it applies to this model, and where the date comes from


def _eu(facts: ModelFacts) -> list[tuple[str, str, str, str, str]]:
    eu = catalogs.catalog("eu-ai-act")
    rows: list[tuple[str, str, str, str]] = [
        ("Art. 4", "AI literacy", "2025-02-02", "every AI system; Art. 113(a), original text"),
        ("Art. 5", "Prohibited practices", "2025-02-02", "every AI system; Art. 113(a)"),
        (
            "Art. 5(1)(ba)-(bb)",
            "New prohibitions (non-consensual intimate imagery, CSAM)",
            "2026-12-02",
            f"every AI system; added by {_OMNIBUS}",
        ),
    ]
    category = facts.eu_category
    if category == "limited" or facts.transparency_duties or facts.generative:
        rows.append(
            (
                "Art. 50",
                "Transparency obligations",
                eu.control("limited-risk-transparency").applies_from or "2026-08-02",
                "risk assessment: Art. 50 transparency (or generative); date unchanged by "
                "the omnibus",
            )
        )
    if facts.generative:
        rows.append(
            (
                "Art. 50(2)",
                "Marking synthetic content: systems on the market before 2026-08-02",
                "2026-12-02",
                f"generative; grace period reported for {_OMNIBUS}",
            )
        )
    if category == "high":
        rows.append(
            (
                "Arts. 9-15, 17, 26, 27, 72, 73",
                "High-risk duties (Annex III systems)",
                catalogs.EU_ANNEX_III_DATE,
                f"risk assessment: high-risk (Annex III); originally 2026-08-02, moved by "
                f"{_OMNIBUS}. Annex I (product safety) systems: {catalogs.EU_ANNEX_I_DATE}",
            )
        )
    return [("eu-ai-act", *r) for r in rows]


def for_model(facts: ModelFacts, today: date) -> tuple[Obligation, ...]:
    """The model's obligations with their dates, earliest first."""
    rows: list[tuple[str, str, str, str, str]] = []
    if facts.eu_category is not None:
        rows += _eu(facts)
    rows += [
        (
            "tw-ai-basic-act",
            "Art. 4",
            "人工智慧基本法 第4條原則 — AI Basic Act principles "
            "(framework act; duties mainly on government)",
            "2026-01-14",
            "promulgated 2026-01-14, in force on promulgation",
        ),
        (
            "tw-fsc",
            "核心原則 1-6",
            "金融業運用人工智慧(AI)指引 — FSC AI guidelines (administrative guidance)",
            "2024-06-20",
            "financial institutions' AI systems",
        ),
        (
            "tw-ba-ai",
            "Art. 3",
            "金融機構運用人工智慧技術作業規範 — Bankers Association AI rules (self-regulatory)",
            "2024-03-14",
            "banks' AI that advises consumers, affects their transactions or is material",
        ),
        ("sr-26-2", "SR 26-2", "Model risk management guidance", "2026-04-17", "US banks"),
    ]
    if facts.generative:
        rows.append(
            (
                "nist-ai-600-1",
                "Section 2",
                "Generative AI Profile: the twelve GAI risks",
                "2024-07-26",
                "risk assessment: generative",
            )
        )
    out = [
        Obligation(fw, ref, what, start, date.fromisoformat(start) <= today, basis)
        for fw, ref, what, start, basis in rows
    ]
    return tuple(sorted(out, key=lambda o: (o.applies_from, o.framework)))
