"""Bills of materials for a model version: CycloneDX 1.6 ML-BOM and SPDX 3.0 (AI, Dataset).

Both are built from the same :class:`~steward.compliance.modelcard.CardEvidence` the model
card is built from, so every statement is one the card also makes:

- the model (artifact sha256, flavour, version, stage, risk tier, parameters, code
  commit), its training and evaluation data (name, location, rows and columns, content
  fingerprint), the model's dependency on them;
- the model-card fields a BOM can carry: metrics logged with the version and the latest
  performance and fairness check results, the intended use and limitations the owner
  wrote, fairness by group (one assessment per group with its selection rate and impact
  ratio), and the check runs they come from.

**CycloneDX** is built and serialised with cyclonedx-python-lib. The library does not yet
model ``modelCard`` (CycloneDX 1.5+), so the card is added to the serialised model
component as the 1.6 schema defines it, and the whole document is then validated with the
library's strict JSON validator (the official CycloneDX 1.6 schema it ships) before it is
returned — a BOM that does not validate is never handed out.

**SPDX 3.0.1** is built and serialised as JSON-LD with spdx-python-model, the SPDX
project's own bindings (generated from the SPDX 3 SHACL model): property types are
checked as they are set and cardinalities when the document is encoded.

The dataset fingerprint is Steward's content hash (SHA-256 over the row count, column
names and types and pandas' value hashes, ``steward.lineage.datasets.fingerprint``), not a
hash of a file; both documents say so next to it.

Needs the ``compliance`` extra (cyclonedx-python-lib, spdx-python-model).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, XsUri
from cyclonedx.model import Property as CdxProperty
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_python_model import v3_0_1 as spdx

from steward.compliance.modelcard import CardEvidence, latest_results
from steward.domain.checks import CheckFamily, CheckResult, CheckRun
from steward.domain.entities import DatasetVersion

FORMATS = ("cyclonedx", "spdx")
MEDIA_TYPES = {
    "cyclonedx": "application/vnd.cyclonedx+json",
    "spdx": "application/spdx+json",
}
FINGERPRINT_NOTE = (
    "Steward content fingerprint: SHA-256 over the row count, column names and types and "
    "the pandas value hashes of every column (not a hash of a file)"
)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# Steward's narrative fields that a BOM's considerations carry.
_USE = ("intended_use",)
_LIMITS = ("limitations", "out_of_scope", "residual_risks")
# Steward risk tier -> SPDX safety risk assessment (EU AI Act wording: serious > high).
_SAFETY = {"critical": "serious", "high": "high", "medium": "medium", "low": "low"}


class InvalidBom(RuntimeError):
    """A BOM failed its schema: a bug in Steward, never the caller's input."""


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _narrative(ev: CardEvidence, keys: tuple[str, ...]) -> list[str]:
    return [ev.narratives[k].text for k in keys if k in ev.narratives and ev.narratives[k].text]


def _metrics(ev: CardEvidence) -> list[tuple[str, str, str]]:
    """(name, value, where it comes from): logged metrics, then the latest check results."""
    out = [(k, _text(v), "logged with the version") for k, v in sorted(ev.version.metrics.items())]
    for family in (CheckFamily.PERFORMANCE, CheckFamily.FAIRNESS):
        for run, result in latest_results(ev.runs, family):
            if result.value is not None:
                out.append((result.name, _text(result.value), _source(run, result)))
    return out


def _source(run: CheckRun, result: CheckResult) -> str:
    verdict = {True: "passed", False: "failed", None: "informational"}[result.passed]
    return f"check run {run.id} ({run.suite} v{run.suite_version}), {verdict}"


def _groups(ev: CardEvidence) -> list[dict[str, Any]]:
    """Per-group fairness rows of the latest fairness group tables."""
    rows: list[dict[str, Any]] = []
    for run, result in latest_results(ev.runs, CheckFamily.FAIRNESS):
        table = result.details.get("table")
        if not (result.name.endswith("group_table") and isinstance(table, list)):
            continue
        features = ", ".join(result.details.get("features") or [])
        for g in table:
            if isinstance(g, dict) and g.get("group") is not None:
                rows.append({**g, "features": features, "run": run.id})
    return rows


