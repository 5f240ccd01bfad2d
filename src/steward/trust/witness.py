"""Witness keys and cosigning a checkpoint, run by the witness itself (no database).

A witness is someone outside the operator (the auditor, a second office) who keeps the
last checkpoint it saw. Before it cosigns a newer one it checks, offline:

1. the log key's signature on the new checkpoint (and on the one it saw before);
2. a consistency proof that the new tree extends the old one (RFC 9162 §2.1.4).

Only then does it add its own signature line: a C2SP tlog-cosignature/v1 (signed-note
type 0x04), an Ed25519 signature by the witness's key over ``cosignature/v1``, the
time it cosigned, and the checkpoint text — the format transparency-dev witnesses use.
A log that showed this witness one history can never get a cosignature for a second,
incompatible one. Steward also accepts plain Ed25519 (type 0x01) note signatures from a
witness registered with a type 0x01 key.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from steward.domain import checkpoint as cp
from steward.domain import merkle
from steward.domain.errors import InvalidInput
from steward.trust import log_key


class CosignRefused(InvalidInput):
    """The witness will not cosign: the checkpoint is forged or does not extend the old one."""

    code = "cosign-refused"
    title = "Witness refused to cosign"


@dataclass(frozen=True)
class WitnessKey:
    name: str
    private_key: ed25519.Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def key_id(self) -> bytes:
        return cp.key_id(self.name, self.public_bytes, cp.COSIGNATURE_V1)

    @property
    def verifier_key(self) -> str:
        return cp.verifier_key(self.name, self.public_bytes, cp.COSIGNATURE_V1)

    def signature_line(self, note: str, timestamp: int | None = None) -> str:
        """The tlog-cosignature/v1 line: key id, 8-byte big-endian time, signature."""
        moment = int(time.time()) if timestamp is None else timestamp
        signature = self.private_key.sign(cp.cosigned_message(cp.signed_text(note), moment))
        return cp.NoteSignature(
            self.name, self.key_id, moment.to_bytes(8, "big") + signature
        ).line()


def generate(name: str, path: Path) -> WitnessKey:
    """A new witness key written to ``path`` (PEM, mode 0600, never overwritten)."""
    if not name or any(c.isspace() or c == "+" for c in name):
        raise InvalidInput(
            f"Witness name {name!r} must be non-empty, without spaces or '+'.", field="name"
        )
    if path.exists():
        raise InvalidInput(
            f"{path} already exists: a witness key is never overwritten; choose another file.",
            field="output",
        )
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as fh:  # "x": a file that appears meanwhile is not clobbered
        fh.write(pem)
    path.chmod(0o600)
    return WitnessKey(name, private)


def load(name: str, path: Path) -> WitnessKey:
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise InvalidInput(
            f"Cannot read the witness key {path} ({exc}): give the PEM file "
            "`steward audit witness keygen` wrote.",
            field="key",
        ) from exc
    if not isinstance(private, ed25519.Ed25519PrivateKey):
        raise InvalidInput(f"The witness key {path} is not an Ed25519 key.", field="key")
    return WitnessKey(name, private)


def _authentic(text: str, log_vkey: str, which: str) -> cp.Checkpoint:
    try:
        name, public = cp.parse_verifier_key(log_vkey)
        parsed, _ = cp.parse(text)
    except cp.CheckpointFormatError as exc:
        raise CosignRefused(f"The {which} checkpoint or the log key is malformed: {exc}.") from exc
    if parsed.origin != name or not log_key.signature_valid(text, name, public):
        raise CosignRefused(
            f"The {which} checkpoint is not signed by the log key {name}: refusing to cosign "
            "a forged tree head."
        )
    return parsed


def cosign(
    key: WitnessKey,
    new_text: str,
    log_vkey: str,
    *,
    previous_text: str | None = None,
    proof: Sequence[bytes] = (),
) -> str:
    """The new checkpoint with this witness's signature line added, after every check."""
    new = _authentic(new_text, log_vkey, "new")
    if previous_text is not None:
        old = _authentic(previous_text, log_vkey, "previous")
        if old.tree_size > new.tree_size:
            raise CosignRefused(
                f"The new checkpoint covers {new.tree_size} events, fewer than the "
                f"{old.tree_size} you saw before: the log was truncated or rolled back."
            )
        if not merkle.verify_consistency(
            old.tree_size, new.tree_size, old.root_hash, new.root_hash, list(proof)
        ):
            raise CosignRefused(
                f"The proof does not show that the new tree ({new.tree_size} events) extends "
                f"the one you saw ({old.tree_size} events): the log rewrote its history or "
                "shows you a different one (a split view). Do not cosign; tell the operator."
            )
    _, existing = cp.parse(new_text)
    if any(s.name == key.name and s.key_id == key.key_id for s in existing):
        return new_text  # already cosigned by this key: cosigning is idempotent
    return new_text + key.signature_line(new_text)


def cosignature_valid(text: str, vkey: str) -> bool | None:
    """Does the note carry a valid signature by this verifier key?

    The key may be a tlog-cosignature/v1 (0x04) witness key or a plain Ed25519 (0x01)
    one (the log's own key, or a witness's). None: no line names the key. False: a line
    names it and does not verify (the signed-note spec makes such a note invalid).
    """
    name, kind, public = cp.parse_any_verifier_key(vkey)
    _, signatures = cp.parse(text)
    wanted = cp.key_id(name, public, kind)
    verifier = ed25519.Ed25519PublicKey.from_public_bytes(public)
    for sig in signatures:
        if sig.name != name or sig.key_id != wanted:
            continue
        body = cp.signed_text(text)
        if kind == cp.COSIGNATURE_V1:
            if len(sig.signature) != 8 + 64:
                return False
            moment = int.from_bytes(sig.signature[:8], "big")
            message, raw = cp.cosigned_message(body, moment), sig.signature[8:]
        else:
            message, raw = body, sig.signature
        try:
            verifier.verify(raw, message)
        except InvalidSignature:
            return False
        return True
    return None
