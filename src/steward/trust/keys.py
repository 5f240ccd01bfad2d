"""The key Steward signs with: an EC P-256 key pair it manages, or one you provide.

By default the private key is ``$STEWARD_HOME/keys/signing-key.pem`` (mode 0600,
created on first use, its public half beside it as ``signing-key.pub``); set
``STEWARD_SIGNING_KEY`` to a PEM EC private key (P-256, P-384 or P-521, not
encrypted) to use your own, e.g. one your secrets manager mounts.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from steward.domain.errors import StewardError
from steward.domain.trust import KEY_ALGORITHM, SigningKeyInfo

_CURVES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
    "secp521r1": hashes.SHA512,
}
_LOCK = threading.Lock()
_CACHE: dict[Path, tuple[float, SigningKey]] = {}


class SigningKeyError(StewardError):
    """The signing key is missing, unreadable or of an unsupported kind."""


def key_id(public_pem: str) -> str:
    """sha256 of the PEM public key: the same "key hint" model_signing records."""
    return hashlib.sha256(public_pem.encode()).hexdigest()


@dataclass(frozen=True)
class SigningKey:
    path: Path
    private_key: ec.EllipticCurvePrivateKey
    public_pem: str

    @property
    def key_id(self) -> str:
        return key_id(self.public_pem)

    @property
    def algorithm(self) -> str:
        curve = self.private_key.curve.name
        return KEY_ALGORITHM if curve == "secp256r1" else f"ecdsa-{curve}"

    def info(self) -> SigningKeyInfo:
        return SigningKeyInfo(self.key_id, self.algorithm, self.public_pem)

    def sign(self, data: bytes) -> bytes:
        """DER ECDSA signature (what ``openssl dgst -sha256 -verify`` checks)."""
        digest = _CURVES[self.private_key.curve.name]()
        return self.private_key.sign(data, ec.ECDSA(digest))


def public_pem(public_key: ec.EllipticCurvePublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load(path: Path) -> SigningKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(
            f"Cannot read the signing key {path}: {exc.strerror}. Check STEWARD_SIGNING_KEY "
            "or unset it to let Steward manage a key under $STEWARD_HOME/keys/."
        ) from exc
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(
            f"The signing key {path} is not an unencrypted PEM private key ({exc}). Create one "
            "with `openssl ecparam -name prime256v1 -genkey -noout -out key.pem`."
        ) from exc
    if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name not in _CURVES:
        raise SigningKeyError(
            f"The signing key {path} must be an elliptic-curve key on P-256, P-384 or P-521 "
            "(what model_signing supports)."
        )
    return SigningKey(path, private, public_pem(private.public_key()))


def write_once(path: Path, data: bytes) -> bool:
    """Create ``path`` with ``data`` and mode 0600, atomically; False if it already existed.

    Concurrent creators race on a hard link: one file wins whole, never half of two.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        try:
            os.link(tmp, path)  # atomic, and fails if another process created it first
        except FileExistsError:
            return False
    finally:
        tmp.unlink(missing_ok=True)
    return True


def _create(path: Path) -> None:
    """Write a new P-256 key with mode 0600; a concurrent creator's key wins, never half."""
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    if not write_once(path, pem):
        return
    pub = path.with_suffix(".pub")
    pub.write_text(public_pem(private.public_key()))


def load_or_create(path: Path) -> SigningKey:
    """The key at ``path``, creating a P-256 key there first if there is none."""
    with _LOCK:
        if not path.exists():
            _create(path)
        mtime = path.stat().st_mtime
        cached = _CACHE.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        key = load(path)
        _CACHE[path] = (mtime, key)
        return key
