"""The evidence mapping: which Steward evidence satisfies each control, and crosswalks.

``mapping.yaml`` (shipped) gives every assessable control of every catalog an
entry: the evidence kinds that satisfy it, or "organisational" with a one-line
reason. A user file in the same format extends or overrides it control by
control. Parsing names every problem with its line (unknown framework, control
or evidence kind, an entry with both or neither of ``evidence`` and
``organisational``), so a person fixes the file in one pass.

A crosswalk between two frameworks falls out of the mapping (controls satisfied
by the same evidence), from the ``related`` ids an entry lists (Steward's crosswalk of
the Taiwanese items to NIST, ISO and EU controls) and, for NIST AI RMF ↔ ISO/IEC 42001,
the published crosswalk shipped in ``sources/`` adds its pairings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from steward.compliance import catalogs
from steward.domain import yamldoc
from steward.domain.errors import InvalidInput
from steward.domain.yamldoc import DocumentError, LineMap, Problem


class EvidenceKind(StrEnum):
    INVENTORY = "inventory"
    RISK_ASSESSMENT = "risk_assessment"
    POLICY_APPROVALS = "policy_approvals"
    CHECK_RESULTS = "check_results"
    MONITORING = "monitoring"
    AUDIT_JOURNAL = "audit_journal"
    DOCUMENTATION = "documentation"
    REVIEWS = "reviews"
    FINDINGS = "findings"
    WAIVERS = "waivers"
    DATA_REGISTERED = "data_registered"
    DATA_QUALITY = "data_quality"
    DATA_APPROVED = "data_approved"
    PERSONAL_DATA = "personal_data_reviewed"


EVIDENCE_DESCRIPTIONS: dict[EvidenceKind, str] = {
    EvidenceKind.INVENTORY: (
        "the model's inventory record (title, purpose, owner, business unit, tier)"
    ),
    EvidenceKind.RISK_ASSESSMENT: "a current risk assessment from the questionnaire",
    EvidenceKind.POLICY_APPROVALS: "an active policy pack and approvals of the version under it",
    EvidenceKind.CHECK_RESULTS: "validation check runs on the version's artifact, within freshness",
    EvidenceKind.MONITORING: "an active monitor on the production version that ran recently",
    EvidenceKind.AUDIT_JOURNAL: "the model's events in the hash-chained audit journal",
    EvidenceKind.DOCUMENTATION: "descriptions of model and version and their recorded datasets",
    EvidenceKind.REVIEWS: "periodic reviews completed on time",
    EvidenceKind.FINDINGS: "findings tracked, none open past its due date or critical",
    EvidenceKind.WAIVERS: "exceptions granted as time-boxed waivers with a reason",
    EvidenceKind.DATA_REGISTERED: (
        "the version's training and evaluation data are versions of registered datasets "
        "(owner, source, classification, legal basis)"
    ),
    EvidenceKind.DATA_QUALITY: "those dataset versions passed their datasets' quality rules",
    EvidenceKind.DATA_APPROVED: "a data steward who does not own the dataset approved them",
    EvidenceKind.PERSONAL_DATA: (
        "every personal-data column of a registered version of the training data was reviewed "
        "by a person, with a legal basis where the data is restricted or a special category"
    ),
}

DEFAULT_FRESHNESS_DAYS: dict[EvidenceKind, int] = {
    EvidenceKind.CHECK_RESULTS: 90,
    EvidenceKind.MONITORING: 14,
    EvidenceKind.RISK_ASSESSMENT: 365,
}
_KINDS = ", ".join(k.value for k in EvidenceKind)


@dataclass(frozen=True)
class MappingEntry:
    framework: str
    control: str
    evidence: tuple[EvidenceKind, ...]
    organisational: str | None  # the reason Steward cannot evidence it, else None
    note: str
    source: str  # the file the entry came from
    # Controls of other catalogs this one corresponds to ("framework:id"): the crosswalk
    # Steward states, shown beside the control and used by `crosswalk`.
    related: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvidenceMapping:
    name: str
    version: str
    sources: tuple[str, ...]
    freshness_days: dict[EvidenceKind, int]
    entries: dict[tuple[str, str], MappingEntry]

    def entry(self, framework: str, control: str) -> MappingEntry | None:
        return self.entries.get((framework, control))

    def for_framework(self, framework: str) -> list[MappingEntry]:
        return [e for (fw, _), e in self.entries.items() if fw == framework]

    def extended(self, other: EvidenceMapping) -> EvidenceMapping:
        """This mapping with ``other``'s entries and freshness values taking precedence."""
        return EvidenceMapping(
            name=f"{self.name}+{other.name}",
            version=f"{self.version}+{other.version}",
            sources=self.sources + other.sources,
            freshness_days={**self.freshness_days, **other.freshness_days},
            entries={**self.entries, **other.entries},
        )


