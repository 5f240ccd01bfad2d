"""Signed manifests and deploy records: what was approved, and what actually runs.

When a version is approved for production Steward signs it twice with one key it
manages: the artifact with the OpenSSF ``model_signing`` format (so the standard
``model_signing verify key`` tool checks it) and a *Steward manifest* binding the
model, version, artifact sha256, data fingerprints, approvals and policy version.
A deploy step later reports the sha256 it loaded; :func:`assess_deployment` says
whether that is an artifact the lifecycle allows in that environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from steward.domain.checkpoint import leaf_index
from steward.domain.errors import InvalidInput
from steward.domain.lifecycle import Stage

MANIFEST_FORMAT = "steward.manifest/v1"
KEY_ALGORITHM = "ecdsa-p256-sha256"
# The file names `steward signature export` writes and `steward verify` looks for.
MANIFEST_FILE = "steward-manifest.json"
MANIFEST_SIGNATURE_FILE = "steward-manifest.json.sig"
MODEL_SIGNATURE_FILE = "model.sig"
PUBLIC_KEY_FILE = "steward-signing-key.pub"

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ENVIRONMENT = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
PRODUCTION_ENVIRONMENTS = ("prod", "production")
# Outside production any version still in play may run (a staging deploy of a
# candidate); rejected and retired versions may run nowhere.
_RUNNABLE_OUTSIDE_PRODUCTION = frozenset(
    {
        Stage.DEVELOPMENT,
        Stage.VALIDATION,
        Stage.APPROVED,
        Stage.PRODUCTION,
        Stage.UNDER_REVIEW,
        Stage.DEPRECATED,
    }
)


@dataclass(frozen=True)
class SigningKeyInfo:
    key_id: str  # sha256 of the PEM public key (what model_signing calls the key hint)
    algorithm: str
    public_key: str  # PEM


@dataclass(frozen=True)
class SignatureRecord:
    id: int
    model: str
    version: int
    key_id: str
    artifact_sha256: str
    manifest: dict[str, Any]
    manifest_sha256: str
    manifest_signature_sha256: str
    model_signature_sha256: str
    signed_by: str
    signed_at: datetime
    audit_seq: int  # the version.signed event
    leaf_index: int  # its leaf in the journal's Merkle tree (steward audit prove SEQ)


@dataclass(frozen=True)
class SignatureBundle:
    """Everything a deploy pipeline needs to check a version offline."""

    record: SignatureRecord
    manifest: str  # the exact signed bytes, UTF-8 JSON
    manifest_signature: str  # base64 of the DER ECDSA signature over ``manifest``
    model_signature: str  # the model_signing bundle (JSON)
    public_key: str  # PEM

    def files(self) -> dict[str, bytes]:
        import base64

        return {
            MANIFEST_FILE: self.manifest.encode(),
            MANIFEST_SIGNATURE_FILE: base64.b64decode(self.manifest_signature),
            MODEL_SIGNATURE_FILE: self.model_signature.encode(),
            PUBLIC_KEY_FILE: self.public_key.encode(),
        }


@dataclass(frozen=True)
class VerifyCheck:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class VerifyReport:
    artifact: str
    ok: bool
    checks: list[VerifyCheck]
    manifest: dict[str, Any] | None


class DeployStatus(StrEnum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"


@dataclass(frozen=True)
class Deployment:
    id: int
    model: str
    version: int | None  # the version whose artifact was loaded, if it is one
    environment: str
    artifact_sha256: str
    status: DeployStatus
    reason: str
    signed: bool
    details: dict[str, str]
    finding_id: int | None
    reported_by: str
    reported_at: datetime
    audit_seq: int  # the deploy.recorded / deploy.mismatch event
    leaf_index: int  # its leaf in the journal's Merkle tree (steward audit prove SEQ)


@dataclass(frozen=True)
class Assessment:
    status: DeployStatus
    version: int | None
    reason: str


def sha256_hex(value: str, field: str = "sha256") -> str:
    text = (value or "").strip().lower()
    if text.startswith("sha256:"):
        text = text[len("sha256:") :]
    if not _SHA256.match(text):
        raise InvalidInput(
            f"{field} {value!r} is not a sha256 digest; give the 64 hexadecimal characters "
            "(e.g. from `sha256sum FILE`), or pass the file itself.",
            field=field,
        )
    return text


def environment_name(value: str) -> str:
    text = (value or "").strip()
    if not _ENVIRONMENT.match(text):
        raise InvalidInput(
            f"Environment {value!r} is not valid: use 1-63 lower-case letters, digits, '.', "
            "'_' or '-', starting with a letter or digit (e.g. prod, staging, eu-prod).",
            field="environment",
        )
    return text


def is_production(environment: str) -> bool:
    """``prod``, ``production`` and names starting ``prod-``/``production-`` (prod-eu)."""
    return environment in PRODUCTION_ENVIRONMENTS or environment.startswith(
        tuple(f"{name}-" for name in PRODUCTION_ENVIRONMENTS)
    )


def deploy_details(values: dict[str, Any] | None) -> dict[str, str]:
    details = dict(values or {})
    if len(details) > 32:
        raise InvalidInput("At most 32 details per deploy record.", field="details")
    out: dict[str, str] = {}
    for key, value in details.items():
        if not isinstance(key, str) or not key or len(key) > 64:
            raise InvalidInput(
                f"Detail key {key!r} must be 1-64 characters (e.g. host, service, image).",
                field="details",
            )
        text = str(value)
        if len(text) > 500:
            raise InvalidInput(f"Detail {key!r} is longer than 500 characters.", field="details")
        out[key] = text
    return out


def assess_deployment(
    model: str,
    environment: str,
    sha256: str,
    versions: list[tuple[int, Stage, str]],
    claimed_version: int | None = None,
) -> Assessment:
    """Is ``sha256`` an artifact this environment may run? ``versions``: (no, stage, sha).

    Production environments may run only a version in the production stage (one the
    gates let through, signed on the way); other environments any version not
    rejected or retired. A claimed version must be the one whose artifact it is.
    """
    matching = [(no, stage) for no, stage, digest in versions if digest == sha256]
    production = sorted(no for no, stage, _d in versions if stage is Stage.PRODUCTION)
    in_prod = ", ".join(str(n) for n in production) or "none"
    if not matching:
        return Assessment(
            DeployStatus.MISMATCH,
            None,
            f"artifact {sha256[:12]}… is not a registered version of {model} "
            f"(in production: {in_prod})",
        )
    if claimed_version is not None and all(no != claimed_version for no, _s in matching):
        owners = ", ".join(str(no) for no, _s in matching)
        return Assessment(
            DeployStatus.MISMATCH,
            matching[0][0],
            f"reported as version {claimed_version} but artifact {sha256[:12]}… is version "
            f"{owners}'s",
        )
    if claimed_version is not None:
        matching = [(no, stage) for no, stage in matching if no == claimed_version]
    if is_production(environment):
        for no, stage in matching:
            if stage is Stage.PRODUCTION:
                return Assessment(
                    DeployStatus.VERIFIED, no, f"version {no} is approved for production"
                )
        no, stage = matching[-1]
        return Assessment(
            DeployStatus.MISMATCH,
            no,
            f"artifact is version {no}, which is in stage {stage.value}, not production "
            f"(in production: {in_prod})",
        )
    for no, stage in matching:
        if stage in _RUNNABLE_OUTSIDE_PRODUCTION:
            return Assessment(DeployStatus.VERIFIED, no, f"version {no} ({stage.value})")
    no, stage = matching[-1]
    return Assessment(
        DeployStatus.MISMATCH,
        no,
        f"artifact is version {no}, which was {stage.value}; it may not run anywhere",
    )


def journal_ref(action: str, seq: int) -> dict[str, Any]:
    """How a signed record cites a journal event: action, seq and Merkle leaf index."""
    return {"action": action, "seq": seq, "leaf_index": leaf_index(seq)}


def build_manifest(
    *,
    model: str,
    version: int,
    artifact: dict[str, Any],
    data: dict[str, Any],
    approvals: list[dict[str, Any]],
    policy_version: str | None,
    signed_at: str,
    signed_by: str,
    key_id: str,
    model_signature_sha256: str,
    journal: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "model": model,
        "version": version,
        "artifact": artifact,
        "data": data,
        "approvals": approvals,
        "policy_version": policy_version,
        "signed_at": signed_at,
        "signed_by": signed_by,
        "key": {"id": key_id, "algorithm": KEY_ALGORITHM},
        "model_signature": {"file": MODEL_SIGNATURE_FILE, "sha256": model_signature_sha256},
        # The journal event that moved the version to production, by seq and Merkle leaf
        # index: `steward audit prove SEQ` proves it is in the signed log.
        "journal": journal,
    }
