"""Model cards, narrative fields and signed evidence packs on the demo inventory.

The demo (real German Credit models, validated, approved, signed) is loaded once per
database for the module; the tests add narrative and export packs, which only append.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import BACKENDS, PG_ADMIN_URL, SKIP_PG, LiveServer, _pg_admin, ensure_user

from steward import bootstrap
from steward.compliance import evidence as pack_mod
from steward.compliance.modelcard import FIELDS_BY_KEY
from steward.domain.audit import AuditFilter
from steward.domain.errors import Forbidden, InvalidInput, NotFound
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services import evidence, modelcards
from steward.services.context import Context
from steward.settings import Settings

MODEL = "credit-scoring"
SECTIONS = [
    "Model details",
    "Intended use",
    "Owner and accountable people",
    "Data: provenance, fingerprints and profile",
    "Method",
    "Metrics and validation results",
    "Fairness by group",
    "Robustness",
    "Explainability",
    "Risk assessment",
    "Compliance coverage",
    "Limitations and residual risks",
    "Human oversight",
    "Monitoring plan and status",
    "Lifecycle and approval history",
    "Changes from the previous version",
    "About this document",
]


@dataclass
class Demo:
    ctx: Context
    home: Path
    kind: str


def _as(name: str, *roles: str) -> Principal:
    return Principal(name=name, roles=frozenset(roles))


ALICE = _as("alice", "owner")
AUDRA = _as("audra", "auditor")
RITA = _as("rita", "risk_officer")
ADMIN = _as("admin", OPERATOR)


@pytest.fixture(scope="module", params=BACKENDS)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    from steward.demo.load import load_demo

    home = tmp_path_factory.mktemp("demo")
    kind = request.param
    name = None
    if kind == "sqlite":
        url = f"sqlite:///{home / 'steward.db'}"
    else:
        if SKIP_PG:
            pytest.skip("STEWARD_TEST_SKIP_POSTGRES=1")
        name = f"steward_test_{uuid.uuid4().hex[:12]}"
        _pg_admin(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    settings = Settings(home=home, database_url=url, artifacts_url=str(home / "artifacts"))
    ctx = bootstrap.build(settings, migrate=True)
    try:
        load_demo(Steward(LocalBackend(ctx, "admin")))
        yield Demo(ctx, home, kind)
    finally:
        ctx.uow.engine.dispose()
        if name is not None:
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- narrative fields ---------------------------------------------------------------------


def test_narrative_is_versioned_audited_and_carried_to_later_versions(demo: Demo) -> None:
    ctx = demo.ctx
    first = modelcards.set_narrative(
        ctx,
        ALICE,
        MODEL,
        1,
        {"residual_risks": "Trained on 1970s applicants from one German bank."},
    )
    assert [(n.field, n.revision, n.from_version) for n in first] == [("residual_risks", 1, 1)]
    # Unchanged text is not a new revision; changed text is, and the old one is superseded.
    modelcards.set_narrative(
        ctx,
        ALICE,
        MODEL,
        1,
        {"residual_risks": "Trained on 1970s applicants from one German bank."},
    )
    modelcards.set_narrative(
        ctx, ALICE, MODEL, 1, {"residual_risks": "Trained on 1,000 applicants from 1973-75."}
    )
    history = modelcards.narrative_history(ctx, ALICE, MODEL, 1, "residual_risks")
    assert [(n.revision, n.superseded_at is None) for n in history] == [(1, False), (2, True)]
    # Version 2 has no text of its own yet: it shows version 1's, marked as carried over.
    shown = {n.field: n for n in modelcards.narratives(ctx, ALICE, MODEL, 2)}
    assert shown["residual_risks"].from_version == 1
    assert shown["residual_risks"].carried_over
    # Each write is one journal event holding the text before and after.
    with ctx.uow.read() as uow:
        events = [
            e.payload_dict()
            for e in uow.audit.search(
                AuditFilter(subject_id=f"{MODEL}/1", action="modelcard.narrative_set"), 100
            )
        ]
    assert events[-1]["fields"]["residual_risks"] == {
        "revision": 2,
        "before": "Trained on 1970s applicants from one German bank.",
        "before_from_version": 1,
        "after": "Trained on 1,000 applicants from 1973-75.",
    }
    assert len(events) == 2  # the unchanged write journalled nothing


def test_narrative_refuses_unknown_fields_empty_text_and_readers(demo: Demo) -> None:
    with pytest.raises(InvalidInput, match="intended_use, out_of_scope"):
        modelcards.set_narrative(demo.ctx, ALICE, MODEL, 2, {"purpose_of_life": "42"})
    with pytest.raises(InvalidInput, match="empty"):
        modelcards.set_narrative(demo.ctx, ALICE, MODEL, 2, {"intended_use": "   "})
    with pytest.raises(Forbidden):
        modelcards.set_narrative(demo.ctx, AUDRA, MODEL, 2, {"intended_use": "x"})
    with pytest.raises(NotFound, match="no version 99"):
        modelcards.set_narrative(demo.ctx, ALICE, MODEL, 99, {"intended_use": "x"})
    # Nothing half-written: a bad field next to a good one stores neither.
    with pytest.raises(InvalidInput):
        modelcards.set_narrative(demo.ctx, ALICE, MODEL, 3, {"method": "gbm", "nonsense": "y"})
    assert modelcards.narrative_history(demo.ctx, ALICE, MODEL, 3, "method") == []


# -- the card -------------------------------------------------------------------------------


def test_model_card_is_generated_from_the_evidence(demo: Demo) -> None:
    ctx = demo.ctx
    modelcards.set_narrative(
        ctx,
        ALICE,
        MODEL,
        2,
        {"intended_use": "Rank consumer loan applications for approval or referral."},
    )
    card = modelcards.model_card(ctx, AUDRA, MODEL, 2)
    assert [s.title for s in card.sections] == SECTIONS
    client = Steward(LocalBackend(ctx, "admin"))
    version = client.get_version(MODEL, 2)
    runs = ctx.uow.read()
    with runs as uow:
        vid = int(uow.versions.row(uow.models.id_of(MODEL) or 0, 2)["id"])  # type: ignore[index]
        run = uow.check_runs.runs(version_id=vid)[0]
    # Data provenance: the fingerprints recorded with the version.
    data = card.section("data")
    facts = {k: v for b in data.blocks if b["kind"] == "facts" for k, v in b["items"]}
    assert facts["fingerprint (sha256)"] == version.evaluation_data.fingerprint  # type: ignore[union-attr]
    # Fairness by group: the rows of the validation run's group table.
    group_table = run.result("fairness.group_table").details["table"]
    tables = [b for b in card.section("fairness").blocks if b["kind"] == "table"]
    assert [r[0] for r in tables[0]["rows"]] == [g["group"] for g in group_table]
    assert "fairness-selection-rate.svg" in card.plots
    # Narrative written for v2 (the demo wrote some too); fields nobody wrote say so.
    blocks = {b["field"]: b for s in card.sections for b in s.blocks if b["kind"] == "narrative"}
    assert blocks["intended_use"]["text"].startswith("Rank consumer loan")
    assert blocks["out_of_scope"]["text"].startswith("Business lending")
    assert blocks["accountable_people"]["missing"]
    assert set(blocks) == set(FIELDS_BY_KEY)
    # Approval history names the three approvers of the demo.
    people = {
        k: v for b in card.section("people").blocks if b["kind"] == "facts" for k, v in b["items"]
    }
    assert people["Approved by"] == "rita, victor, wendy"
    assert card.evidence["runs"] == [r.id for r in client._backend.list_check_runs(MODEL, 2, 100)]
    # Changes from version 1: a different artifact and algorithm.
    changes = card.section("changes")
    rows = [r for b in changes.blocks if b["kind"] == "table" for r in b["rows"]]
    assert ["model_kind", "logistic", "forest"] in rows


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_model_card_renders_as_markdown_html_and_a_real_pdf(demo: Demo, tmp_path: Path) -> None:
    if demo.kind != "sqlite":
        pytest.skip("rendering does not depend on the database")
    from PIL import Image

    md = modelcards.render(demo.ctx, AUDRA, MODEL, 2, "md").content.decode()
    for number, title in enumerate(SECTIONS, start=1):
        assert f"## {number}. {title}" in md
    html = modelcards.render(demo.ctx, AUDRA, MODEL, 2, "html").content.decode()
    assert html.count("<svg") >= 4  # the validation plots, inlined
    pdf = modelcards.render(demo.ctx, AUDRA, MODEL, 2, "pdf")
    assert pdf.media_type == "application/pdf" and pdf.content.startswith(b"%PDF")
    path = tmp_path / "card.pdf"
    path.write_bytes(pdf.content)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    pages = int(next(x for x in info.stdout.splitlines() if x.startswith("Pages:")).split()[1])
    assert pages >= 8
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    for number, title in enumerate(SECTIONS, start=1):
        assert f"{number}. {title.split(':')[0]}" in text, title
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")],
        check=True,
    )
    image = Image.open(next(tmp_path.glob("p*.png"))).convert("L")
    dark = sum(image.histogram()[:128])
    assert dark > 0.01 * image.width * image.height  # not a blank page
    with pytest.raises(InvalidInput, match="json, md, html, pdf"):
        modelcards.render(demo.ctx, AUDRA, MODEL, 2, "docx")


# -- evidence packs -----------------------------------------------------------------------


def _export(demo: Demo, who: Principal = AUDRA, **kw: object) -> bytes:
    out = io.BytesIO()
    evidence.export_pack(demo.ctx, who, MODEL, out, include_pdf=False, **kw)  # type: ignore[arg-type]
    return out.getvalue()


def _rezip(data: bytes, change: dict[str, bytes | None]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename in change:
                if change[info.filename] is not None:
                    dst.writestr(info.filename, change[info.filename])  # type: ignore[arg-type]
            else:
                dst.writestr(info.filename, src.read(info))
        for name, value in change.items():
            if name not in src.namelist() and value is not None:
                dst.writestr(name, value)
    return out.getvalue()


def test_evidence_pack_verifies_and_is_journalled(demo: Demo) -> None:
    data = _export(demo)
    report = pack_mod.verify_pack(data)
    assert report.ok, report.failures()
    assert report.manifest is not None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        events = [json.loads(x) for x in archive.read(pack_mod.EVENTS).decode().splitlines()]
        links = archive.read(pack_mod.LINKS).decode().splitlines()
    assert report.manifest["versions"] == [2]  # the production version
    for expected in (
        "model-card/v2.md",
        "model-card/v2.html",
        "model-card/v2.json",
        "risk/assessment.json",
        "policy/pack.yaml",
        "approvals/requests.json",
        "findings.json",
        "waivers.json",
        "signatures/v2.json",
        "verify_pack.py",
    ):
        assert expected in names
    assert any(
        n.startswith("checks/v2/") and n.endswith("fairness-selection-rate.svg") for n in names
    )
    actions = {e["action"] for e in events}
    assert {"model.created", "version.transitioned", "approval.given", "version.signed"} <= actions
    assert len(links) > len(events)  # other models' events are linked, not disclosed
    with demo.ctx.uow.read() as uow:
        exported = uow.audit.search(AuditFilter(action="evidence.exported"), 1000)[-1]
        head = uow.audit.hash_at(report.manifest["chain_head"]["seq"])
    assert exported.payload_dict()["manifest_sha256"] == pack_mod.sha256(
        zipfile.ZipFile(io.BytesIO(data)).read(pack_mod.MANIFEST)
    )
    assert head == report.manifest["chain_head"]["hash"]
    # An anchor recorded from the live journal matches the pack's chain.
    seq = events[0]["seq"]
    assert pack_mod.verify_pack(data, anchors=[f"{seq}:{events[0]['hash']}"]).ok
    assert not pack_mod.verify_pack(data, anchors=[f"{seq}:{'0' * 64}"]).ok


def test_tampering_with_a_file_or_one_event_fails_and_says_where(demo: Demo) -> None:
    data = _export(demo)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        findings = archive.read("findings.json")
        lines = archive.read(pack_mod.EVENTS).decode().splitlines()
        manifest = json.loads(archive.read(pack_mod.MANIFEST))
    # 1. A changed file.
    bad = pack_mod.verify_pack(_rezip(data, {"findings.json": findings.replace(b"high", b"low")}))
    assert not bad.ok
    assert [c.name for c in bad.failures()] == ["file findings.json"]
    assert "changed after export" in bad.failures()[0].detail
    # 2. One audit event altered (an approval's comment), everything else untouched.
    index = next(i for i, x in enumerate(lines) if '"approval.given"' in x)
    event = json.loads(lines[index])
    event["payload"]["comment"] = "Rubber-stamped."
    lines[index] = json.dumps(event, ensure_ascii=False, sort_keys=True)
    bad = pack_mod.verify_pack(_rezip(data, {pack_mod.EVENTS: ("\n".join(lines) + "\n").encode()}))
    names = [c.name for c in bad.failures()]
    assert f"file {pack_mod.EVENTS}" in names
    assert f"audit event {event['seq']} (approval.given on request:{event['subject_id']})" in names
    # 3. A forger who also fixes the manifest's hash cannot re-sign it.
    for entry in manifest["files"]:
        if entry["path"] == "findings.json":
            entry["sha256"] = pack_mod.sha256(b"[]\n")
    forged = _rezip(
        data, {"findings.json": b"[]\n", pack_mod.MANIFEST: pack_mod.manifest_bytes(manifest)}
    )
    bad = pack_mod.verify_pack(forged)
    assert [c.name for c in bad.failures()] == ["manifest signature"]
    # 4. An event removed, an extra file added, a missing signature.
    bad = pack_mod.verify_pack(
        _rezip(data, {pack_mod.EVENTS: ("\n".join(lines[1:]) + "\n").encode(), "note.txt": b"x"})
    )
    names = [c.name for c in bad.failures()]
    assert "audit events" in names and "file note.txt" in names
    assert [
        c.name for c in pack_mod.verify_pack(_rezip(data, {pack_mod.SIGNATURE: None})).failures()
    ] == [pack_mod.SIGNATURE]


def test_pack_checks_without_steward(demo: Demo, tmp_path: Path) -> None:
    if demo.kind != "sqlite":
        pytest.skip("the offline tools do not depend on the database")
    data = _export(demo)
    good, bad = tmp_path / "pack.zip", tmp_path / "bad.zip"
    good.write_bytes(data)
    with zipfile.ZipFile(good) as archive:
        archive.extractall(tmp_path / "x")
        reviews = archive.read("reviews.json")
    bad.write_bytes(_rezip(data, {"reviews.json": reviews + b" "}))
    script = tmp_path / "x" / "verify_pack.py"
    ran = subprocess.run(
        [sys.executable, "-I", str(script), str(good)], capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stdout
    ran = subprocess.run(
        [sys.executable, "-I", str(script), str(bad)], capture_output=True, text=True
    )
    assert ran.returncode == 1 and "reviews.json" in ran.stdout
    if shutil.which("openssl"):
        folder = tmp_path / "x"
        check = subprocess.run(
            [
                "openssl",
                "dgst",
                "-sha256",
                "-verify",
                "steward-signing-key.pub",
                "-signature",
                "manifest.json.sig",
                "manifest.json",
            ],
            cwd=folder,
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0 and "Verified OK" in check.stdout


def test_export_needs_the_evidence_permission_and_a_real_version(demo: Demo) -> None:
    with pytest.raises(Forbidden, match="auditor"):
        _export(demo, ALICE)
    with pytest.raises(NotFound, match="no version 42"):
        _export(demo, RITA, versions=[42])
    data = _export(demo, RITA, versions=[1, 3])
    manifest = pack_mod.verify_pack(data).manifest
    assert manifest is not None and manifest["versions"] == [1, 3]


# -- faces: SDK over HTTP, CLI ------------------------------------------------------------


def test_sdk_over_http_matches_embedded(demo: Demo, tmp_path: Path) -> None:
    import steward
    from steward.services import tokens

    ensure_user(demo.ctx, "audra", "auditor")
    token = tokens.create_token(demo.ctx, ADMIN, user="audra", name="c2-tests").token
    owner_token = tokens.create_token(demo.ctx, ADMIN, user="alice", name="c2-tests").token
    local = Steward(LocalBackend(demo.ctx, "audra"))
    with LiveServer(demo.ctx) as server:
        remote = steward.connect(server.url, token=token)
        owner = steward.connect(server.url, token=owner_token)
        try:
            written = owner.set_narrative(MODEL, 2, human_oversight="Underwriters review refusals.")
            assert written == local.narratives(MODEL, 2)
            assert owner.narrative_history(MODEL, 2, "human_oversight")[-1].text.startswith(
                "Underwriters"
            )
            with pytest.raises(Forbidden):
                remote.set_narrative(MODEL, 2, method="x")  # an auditor changes nothing
            card = remote.model_card(MODEL, 2)
            assert [s.title for s in card.sections] == SECTIONS
            # Identical but for the generation time in the provenance note (a second apart
            # when the two calls straddle a second boundary).
            embedded = local.model_card(MODEL, 2).sections
            assert card.sections[:-1] == embedded[:-1]
            assert card.sections[-1].key == embedded[-1].key == "provenance"
            md = remote.render_model_card(MODEL, 2, format="md", out=tmp_path / "card.md")
            assert (tmp_path / "card.md").read_bytes() == md.content
            assert b"Underwriters review refusals." in md.content
            with pytest.raises(InvalidInput, match="format"):
                remote.render_model_card(MODEL, 2, format="docx")
            summary = remote.export_evidence(MODEL, tmp_path / "pack.zip", include_pdf=False)
            report = Steward.verify_evidence(
                tmp_path / "pack.zip", public_key=_pem(remote, tmp_path)
            )
            assert report.ok, report.failures()
            assert summary.model == MODEL and summary.versions == [2]
            with pytest.raises(Forbidden):
                owner.export_evidence(MODEL, tmp_path / "no.zip")
            assert not (tmp_path / "no.zip").exists()
            assert not list(tmp_path.glob(".*partial"))
        finally:
            remote.close()
            owner.close()


def _pem(client: Steward, folder: Path) -> Path:
    path = folder / "pinned.pub"
    path.write_text(client.signing_key().public_key)
    return path


def test_cli_model_card_export_and_verify(demo: Demo, tmp_path: Path) -> None:
    if demo.kind != "sqlite":
        pytest.skip("the CLI runs on the embedded SQLite store")
    from tests.cli.helpers import as_json, ok, run

    home = demo.home
    ok(home, "report", "narrative", MODEL, "3", "--set", "method=Gradient boosting, 200 trees.")
    shown = as_json(home, "report", "narrative", MODEL, "3")
    assert {n["field"]: n["text"] for n in shown}["method"] == "Gradient boosting, 200 trees."
    assert run(home, "report", "narrative", MODEL, "3", "--set", "bogus").exit_code == 1
    out = tmp_path / "card.md"
    result = as_json(home, "report", "model-card", MODEL, "3", "--format", "md", "--out", str(out))
    assert result["file"] == str(out) and "## 5. Method" in out.read_text()
    assert "Gradient boosting, 200 trees." in out.read_text()
    packed = tmp_path / "pack.zip"
    summary = as_json(
        home, "evidence", "export", MODEL, "--out", str(packed), "--no-pdf", actor="audra"
    )
    assert summary["versions"] == [2]
    verified = as_json(home, "evidence", "verify", str(packed))
    assert verified["ok"] is True
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(_rezip(packed.read_bytes(), {"model.json": b"{}"}))
    failed = run(home, "evidence", "verify", str(tampered))
    assert failed.exit_code == 1
    assert "file model.json" in failed.output and "FAILED" in failed.output
    fields = as_json(home, "report", "fields")
    assert [f["key"] for f in fields] == list(FIELDS_BY_KEY)


# -- monitoring in the card and the pack ---------------------------------------------------


def _table_by_caption(status: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(t for t in status["tables"] if str(t["caption"]).startswith(prefix))


def test_card_shows_the_production_monitor_its_runs_alerts_and_performance(demo: Demo) -> None:
    from steward.services import monitoring

    (mon,) = monitoring.list_monitors(demo.ctx, RITA, model=MODEL, version=2)
    runs = monitoring.list_runs(demo.ctx, RITA, mon.id, with_results=True)
    alerts = {a.rule: a for a in monitoring.list_alerts(demo.ctx, RITA, model=MODEL, status="all")}
    status = monitoring.card_status(demo.ctx, RITA, MODEL, 2)
    assert status is not None
    facts = status["facts"]
    assert f"weekly-applications ({mon.id}): weekly windows" in facts["Monitors"]
    assert facts["Runs"] == f"weekly-applications: {len(runs)}" and len(runs) == 4
    newest = runs[0]
    assert newest.id in facts["Latest run"]
    # The young population: age has by far the largest PSI and is called drifted.
    assert "most drifted: age_in_years (PSI " in facts["Latest run"]
    assert "drifted)" in facts["Latest run"].split("most drifted: ")[1].split(",")[1]
    assert "age-shift (critical)" in facts["Alerts"] and alerts["age-shift"].id in facts["Alerts"]
    assert "150 of 150 predictions (100.0%)" in facts["Label coverage"]

    rules_table = _table_by_caption(status, "Alert rules")
    assert [
        "weekly-applications",
        "age-shift",
        "psi",
        "age_in_years",
        ">= 0.25",
        "critical",
        2,
    ] in [list(r) for r in rules_table["rows"]]
    runs_table = _table_by_caption(status, "Latest runs")
    assert [r[2] for r in runs_table["rows"]] == [r.id for r in reversed(runs)]  # oldest first
    assert runs_table["rows"][-1][4] == f"{newest.drift_share:.1%}"
    assert runs_table["rows"][0][5].startswith("age_in_years (PSI ")
    assert "drifted" not in runs_table["rows"][0][5]  # held-out applicants: no drift
    age = alerts["age-shift"]
    alert_row = next(r for r in _table_by_caption(status, "Alerts")["rows"] if r[0] == age.id)
    assert alert_row[7] == "open" and alert_row[8] == f"#{age.finding_id}"
    assert alert_row[9] == "moved to under_review"
    perf = _table_by_caption(status, "Production performance")
    assert len(perf["rows"]) == 2  # labels arrived for the first two weeks only
    accuracy = [
        p.value
        for p in monitoring.history(demo.ctx, RITA, mon.id, metric="accuracy")
        if p.value is not None
    ]
    assert [r[4] for r in perf["rows"]] == [f"{v:.4g}" for v in accuracy]
    fairness = _table_by_caption(status, "Fairness")
    assert {r[2] for r in fairness["rows"]} == {"foreign_worker"}

    # The card's monitoring section shows the same, in every format.
    card = modelcards.model_card(demo.ctx, RITA, MODEL, 2)
    blocks = card.section("monitoring").blocks
    shown = dict(next(b for b in blocks if b["kind"] == "facts")["items"])
    assert shown["Alerts"] == facts["Alerts"]
    assert [b["caption"] for b in blocks if b["kind"] == "table"] == [
        t["caption"] for t in status["tables"]
    ]
    md = modelcards.render(demo.ctx, RITA, MODEL, 2, "md").content.decode()
    assert age.id in md and "moved to under_review" in md
    # Version 1's monitor was deleted when version 2 replaced it: no status to report.
    assert monitoring.card_status(demo.ctx, RITA, MODEL, 1) is None
    old = modelcards.model_card(demo.ctx, RITA, MODEL, 1).section("monitoring").blocks
    assert any(b["kind"] == "missing" and "No production monitor" in b["text"] for b in old)
    with pytest.raises(Forbidden):
        monitoring.card_status(demo.ctx, _as("nobody"), MODEL, 2)
    with pytest.raises(NotFound):
        monitoring.card_status(demo.ctx, RITA, MODEL, 99)


def _monitoring_files(data: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            n: json.loads(archive.read(n))
            for n in archive.namelist()
            if n.startswith("monitoring/")
        }


def test_pack_holds_the_monitoring_history_and_tampering_with_it_fails(demo: Demo) -> None:
    from steward.services import monitoring

    monitors = monitoring.list_monitors(demo.ctx, RITA, model=MODEL, include_deleted=True)
    (live,) = [m for m in monitors if m.version == 2]
    retired = [m for m in monitors if m.version == 1]
    assert retired and not any(m.active for m in retired)
    data = _export(demo)
    report = pack_mod.verify_pack(data)
    assert report.ok, report.failures()
    assert report.manifest is not None
    files = _monitoring_files(data)
    hashed = {e["path"] for e in report.manifest["files"]}
    assert set(files) <= hashed
    for m in monitors:
        for name in ("monitor.json", "reference-profile.json", "runs.json", "alerts.json"):
            assert f"monitoring/{m.id}/{name}" in files
    # Every run of the production monitor, oldest first, with every per-column result.
    runs = files[f"monitoring/{live.id}/runs.json"]
    listed = monitoring.list_runs(demo.ctx, RITA, live.id, with_results=True)
    assert [r["id"] for r in runs] == [r.id for r in reversed(listed)]
    psi = [
        next(
            x["value"]
            for x in r["results"]
            if (x["column"], x["metric"]) == ("age_in_years", "psi")
        )
        for r in runs
    ]
    series = monitoring.history(demo.ctx, RITA, live.id, column="age_in_years", metric="psi")
    assert psi == [p.value for p in series]
    assert psi[-1] > 0.25 > psi[0]
    alerts = {a["rule"]: a for a in files[f"monitoring/{live.id}/alerts.json"]}
    assert alerts["age-shift"]["transition"] == "under_review"
    assert alerts["age-shift"]["finding_id"] is not None
    assert files[f"monitoring/{live.id}/monitor.json"]["deleted_at"] is None
    assert all(files[f"monitoring/{m.id}/monitor.json"]["deleted_at"] for m in retired)
    current = monitoring.card_status(demo.ctx, RITA, MODEL, 2)
    assert current is not None and files["monitoring/v2.json"]["facts"] == current["facts"]
    # Tampering with the history: a quieter drift share for the last run.
    runs[-1]["drift_share"] = 0.0
    path = f"monitoring/{live.id}/runs.json"
    bad = pack_mod.verify_pack(_rezip(data, {path: json.dumps(runs).encode()}))
    assert [c.name for c in bad.failures()] == [f"file {path}"]
    # Dropping an alert from the pack is caught too.
    path = f"monitoring/{live.id}/alerts.json"
    bad = pack_mod.verify_pack(_rezip(data, {path: None}))
    assert [c.name for c in bad.failures()] == [f"file {path}"]
    assert "missing from the pack" in bad.failures()[0].detail


def test_export_fires_the_evidence_webhook(demo: Demo) -> None:
    from steward.services import webhooks

    hook = webhooks.create_webhook(
        demo.ctx, ADMIN, url="https://audit.example.com/hooks", events=["evidence.exported"]
    ).webhook
    _export(demo)
    (delivery,) = webhooks.list_deliveries(demo.ctx, ADMIN, hook.id)
    assert delivery.event == "evidence.exported"
    with demo.ctx.uow.read() as uow:
        exported = uow.audit.search(AuditFilter(action="evidence.exported"), 1000)[-1]
    assert delivery.audit_seq == exported.seq
    webhooks.delete_webhook(demo.ctx, ADMIN, hook.id)


def test_a_resolved_alert_shows_on_the_card_and_in_the_next_pack(demo: Demo) -> None:
    from steward.services import monitoring

    drift = next(
        a for a in monitoring.list_alerts(demo.ctx, RITA, model=MODEL) if a.rule == "dataset-drift"
    )
    monitoring.resolve_alert(
        demo.ctx, RITA, drift.id, "Younger applicants come from the new partner channel."
    )
    status = monitoring.card_status(demo.ctx, RITA, MODEL, 2)
    assert status is not None
    assert status["facts"]["Alerts"].startswith("1 open, 1 resolved")
    row = next(r for r in _table_by_caption(status, "Alerts")["rows"] if r[0] == drift.id)
    assert row[7] == "resolved" and row[10].startswith("rita: Younger applicants")
    data = _export(demo)
    assert pack_mod.verify_pack(data).ok
    (live,) = monitoring.list_monitors(demo.ctx, RITA, model=MODEL, version=2)
    alerts = {a["id"]: a for a in _monitoring_files(data)[f"monitoring/{live.id}/alerts.json"]}
    assert alerts[drift.id]["status"] == "resolved" and alerts[drift.id]["resolved_by"] == "rita"