def _datasets(ev: CardEvidence) -> list[tuple[str, DatasetVersion]]:
    v = ev.version
    pairs = [("training", v.training_data), ("evaluation", v.evaluation_data)]
    return [(role, ds) for role, ds in pairs if ds is not None]


def _model_props(ev: CardEvidence) -> list[tuple[str, str]]:
    m, v = ev.model, ev.version
    props = [
        ("steward:model", m.name),
        ("steward:version", str(v.version)),
        ("steward:stage", str(v.stage)),
        ("steward:risk-tier", str(m.risk_tier)),
        ("steward:flavor", str(v.artifact.flavor)),
        ("steward:artifact-filename", v.artifact.filename),
        ("steward:artifact-size", str(v.artifact.size)),
    ]
    if m.regulatory_category:
        props.append(("steward:eu-ai-act-category", str(m.regulatory_category)))
    if ev.policy:
        props.append(("steward:policy", ev.policy))
    props += [(f"steward:param:{k}", _text(val)) for k, val in sorted(v.params.items())]
    props += [(f"steward:check-run:{r.id}", "passed" if r.passed else "failed") for r in ev.runs]
    props += [(f"steward:signature:{s.key_id}", s.signed_at.isoformat()) for s in ev.signatures]
    if ev.journal_head is not None:
        props.append(("steward:journal-head", f"{ev.journal_head[0]}:{ev.journal_head[1]}"))
    return props


# --- CycloneDX ----------------------------------------------------------------------------


def cyclonedx(ev: CardEvidence) -> bytes:
    """The CycloneDX 1.6 ML-BOM of the version, schema-validated."""
    m, v = ev.model, ev.version
    model_ref = f"model:{m.name}@{v.version}"
    data: list[Component] = []
    for role, ds in _datasets(ev):
        data.append(
            Component(
                type=ComponentType.DATA,
                name=ds.name,
                bom_ref=f"data:{role}:{ds.fingerprint}",
                description=f"{role} data: {ds.rows} rows, {ds.columns} columns",
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=ds.fingerprint)]
                if _HEX64.match(ds.fingerprint)
                else [],
                properties=[
                    CdxProperty(name=k, value=val)
                    for k, val in (
                        ("steward:role", role),
                        ("steward:fingerprint", ds.fingerprint),
                        ("steward:fingerprint-method", FINGERPRINT_NOTE),
                        ("steward:rows", str(ds.rows)),
                        ("steward:columns", str(ds.columns)),
                        ("steward:location", ds.uri or ""),
                    )
                    if val
                ],
            )
        )
    refs = []
    if v.code is not None and v.code.repo_url:
        refs.append(
            ExternalReference(
                type=ExternalReferenceType.VCS,
                url=XsUri(v.code.repo_url),
                comment=" ".join(x for x in (v.code.commit, v.code.path) if x) or None,
            )
        )
    model = Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=m.name,
        version=str(v.version),
        bom_ref=model_ref,
        description=v.description or m.description or None,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=v.artifact.sha256)],
        properties=[CdxProperty(name=k, value=val) for k, val in _model_props(ev) if val],
        external_references=refs,
    )
    # The model is the BOM's subject (metadata.component); listing it among the components
    # too would give it two bom-refs.
    bom = Bom(components=data)
    bom.metadata.timestamp = ev.generated_at
    bom.metadata.component = model
    bom.metadata.tools = ToolRepository(
        components=[Component(type=ComponentType.APPLICATION, name="steward")]
    )
    bom.register_dependency(model, data)
    doc = json.loads(JsonV1Dot6(bom).output_as_string())
    card = _cdx_model_card(ev, [c.bom_ref.value or "" for c in data])
    for place in (doc["metadata"].get("component"), *doc.get("components", [])):
        if isinstance(place, dict) and place.get("bom-ref") == model_ref:
            place["modelCard"] = card
    text = json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False)
    validate_cyclonedx(text)
    return text.encode() + b"\n"


