"""OSCAL, CycloneDX and SPDX exports: each validated by its library or official schema and
loaded back with that library, keeping every control, finding and hash.

Built on the demo inventory (real German Credit models, validated, approved, signed),
loaded once for the module; the exports only read (the evidence pack appends one event).
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import LiveServer, ensure_user
from trestle.oscal import assessment_results as oar
from trestle.oscal import catalog as ocat
from trestle.oscal import profile as oprof

from steward import bootstrap
from steward.compliance import catalogs, coverage, oscal
from steward.compliance import evidence as pack_mod
from steward.domain import policy
from steward.domain.errors import (
    Conflict,
    Forbidden,
    IntegrityError,
    InvalidInput,
    MissingExtra,
    NotFound,
)
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services import compliance, evidence, exports, modelcards, tokens
from steward.services.context import Context
from steward.settings import Settings

MODEL = "credit-scoring"
AUDRA = Principal(name="audra", roles=frozenset({"auditor"}))
ADMIN = Principal(name="admin", roles=frozenset({OPERATOR}))
NOBODY = Principal(name="nobody", roles=frozenset())


@dataclass
class Demo:
    ctx: Context
    home: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    from steward.demo.load import load_demo

    home = tmp_path_factory.mktemp("exports")
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'steward.db'}",
        artifacts_url=str(home / "artifacts"),
    )
    ctx = bootstrap.build(settings, migrate=True)
    try:
        load_demo(Steward(LocalBackend(ctx, "admin")))
        yield Demo(ctx, home)
    finally:
        ctx.uow.engine.dispose()


def _walk(controls: list[ocat.Control] | None) -> Iterator[ocat.Control]:
    for c in controls or []:
        yield c
        yield from _walk(c.controls)


def _prop(props: list[Any] | None, name: str) -> list[str]:
    return [p.value for p in props or [] if p.name == name]


# -- OSCAL --------------------------------------------------------------------------------


@pytest.mark.parametrize("framework", [c.id for c in catalogs.catalogs()])
def test_each_catalog_round_trips_through_trestle_with_every_control(
    framework: str, tmp_path: Path
) -> None:
    cat = catalogs.catalog(framework)
    doc = oscal.catalog_document(framework, datetime(2026, 12, 7, tzinfo=UTC))
    path = tmp_path / "catalog.json"
    path.write_bytes(oscal.to_json(doc))
    loaded = ocat.Catalog.oscal_read(path)
    assert isinstance(loaded, ocat.Catalog)
    got = {}
    for c in _walk(loaded.controls):
        (label,) = _prop(c.props, "label")
        statement = [p.prose for p in c.parts or [] if p.name == "statement"]
        got[label] = (c.title, statement[0] if statement else "", _prop(c.props, "kind")[0])
    want = {c.id: (" ".join(c.title.split()) or c.id, c.text, c.kind) for c in cat.controls}
    assert got == want
    assert len(list(_walk(loaded.controls))) == len(cat.controls)
    # Children sit under their parent: NIST subcategories under categories under functions.
    if framework == "nist-ai-rmf":
        govern = next(c for c in loaded.controls or [] if _prop(c.props, "label") == ["GOVERN"])
        assert any(_prop(k.props, "label") == ["GOVERN 1"] for k in govern.controls or [])
    resources_ = loaded.back_matter.resources if loaded.back_matter else []
    descriptions = [r.description for r in resources_ or []]
    assert cat.license_note in descriptions and set(cat.sources) <= set(descriptions)


def test_the_policy_pack_becomes_a_profile_that_keeps_every_requirement(tmp_path: Path) -> None:
    text = resources.files("steward.policies").joinpath("default-pack.yaml").read_text("utf-8")
    pack = policy.parse(text, "default-pack.yaml")
    path = tmp_path / "profile.json"
    path.write_bytes(oscal.to_json(oscal.profile_document(pack, datetime.now(UTC))))
    loaded = oprof.Profile.oscal_read(path)
    assert isinstance(loaded, oprof.Profile)
    cited = {
        (ref.partition(":")[0], ref.partition(":")[2], r.id)
        for r in pack.requirements
        for ref in r.controls
    }
    got = set()
    assert loaded.modify is not None
    for alter in loaded.modify.alters or []:
        for add in alter.adds or []:
            for part in add.parts or []:
                fw = _prop(part.props, "framework")[0]
                got.add((fw, _prop(part.props, "label")[0], _prop(part.props, "requirement")[0]))
                assert alter.control_id == oscal._tokens(catalogs.catalog(fw))[got_label(part)]
    assert got == cited
    imported = {i.href for i in loaded.imports}
    assert imported == {oscal.catalog_href(fw) for fw, _c, _r in cited}


def got_label(part: Any) -> str:
    return str(_prop(part.props, "label")[0])


def test_assessment_results_carry_every_control_and_every_evidence_hash(demo: Demo) -> None:
    ctx = demo.ctx
    found = exports.compliance_export(ctx, AUDRA, "oscal-ar", model=MODEL)
    assert found.media_type == "application/oscal+json"
    loaded = oar.AssessmentResults.model_validate(json.loads(found.content)["assessment-results"])
    (result,) = loaded.results
    cov = compliance.model_coverage(ctx, AUDRA, MODEL)
    findings = {
        (_prop(f.props, "framework")[0], _prop(f.props, "label")[0]): f
        for f in result.findings or []
    }
    assert set(findings) == {(c.framework, c.control) for c in cov.controls}
    for c in cov.controls:
        f = findings[(c.framework, c.control)]
        assert _prop(f.props, "status") == [c.status.value]
        assert f.target.status is not None
        satisfied = f.target.status.state.value == "satisfied"
        assert satisfied == (c.status in (coverage.Status.CURRENT, coverage.Status.NOT_APPLICABLE))
    observations = {o.uuid: o for o in result.observations or []}
    # Every finding's evidence is an observation in the document.
    for f in findings.values():
        for rel in f.related_observations or []:
            assert rel.observation_uuid in observations
    by_record: dict[str, list[Any]] = {}
    for o in observations.values():
        for kind in _prop(o.props, "record"):
            by_record.setdefault(kind, []).append(o)
    # Every journal event of the model, with its hash and the hash before it.
    with ctx.uow.read() as uow:
        head = uow.audit.head()
        assert head is not None
        events = evidence.model_events(uow, MODEL, head.seq)
        facts = compliance.facts_in_uow(uow, MODEL)
    assert events
    got_events = {
        (
            int(_prop(o.props, "seq")[0]),
            _prop(o.props, "hash")[0],
            _prop(o.props, "prev-hash")[0],
        )
        for o in by_record["journal_event"]
    }
    assert got_events == {(e["seq"], e["hash"], e["prev_hash"]) for e in events}
    runs = {
        (_prop(o.props, "run-id")[0], _prop(o.props, "artifact-sha256")[0])
        for o in by_record["check_run"]
    }
    assert runs == {(r.id, r.artifact_sha256) for r in facts.check_runs} and runs
    approvals = {_prop(o.props, "request-id")[0] for o in by_record["approval"]}
    assert approvals == {a.request_id for a in facts.approvals} and approvals
    for o in by_record["approval"]:
        assert len(_prop(o.props, "artifact-sha256")[0]) == 64
    # The journal evidence links to each event observation.
    (journal,) = [
        o for o in observations.values() if _prop(o.props, "evidence-kind") == ["audit_journal"]
    ]
    linked = {link.href.lstrip("#") for link in journal.links or []}
    assert linked == {o.uuid for o in by_record["journal_event"]}


def test_compliance_export_refuses_what_it_cannot_export(demo: Demo) -> None:
    ctx = demo.ctx
    with pytest.raises(InvalidInput, match="oscal-catalog, oscal-profile, oscal-ar"):
        exports.compliance_export(ctx, AUDRA, "xlsx")
    with pytest.raises(InvalidInput, match="--framework"):
        exports.compliance_export(ctx, AUDRA, "oscal-catalog")
    with pytest.raises(NotFound, match="steward compliance catalogs"):
        exports.compliance_export(ctx, AUDRA, "oscal-catalog", framework="ghost")
    with pytest.raises(InvalidInput, match="--model"):
        exports.compliance_export(ctx, AUDRA, "oscal-ar")
    with pytest.raises(NotFound):
        exports.compliance_export(ctx, AUDRA, "oscal-ar", model="ghost")
    profile = exports.compliance_export(ctx, AUDRA, "oscal-profile")
    assert json.loads(profile.content)["profile"]["metadata"]["version"]


def test_no_profile_without_an_active_pack(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'steward.db'}",
        artifacts_url=str(tmp_path / "artifacts"),
    )
    ctx = bootstrap.build(settings, migrate=True)
    try:
        with pytest.raises(Conflict, match="steward policy load"):
            exports.compliance_export(ctx, AUDRA, "oscal-profile")
    finally:
        ctx.uow.engine.dispose()


def test_exports_need_a_role(demo: Demo) -> None:
    from steward.domain.errors import Forbidden

    with pytest.raises(Forbidden):
        exports.compliance_export(demo.ctx, NOBODY, "oscal-ar", model=MODEL)
    with pytest.raises(Forbidden):
        exports.version_bom(demo.ctx, NOBODY, MODEL, 1, "spdx")


# -- CycloneDX ----------------------------------------------------------------------------


def test_cyclonedx_ml_bom_validates_and_loads_back_with_every_hash(demo: Demo) -> None:
    from cyclonedx.model.bom import Bom
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    ctx = demo.ctx
    found = exports.version_bom(ctx, AUDRA, MODEL, 1, "cyclonedx")
    assert found.filename == f"{MODEL}-v1.cdx.json"
    text = found.content.decode()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    assert doc["specVersion"] == "1.6"
    card = modelcards.model_card(ctx, AUDRA, MODEL, 1)
    with ctx.uow.read() as uow:
        ev = modelcards.gather(uow, ctx, AUDRA, MODEL, 1)
    v = ev.version
    loaded = Bom.from_json(doc)  # type: ignore[attr-defined]
    model = loaded.metadata.component
    assert model is not None and model.type.value == "machine-learning-model"
    assert [h.content for h in model.hashes] == [v.artifact.sha256]
    assert v.training_data is not None and v.evaluation_data is not None
    # (name, hashes) pairs, not a dict: training and evaluation data may be two versions
    # of one registered dataset, under one name.
    data = sorted((c.name, [h.content for h in c.hashes]) for c in loaded.components)
    assert data == sorted(
        [
            (v.training_data.name, [v.training_data.fingerprint]),
            (v.evaluation_data.name, [v.evaluation_data.fingerprint]),
        ]
    )
    (dep,) = [d for d in loaded.dependencies if d.ref == model.bom_ref]
    assert {d.ref.value for d in dep.dependencies} == {c.bom_ref.value for c in loaded.components}
    # The model card (not modelled by the library) is read from the validated JSON.
    mc = doc["metadata"]["component"]["modelCard"]
    metrics = {(m["type"], m["value"]) for m in mc["quantitativeAnalysis"]["performanceMetrics"]}
    for name, value in v.metrics.items():
        assert (name, f"{value:.6g}") in metrics
    assert any(name.startswith("fairness.") for name, _ in metrics)
    groups = mc["considerations"]["fairnessAssessments"]
    assert groups and all("impact ratio" in g["harms"] for g in groups)
    assert {d["ref"] for d in mc["modelParameters"]["datasets"]} == {
        c.bom_ref.value for c in loaded.components
    }
    assert card.version == 1


def test_the_cyclonedx_schema_check_can_fail(demo: Demo) -> None:
    """The validator the export relies on rejects a model card the 1.6 schema forbids."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    doc = json.loads(exports.version_bom(demo.ctx, AUDRA, MODEL, 1, "cyclonedx").content)
    doc["metadata"]["component"]["modelCard"]["quantitativeAnalysis"]["accuracy"] = 0.9
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(doc)) is not None


