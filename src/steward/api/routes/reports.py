"""Model cards, their narrative fields, and signed evidence packs.

/api/v1/models/{name}/versions/{version}/model-card, .../bom, .../narratives(/history),
/api/v1/models/{name}/evidence-pack and /api/v1/evidence/verify.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from steward.api.deps import Caller, caller, document, respond
from steward.compliance.evidence import PackVerification
from steward.compliance.modelcard import ModelCard, Narrative
from steward.services import evidence, exports, modelcards

router = APIRouter(prefix="/api/v1", tags=["reports"])
_CHUNK = 1024 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NarrativeBody(_Strict):
    fields: dict[str, str] = Field(
        description='Field name -> text, e.g. {"intended_use": "..."}; see `steward report fields`'
    )


class PackBody(_Strict):
    versions: list[int] | None = Field(
        None, description="Versions to document (default: production/under review, else latest)"
    )
    include_pdf: bool = Field(True, description="Include PDF model cards (slower)")


@router.get("/models/{name}/versions/{version}/model-card", response_model=ModelCard)
async def model_card(
    name: str,
    version: int,
    format: str = Query("json", description="json, md, html or pdf"),
    call: Caller = Depends(caller),
) -> Response:
    """The model card generated from the evidence: JSON structure, Markdown, HTML or PDF."""
    if format.strip().lower() == "json":
        return respond(await call.run(modelcards.model_card, name, version))
    return document(await call.run(modelcards.render, name, version, format))


@router.get("/models/{name}/versions/{version}/bom", response_class=Response)
async def bom(
    name: str,
    version: int,
    format: str = Query("cyclonedx", description="cyclonedx (1.6 ML-BOM) or spdx (3.0 JSON-LD)"),
    sign: bool = Query(
        False, description="CycloneDX only: embed a JSF signature by the governance key"
    ),
    call: Caller = Depends(caller),
) -> Response:
    """The version's bill of materials: the model with its sha256, its data with their
    fingerprints, metrics, fairness by group and intended use."""
    return document(await call.run(exports.version_bom, name, version, format, sign))


@router.get("/models/{name}/versions/{version}/narratives", response_model=list[Narrative])
async def narratives(name: str, version: int, call: Caller = Depends(caller)) -> Response:
    found = await call.run(modelcards.narratives, name, version)
    return respond(found, tp=list[Narrative])


@router.put("/models/{name}/versions/{version}/narratives", response_model=list[Narrative])
async def set_narratives(
    name: str, version: int, body: NarrativeBody, call: Caller = Depends(caller)
) -> Response:
    """Write narrative fields; each changed one becomes a new, journalled revision."""
    found = await call.run(modelcards.set_narrative, name, version, body.fields)
    return respond(found, tp=list[Narrative])


@router.get("/models/{name}/versions/{version}/narratives/history", response_model=list[Narrative])
async def narrative_history(
    name: str, version: int, field: str | None = None, call: Caller = Depends(caller)
) -> Response:
    found = await call.run(modelcards.narrative_history, name, version, field)
    return respond(found, tp=list[Narrative])


@router.post("/models/{name}/evidence-pack", response_class=StreamingResponse)
async def evidence_pack(
    name: str, body: PackBody | None = None, call: Caller = Depends(caller)
) -> StreamingResponse:
    """The model's signed evidence pack (application/zip); journalled as evidence.exported."""
    options = body or PackBody()
    spool = tempfile.SpooledTemporaryFile(max_size=32 * _CHUNK)  # noqa: SIM115 - closed below
    try:
        found = await call.run(
            evidence.export_pack,
            name,
            spool,
            versions=options.versions,
            include_pdf=options.include_pdf,
        )
    except BaseException:
        spool.close()
        raise
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        try:
            while data := spool.read(_CHUNK):
                yield data
        finally:
            spool.close()

    return StreamingResponse(
        chunks(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}-evidence.zip"',
            "X-Steward-Manifest-Sha256": found.manifest_sha256,
        },
    )


@router.post("/evidence/verify", response_model=PackVerification)
async def verify_pack(
    pack: UploadFile = File(description="The evidence pack zip"),
    public_key: str | None = Form(None, description="PEM public key to pin (optional)"),
    anchor: list[str] = Form(default_factory=list, description="SEQ:HASH recorded earlier"),
    call: Caller = Depends(caller),
) -> Response:
    """Verify a pack on the server — the same checks `steward evidence verify` runs offline.

    Needs a user with a role (anonymous callers get 401); packs are read with bounds and a
    pack beyond them is refused with 413 naming the limit."""
    # The service checks the caller before it reads a byte of the spooled upload.
    return respond(await call.run(evidence.verify_upload, pack.file, public_key, anchor))
