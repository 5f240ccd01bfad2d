"""OSCAL documents built with compliance-trestle: catalogs, the policy pack, assessment results.

Another GRC tool (or an auditor's OSCAL toolchain) can load what Steward knows:

- each control catalog as an OSCAL **catalog** (controls nested by their parent, each with
  its Steward id as the ``label`` property, its text as the statement part, its kind,
  verification status and application date as properties, the sources and licence note
  in the back matter);
- the active policy pack as an OSCAL **profile** importing the catalogs its requirements
  cite, with each requirement added to the control it serves (an ``alter`` part carrying
  the requirement id, kind, stages and tiers);
- per model an OSCAL **assessment results** document: one finding per assessable control
  (target = the control, state satisfied / not-satisfied, Steward's exact status kept as a
  property) whose related observations are the evidence — one observation per evidence
  kind with its state and detail, and one per record it rests on (check runs with the
  artifact sha256 they scored, approvals with the sha256 and data fingerprints they bound,
  open findings, and every journal event of the model with its hash and previous hash).

The documents are trestle's pydantic models, so an invalid document cannot be built; the
tests load the JSON back with trestle and compare. OSCAL ids are tokens (no spaces), so a
control id like ``GOVERN 1.2`` becomes ``govern-1.2`` with the original kept as ``label``.
UUIDs are derived (uuid5) from what they name, so the same export made twice is identical
apart from its timestamps.

Needs the ``compliance`` extra (compliance-trestle).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from trestle.oscal import OSCAL_VERSION
from trestle.oscal import assessment_results as oar
from trestle.oscal import catalog as ocat
from trestle.oscal import common as oc
from trestle.oscal import profile as oprof

from steward.compliance.catalogs import Catalog, Control, catalog
from steward.compliance.coverage import ModelCoverage, ModelFacts, Status
from steward.compliance.mapping import EvidenceKind
from steward.domain.policy import PolicyPack

# Steward's own property namespace: OSCAL props outside the core vocabulary must say whose.
NS = "https://steward.dev/ns/oscal"
_UUID_ROOT = uuid.uuid5(uuid.NAMESPACE_URL, NS)
_NON_TOKEN = re.compile(r"[^A-Za-z0-9._-]+")

FORMATS = ("oscal-catalog", "oscal-profile", "oscal-ar")


def token(control_id: str) -> str:
    """The OSCAL token for a Steward control id (``GOVERN 1.2`` -> ``govern-1.2``)."""
    out = _NON_TOKEN.sub("-", control_id.strip()).strip("-").lower()
    if not out or not (out[0].isalpha() or out[0] == "_"):
        out = "c-" + out  # tokens start with a letter; ISO clauses are numbers ("4.1")
    return out


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(_UUID_ROOT, "\x1f".join(str(p) for p in parts)))


def _prop(name: str, value: object, *, steward: bool = True) -> oc.Property:
    text = " ".join(str(value).split()) or "-"
    return oc.Property(name=name, value=text, ns=NS if steward else None)


def _props(pairs: Iterable[tuple[str, object]]) -> list[oc.Property] | None:
    out = [_prop(k, v) for k, v in pairs if v not in (None, "")]
    return out or None


def _metadata(
    title: str,
    version: str,
    at: datetime,
    remarks: str = "",
    props: list[oc.Property] | None = None,
) -> oc.Metadata:
    return oc.Metadata(
        title=" ".join(title.split()),
        last_modified=at,
        version=version,
        oscal_version=OSCAL_VERSION,
        props=props,
        remarks=remarks or None,
    )


def _tokens(cat: Catalog) -> dict[str, str]:
    """Steward control id -> OSCAL id, unique within the catalog."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for c in cat.controls:
        base = candidate = token(c.id)
        n = 2
        while candidate in used:  # two ids that differ only in punctuation
            candidate = f"{base}-{n}"
            n += 1
        used.add(candidate)
        out[c.id] = candidate
    return out


