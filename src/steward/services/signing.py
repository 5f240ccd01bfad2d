"""Signing approved versions, and reading back what was signed.

``sign_in_uow`` is called by the lifecycle inside the transaction that moves a
version to production: it signs the artifact (OpenSSF model_signing bundle) and
a Steward manifest with the key Steward manages, publishes the three files to the
content-addressed artifact store, records their hashes, and journals
``version.signed`` — all committed with the move, or not at all.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any

from steward import extras
from steward.domain import trust
from steward.domain.audit import Action, format_time
from steward.domain.errors import IntegrityError, NotFound
from steward.domain.permissions import Permission, Principal, ensure
from steward.domain.trust import SignatureBundle, SignatureRecord, SigningKeyInfo
from steward.services.context import Context, version_row_id
from steward.store.uow import UnitOfWork
from steward.trust import keys


def _json_safe(value: Any) -> Any:
    """Approvals as plain JSON (datetimes as canonical UTC text), as they will be signed."""
    from datetime import datetime

    def default(obj: Any) -> Any:
        if isinstance(obj, datetime):
            return format_time(obj)
        if hasattr(obj, "value"):
            return obj.value
        if isinstance(obj, set | frozenset):
            return sorted(obj)
        return str(obj)

    return json.loads(json.dumps(value, default=default))


class _HashingReader:
    """A file-like view that hashes what is read, to check a streamed blob at the end."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.fh.read(size)
        self.digest.update(data)
        return data

    def drain(self) -> str:
        while self.read(1024 * 1024):
            pass
        return self.digest.hexdigest()


def _publish(ctx: Context, uow: UnitOfWork, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    fd, name = tempfile.mkstemp(prefix="steward-signature-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        if ctx.artifacts.put(path, digest):
            # Ours alone: take it back if the promotion does not commit.
            uow.on_rollback.append(lambda: ctx.artifacts.delete(digest))
    finally:
        path.unlink(missing_ok=True)
    return digest


def signing_key(ctx: Context) -> keys.SigningKey:
    return keys.load_or_create(ctx.settings.signing_key_path)


def sign_in_uow(
    uow: UnitOfWork,
    ctx: Context,
    actor: str,
    *,
    model: str,
    version: int,
    version_id: int,
    approvals: list[dict[str, Any]],
    policy_version: str | None,
    transition_seq: int | None = None,
) -> dict[str, Any]:
    """Sign ``model``/``version`` inside the caller's transaction; returns the manifest.

    ``transition_seq`` is the journal event of the move to production, which the
    manifest cites with its Merkle leaf index.
    """
    # model_signing (sigstore, protobufs) takes ~0.2 s to import: only production moves pay
    # it. Without the `signing` extra the move is refused (rolled back) naming that extra.
    extras.require("signing", "model_signing")
    from steward.trust import sign

    found = uow.versions.hydrate([uow.versions.row_by_id(version_id)])[0]
    key = signing_key(ctx)
    uow.signing.ensure_key(key.info(), uow.now)
    art = found.artifact
    if art.is_directory:
        with ctx.artifacts.open(art.sha256) as fh:
            reader = _HashingReader(fh)
            name = Path(art.filename).name or model
            bundle = sign.folder_signature(key, name=name, tar=reader)  # type: ignore[arg-type]
            if reader.drain() != art.sha256:
                raise IntegrityError(
                    f"Artifact {art.sha256} in {ctx.artifacts.url} is corrupted; nothing was "
                    "signed. Restore it from a backup."
                )
    else:
        bundle = sign.file_signature(key, filename=art.filename, sha256=art.sha256)
    bundle_sha = hashlib.sha256(bundle).hexdigest()
    data = {
        role: None
        if ds is None
        else {"name": ds.name, "fingerprint": ds.fingerprint, "rows": ds.rows}
        for role, ds in (("training", found.training_data), ("evaluation", found.evaluation_data))
    }
    manifest = trust.build_manifest(
        model=model,
        version=version,
        artifact={
            "sha256": art.sha256,
            "size": art.size,
            "filename": art.filename,
            "flavor": art.flavor.value,
            "is_directory": art.is_directory,
        },
        data=data,
        approvals=_json_safe(approvals),
        policy_version=policy_version,
        signed_at=format_time(uow.now),
        signed_by=actor,
        key_id=key.key_id,
        model_signature_sha256=bundle_sha,
        journal=None
        if transition_seq is None
        else trust.journal_ref(Action.VERSION_TRANSITIONED.value, transition_seq),
    )
    manifest_data, manifest_sig = sign.sign_manifest(key, manifest)
    manifest_sha = _publish(ctx, uow, manifest_data)
    signature_sha = _publish(ctx, uow, manifest_sig)
    _publish(ctx, uow, bundle)
    event = uow.record(
        actor,
        Action.VERSION_SIGNED,
        "version",
        f"{model}/{version}",
        {
            "model": model,
            "version": version,
            "artifact_sha256": art.sha256,
            "key_id": key.key_id,
            "manifest_sha256": manifest_sha,
            "manifest_signature_sha256": signature_sha,
            "model_signature_sha256": bundle_sha,
            "policy_version": policy_version,
        },
    )
    uow.signing.insert(
        {
            "version_id": version_id,
            "key_id": key.key_id,
            "artifact_sha256": art.sha256,
            "manifest": manifest,
            "manifest_sha256": manifest_sha,
            "manifest_signature_sha256": signature_sha,
            "model_signature_sha256": bundle_sha,
            "signed_by": actor,
            "signed_at": uow.now,
            "audit_seq": event.seq,
        }
    )
    return manifest


# -- reading -------------------------------------------------------------------------


def key_info(ctx: Context, principal: Principal) -> SigningKeyInfo:
    """The public half of the key Steward signs with (created on first use)."""
    ensure(principal, Permission.VERSION_READ)
    return signing_key(ctx).info()


def signatures(
    ctx: Context, principal: Principal, model: str, version: int
) -> list[SignatureRecord]:
    """Every signing of a version, newest first."""
    ensure(principal, Permission.GOVERNANCE_READ)  # the manifest names the approvals
    with ctx.uow.read() as uow:
        _mid, vid = version_row_id(uow, model, version)
        return uow.signing.for_version(vid)


def _blob(ctx: Context, sha256: str) -> bytes:
    return b"".join(ctx.artifacts.iter_verified(sha256))


def bundle(ctx: Context, principal: Principal, model: str, version: int) -> SignatureBundle:
    """The newest signature of a version with its files, for offline verification."""
    ensure(principal, Permission.GOVERNANCE_READ)  # the manifest names the approvals
    with ctx.uow.read() as uow:
        _mid, vid = version_row_id(uow, model, version)
        found = uow.signing.for_version(vid)
        if not found:
            raise NotFound(
                f"{model} version {version} has not been signed. Steward signs a version when "
                "it is promoted to production (`steward gate check` shows what it still needs).",
                model=model,
                version=version,
            )
        record = found[0]
        public_key = uow.signing.public_key(record.key_id)
    assert public_key is not None
    return SignatureBundle(
        record=record,
        manifest=_blob(ctx, record.manifest_sha256).decode(),
        manifest_signature=base64.b64encode(_blob(ctx, record.manifest_signature_sha256)).decode(),
        model_signature=_blob(ctx, record.model_signature_sha256).decode(),
        public_key=public_key,
    )
