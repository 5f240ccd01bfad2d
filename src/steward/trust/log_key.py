"""The Ed25519 key that signs audit checkpoints, and checking checkpoint signatures.

Ed25519 rather than the P-256 signing key of model versions: it is the signature type
every C2SP signed-note tool and transparency-log witness understands (type 0x01),
and its key id is defined by the spec. The key is ``$STEWARD_HOME/keys/log-key.pem``
(mode 0600, created on first use) or the PEM file ``STEWARD_LOG_KEY`` names. Like the
signing key it lives outside the database: someone who can only write the database
cannot sign a checkpoint.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from steward.domain import checkpoint as cp
from steward.trust.keys import SigningKeyError, write_once

_LOCK = threading.Lock()


@dataclass(frozen=True)
class LogKey:
    name: str
    private_key: ed25519.Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def verifier_key(self) -> str:
        return cp.verifier_key(self.name, self.public_bytes)

    def sign(self, checkpoint: cp.Checkpoint) -> str:
        """The signed note for ``checkpoint`` (its origin is also the key name)."""
        signature = self.private_key.sign(checkpoint.body().encode())
        line = cp.NoteSignature(self.name, cp.key_id(self.name, self.public_bytes), signature)
        return cp.note(checkpoint, [line])


def load_or_create(path: Path, name: str) -> LogKey:
    with _LOCK:
        if not path.exists():
            pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            write_once(path, pem)  # a concurrent creator's key wins whole
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningKeyError(
            f"Cannot use the checkpoint key {path} ({exc}): STEWARD_LOG_KEY must name an "
            "unencrypted PEM Ed25519 key (`openssl genpkey -algorithm ed25519 -out log.pem`)."
        ) from exc
    if not isinstance(private, ed25519.Ed25519PrivateKey):
        raise SigningKeyError(
            f"The checkpoint key {path} is not an Ed25519 key; create one with "
            "`openssl genpkey -algorithm ed25519 -out log.pem`."
        )
    return LogKey(name, private)


def signature_valid(text: str, name: str, public_key: bytes) -> bool:
    """Does the note carry a valid signature by (name, public_key)?

    Per the signed-note spec a line naming this key whose signature fails makes the
    whole note invalid; lines of other keys are ignored.
    """
    try:
        _, signatures = cp.parse(text)
    except cp.CheckpointFormatError:
        return False
    wanted = cp.key_id(name, public_key)
    verifier = ed25519.Ed25519PublicKey.from_public_bytes(public_key)
    message = cp.signed_text(text)
    for sig in signatures:
        if sig.name == name and sig.key_id == wanted:
            try:
                verifier.verify(sig.signature, message)
            except InvalidSignature:
                return False
            return True
    return False