def validate_cyclonedx(text: str) -> None:
    """Raise :class:`InvalidBom` unless ``text`` passes the CycloneDX 1.6 JSON schema
    (which includes JSF 0.82 for an embedded ``signature``)."""
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise InvalidBom(f"CycloneDX 1.6 schema rejected the BOM: {error}")


def _cdx_model_card(ev: CardEvidence, data_refs: list[str]) -> dict[str, Any]:
    v = ev.version
    params: dict[str, Any] = {"architectureFamily": str(v.artifact.flavor)}
    if data_refs:
        params["datasets"] = [{"ref": r} for r in data_refs]
    if v.signature is not None and v.signature.inputs:
        params["inputs"] = [{"format": f"{c.name}: {c.type}"} for c in v.signature.inputs]
    if v.signature is not None and v.signature.outputs:
        params["outputs"] = [{"format": f"{c.name}: {c.type}"} for c in v.signature.outputs]
    card: dict[str, Any] = {"bom-ref": f"model-card:{ev.model.name}@{v.version}"}
    card["modelParameters"] = params
    metrics = _metrics(ev)
    if metrics:
        card["quantitativeAnalysis"] = {
            "performanceMetrics": [
                {"type": name, "value": value, "slice": source} for name, value, source in metrics
            ]
        }
    considerations: dict[str, Any] = {}
    uses = _narrative(ev, _USE) or ([ev.model.purpose] if ev.model.purpose else [])
    if uses:
        considerations["useCases"] = uses
    limits = _narrative(ev, _LIMITS)
    if limits:
        considerations["technicalLimitations"] = limits
    groups = _groups(ev)
    if groups:
        considerations["fairnessAssessments"] = [
            {
                "groupAtRisk": f"{g['features']} = {g['group']}",
                "harms": (
                    f"selection rate {_text(g.get('selection_rate'))}, impact ratio "
                    f"{_text(g.get('impact_ratio'))}, true positive rate "
                    f"{_text(g.get('true_positive_rate'))} on {_text(g.get('rows'))} rows "
                    f"(check run {g['run']})"
                ),
            }
            for g in groups
        ]
    if considerations:
        card["considerations"] = considerations
    card["properties"] = [
        {"name": "steward:risk-tier", "value": str(ev.model.risk_tier)},
        *(
            {"name": f"steward:narrative:{k}", "value": n.text}
            for k, n in sorted(ev.narratives.items())
            if n.text
        ),
    ]
    return card


# --- SPDX 3 -------------------------------------------------------------------------------


def _spdx_id(base: str, *parts: object) -> str:
    return base + "/" + "/".join(re.sub(r"[^A-Za-z0-9._~-]+", "-", str(p)) for p in parts)


def _hash(value: str) -> list[Any]:
    if not _HEX64.match(value):
        return []
    return [spdx.Hash(algorithm=spdx.HashAlgorithm.sha256, hashValue=value)]


