"""The dataset card (a datasheet for a registered dataset), built from what the dataset
services return and rendered by the model card's machinery (its blocks, templates,
escaping and PDF path): ``dataset-card.*.j2`` extend ``model-card.*.j2``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from steward.compliance import modelcard as mc
from steward.compliance.modelcard import CardSection, RenderedCard
from steward.domain.datasets import Dataset, DatasetSnapshot, Impact
from steward.domain.personal_data import PersonalData

CARD_FORMAT = "steward.dataset-card/v1"
FORMATS = ("md", "html", "pdf")
MAX_SAMPLES = 3  # masked sample rows a rule shows on the card


@dataclass(frozen=True)
class DatasetCard:
    format: str
    name: str
    title: str
    generated_at: datetime
    generated_by: str
    sections: list[CardSection]
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetCardEvidence:
    """Everything a dataset card shows, as the dataset services give it."""

    dataset: Dataset
    versions: list[DatasetSnapshot]  # newest first; the newest with its rule results
    personal: PersonalData | None  # of the newest version
    impacts: list[Impact]  # of each version, newest first
    generated_at: datetime
    generated_by: str


def _samples(samples: list[dict[str, Any]]) -> str:
    # Stored already masked by the personal-data service; shown as recorded.
    return "; ".join(json.dumps(s, default=str, sort_keys=True) for s in samples[:MAX_SAMPLES])


def build(ev: DatasetCardEvidence) -> DatasetCard:
    ds = ev.dataset
    latest = ev.versions[0] if ev.versions else None
    inventory = CardSection(
        "inventory",
        "Inventory",
        "Datasheets for Datasets: motivation, composition; EU AI Act Art. 10(2)",
        [
            mc._facts(
                ("Name", ds.name),
                ("Title", ds.title),
                ("Owner", ds.owner),
                ("Steward team", ds.steward_team),
                ("Source", ds.source),
                ("Classification", ds.classification),
                ("Legal basis", ds.legal_basis),
                ("Consent reference", ds.consent_ref),
                ("Retention", ds.retention),
                ("Licence", ds.licence),
                ("Tags", ds.tags),
                ("Status", ds.status),
                ("Latest version", ds.latest_version),
                ("Registered", f"{mc._text(ds.created_at)} by {ds.created_by}"),
            ),
            mc._para(ds.description) if ds.description else mc._missing("No description."),
        ],
    )
    version_blocks: list[dict[str, Any]] = [
        mc._table(
            ["Version", "Fingerprint", "Rows", "Columns", "Quality", "Approved", "Created"],
            [
                [v.version, v.fingerprint, v.rows, v.columns, v.quality, v.approved, v.created_at]
                for v in ev.versions
            ],
        )
    ]
    if latest is not None:
        version_blocks.append(
            mc._table(
                ["Column", "Type"],
                [[c.name, c.type] for c in latest.schema],
                caption=f"Schema of version {latest.version}",
            )
        )
    else:
        version_blocks = [mc._missing("No version yet: `steward dataset snapshot NAME`.")]
    quality: list[dict[str, Any]]
    if latest is None or not latest.results:
        quality = [mc._missing("No quality rule results for the latest version.")]
    else:
        quality = [
            mc._table(
                ["Rule", "Kind", "Column", "Passed", "Failing rows", "Rows", "Detail", "Samples"],
                [
                    [
                        r.rule,
                        r.kind,
                        r.column,
                        r.passed,
                        r.failing_rows,
                        r.rows,
                        r.detail,
                        _samples(r.samples),
                    ]
                    for r in latest.results
                ],
                caption=f"Version {latest.version}: {latest.quality}",
            )
        ]
    if ev.personal is None or not ev.personal.columns:
        personal = [mc._missing("No personal-data scan for the latest version.")]
    else:
        personal = [
            mc._table(
                ["Column", "Detected", "Examples (masked)", "Categories", "Review", "Reason"],
                [
                    [
                        c.column,
                        c.scan.categories,
                        c.scan.examples,
                        c.categories,
                        f"{c.review.decision} by {c.review.reviewed_by}"
                        if c.review
                        else ("not needed" if c.reviewed else "awaiting review"),
                        c.review.reason if c.review else "",
                    ]
                    for c in ev.personal.columns
                ],
                caption=f"Version {ev.personal.version}",
            )
        ]
    approvals = [
        [v.version, a.approver, a.roles, a.comment, a.at] for v in ev.versions for a in v.approvals
    ]
    uses = [
        [f"{i.dataset}@{i.version}", m.model, m.version, m.stage, m.role, m.deployments]
        for i in ev.impacts
        for m in i.models
    ]
    sections = [
        inventory,
        CardSection("versions", "Versions", "Composition; collection process", version_blocks),
        CardSection("quality", "Quality rules", "Preprocessing; Art. 10(3)", quality),
        CardSection("personal", "Personal data", "GDPR Art. 5, 9; Art. 10(5)", personal),
        CardSection(
            "approvals",
            "Data approvals",
            "Uses; maintenance",
            [mc._table(["Version", "Approver", "Roles", "Comment", "At"], approvals)],
        ),
        CardSection(
            "lineage",
            "Lineage and impact",
            "Uses; Art. 10(2)",
            [
                mc._table(
                    ["Dataset version", "Model", "Version", "Stage", "Role", "Deployments"], uses
                )
            ],
        ),
    ]
    return DatasetCard(
        format=CARD_FORMAT,
        name=ds.name,
        title=ds.title or ds.name,
        generated_at=ev.generated_at,
        generated_by=ev.generated_by,
        sections=sections,
        evidence={"fingerprints": {v.version: v.fingerprint for v in ev.versions}},
    )


def check_format(fmt: str) -> str:
    value = (fmt or "").strip().lower()
    if value == "markdown":
        value = "md"
    if value not in FORMATS:
        from steward.domain.errors import InvalidInput

        raise InvalidInput(
            f"Unknown dataset card format {fmt!r}; use one of {', '.join(FORMATS)}.",
            field="format",
        )
    return value


def render(
    card: DatasetCard,
    fmt: str,
    instead: str,
    translate: Callable[[str], str] | None = None,
    lang: str = "en",
) -> RenderedCard:
    """The card as bytes; ``translate`` renders an HTML card's headings in ``lang``; the PDF
    is the record filed: English."""
    fmt = check_format(fmt)
    if fmt == "md":
        content = mc.render_markdown(card, template_name="dataset-card.md.j2").encode()
    else:
        if fmt == "html":
            html = mc.render_html(card, {}, translate, lang, template_name="dataset-card.html.j2")
            content = html.encode()
        else:
            html = mc.render_html(card, {}, template_name="dataset-card.html.j2")
            content = mc.render_pdf(html, instead)
    return RenderedCard(f"{card.name}-dataset-card.{fmt}", mc.MEDIA_TYPES[fmt], content)