def _control(c: Control, oid: str, children: list[ocat.Control]) -> ocat.Control:
    parts = [oc.Part(id=f"{oid}_smt", name="statement", prose=c.text)] if c.text.strip() else None
    return ocat.Control(
        id=oid,
        class_=token(c.kind),
        title=" ".join(c.title.split()) or c.id,
        props=[
            _prop("label", c.id, steward=False),
            *(
                _props(
                    [
                        ("kind", c.kind),
                        ("assessable", "true" if c.assessable else "false"),
                        ("verified", c.verified),
                        ("applies-from", c.applies_from),
                        ("applies-note", c.applies_note),
                        # Per-entry citation and the Traditional Chinese, so the Taiwanese
                        # items travel with their language and what their text is.
                        ("source", c.source),
                        ("article", c.article),
                        ("date", c.date),
                        ("text-status", c.text_status),
                        ("title-zh-tw", c.title_zh),
                        ("text-zh-tw", c.text_zh),
                        # NIST AI 600-1 suggested actions: their AI RMF subcategory and
                        # the GAI risks they address (control ids of this catalog).
                        ("rmf-subcategory", c.parent if c.kind == "gai_action" else None),
                        ("addresses", " ".join(c.addresses) or None),
                    ]
                )
                or []
            ),
        ],
        parts=parts,
        controls=children or None,
    )


def catalog_document(framework: str, at: datetime) -> ocat.Catalog:
    """The OSCAL catalog of a Steward control catalog."""
    cat = catalog(framework)
    ids = _tokens(cat)
    known = {c.id for c in cat.controls}
    children: dict[str | None, list[Control]] = {}
    for c in cat.controls:
        parent = c.parent if c.parent in known and c.parent != c.id else None
        children.setdefault(parent, []).append(c)

    def build(c: Control, seen: frozenset[str]) -> ocat.Control:
        kids = [build(k, seen | {c.id}) for k in children.get(c.id, []) if k.id not in seen]
        return _control(c, ids[c.id], kids)

    resources = [
        oc.Resource(uuid=_uuid("source", cat.id, i), title=None, description=source)
        for i, source in enumerate(cat.sources)
    ]
    resources.append(
        oc.Resource(
            uuid=_uuid("licence", cat.id), title="Licence note", description=cat.license_note
        )
    )
    return ocat.Catalog(
        uuid=_uuid("catalog", cat.id, cat.version),
        metadata=_metadata(
            cat.title,
            cat.version,
            at,
            remarks=f"{cat.status}. Verification: {cat.verification}. Source file: {cat.file}",
            props=_props([("framework", cat.id), ("short", cat.short), ("status", cat.status)]),
        ),
        controls=[build(c, frozenset()) for c in children.get(None, [])],
        back_matter=oc.BackMatter(resources=resources),
    )


def catalog_href(framework: str) -> str:
    """Where a profile or assessment expects the catalog (the file `steward compliance
    export --format oscal-catalog` names)."""
    return f"steward-{framework}.oscal-catalog.json"


def profile_document(pack: PolicyPack, at: datetime) -> oprof.Profile:
    """The OSCAL profile of a policy pack: the controls its requirements cite, per catalog,
    with each requirement attached to the control it serves."""
    cited: dict[str, dict[str, list[tuple[str, Any]]]] = {}  # framework -> control -> reqs
    for req in pack.requirements:
        for ref in req.controls:
            framework, _, control = ref.partition(":")
            cited.setdefault(framework, {}).setdefault(control, []).append((req.id, req))
    imports = []
    alters = []
    for framework in sorted(cited):
        ids = _tokens(catalog(framework))
        selected = sorted(cited[framework])
        imports.append(
            oprof.Import2(
                href=catalog_href(framework),
                include_controls=[oprof.SelectControl(with_ids=[ids[c] for c in selected])],
            )
        )
        for control in selected:
            oid = ids[control]
            alters.append(
                oprof.Alter(
                    control_id=oid,
                    adds=[
                        oprof.Add(
                            position=oprof.PositionValidValues.ending,
                            parts=[
                                oc.Part(
                                    id=f"{oid}_steward-{token(rid)}",
                                    name="steward-requirement",
                                    ns=NS,
                                    title=rid,
                                    props=_props(
                                        [
                                            ("framework", framework),
                                            ("label", control),
                                            ("requirement", rid),
                                            ("kind", req.kind),
                                            ("stages", " ".join(sorted(s.value for s in req.to))),
                                            ("tiers", " ".join(sorted(req.tiers))),
                                        ]
                                    ),
                                    prose=req.description or rid,
                                )
                                for rid, req in cited[framework][control]
                            ],
                        )
                    ],
                )
            )
    return oprof.Profile(
        uuid=_uuid("profile", pack.name, pack.version),
        metadata=_metadata(
            f"Steward policy pack {pack.name}",
            pack.version,
            at,
            remarks=pack.description,
            props=_props([("policy", pack.ref), ("requirements", len(pack.requirements))]),
        ),
        imports=imports,
        merge=oprof.Merge2(as_is=True),
        modify=oprof.Modify(alters=alters) if alters else None,
    )