def parse(text: str, source: str) -> EvidenceMapping:
    """Parse and validate a mapping file; raise :class:`DocumentError` listing every problem."""
    doc = yamldoc.load(text, source)
    problems: list[Problem] = []
    if not isinstance(doc, LineMap):
        raise DocumentError(
            source,
            [Problem(1, "a mapping file is a mapping with 'mapping', 'version', 'controls'")],
        )
    yamldoc.unknown_keys(
        doc, {"mapping", "version", "freshness_days", "controls"}, "the mapping file", problems
    )
    name = yamldoc.text(doc, "mapping", problems, required=True) or ""
    version = str(doc.get("version") or "")
    if not version:
        problems.append(Problem(doc.line, "'version' is required (e.g. \"2026.11\")"))
    freshness = _freshness(doc, problems)
    entries: dict[tuple[str, str], MappingEntry] = {}
    raw = doc.get("controls")
    if not isinstance(raw, LineMap) or not raw:
        problems.append(
            Problem(
                yamldoc.line_of(doc, "controls") or doc.line,
                "'controls' maps a framework id to {control id: entry}",
            )
        )
    else:
        index = catalogs.control_index()
        known = {c.id for c in catalogs.catalogs()}
        for framework, controls in raw.items():
            where = yamldoc.line_of(raw, framework)
            if framework not in known:
                problems.append(
                    Problem(
                        where,
                        f"unknown framework {framework!r}; "
                        f"frameworks are {', '.join(sorted(known))}",
                    )
                )
                continue
            if not isinstance(controls, LineMap):
                problems.append(Problem(where, f"{framework}: map each control id to an entry"))
                continue
            for control, body in controls.items():
                at = yamldoc.line_of(controls, control)
                if (framework, control) not in index:
                    problems.append(
                        Problem(
                            at,
                            f"{framework} has no control {control!r} "
                            f"(see `steward compliance controls {framework}`)",
                        )
                    )
                    continue
                entry = _entry(framework, str(control), body, at, source, problems)
                if entry is not None:
                    entries[(framework, str(control))] = entry
    if problems:
        raise DocumentError(source, sorted(problems, key=lambda p: p.line or 0))
    return EvidenceMapping(name, version, (source,), freshness, entries)


def _freshness(doc: LineMap, problems: list[Problem]) -> dict[EvidenceKind, int]:
    raw = doc.get("freshness_days")
    if raw is None:
        return {}
    line = yamldoc.line_of(doc, "freshness_days")
    if not isinstance(raw, LineMap):
        problems.append(Problem(line, "'freshness_days' maps an evidence kind to a number of days"))
        return {}
    out: dict[EvidenceKind, int] = {}
    for kind, days in raw.items():
        where = yamldoc.line_of(raw, kind)
        if kind not in DEFAULT_FRESHNESS_DAYS:
            problems.append(
                Problem(
                    where,
                    f"freshness applies to {', '.join(k.value for k in DEFAULT_FRESHNESS_DAYS)}, "
                    f"not {kind!r}",
                )
            )
        elif isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
            problems.append(Problem(where, f"freshness for {kind} must be 1-3650 days"))
        else:
            out[EvidenceKind(kind)] = days
    return out