def spdx3(ev: CardEvidence, namespace: str) -> bytes:
    """The SPDX 3.0.1 JSON-LD document (AI and Dataset profiles) of the version.

    ``namespace`` is the URI prefix of the document's element ids (the server's base URL).
    """
    m, v = ev.model, ev.version
    # One id space per document: the same version exported twice gives two documents.
    stamp = uuid.uuid5(uuid.NAMESPACE_URL, f"{m.name}/{v.version}/{ev.generated_at.isoformat()}")
    base = _spdx_id(namespace.rstrip("/") + "/spdx", m.name, v.version, stamp)
    objs = spdx.SHACLObjectSet()
    creator = spdx.Person(_id=_spdx_id(base, "agent", ev.generated_by), name=ev.generated_by)
    tool = spdx.Tool(_id=_spdx_id(base, "tool", "steward"), name="steward")
    info = spdx.CreationInfo(
        specVersion="3.0.1",
        created=ev.generated_at.replace(microsecond=0),
        createdBy=[creator],
        createdUsing=[tool],
    )
    for agent in (creator, tool):
        agent.creationInfo = info
    owner = spdx.Person(_id=_spdx_id(base, "owner", m.owner), name=m.owner, creationInfo=info)
    model = spdx.ai_AIPackage(
        _id=_spdx_id(base, "model"),
        creationInfo=info,
        name=m.name,
        software_packageVersion=str(v.version),
        software_primaryPurpose=spdx.software_SoftwarePurpose.model,
        verifiedUsing=[spdx.Hash(algorithm=spdx.HashAlgorithm.sha256, hashValue=v.artifact.sha256)],
        releaseTime=v.created_at.replace(microsecond=0),
        suppliedBy=owner,
        originatedBy=[owner],
        ai_typeOfModel=[str(v.artifact.flavor)],
        ai_metric=[
            spdx.DictionaryEntry(key=name, value=value) for name, value, _src in _metrics(ev)
        ],
        ai_hyperparameter=[
            spdx.DictionaryEntry(key=k, value=_text(val)) for k, val in sorted(v.params.items())
        ],
    )
    if v.description or m.description:
        model.description = v.description or m.description
    uses = _narrative(ev, _USE) or ([m.purpose] if m.purpose else [])
    if uses:
        model.ai_informationAboutApplication = "\n\n".join(uses)
    limits = _narrative(ev, _LIMITS)
    if limits:
        model.ai_limitation = "\n\n".join(limits)
    if str(m.risk_tier) in _SAFETY:
        model.ai_safetyRiskAssessment = getattr(
            spdx.ai_SafetyRiskAssessmentType, _SAFETY[str(m.risk_tier)]
        )
    model.ai_standardCompliance = [ev.policy] if ev.policy else []
    groups = _groups(ev)
    if groups:
        model.comment = "Fairness by group: " + "; ".join(
            f"{g['features']} = {g['group']}: selection rate {_text(g.get('selection_rate'))}, "
            f"impact ratio {_text(g.get('impact_ratio'))} (run {g['run']})"
            for g in groups
        )
    elements: list[Any] = [creator, tool, owner, model]
    for role, ds in _datasets(ev):
        data = spdx.dataset_DatasetPackage(
            _id=_spdx_id(base, "dataset", role, ds.fingerprint),
            creationInfo=info,
            name=ds.name,
            software_primaryPurpose=spdx.software_SoftwarePurpose.data,
            dataset_datasetType=[spdx.dataset_DatasetType.structured],
            verifiedUsing=_hash(ds.fingerprint),
            description=f"{role} data: {ds.rows} rows, {ds.columns} columns",
            comment=f"fingerprint {ds.fingerprint}: {FINGERPRINT_NOTE}",
        )
        if ds.uri:
            data.software_downloadLocation = ds.uri
        if ds.created_at is not None:
            data.builtTime = ds.created_at.replace(microsecond=0)
        rel = spdx.Relationship(
            _id=_spdx_id(base, "relationship", role),
            creationInfo=info,
            from_=model,
            to=[data],
            relationshipType=spdx.RelationshipType.trainedOn
            if role == "training"
            else spdx.RelationshipType.testedOn,
        )
        elements += [data, rel]
    document = spdx.SpdxDocument(
        _id=_spdx_id(base, "document"),
        creationInfo=info,
        name=f"{m.name} version {v.version}",
        rootElement=[model],
        element=elements,
        profileConformance=[
            spdx.ProfileIdentifierType.core,
            spdx.ProfileIdentifierType.software,
            spdx.ProfileIdentifierType.ai,
            spdx.ProfileIdentifierType.dataset,
        ],
    )
    for obj in (document, *elements):
        objs.add(obj)
    data_out = spdx.JSONLDSerializer().serialize_data(objs)
    return json.dumps(data_out, indent=2, ensure_ascii=False).encode() + b"\n"