# --- assessment results -------------------------------------------------------------------


def _observation(
    key: tuple[object, ...],
    title: str,
    description: str,
    at: datetime,
    types: Sequence[str],
    props: Iterable[tuple[str, object]],
    links: list[oc.Link] | None = None,
) -> oc.Observation:
    return oc.Observation(
        uuid=_uuid("observation", *key),
        title=" ".join(title.split()),
        description=description,
        methods=["AUTOMATED"],
        types=list(types),
        props=_props(props),
        links=links,
        collected=at,
    )


def _record_observations(
    facts: ModelFacts, events: Sequence[dict[str, Any]], at: datetime
) -> dict[tuple[str, str], oc.Observation]:
    """(kind, record id) -> an observation carrying the record and its hashes."""
    m = facts.model
    out: dict[tuple[str, str], oc.Observation] = {}
    for r in facts.check_runs:
        out[("check_run", r.id)] = _observation(
            (m, "check_run", r.id),
            f"Check run {r.id}",
            f"Validation suite {r.suite} {'passed' if r.passed else 'failed'} on artifact "
            f"{r.artifact_sha256}.",
            r.finished_at,
            ["control-objective"],
            [
                ("record", "check_run"),
                ("run-id", r.id),
                ("suite", r.suite),
                ("passed", str(r.passed).lower()),
                ("artifact-sha256", r.artifact_sha256),
            ],
        )
    for a in facts.approvals:
        key = f"{a.request_id}/{a.approver}"
        out[("approval", a.request_id)] = out.get(("approval", a.request_id)) or _observation(
            (m, "approval", key),
            f"Approval {a.request_id} by {a.approver}",
            f"{a.approver} decided {a.decision} under {a.policy} for artifact {a.artifact_sha256}.",
            a.at,
            ["control-objective"],
            [
                ("record", "approval"),
                ("request-id", a.request_id),
                ("approver", a.approver),
                ("decision", a.decision),
                ("policy", a.policy),
                ("artifact-sha256", a.artifact_sha256),
                ("training-fingerprint", a.fingerprints[0]),
                ("evaluation-fingerprint", a.fingerprints[1]),
            ],
        )
    for f in facts.open_findings:
        out[("finding", str(f.id))] = _observation(
            (m, "finding", f.id),
            f"Open finding {f.id} ({f.severity})",
            f"Finding {f.id}, severity {f.severity}, open"
            + (f", due {f.due_date.isoformat()}." if f.due_date else "."),
            at,
            ["finding"],
            [("record", "finding"), ("finding-id", f.id), ("severity", f.severity)],
        )
    for e in events:
        seq = str(e["seq"])
        out[("event", seq)] = _observation(
            (m, "event", seq, e["hash"]),
            f"Journal event {seq}: {e['action']}",
            f"{e['actor']} {e['action']} {e['subject_type']} {e['subject_id']}",
            _time(e["time"]),
            ["historic"],
            [
                ("record", "journal_event"),
                ("seq", seq),
                ("action", e["action"]),
                ("actor", e["actor"]),
                ("hash", e["hash"]),
                ("prev-hash", e["prev_hash"]),
            ],
        )
    return out


