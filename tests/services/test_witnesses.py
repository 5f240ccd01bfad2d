"""Witnesses: registered keys, offline cosigning after a consistency check, stored cosignatures.

Attacks: a cosignature by an unregistered key, a witness asked to cosign a tree that
does not extend the one it saw (a split view signed with the real log key), a cosigned
note whose text is not the stored checkpoint's, a forged witness line.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from steward import bootstrap
from steward.domain import checkpoint as cp
from steward.domain.audit import Action, AuditFilter
from steward.domain.errors import AlreadyExists, Forbidden, InvalidInput, NotFound
from steward.domain.permissions import Principal
from steward.services import audit, models, transparency, witnesses
from steward.services.context import Context
from steward.settings import Settings
from steward.trust import log_key, witness
from steward.trust.witness import CosignRefused, WitnessKey

AUDITOR = Principal("ada", roles=frozenset({"auditor"}))
OWNER = Principal("olive", roles=frozenset({"owner"}))


@pytest.fixture
def tctx(settings: Settings, tmp_path: Path) -> Iterator[Context]:
    ctx = bootstrap.build(
        replace(settings, checkpoint_publish=(str(tmp_path / "published"),)), migrate=True
    )
    yield ctx
    ctx.uow.engine.dispose()


def _events(ctx: Context, who: Principal, n: int, name: str) -> None:
    for i in range(n):
        models.create_model(ctx, who, f"{name}{i}", purpose="p")


def _vkey(ctx: Context) -> str:
    return transparency.verifier_key(ctx, AUDITOR)


@pytest.fixture
def auditor_key(tmp_path: Path) -> WitnessKey:
    return witness.generate("auditor.example", tmp_path / "w" / "witness.pem")


def test_register_list_remove_witness_is_admin_only_and_journalled(
    tctx: Context, alice: Principal, auditor_key: WitnessKey
) -> None:
    with pytest.raises(Forbidden):
        witnesses.add_witness(tctx, AUDITOR, "auditor.example", auditor_key.verifier_key)
    added = witnesses.add_witness(tctx, alice, "auditor.example", auditor_key.verifier_key)
    assert added.verifier_key == auditor_key.verifier_key
    assert [w.name for w in witnesses.list_witnesses(tctx, AUDITOR)] == ["auditor.example"]
    with pytest.raises(AlreadyExists):
        witnesses.add_witness(tctx, alice, "auditor.example", auditor_key.verifier_key)
    with pytest.raises(InvalidInput, match=r"register it as 'auditor\.example'"):
        witnesses.add_witness(tctx, alice, "someone", auditor_key.verifier_key)
    with pytest.raises(InvalidInput, match="NAME\\+KEYID"):
        witnesses.add_witness(tctx, alice, "x", "not a key")
    with pytest.raises(Forbidden):
        witnesses.remove_witness(tctx, OWNER, "auditor.example")
    witnesses.remove_witness(tctx, alice, "auditor.example")
    assert witnesses.list_witnesses(tctx, AUDITOR) == []
    with pytest.raises(NotFound):
        witnesses.remove_witness(tctx, alice, "auditor.example")
    actions = [e.action for e in audit.list_events(tctx, alice, AuditFilter(), 100)]
    assert actions == [Action.AUDIT_WITNESS_ADDED.value, Action.AUDIT_WITNESS_REMOVED.value]
    assert audit.verify(tctx, AUDITOR).ok


def test_witness_cosigns_after_checking_consistency_and_steward_stores_it(
    tctx: Context, alice: Principal, auditor_key: WitnessKey
) -> None:
    witnesses.add_witness(tctx, alice, "auditor.example", auditor_key.verifier_key)
    _events(tctx, alice, 4, "a")
    first = transparency.create_checkpoint(tctx, AUDITOR)
    # first sight: nothing to be consistent with yet (trust on first use)
    cosigned = witness.cosign(auditor_key, first.note, _vkey(tctx))
    assert cosigned.startswith(first.note) and cosigned.count("\n\u2014 ") == 2
    stored = witnesses.add_cosignature(tctx, AUDITOR, cosigned)
    assert stored.id == first.id and stored.cosigners == ("auditor.example",)
    _events(tctx, alice, 5, "b")
    second = transparency.create_checkpoint(tctx, AUDITOR)
    proof = transparency.consistency_proof(tctx, AUDITOR, first.id, second.id)
    cosigned = witness.cosign(
        auditor_key,
        second.note,
        _vkey(tctx),
        previous_text=first.note,
        proof=[bytes.fromhex(p) for p in proof.proof],
    )
    assert witness.cosignature_valid(cosigned, auditor_key.verifier_key) is True
    stored = witnesses.add_cosignature(tctx, AUDITOR, cosigned, second.id)
    assert stored.cosigners == ("auditor.example",)
    # submitting again stores nothing new and journals nothing new
    witnesses.add_cosignature(tctx, AUDITOR, cosigned, second.id)
    listed = transparency.list_checkpoints(tctx, AUDITOR)
    assert [(c.id, c.cosigners) for c in listed] == [
        (second.id, ("auditor.example",)),
        (first.id, ("auditor.example",)),
    ]
    assert witnesses.cosigned_note(tctx, AUDITOR, second.id) == cosigned
    events = audit.list_events(tctx, alice, AuditFilter(action="audit.cosigned"), 100)
    assert [(e.subject_id, e.payload_dict()["witness"]) for e in events] == [
        (str(first.id), "auditor.example"),
        (str(second.id), "auditor.example"),
    ]
    with pytest.raises(Forbidden):
        witnesses.add_cosignature(tctx, OWNER, cosigned, second.id)
    assert audit.verify(tctx, AUDITOR).ok


def test_cosignature_by_an_unregistered_key_is_refused(
    tctx: Context, alice: Principal, auditor_key: WitnessKey, tmp_path: Path
) -> None:
    witnesses.add_witness(tctx, alice, "auditor.example", auditor_key.verifier_key)
    _events(tctx, alice, 2, "a")
    made = transparency.create_checkpoint(tctx, AUDITOR)
    stranger = witness.generate("stranger", tmp_path / "stranger.pem")
    with pytest.raises(InvalidInput, match="No signature in the note is by a registered"):
        witnesses.add_cosignature(tctx, AUDITOR, witness.cosign(stranger, made.note, _vkey(tctx)))
    # a stranger's key under the registered witness's name: its line does not verify
    impostor = witness.generate("auditor.example", tmp_path / "impostor.pem")
    line = cp.parse(witness.cosign(impostor, made.note, _vkey(tctx)))[1][-1]
    forged = made.note + cp.NoteSignature(line.name, auditor_key.key_id, line.signature).line()
    with pytest.raises(InvalidInput, match="does not verify with its registered key"):
        witnesses.add_cosignature(tctx, AUDITOR, forged)
    assert transparency.get_checkpoint(tctx, AUDITOR, made.id).cosigners == ()


def test_cosigned_note_whose_body_differs_from_the_stored_checkpoint_is_refused(
    tctx: Context, alice: Principal, auditor_key: WitnessKey
) -> None:
    witnesses.add_witness(tctx, alice, "auditor.example", auditor_key.verifier_key)
    _events(tctx, alice, 3, "a")
    made = transparency.create_checkpoint(tctx, AUDITOR)
    # the same size, another root, signed with the real log key: a split view the
    # operator showed the witness; Steward's stored checkpoint is not what was cosigned
    key = log_key.load_or_create(tctx.settings.log_key_path, tctx.settings.checkpoint_origin)
    other = key.sign(cp.Checkpoint(key.name, made.tree_size, b"\x07" * 32))
    cosigned = witness.cosign(auditor_key, other, _vkey(tctx))
    with pytest.raises(InvalidInput, match="not that of any stored checkpoint"):
        witnesses.add_cosignature(tctx, AUDITOR, cosigned)
    with pytest.raises(InvalidInput, match=f"not that of checkpoint {made.id}"):
        witnesses.add_cosignature(tctx, AUDITOR, cosigned, made.id)
    with pytest.raises(NotFound):
        witnesses.add_cosignature(tctx, AUDITOR, cosigned, 999)
    with pytest.raises(InvalidInput, match="Not a cosigned checkpoint"):
        witnesses.add_cosignature(tctx, AUDITOR, "hello\n")
    assert transparency.get_checkpoint(tctx, AUDITOR, made.id).cosigners == ()


def test_witness_refuses_a_tree_that_does_not_extend_the_one_it_saw(
    tctx: Context, alice: Principal, auditor_key: WitnessKey
) -> None:
    _events(tctx, alice, 4, "a")
    first = transparency.create_checkpoint(tctx, AUDITOR)
    _events(tctx, alice, 4, "b")
    second = transparency.create_checkpoint(tctx, AUDITOR)
    proof = [
        bytes.fromhex(p)
        for p in transparency.consistency_proof(tctx, AUDITOR, first.id, second.id).proof
    ]
    vkey = _vkey(tctx)
    key = log_key.load_or_create(tctx.settings.log_key_path, tctx.settings.checkpoint_origin)
    # a forked tree of the same size, properly signed by the log key: the proof fails
    fork = key.sign(cp.Checkpoint(key.name, second.tree_size, b"\x01" * 32))
    with pytest.raises(CosignRefused, match="split view"):
        witness.cosign(auditor_key, fork, vkey, previous_text=first.note, proof=proof)
    # a tampered proof for the real checkpoint
    bad = [bytes(32), *proof[1:]]
    with pytest.raises(CosignRefused, match="does not show that the new tree"):
        witness.cosign(auditor_key, second.note, vkey, previous_text=first.note, proof=bad)
    # a rollback: the "new" checkpoint is smaller than the one seen
    with pytest.raises(CosignRefused, match="truncated or rolled back"):
        witness.cosign(auditor_key, first.note, vkey, previous_text=second.note, proof=proof)
    # a checkpoint not signed by the log key
    forger = witness.generate(key.name, Path(tctx.settings.log_key_path).parent / "forger.pem")
    forged = second.note.split("\n\n")[0] + "\n\n" + forger.signature_line(second.note)
    with pytest.raises(CosignRefused, match="not signed by the log key"):
        witness.cosign(auditor_key, forged, vkey)
    # and the honest case goes through
    cosigned = witness.cosign(auditor_key, second.note, vkey, previous_text=first.note, proof=proof)
    assert witness.cosignature_valid(cosigned, auditor_key.verifier_key) is True
    # cosigning twice adds no second line
    assert witness.cosign(auditor_key, cosigned, vkey) == cosigned


def test_witness_key_files_are_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    made = witness.generate("w1", path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert witness.load("w1", path).verifier_key == made.verifier_key
    with pytest.raises(InvalidInput, match="never overwritten"):
        witness.generate("w1", path)
    with pytest.raises(InvalidInput, match="without spaces"):
        witness.generate("a b", tmp_path / "other.pem")


def test_cosignature_is_a_c2sp_tlog_cosignature_v1(auditor_key: WitnessKey) -> None:
    note = "example.org/log\n5\n" + base64.b64encode(bytes(range(32))).decode() + "\n\n"
    note += "\u2014 example.org/log " + base64.b64encode(b"\x00" * 68).decode() + "\n"
    line = auditor_key.signature_line(note, timestamp=1_700_000_000)
    name, encoded = line[len("\u2014 ") :].split(" ")
    raw = base64.b64decode(encoded)
    public = auditor_key.public_bytes
    assert name == "auditor.example"
    assert raw[:4] == hashlib.sha256(b"auditor.example\n\x04" + public).digest()[:4]
    assert int.from_bytes(raw[4:12], "big") == 1_700_000_000
    body = note.split("\n\n")[0].encode() + b"\n"
    ed25519.Ed25519PublicKey.from_public_bytes(public).verify(
        raw[12:], b"cosignature/v1\ntime 1700000000\n" + body
    )
    assert auditor_key.verifier_key.endswith("+" + base64.b64encode(b"\x04" + public).decode())
    assert witness.cosignature_valid(note + line, auditor_key.verifier_key) is True
    # the time is signed: changing it breaks the cosignature
    moved = base64.b64encode(raw[:4] + (1).to_bytes(8, "big") + raw[12:]).decode()
    assert (
        witness.cosignature_valid(note + f"\u2014 {name} {moved}\n", auditor_key.verifier_key)
        is False
    )


def test_a_witness_with_a_plain_ed25519_key_is_accepted_too(
    tctx: Context, alice: Principal
) -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    vkey = cp.verifier_key("office2", public)  # type 0x01
    witnesses.add_witness(tctx, alice, "office2", vkey)
    _events(tctx, alice, 2, "a")
    made = transparency.create_checkpoint(tctx, AUDITOR)
    sig = private.sign(cp.signed_text(made.note))
    line = cp.NoteSignature("office2", cp.key_id("office2", public), sig).line()
    assert witnesses.add_cosignature(tctx, AUDITOR, made.note + line).cosigners == ("office2",)