# -- SPDX 3 -------------------------------------------------------------------------------


def test_a_signed_cyclonedx_bom_validates_and_verifies_with_the_governance_key(
    demo: Demo, tmp_path: Path
) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    from steward.services.signing import signing_key
    from steward.trust import jsf

    found = exports.version_bom(demo.ctx, AUDRA, MODEL, 1, "cyclonedx", sign=True)
    text = found.content.decode()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    doc = json.loads(text)
    governance = signing_key(demo.ctx)
    verified = jsf.verify(doc, governance.public_pem)
    assert verified.key_id == governance.key_id and verified.algorithm == "ES256"
    # the signed BOM is the unsigned one plus the signature, nothing else
    plain = json.loads(exports.version_bom(demo.ctx, AUDRA, MODEL, 1, "cyclonedx").content)
    assert {k: v for k, v in doc.items() if k != "signature"}.keys() == plain.keys()
    assert doc["metadata"]["component"]["hashes"] == plain["metadata"]["component"]["hashes"]
    # a changed hash breaks it
    doc["metadata"]["component"]["hashes"][0]["content"] = "0" * 64
    with pytest.raises(IntegrityError, match="changed after signing"):
        jsf.verify(doc, governance.public_pem)
    with pytest.raises(InvalidInput, match="Only CycloneDX"):
        exports.version_bom(demo.ctx, AUDRA, MODEL, 1, "spdx", sign=True)
    with pytest.raises(Forbidden):
        exports.version_bom(demo.ctx, NOBODY, MODEL, 1, "cyclonedx", sign=True)
    # the CLI writes it signed
    from tests.cli.helpers import ok

    out = tmp_path / "signed.cdx.json"
    ok(demo.home, "version", "bom", MODEL, "1", "--sign", "-o", str(out))
    assert jsf.verify(json.loads(out.read_text()), governance.public_pem).key_id


