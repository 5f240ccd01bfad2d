"""/api/v1/signing/key and /api/v1/models/{name}/versions/{version}/signature(s)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from steward.api.deps import Caller, caller, respond
from steward.domain.trust import SignatureBundle, SignatureRecord, SigningKeyInfo
from steward.services import signing

router = APIRouter(prefix="/api/v1", tags=["signing"])


@router.get("/signing/key", response_model=SigningKeyInfo)
async def signing_key(call: Caller = Depends(caller)) -> Response:
    """The public key Steward signs approved versions with (pin it in deploy pipelines)."""
    return respond(await call.run(signing.key_info))


@router.get("/models/{name}/versions/{version}/signatures", response_model=list[SignatureRecord])
async def list_signatures(name: str, version: int, call: Caller = Depends(caller)) -> Response:
    found = await call.run(signing.signatures, name, version)
    return respond(found, tp=list[SignatureRecord])


@router.get("/models/{name}/versions/{version}/signature", response_model=SignatureBundle)
async def signature_bundle(name: str, version: int, call: Caller = Depends(caller)) -> Response:
    """The newest signature with its files: manifest, manifest signature (base64 DER),
    model_signing bundle and public key — what `steward verify` checks offline."""
    return respond(await call.run(signing.bundle, name, version))
