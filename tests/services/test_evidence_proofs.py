"""Evidence packs carry inclusion proofs against a signed checkpoint (#15.4), and a policy
pack can require that checkpoint to be cosigned by k registered witnesses (#15.3)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from steward.compliance import evidence as pack_mod
from steward.domain import policy
from steward.domain.errors import Conflict
from steward.domain.permissions import Principal
from steward.domain.specs import VersionSpec
from steward.domain.yamldoc import DocumentError
from steward.services import evidence, models, policies, transparency, versions, witnesses
from steward.services.context import Context
from steward.trust import witness

AUDITOR = Principal("ada", roles=frozenset({"auditor"}))
MODEL = "credit"


def _setup(ctx: Context, who: Principal, tmp_path: Path) -> None:
    models.create_model(ctx, who, MODEL, purpose="p")
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    versions.create_version(ctx, who, MODEL, VersionSpec(), artifact)
    models.create_model(ctx, who, "other", purpose="p")  # an event of another model


def _export(ctx: Context) -> bytes:
    out = io.BytesIO()
    evidence.export_pack(ctx, AUDITOR, MODEL, out, include_pdf=False)
    return out.getvalue()


def _rezip(data: bytes, name: str, value: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, value if info.filename == name else src.read(info))
    return out.getvalue()


def test_pack_carries_inclusion_proofs_that_verify_without_the_journal(
    ctx: Context, alice: Principal, tmp_path: Path
) -> None:
    _setup(ctx, alice, tmp_path)
    made = transparency.create_checkpoint(ctx, AUDITOR, publish_to=[])
    models.update_model(ctx, alice, MODEL, title="after the checkpoint")
    data = _export(ctx)
    report = pack_mod.verify_pack(data)
    assert report.ok, report.failures()
    names = {c.name: c for c in report.checks}
    assert names["audit checkpoint"].ok and f"{made.tree_size} events" in (
        names["audit checkpoint"].detail
    )
    assert "2 events are in the log" in names["inclusion proofs"].detail
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.read(pack_mod.CHECKPOINT).decode() == made.note
        vkey = z.read(pack_mod.LOG_KEY).decode().strip()
        assert vkey == transparency.verifier_key(ctx, AUDITOR)
        proofs = [json.loads(line) for line in z.read(pack_mod.PROOFS).splitlines()]
        manifest = json.loads(z.read(pack_mod.MANIFEST))
    # the model's two events before the checkpoint are proven; the update after it is not
    assert [p["seq"] for p in proofs] == [1, 2]
    assert manifest["audit"]["checkpoint"]["id"] == made.id
    # the proofs are the server's own proofs
    assert proofs[0]["proof"] == list(transparency.inclusion_proof(ctx, AUDITOR, 1).proof)


def test_an_event_altered_after_export_fails_naming_the_event(
    ctx: Context, alice: Principal, tmp_path: Path
) -> None:
    _setup(ctx, alice, tmp_path)
    transparency.create_checkpoint(ctx, AUDITOR, publish_to=[])
    data = _export(ctx)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        lines = z.read(pack_mod.EVENTS).decode().splitlines()
    event = json.loads(lines[0])
    event["actor"] = "mallory"
    lines[0] = json.dumps(event)
    bad = pack_mod.verify_pack(_rezip(data, pack_mod.EVENTS, ("\n".join(lines) + "\n").encode()))
    assert not bad.ok
    failed = {c.name: c.detail for c in bad.failures()}
    where = "audit event 1 (model.created on model:credit)"
    assert where in failed
    assert any("not in the log signed by" in c.detail for c in bad.failures())
    # a forged checkpoint in the pack is caught by its signature
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        note = z.read(pack_mod.CHECKPOINT).decode()
    forged = note.replace(note.split("\n")[1], "99", 1)
    bad = pack_mod.verify_pack(_rezip(data, pack_mod.CHECKPOINT, forged.encode()))
    assert any(
        c.name == "audit checkpoint" and "not signed by the log key" in c.detail
        for c in bad.failures()
    )


def test_pack_without_any_checkpoint_has_no_proofs_and_still_verifies(
    ctx: Context, alice: Principal, tmp_path: Path
) -> None:
    _setup(ctx, alice, tmp_path)
    data = _export(ctx)
    assert pack_mod.verify_pack(data).ok
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert pack_mod.PROOFS not in z.namelist()


def _require_witnesses(ctx: Context, who: Principal, k: int) -> None:
    text = policy.default_pack_text().replace(
        'version: "2026.12"', f'version: "2026.12-w{k}"\nevidence: {{witnesses: {k}}}', 1
    )
    policies.load_pack(ctx, who, text, activate=True)


def test_policy_requires_k_witness_cosignatures_on_the_packs_checkpoint(
    ctx: Context, alice: Principal, tmp_path: Path
) -> None:
    _setup(ctx, alice, tmp_path)
    keys = [witness.generate(f"w{i}", tmp_path / f"w{i}.pem") for i in range(2)]
    for key in keys:
        witnesses.add_witness(ctx, alice, key.name, key.verifier_key)
    _require_witnesses(ctx, alice, 2)
    with pytest.raises(Conflict, match="no checkpoint has more than 0"):
        _export(ctx)
    made = transparency.create_checkpoint(ctx, AUDITOR, publish_to=[])
    vkey = transparency.verifier_key(ctx, AUDITOR)
    witnesses.add_cosignature(ctx, AUDITOR, witness.cosign(keys[0], made.note, vkey))
    with pytest.raises(Conflict, match="steward audit witness submit") as refused:
        _export(ctx)
    assert "cosigned by 2 registered witness" in refused.value.detail
    assert "no checkpoint has more than 1" in refused.value.detail
    witnesses.add_cosignature(ctx, AUDITOR, witness.cosign(keys[1], made.note, vkey))
    # a newer, uncosigned checkpoint does not stop export: the pack rests on the cosigned one
    transparency.create_checkpoint(ctx, AUDITOR, publish_to=[])
    data = _export(ctx)
    report = pack_mod.verify_pack(data)
    assert report.ok, report.failures()
    assert {c.name: c.detail for c in report.checks}["witness cosignatures"] == (
        "cosigned by w0, w1"
    )
    manifest = report.manifest
    assert manifest is not None
    assert manifest["audit"]["checkpoint"]["id"] == made.id
    assert manifest["audit"]["checkpoint"]["cosigners"] == ["w0", "w1"]
    # a witness removed no longer counts
    witnesses.remove_witness(ctx, alice, "w1")
    with pytest.raises(Conflict):
        _export(ctx)


def test_evidence_witnesses_setting_is_validated() -> None:
    base = policy.default_pack_text()
    assert policy.parse(base).evidence_witnesses == 0
    assert policy.parse(base + "\nevidence: {witnesses: 3}\n").evidence_witnesses == 3
    for bad in ("evidence: 2", "evidence: {witnesses: -1}", "evidence: {witnesses: x}"):
        with pytest.raises(DocumentError, match="evidence"):
            policy.parse(base + "\n" + bad + "\n")
    with pytest.raises(DocumentError, match="quorum"):
        policy.parse(base + "\nevidence: {quorum: 1}\n")


def _run_standalone(tmp_path: Path, data: bytes, name: str) -> subprocess.CompletedProcess[str]:
    """The pack's own verify_pack.py, run as an auditor would: no Steward on the path."""
    pack = tmp_path / f"{name}.zip"
    pack.write_bytes(data)
    folder = tmp_path / name
    with zipfile.ZipFile(pack) as archive:
        archive.extractall(folder)
    return subprocess.run(
        [sys.executable, "-I", str(folder / "verify_pack.py"), str(pack)],
        capture_output=True,
        text=True,
        cwd=folder,
    )