def test_spdx3_ai_and_dataset_profiles_load_back_with_every_hash(demo: Demo) -> None:
    import spdx_python_model
    from spdx_python_model import v3_0_1 as spdx

    ctx = demo.ctx
    found = exports.version_bom(ctx, AUDRA, MODEL, 1, "spdx")
    assert found.filename == f"{MODEL}-v1.spdx.json"
    model_mod, objs = spdx_python_model.load_data(json.loads(found.content))
    assert model_mod is spdx
    with ctx.uow.read() as uow:
        ev = modelcards.gather(uow, ctx, AUDRA, MODEL, 1)
    v = ev.version
    (ai,) = list(objs.foreach_type(spdx.ai_AIPackage))
    assert [h.hashValue for h in ai.verifiedUsing] == [v.artifact.sha256]
    assert ai.software_packageVersion == "1"
    metrics = {e.key: e.value for e in ai.ai_metric}
    for name, value in v.metrics.items():
        assert metrics[name] == f"{value:.6g}"
    datasets = sorted(
        (d.name, [h.hashValue for h in d.verifiedUsing])
        for d in objs.foreach_type(spdx.dataset_DatasetPackage)
    )
    assert v.training_data is not None and v.evaluation_data is not None
    assert datasets == sorted(
        [
            (v.training_data.name, [v.training_data.fingerprint]),
            (v.evaluation_data.name, [v.evaluation_data.fingerprint]),
        ]
    )
    rels = {
        (r.relationshipType.rsplit("/", 1)[-1], r.to[0].name)
        for r in objs.foreach_type(spdx.Relationship)
    }
    assert rels == {("trainedOn", v.training_data.name), ("testedOn", v.evaluation_data.name)}
    (document,) = list(objs.foreach_type(spdx.SpdxDocument))
    profiles = {p.rsplit("/", 1)[-1] for p in document.profileConformance}
    assert {"ai", "dataset"} <= profiles


