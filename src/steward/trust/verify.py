"""Offline verification of an artifact (file or folder) against a signed Steward manifest.

Needs no server and no network: the manifest, its signature, the model_signing
bundle and the public key are files `steward signature export` wrote. Checks, in
order: the manifest's signature; that the manifest names this key; the
model_signing bundle's signature *and* that the artifact's bytes match it (the
same check ``model_signing verify key`` makes); that the manifest binds that
bundle; and, for a file, that its sha256 is the manifest's artifact sha256.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from steward.domain import trust
from steward.domain.trust import VerifyCheck, VerifyReport
from steward.trust.keys import key_id

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
    "secp521r1": hashes.SHA512,
}


def _sha256_file(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _read(path: pathlib.Path, what: str, checks: list[VerifyCheck]) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError as exc:
        checks.append(
            VerifyCheck(
                what,
                False,
                f"cannot read {path}: {exc.strerror}; export the files with "
                "`steward signature export MODEL VERSION -o DIR`",
            )
        )
        return None


def verify_artifact(
    artifact: pathlib.Path,
    *,
    manifest: pathlib.Path,
    manifest_signature: pathlib.Path | None = None,
    model_signature: pathlib.Path | None = None,
    public_key: pathlib.Path | None = None,
) -> VerifyReport:
    """Check ``artifact`` offline. Missing companions default to the manifest's siblings."""
    folder = manifest.parent
    manifest_signature = manifest_signature or folder / trust.MANIFEST_SIGNATURE_FILE
    model_signature = model_signature or folder / trust.MODEL_SIGNATURE_FILE
    public_key = public_key or folder / trust.PUBLIC_KEY_FILE
    checks: list[VerifyCheck] = []
    data: dict[str, Any] | None = None

    def done() -> VerifyReport:
        ok = bool(checks) and all(c.ok for c in checks)
        return VerifyReport(str(artifact), ok, checks, data)

    if not artifact.exists():
        checks.append(VerifyCheck("artifact", False, f"{artifact} does not exist"))
        return done()
    pem = _read(public_key, "public key", checks)
    raw_manifest = _read(manifest, "manifest", checks)
    signature = _read(manifest_signature, "manifest signature", checks)
    if pem is None or raw_manifest is None or signature is None:
        return done()
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        checks.append(VerifyCheck("public key", False, f"{public_key} is not a PEM key: {exc}"))
        return done()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _HASHES:
        checks.append(VerifyCheck("public key", False, "not an EC P-256/P-384/P-521 key"))
        return done()
    try:
        key.verify(signature, raw_manifest, ec.ECDSA(_HASHES[key.curve.name]()))
    except InvalidSignature:
        checks.append(
            VerifyCheck(
                "manifest signature",
                False,
                "the manifest was altered or was not signed by this key",
            )
        )
        return done()
    checks.append(VerifyCheck("manifest signature", True, f"signed by key {key_id(pem.decode())}"))
    try:
        loaded = json.loads(raw_manifest)
    except ValueError:
        loaded = None
    if not isinstance(loaded, dict) or loaded.get("format") != trust.MANIFEST_FORMAT:
        checks.append(VerifyCheck("manifest", False, f"not a {trust.MANIFEST_FORMAT} document"))
        return done()
    data = loaded
    named_key = (data.get("key") or {}).get("id")
    if named_key != key_id(pem.decode()):
        checks.append(
            VerifyCheck("signing key", False, f"the manifest names key {named_key}, not this one")
        )
    _check_model_signature(artifact, model_signature, public_key, data, checks)
    if artifact.is_file():
        expected = (data.get("artifact") or {}).get("sha256")
        actual = _sha256_file(artifact)
        if (data.get("artifact") or {}).get("is_directory"):
            checks.append(
                VerifyCheck(
                    "artifact sha256",
                    False,
                    "this version is a folder; verify the unpacked folder "
                    "(`steward version download` unpacks it)",
                )
            )
        else:
            checks.append(
                VerifyCheck(
                    "artifact sha256",
                    actual == expected,
                    f"{actual}" if actual == expected else f"is {actual}, approved {expected}",
                )
            )
    return done()


def _check_model_signature(
    artifact: pathlib.Path,
    model_signature: pathlib.Path,
    public_key: pathlib.Path,
    data: dict[str, Any],
    checks: list[VerifyCheck],
) -> None:
    import model_signing

    bundle = _read(model_signature, "model_signing signature", checks)
    if bundle is None:
        return
    bound = (data.get("model_signature") or {}).get("sha256")
    actual = hashlib.sha256(bundle).hexdigest()
    checks.append(
        VerifyCheck(
            "manifest binds model signature",
            bound == actual,
            actual if bound == actual else f"{model_signature} is not the bundle signed with it",
        )
    )
    try:
        config = model_signing.verifying.Config()  # type: ignore[no-untyped-call]
        config.use_elliptic_key_verifier(public_key=public_key)
        config.verify(artifact, model_signature)
    except Exception as exc:  # model_signing raises ValueError, KeyError, protobuf errors...
        checks.append(VerifyCheck("model_signing", False, str(exc)[:500]))
        return
    checks.append(VerifyCheck("model_signing", True, "artifact bytes match the signed bundle"))
