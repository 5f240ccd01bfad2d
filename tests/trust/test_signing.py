"""Signing on promotion, the exported files, and offline verification (also by model_signing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from steward import bootstrap
from steward.domain import trust
from steward.domain.audit import Action, AuditFilter
from steward.domain.errors import NotFound
from steward.domain.permissions import Principal
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services import signing
from steward.services.context import Context, version_row_id
from steward.settings import Settings
from steward.trust import keys

MODEL_SIGNING = str(Path(sys.executable).with_name("model_signing"))


LIGHT_PACK = """\
pack: light
version: "1"
requirements:
  - id: review.current
    kind: review_current
    to: [production]
    controls: ["nist-ai-rmf:GOVERN 1.5"]
"""


def _promote(st: Steward, model: str, version: int) -> None:
    for stage in ("validation", "approved", "production"):
        st.transition(model, version, to=stage, justification=f"to {stage}")


def _model_signing_verify(artifact: Path, folder: Path, public_key: Path | None = None) -> int:
    key = public_key or folder / trust.PUBLIC_KEY_FILE
    result = subprocess.run(
        [
            MODEL_SIGNING,
            "verify",
            "key",
            str(artifact),
            "--signature",
            str(folder / trust.MODEL_SIGNATURE_FILE),
            "--public_key",
            str(key),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode


@pytest.fixture
def signed(local: Steward, tmp_path: Path) -> tuple[Path, Path]:
    """credit v1 (a file, with training data) promoted to production and exported."""
    data = tmp_path / "train.csv"
    data.write_text("age,income,default\n30,1000,0\n45,2000,1\n")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"approved weights")
    local.create_model("credit")
    local.log_version("credit", artifact=artifact, training_data=data, capture_git=False)
    _promote(local, "credit", 1)
    out = tmp_path / "sig"
    local.export_signature("credit", 1, out)
    return artifact, out


def test_promotion_signs_the_version_and_binds_what_was_approved(
    local: Steward, ctx: Context, signed: tuple[Path, Path]
) -> None:
    _artifact, out = signed
    [record] = local.signatures("credit", 1)
    version = local.get_version("credit", 1)
    manifest = record.manifest
    assert manifest["format"] == trust.MANIFEST_FORMAT
    assert (manifest["model"], manifest["version"]) == ("credit", 1)
    assert manifest["artifact"]["sha256"] == version.artifact.sha256 == record.artifact_sha256
    assert version.training_data is not None
    assert manifest["data"]["training"]["fingerprint"] == version.training_data.fingerprint
    assert manifest["key"]["id"] == local.signing_key().key_id == record.key_id
    # the three files are content-addressed blobs, and the journal holds their hashes
    for digest in (
        record.manifest_sha256,
        record.manifest_signature_sha256,
        record.model_signature_sha256,
    ):
        assert ctx.artifacts.exists(digest)
    with ctx.uow.read() as uow:
        [event] = uow.audit.stream(AuditFilter(actions=(Action.VERSION_SIGNED.value,)))
    payload = json.loads(event.payload)
    assert payload["manifest_sha256"] == record.manifest_sha256 and event.seq == record.audit_seq
    assert record.leaf_index == record.audit_seq - 1
    # The signed manifest cites the move to production by seq and Merkle leaf index.
    with ctx.uow.read() as uow:
        moves = list(uow.audit.stream(AuditFilter(actions=(Action.VERSION_TRANSITIONED.value,))))
    [move] = [m for m in moves if json.loads(m.payload)["to"] == "production"]
    assert manifest["journal"] == {
        "action": "version.transitioned",
        "seq": move.seq,
        "leaf_index": move.seq - 1,
    }
    # the exported manifest is the signed bytes, and names the bundle beside it
    assert json.loads((out / trust.MANIFEST_FILE).read_text()) == manifest
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            trust.MANIFEST_FILE,
            trust.MANIFEST_SIGNATURE_FILE,
            trust.MODEL_SIGNATURE_FILE,
            trust.PUBLIC_KEY_FILE,
        ]
    )


def test_offline_verify_and_model_signing_accept_the_approved_artifact(
    signed: tuple[Path, Path],
) -> None:
    artifact, out = signed
    report = Steward.verify_artifact(artifact, manifest=out / trust.MANIFEST_FILE)
    assert report.ok, report.checks
    assert [c.name for c in report.checks] == [
        "manifest signature",
        "manifest binds model signature",
        "model_signing",
        "artifact sha256",
    ]
    assert _model_signing_verify(artifact, out) == 0  # the standard tool agrees
    renamed = artifact.with_name("served-model.bin")  # names do not matter, bytes do
    renamed.write_bytes(artifact.read_bytes())
    assert Steward.verify_artifact(renamed, manifest=out / trust.MANIFEST_FILE).ok


def test_a_changed_artifact_fails_both_checks(signed: tuple[Path, Path]) -> None:
    artifact, out = signed
    artifact.write_bytes(b"approved weights, then patched")
    report = Steward.verify_artifact(artifact, manifest=out / trust.MANIFEST_FILE)
    assert not report.ok
    failed = {c.name for c in report.checks if not c.ok}
    assert failed == {"model_signing", "artifact sha256"}
    assert _model_signing_verify(artifact, out) != 0


def test_an_edited_manifest_or_a_foreign_key_is_refused(
    signed: tuple[Path, Path], tmp_path: Path
) -> None:
    artifact, out = signed
    manifest = json.loads((out / trust.MANIFEST_FILE).read_text())
    manifest["policy_version"] = "lenient@9"
    forged = tmp_path / "forged"
    forged.mkdir()
    for name in (trust.MANIFEST_SIGNATURE_FILE, trust.MODEL_SIGNATURE_FILE, trust.PUBLIC_KEY_FILE):
        (forged / name).write_bytes((out / name).read_bytes())
    (forged / trust.MANIFEST_FILE).write_text(json.dumps(manifest))
    report = Steward.verify_artifact(artifact, manifest=forged / trust.MANIFEST_FILE)
    assert not report.ok
    assert report.checks[-1].name == "manifest signature"
    assert "altered" in report.checks[-1].detail
    # pinning another key (an attacker re-signed everything with theirs) fails too
    other = tmp_path / "other.pub"
    other.write_text(keys.public_pem(ec.generate_private_key(ec.SECP256R1()).public_key()))
    pinned = Steward.verify_artifact(artifact, manifest=out / trust.MANIFEST_FILE, public_key=other)
    assert not pinned.ok and _model_signing_verify(artifact, out, other) != 0
    missing = Steward.verify_artifact(artifact, manifest=tmp_path / "nowhere.json")
    assert not missing.ok and "steward signature export" in missing.checks[-1].detail


def test_a_folder_artifact_verifies_once_unpacked(local: Steward, tmp_path: Path) -> None:
    folder = tmp_path / "bert"
    (folder / "tokenizer").mkdir(parents=True)
    (folder / "config.json").write_text('{"layers": 2}')
    (folder / "tokenizer" / "vocab.txt").write_text("a\nb\n")
    local.create_model("nlp")
    local.log_version("nlp", artifact=folder, capture_git=False)
    _promote(local, "nlp", 1)
    out = tmp_path / "sig"
    local.export_signature("nlp", 1, out)
    unpacked = local.download("nlp", 1, tmp_path / "deployed")
    assert Steward.verify_artifact(unpacked, manifest=out / trust.MANIFEST_FILE).ok
    assert _model_signing_verify(unpacked, out) == 0
    (unpacked / "tokenizer" / "vocab.txt").write_text("a\nb\nc\n")
    report = Steward.verify_artifact(unpacked, manifest=out / trust.MANIFEST_FILE)
    assert not report.ok and "vocab.txt" in report.checks[-1].detail


def test_signing_rolls_back_with_the_transaction(
    local: Steward, ctx: Context, tmp_path: Path
) -> None:
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    local.create_model("credit")
    local.log_version("credit", artifact=artifact, capture_git=False)
    with ctx.uow.write() as uow:
        _mid, vid = version_row_id(uow, "credit", 1)
        manifest = signing.sign_in_uow(
            uow,
            ctx,
            "alice",
            model="credit",
            version=1,
            version_id=vid,
            approvals=[{"approver": "vera", "at": uow.now, "roles": frozenset({"validator"})}],
            policy_version="default@1",
        )
        assert manifest["approvals"][0]["roles"] == ["validator"]
        digests = [r.manifest_sha256 for r in uow.signing.for_version(vid)]
        assert digests and ctx.artifacts.exists(digests[0])
        # no commit: the promotion failed after signing
    assert local.signatures("credit", 1) == []
    assert not ctx.artifacts.exists(digests[0])  # the blobs this transaction made are gone
    with pytest.raises(NotFound, match="has not been signed"):
        local.export_signature("credit", 1, tmp_path / "out")


def test_the_managed_key_is_private_and_reused(settings: Settings, tmp_path: Path) -> None:
    path = settings.signing_key_path
    assert path == settings.home / "keys" / "signing-key.pem"
    first = keys.load_or_create(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert keys.load_or_create(path).key_id == first.key_id
    assert path.with_suffix(".pub").read_text() == first.public_pem


def test_a_provided_key_is_used_and_a_wrong_one_refused(settings: Settings, tmp_path: Path) -> None:
    own = tmp_path / "own.pem"
    private = ec.generate_private_key(ec.SECP384R1())
    own.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    env = {"STEWARD_HOME": str(tmp_path / "home"), "STEWARD_SIGNING_KEY": str(own)}
    assert Settings.from_env(env).signing_key_path == own
    ctx = bootstrap.build(settings.with_(signing_key=own), migrate=True)
    try:
        st = Steward(LocalBackend(ctx, "alice"))
        st.load_policy(text=LIGHT_PACK, activate=True)
        assert st.signing_key().key_id == keys.key_id(keys.public_pem(private.public_key()))
        artifact = tmp_path / "m.bin"
        artifact.write_bytes(b"weights")
        st.create_model("credit")
        st.log_version("credit", artifact=artifact, capture_git=False)
        _promote(st, "credit", 1)
        st.export_signature("credit", 1, tmp_path / "sig")
        assert st.verify_artifact(artifact, manifest=tmp_path / "sig" / trust.MANIFEST_FILE).ok
        assert _model_signing_verify(artifact, tmp_path / "sig") == 0
    finally:
        ctx.uow.engine.dispose()
    rsa_key = tmp_path / "rsa.pem"
    rsa_key.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(keys.SigningKeyError, match="P-256"):
        keys.load(rsa_key)
    with pytest.raises(keys.SigningKeyError, match="STEWARD_SIGNING_KEY"):
        keys.load(tmp_path / "missing.pem")


def test_unsigned_or_unknown_versions(local: Steward, alice: Principal, tmp_path: Path) -> None:
    artifact = tmp_path / "m.bin"
    artifact.write_bytes(b"weights")
    local.create_model("credit")
    local.log_version("credit", artifact=artifact, capture_git=False)
    assert local.signatures("credit", 1) == []
    with pytest.raises(NotFound, match="steward gate check"):
        local.export_signature("credit", 1, tmp_path / "out")
    with pytest.raises(NotFound, match="no version 7"):
        local.signatures("credit", 7)