def _resigned(data: bytes, changes: dict[str, bytes], manifest: dict[str, Any]) -> bytes:
    """The pack with ``changes``, its manifest updated and re-signed with a forger's key."""
    files = {entry["path"]: entry for entry in manifest["files"] if entry["path"] in changes}
    for path, value in changes.items():
        files[path]["sha256"] = hashlib.sha256(value).hexdigest()
    raw = pack_mod.manifest_bytes(manifest)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forged = {
        **changes,
        pack_mod.MANIFEST: raw,
        pack_mod.SIGNATURE: key.sign(raw, ec.ECDSA(hashes.SHA256())),
        pack_mod.PUBLIC_KEY: pem,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, forged.get(info.filename, src.read(info)))
    return out.getvalue()


def test_the_standalone_script_checks_inclusion_proofs_against_the_signed_checkpoint(
    ctx: Context, alice: Principal, tmp_path: Path
) -> None:
    if ctx.uow.engine.dialect.name != "sqlite":
        pytest.skip("the stand-alone script reads only the pack")
    _setup(ctx, alice, tmp_path)
    transparency.create_checkpoint(ctx, AUDITOR, publish_to=[])
    data = _export(ctx)
    good = _run_standalone(tmp_path, data, "good")
    assert good.returncode == 0 and "inclusion proofs match" in good.stdout, good.stdout

    # A forger rewrites the version's event (seq 2, covered by the checkpoint), fixes the
    # chain up to a new head and re-signs the manifest with a key of their own. Files,
    # chain and manifest signature all check out: only the log's signed root tells.
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        events = [json.loads(x) for x in z.read(pack_mod.EVENTS).decode().splitlines()]
        links = [json.loads(x) for x in z.read(pack_mod.LINKS).decode().splitlines()]
        manifest = json.loads(z.read(pack_mod.MANIFEST))
    victim = next(e for e in events if e["seq"] == 2)
    victim["payload"]["tags"] = {"approved": "yes"}
    canonical = json.dumps(
        [victim[f] for f in ("seq", "time", "actor", "action", "subject_type", "subject_id")]
        + [victim["payload"]],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    victim["hash"] = hashlib.sha256(
        bytes.fromhex(victim["prev_hash"]) + canonical.encode()
    ).hexdigest()
    links = [link for link in links if link["seq"] <= 2]
    links[-1]["hash"] = victim["hash"]
    manifest["chain_head"] = {"seq": 2, "hash": victim["hash"]}

    def jsonl(rows: list[dict[str, Any]]) -> bytes:
        return "".join(
            json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows
        ).encode()

    forged = _resigned(
        data, {pack_mod.EVENTS: jsonl(events), pack_mod.LINKS: jsonl(links)}, manifest
    )
    bad = _run_standalone(tmp_path, forged, "forged")
    assert bad.returncode == 1, bad.stdout
    broken = [line for line in bad.stdout.splitlines() if line.startswith("BROKEN")]
    assert broken == [
        "BROKEN: audit event 2 (version.created): not in the log signed by audit/checkpoint.txt"
    ], bad.stdout

    # A checkpoint signed with another log key (and that key shipped in the pack) is
    # refused too when its key id does not match, and a wrong root never verifies.
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        note = z.read(pack_mod.CHECKPOINT).decode()
    lines = note.split("\n")
    lines[2] = base64.b64encode(bytes(32)).decode()
    bad = _run_standalone(
        tmp_path,
        _resigned(data, {pack_mod.CHECKPOINT: "\n".join(lines).encode()}, manifest),
        "root",
    )
    assert bad.returncode == 1 and "not a checkpoint signed by audit/log-key.vkey" in bad.stdout