def test_bom_refuses_an_unknown_format_and_a_missing_version(demo: Demo) -> None:
    with pytest.raises(InvalidInput, match="cyclonedx, spdx"):
        exports.version_bom(demo.ctx, AUDRA, MODEL, 1, "swid")
    with pytest.raises(NotFound):
        exports.version_bom(demo.ctx, AUDRA, MODEL, 999, "cyclonedx")


def test_a_missing_library_names_the_compliance_extra(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    import steward.compliance

    # As if cyclonedx-python-lib were not installed: importing it fails, and the builder
    # module must be imported afresh (not found as the package's attribute).
    # Its submodules too: an earlier test in the same process may have imported them, and
    # `from cyclonedx.model import ...` finds a loaded submodule without its parent.
    for name in [n for n in sys.modules if n == "cyclonedx" or n.startswith("cyclonedx.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "cyclonedx", None)
    monkeypatch.delitem(sys.modules, "steward.compliance.bom", raising=False)
    monkeypatch.delattr(steward.compliance, "bom", raising=False)
    with pytest.raises(MissingExtra, match=r"pip install 'steward\[compliance\]'"):
        exports.version_bom(demo.ctx, AUDRA, MODEL, 1, "cyclonedx")
    # The evidence pack is still exported, and says why its exports are missing.
    files = _pack_files(demo, include_pdf=False)
    assert "steward[compliance]" in files["exports/README.txt"].decode()


# -- evidence pack, REST, SDK, CLI --------------------------------------------------------


def _pack_files(demo: Demo, include_pdf: bool) -> dict[str, bytes]:
    out = io.BytesIO()
    evidence.export_pack(demo.ctx, ADMIN, MODEL, out, include_pdf=include_pdf)
    data = out.getvalue()
    assert pack_mod.verify_pack(data).ok
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_the_signed_evidence_pack_carries_the_exports(demo: Demo) -> None:
    files = _pack_files(demo, include_pdf=False)
    manifest = json.loads(files[pack_mod.MANIFEST])
    names = (
        set(manifest["files"])
        if isinstance(manifest["files"], dict)
        else {f["path"] for f in manifest["files"]}
    )
    ar = f"exports/{MODEL}.oscal-ar.json"
    assert ar in names
    versions = manifest["versions"]
    for no in versions:
        assert {f"exports/{MODEL}-v{no}.cdx.json", f"exports/{MODEL}-v{no}.spdx.json"} <= names
    results = json.loads(files[ar])["assessment-results"]["results"][0]
    hashes = {
        p["value"]
        for o in results["observations"]
        for p in o.get("props", [])
        if p["name"] == "hash"
    }
    events = [json.loads(line) for line in files[pack_mod.EVENTS].decode().splitlines()]
    assert {e["hash"] for e in events} == hashes


def test_rest_and_sdk_serve_the_exports(demo: Demo, tmp_path: Path) -> None:
    import steward
    from steward.api.app import create_app

    ctx = demo.ctx
    ensure_user(ctx, "audra", "auditor")
    secret = tokens.create_token(ctx, ADMIN, user="audra", name="exports").token
    with TestClient(create_app(ctx)) as client:
        anonymous = client.get(f"/api/v1/models/{MODEL}/versions/1/bom")
        assert anonymous.status_code == 401
        client.headers["Authorization"] = f"Bearer {secret}"
        bom = client.get(f"/api/v1/models/{MODEL}/versions/1/bom", params={"format": "spdx"})
        assert bom.status_code == 200, bom.text
        assert bom.headers["content-type"] == "application/spdx+json"
        assert f'filename="{MODEL}-v1.spdx.json"' in bom.headers["content-disposition"]
        bad = client.get("/api/v1/compliance/export", params={"format": "oscal-catalog"})
        assert bad.status_code == 422
        assert bad.headers["content-type"].startswith("application/problem+json")
    with LiveServer(ctx) as server:
        remote = steward.connect(server.url, token=secret)
        try:
            target = tmp_path / "nist.json"
            rendered = remote.compliance_export(
                "oscal-catalog", framework="nist-ai-rmf", out=target
            )
            assert rendered.filename == oscal.catalog_href("nist-ai-rmf")
            assert ocat.Catalog.oscal_read(target) is not None
            cdx = remote.version_bom(MODEL, 1)
            assert cdx.filename == f"{MODEL}-v1.cdx.json"
            assert json.loads(cdx.content)["bomFormat"] == "CycloneDX"
            from steward.trust import jsf

            signed = remote.version_bom(MODEL, 1, sign=True)
            pem = remote.signing_key().public_key
            assert jsf.verify(json.loads(signed.content), pem).key_id
        finally:
            remote.close()


def test_cli_writes_the_exports(demo: Demo, tmp_path: Path) -> None:
    from tests.cli.helpers import ok, run

    out = tmp_path / "ar.json"
    ok(demo.home, "compliance", "export", "--format", "oscal-ar", "-m", MODEL, "-o", str(out))
    assert oar.AssessmentResults.oscal_read(out) is not None
    done = ok(demo.home, "version", "bom", MODEL, "1", "--format", "spdx", "-o", "-")
    assert json.loads(done.stdout)["@context"].startswith("https://spdx.org/rdf/3.0.1/")
    refused = run(demo.home, "compliance", "export", "--format", "oscal-catalog")
    assert refused.exit_code != 0 and "--framework" in refused.output


# -- model card PDF layout ----------------------------------------------------------------


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_model_card_pdf_keeps_numbers_and_identifiers_whole(demo: Demo, tmp_path: Path) -> None:
    """Narrow table columns used to split "0.71/13" and "stewar/d": every number and every
    identifier up to 24 characters in the card's tables must come out of the PDF whole."""
    from PIL import Image

    pytest.importorskip("weasyprint")
    card = modelcards.model_card(demo.ctx, AUDRA, MODEL, 1)
    path = tmp_path / "card.pdf"
    path.write_bytes(modelcards.render_card(demo.ctx, card, "pdf").content)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    words = set(text.split())
    tokens = {
        token
        for section in card.sections
        for block in section.blocks
        if block["kind"] == "table"
        for row in block["rows"]
        for cell in row
        for token in str(cell).split()
        if len(token) <= 24 and re.fullmatch(r"[\w.\-/:%]*\w[\w.\-/:%]*", token)
        # Chinese text (the Taiwanese catalogs' titles) breaks between characters, as it should
        and not re.search(r"[\u3000-\u9fff\uff00-\uffef]", token)
    }
    assert len(tokens) > 200  # the card's tables: metrics, runs, groups, profiles, history
    broken = sorted(tokens - words)
    assert broken == []
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "2", "-l", "2", str(path), str(tmp_path / "p")],
        check=True,
    )
    image = Image.open(next(tmp_path.glob("p*.png"))).convert("L")
    assert sum(image.histogram()[:128]) > 0.01 * image.width * image.height


def test_card_cells_escape_and_keep_joined_tokens_together() -> None:
    from steward.compliance import modelcard as mc

    html = str(mc._unbroken("risk-office <script>x</script> 0.71/13"))
    assert '<span class="nb">risk-office</span>' in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert mc._cell_class("0.7133") == "num" and mc._cell_class("1,024") == "num"
    assert mc._cell_class("a" * 64) == "long" and mc._cell_class("steward") == ""