def _time(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


# Which records stand behind each evidence kind (refs name them by id).
_RECORDS_OF: dict[str, str] = {
    EvidenceKind.CHECK_RESULTS: "check_run",
    EvidenceKind.POLICY_APPROVALS: "approval",
    EvidenceKind.FINDINGS: "finding",
}

_STATE = {
    Status.CURRENT: ("satisfied", "pass"),
    Status.NOT_APPLICABLE: ("satisfied", "other"),
    Status.STALE: ("not-satisfied", "fail"),
    Status.MISSING: ("not-satisfied", "fail"),
    Status.ORGANISATIONAL: ("not-satisfied", "other"),
}


def assessment_results(
    cov: ModelCoverage, facts: ModelFacts, events: Sequence[dict[str, Any]], at: datetime
) -> oar.AssessmentResults:
    """The OSCAL assessment results of one model: a finding per assessable control."""
    m = cov.model
    records = _record_observations(facts, events, at)
    kinds: dict[str, oc.Observation] = {}
    for ev in cov.evidence:
        if ev.kind == EvidenceKind.AUDIT_JOURNAL:
            backing = [o for (k, _), o in records.items() if k == "event"]
        else:
            rk = _RECORDS_OF.get(ev.kind)
            backing = [records[(rk, ref)] for ref in ev.refs if rk and (rk, ref) in records]
        kinds[ev.kind] = _observation(
            (m, "evidence", ev.kind),
            f"Evidence: {ev.kind}",
            ev.detail,
            ev.as_of or at,
            ["control-objective"],
            [
                ("evidence-kind", ev.kind),
                ("state", ev.state),
                *(("ref", r) for r in ev.refs),
            ],
            links=[oc.Link(href=f"#{o.uuid}", rel="related") for o in backing] or None,
        )
    ids = {fw: _tokens(catalog(fw)) for fw in {c.framework for c in cov.controls}}
    findings = []
    selected: dict[str, list[str]] = {}
    for cc in cov.controls:
        oid = ids[cc.framework][cc.control]
        selected.setdefault(cc.framework, []).append(oid)
        state, reason = _STATE[cc.status]
        related = [kinds[e.kind] for e in cc.evidence if e.kind in kinds]
        findings.append(
            oc.Finding(
                uuid=_uuid("finding", m, cc.framework, cc.control),
                title=f"{cc.framework} {cc.control}: {' '.join(cc.title.split()) or cc.control}",
                description=cc.reason
                or "; ".join(f"{e.kind}: {e.state} ({e.detail})" for e in cc.evidence)
                or f"{cc.status}",
                props=_props(
                    [
                        ("framework", cc.framework),
                        ("label", cc.control),
                        ("status", cc.status),
                    ]
                ),
                links=[oc.Link(href=catalog_href(cc.framework), rel="catalog")],
                target=oc.FindingTarget(
                    type=oc.FindingTargetTypeValidValues.objective_id,
                    target_id=oid,
                    status=oc.ObjectiveStatus(
                        state=oc.ObjectiveStatusStateValidValues(state),
                        reason=reason,
                        remarks=cc.reason or None,
                    ),
                ),
                related_observations=[
                    oc.RelatedObservation(observation_uuid=o.uuid) for o in related
                ]
                or None,
            )
        )
    reviewed = oc.ReviewedControls(
        control_selections=[
            oc.ControlSelections(
                description=f"Assessable controls of {fw}",
                props=[_prop("framework", fw)],
                include_controls=[oc.SelectControlById(control_id=i) for i in sorted(set(oids))],
            )
            for fw, oids in sorted(selected.items())
        ]
        or [oc.ControlSelectionsAll(include_all=oc.IncludeAll())]
    )
    result = oar.Result(
        uuid=_uuid("result", m, at.isoformat()),
        title=f"Steward coverage of {m}",
        description=(
            f"Live coverage of model {m} (version {cov.version}, stage {cov.stage}, tier "
            f"{cov.risk_tier}) computed by Steward at {cov.computed_at.isoformat()}."
        ),
        start=cov.computed_at,
        end=at,
        props=_props(
            [
                ("model", m),
                ("version", cov.version),
                ("stage", cov.stage),
                ("risk-tier", cov.risk_tier),
                ("policy", facts.active_policy),
            ]
        ),
        reviewed_controls=reviewed,
        observations=[*kinds.values(), *records.values()] or None,
        findings=findings or None,
    )
    return oar.AssessmentResults(
        uuid=_uuid("assessment-results", m, at.isoformat()),
        metadata=_metadata(
            f"Steward assessment results: {m}",
            f"{m}@{cov.version}" if cov.version is not None else m,
            at,
        ),
        import_ap=oar.ImportAp(
            href=f"steward-{m}.oscal-ap.json",
            remarks="Steward assesses continuously from live evidence; no separate plan file.",
        ),
        results=[result],
    )


def to_json(doc: ocat.Catalog | oprof.Profile | oar.AssessmentResults) -> bytes:
    """The document as OSCAL JSON (wrapped in its model's root key, as OSCAL tools read it)."""
    return doc.oscal_serialize_json_bytes(pretty=True) + b"\n"