def _entry(
    framework: str, control: str, body: Any, at: int | None, source: str, problems: list[Problem]
) -> MappingEntry | None:
    what = f"{framework} {control}"
    if not isinstance(body, LineMap):
        problems.append(
            Problem(at, f"{what}: write {{evidence: [kind, ...]}} or {{organisational: reason}}")
        )
        return None
    before = len(problems)
    yamldoc.unknown_keys(body, {"evidence", "organisational", "note", "related"}, what, problems)
    related = _related(body.get("related"), what, at, problems)
    evidence = body.get("evidence")
    reason = body.get("organisational")
    kinds: list[EvidenceKind] = []
    if (evidence is None) == (reason is None):
        problems.append(
            Problem(at, f"{what}: give either 'evidence' (a list of kinds) or 'organisational'")
        )
    elif evidence is not None:
        if not isinstance(evidence, list) or not evidence:
            problems.append(Problem(at, f"{what}: 'evidence' must be a non-empty list of kinds"))
        else:
            for kind in evidence:
                if kind not in EvidenceKind.__members__.values():
                    problems.append(
                        Problem(at, f"{what}: unknown evidence kind {kind!r}; kinds are {_KINDS}")
                    )
                elif EvidenceKind(kind) not in kinds:
                    kinds.append(EvidenceKind(kind))
    elif not isinstance(reason, str) or not reason.strip():
        problems.append(
            Problem(at, f"{what}: 'organisational' needs a one-line reason (e.g. staff training)")
        )
    if len(problems) > before:
        return None
    return MappingEntry(
        framework=framework,
        control=control,
        evidence=tuple(kinds),
        organisational=" ".join(str(reason).split()) if reason is not None else None,
        note=" ".join(str(body.get("note") or "").split()),
        source=source,
        related=related,
    )


def _related(raw: Any, what: str, at: int | None, problems: list[Problem]) -> tuple[str, ...]:
    """``related: [framework:id, ...]``, each naming a control of a shipped catalog."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
        problems.append(Problem(at, f"{what}: 'related' must be a list of 'framework:id'"))
        return ()
    index = catalogs.control_index()
    out: list[str] = []
    for ref in raw:
        framework, _, control = ref.partition(":")
        if (framework, control) not in index:
            problems.append(
                Problem(
                    at,
                    f"{what}: related control {ref!r} is not in any catalog "
                    "(list them with `steward compliance controls FRAMEWORK`)",
                )
            )
        else:
            out.append(ref)
    return tuple(out)


@cache
def shipped() -> EvidenceMapping:
    text = resources.files("steward.compliance").joinpath("mapping.yaml").read_text("utf-8")
    return parse(text, "mapping.yaml")


_LOADED: dict[tuple[str, float], EvidenceMapping] = {}


def load(extension: Path | None = None) -> EvidenceMapping:
    """The shipped mapping, extended by the user's file when one is configured."""
    base = shipped()
    if extension is None:
        return base
    try:
        stamp = extension.stat().st_mtime
        key = (str(extension), stamp)
        if key not in _LOADED:
            _LOADED[key] = base.extended(parse(extension.read_text("utf-8"), extension.name))
        return _LOADED[key]
    except OSError as exc:
        raise InvalidInput(
            f"Cannot read the compliance mapping file {str(extension)!r} ({exc.strerror}); "
            "fix STEWARD_COMPLIANCE_MAPPING or unset it to use the shipped mapping.",
            field="compliance_mapping",
        ) from None


# --- crosswalks ----------------------------------------------------------------------


@dataclass(frozen=True)
class CrosswalkPair:
    source: str  # control id in the first framework
    target: str  # control id in the second framework
    target_title: str
    basis: tuple[str, ...]  # "published", "same evidence" and/or "steward crosswalk"
    evidence: tuple[EvidenceKind, ...]  # the kinds both controls need (for "same evidence")


@dataclass(frozen=True)
class Crosswalk:
    source: str
    target: str
    pairs: tuple[CrosswalkPair, ...]
    published_source: str | None  # where "published" pairs come from, when there are any


@dataclass(frozen=True)
class ControlInfo:
    """A control with how Steward evidences it (what `compliance controls` lists)."""

    framework: str
    id: str
    title: str
    text: str
    kind: str
    parent: str | None
    assessable: bool
    verified: str
    applies_from: str | None
    applies_note: str
    evidence: tuple[EvidenceKind, ...]
    organisational: str | None
    note: str
    title_zh: str = ""  # the title in Traditional Chinese where the catalog has one
    # NIST AI 600-1: the GAI risks a suggested action addresses, and for a GAI risk the
    # suggested actions that address it.
    addresses: tuple[str, ...] = ()
    addressed_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class CatalogInfo:
    id: str
    title: str
    short: str
    version: str
    status: str
    sources: tuple[str, ...]
    license_note: str
    verification: str
    file: str
    counts: dict[str, int]  # control kind -> number
    assessable: int
    evidenced: int  # assessable controls Steward maps to evidence
    organisational: int  # assessable controls marked organisational


