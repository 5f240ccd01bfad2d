"""Sign a version: an OpenSSF model_signing bundle for the artifact, and a signed manifest.

The model_signing bundle is exactly what ``model_signing sign key ARTIFACT
--private_key KEY`` would write (a DSSE envelope over an in-toto statement,
files serialization, sha256), so ``model_signing verify key`` checks it. It is
built from digests Steward already holds — the artifact's sha256 was verified
when it was stored — so a multi-gigabyte file is not read again inside the
promotion transaction. A folder artifact (stored as a deterministic tar) is
signed per file, streamed once from the store, so the *unpacked* folder verifies.
"""

from __future__ import annotations

import hashlib
import pathlib
import tarfile
from collections.abc import Iterable
from typing import IO

from model_signing import manifest as ms_manifest
from model_signing._hashing.hashing import Digest
from model_signing._signing import sign_ec_key
from model_signing._signing import sign_sigstore_pb as sigstore_pb
from model_signing._signing import signing as ms_signing

from steward.domain.audit import canonical_json
from steward.trust.keys import SigningKey

# What model_signing's CLI records by default (it never hashes git metadata).
_GIT_PATHS = (".git", ".github", ".gitignore", ".gitattributes")
_CHUNK = 1024 * 1024


def _bundle(key: SigningKey, name: str, items: Iterable[tuple[str, str]]) -> bytes:
    serialization = ms_manifest._FileSerialization(
        "sha256", allow_symlinks=False, ignore_paths=[pathlib.Path(p) for p in _GIT_PATHS]
    )
    manifest = ms_manifest.Manifest(
        name,
        [
            ms_manifest.FileManifestItem(
                path=pathlib.PurePosixPath(rel), digest=Digest("sha256", bytes.fromhex(sha))
            )
            for rel, sha in items
        ],
        serialization,
    )
    signer = sign_ec_key.Signer(key.path)
    signature = signer.sign(ms_signing.Payload(manifest))
    assert isinstance(signature, sigstore_pb.Signature)
    bundle_json: str = signature.bundle.to_json()
    return bundle_json.encode()


def file_signature(key: SigningKey, *, filename: str, sha256: str) -> bytes:
    """model_signing bundle for a single-file artifact whose sha256 is known."""
    return _bundle(key, filename, [(".", sha256)])


def folder_signature(key: SigningKey, *, name: str, tar: IO[bytes]) -> bytes:
    """model_signing bundle for a folder artifact, from its stored tar (streamed)."""
    items: list[tuple[str, str]] = []
    with tarfile.open(fileobj=tar, mode="r|") as archive:
        for member in archive:
            if not member.isreg():
                continue
            rel = member.name
            if any(rel == p or rel.startswith(p + "/") for p in _GIT_PATHS):
                continue
            digest = hashlib.sha256()
            fh = archive.extractfile(member)
            assert fh is not None
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
            items.append((rel, digest.hexdigest()))
    return _bundle(key, name, items)


def manifest_bytes(manifest: dict[str, object]) -> bytes:
    """The signed form of a Steward manifest: canonical JSON (sorted keys, no spaces)."""
    return canonical_json(manifest).encode()


def sign_manifest(key: SigningKey, manifest: dict[str, object]) -> tuple[bytes, bytes]:
    data = manifest_bytes(manifest)
    return data, key.sign(data)