def catalog_info(cat: catalogs.Catalog, mapping: EvidenceMapping) -> CatalogInfo:
    entries = [mapping.entry(cat.id, c.id) for c in cat.assessable]
    return CatalogInfo(
        id=cat.id,
        title=cat.title,
        short=cat.short,
        version=cat.version,
        status=cat.status,
        sources=cat.sources,
        license_note=cat.license_note,
        verification=cat.verification,
        file=f"steward/compliance/sources/{cat.file}",
        counts=cat.counts(),
        assessable=len(cat.assessable),
        evidenced=sum(1 for e in entries if e is not None and e.evidence),
        organisational=sum(1 for e in entries if e is not None and e.organisational),
    )


def control_info(control: catalogs.Control, mapping: EvidenceMapping) -> ControlInfo:
    entry = mapping.entry(control.framework, control.id)
    return ControlInfo(
        framework=control.framework,
        id=control.id,
        title=control.title,
        text=control.text,
        kind=control.kind,
        parent=control.parent,
        assessable=control.assessable,
        verified=control.verified,
        applies_from=control.applies_from,
        applies_note=control.applies_note,
        evidence=entry.evidence if entry else (),
        organisational=entry.organisational if entry else None,
        note=entry.note if entry else "",
        title_zh=control.title_zh,
        addresses=control.addresses,
        addressed_by=catalogs.addressed_by(control.framework, control.id),
    )


@cache
def _published_nist_iso() -> frozenset[tuple[str, str]]:
    text = (
        resources.files("steward.compliance")
        .joinpath("sources", "crosswalk-nist-ai-rmf-iso42001.yaml")
        .read_text("utf-8")
    )
    data = yaml.safe_load(text)
    pairs = set()
    for row in data["mappings"]:
        for item in row["iso_42001"]:
            pairs.add((str(row["nist"]), str(item["iso_id"])))
    return frozenset(pairs)


PUBLISHED_CROSSWALK_SOURCE = (
    "NIST AI RMF to ISO/IEC FDIS 42001 crosswalk (Microsoft; listed by the NIST AI Resource "
    "Center) — sources/crosswalk-nist-ai-rmf-iso42001.yaml"
)


def crosswalk(mapping: EvidenceMapping, source: str, target: str) -> Crosswalk:
    """Pairs of controls of ``source`` and ``target`` frameworks that relate.

    "same evidence": both are satisfied by exactly the same evidence kinds in the
    mapping (so one body of evidence answers both); "published": the pairing is in
    the published NIST AI RMF ↔ ISO/IEC 42001 crosswalk (either direction); "steward
    crosswalk": either control's mapping entry lists the other under ``related``.
    """
    first, second = catalogs.catalog(source), catalogs.catalog(target)
    if first.id == second.id:
        raise InvalidInput(
            "A crosswalk needs two different frameworks, e.g. "
            "`steward compliance crosswalk nist-ai-rmf iso-42001`.",
            field="target",
        )
    published = _published_nist_iso()
    titles = {c.id: c.title for c in second.controls}
    pairs: dict[tuple[str, str], tuple[set[str], tuple[EvidenceKind, ...]]] = {}
    for a in first.controls:
        ea = mapping.entry(first.id, a.id)
        for b in second.controls:
            basis: set[str] = set()
            shared: tuple[EvidenceKind, ...] = ()
            eb = mapping.entry(second.id, b.id)
            if ea and eb and ea.evidence and set(ea.evidence) == set(eb.evidence):
                basis.add("same evidence")
                shared = tuple(sorted(ea.evidence))
            if (ea and f"{second.id}:{b.id}" in ea.related) or (
                eb and f"{first.id}:{a.id}" in eb.related
            ):
                basis.add("steward crosswalk")
            nist_iso = {first.id, second.id} == {"nist-ai-rmf", "iso-42001"}
            if nist_iso and ((a.id, b.id) in published or (b.id, a.id) in published):
                basis.add("published")
            if basis:
                pairs[(a.id, b.id)] = (basis, shared)
    order = {c.id: i for i, c in enumerate(first.controls)}
    order2 = {c.id: i for i, c in enumerate(second.controls)}
    ranked = sorted(pairs.items(), key=lambda p: (order[p[0][0]], order2[p[0][1]]))
    rows = tuple(
        CrosswalkPair(a, b, titles[b], tuple(sorted(basis)), shared)
        for (a, b), (basis, shared) in ranked
    )
    published_used = any("published" in p.basis for p in rows)
    return Crosswalk(
        first.id, second.id, rows, PUBLISHED_CROSSWALK_SOURCE if published_used else None
    )
