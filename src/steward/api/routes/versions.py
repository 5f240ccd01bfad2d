"""/api/v1/models/{name}/versions, aliases, transitions; /api/v1/versions search."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response, StreamingResponse

from steward import wire
from steward.api.deps import Caller, caller, respond
from steward.api.schemas import AliasBody, TransitionBody
from steward.artifacts import spool
from steward.domain.entities import (
    DatasetVersion,
    ModelVersion,
    Page,
    Transition,
    TransitionResult,
)
from steward.domain.errors import InvalidInput
from steward.domain.permissions import Principal
from steward.domain.requests import GateReport
from steward.domain.specs import VersionSpec
from steward.services import gates, lifecycle, versions
from steward.services.context import Context

router = APIRouter(prefix="/api/v1", tags=["versions"])


def _metadata(text: str) -> VersionSpec:
    spec = wire.load_json(VersionSpec, text, what="version metadata")
    # Pydantic ignores unknown keys of a dataclass; a typo ("metric") must not drop data.
    known = [f.name for f in dataclasses.fields(VersionSpec)]
    unknown = sorted(set(json.loads(text)) - set(known))
    if unknown:
        raise InvalidInput(
            f"Unknown version metadata field(s): {', '.join(unknown)}. "
            f"Known fields: {', '.join(known)}.",
            field="metadata",
        )
    return spec


def _spool(upload: UploadFile, limit: int, folder: Path) -> Path:
    return spool.write_artifact(upload.file, folder, limit)


@router.post("/models/{name}/versions", status_code=201, response_model=ModelVersion)
async def create_version(
    name: str,
    metadata: str = Form("{}", description="JSON: params, metrics, tags, flavor, datasets..."),
    artifact: UploadFile = File(..., description="The artifact bytes"),
    sha256: str | None = Form(None, description="Digest computed by the client, verified"),
    call: Caller = Depends(caller),
) -> Response:
    spec = _metadata(metadata)
    if spec.filename == VersionSpec.filename and artifact.filename:
        spec = VersionSpec(**{**spec.__dict__, "filename": Path(artifact.filename).name})

    def store(ctx: Context, who: Principal) -> ModelVersion:
        path = _spool(artifact, ctx.settings.max_artifact_bytes, ctx.settings.spool_dir)
        try:
            return versions.create_version(ctx, who, name, spec, path, sha256=sha256)
        finally:
            path.unlink(missing_ok=True)

    return respond(await call.run(store), 201)


def _page(page: Page[ModelVersion]) -> Response:
    return respond(page, tp=Page[ModelVersion])


@router.get("/models/{name}/versions", response_model=Page[ModelVersion])
async def list_versions(
    name: str,
    stage: str | None = None,
    tag: str | None = Query(None, description="'key' or 'key=value'"),
    limit: int = 100,
    cursor: str | None = None,
    call: Caller = Depends(caller),
) -> Response:
    return _page(
        await call.run(
            versions.list_versions, name, stage=stage, tag=tag, limit=limit, cursor=cursor
        )
    )


@router.get("/versions", response_model=Page[ModelVersion])
async def search_versions(
    stage: str | None = None,
    tag: str | None = Query(None, description="'key' or 'key=value'"),
    model: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
    call: Caller = Depends(caller),
) -> Response:
    return _page(
        await call.run(
            versions.list_versions, model, stage=stage, tag=tag, limit=limit, cursor=cursor
        )
    )


@router.get("/models/{name}/versions/{version}", response_model=ModelVersion)
async def get_version(name: str, version: int, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(versions.get_version, name, version))


def _disposition(filename: str) -> str:
    """Content-Disposition for any stored name (RFC 6266): headers are Latin-1 and may
    not contain quotes or line breaks, so send an ASCII fallback plus the exact
    UTF-8 name percent-encoded."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get(
    "/models/{name}/versions/{version}/artifact",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_artifact(
    name: str, version: int, call: Caller = Depends(caller)
) -> StreamingResponse:
    found, chunks = await call.run(versions.open_artifact, name, version)
    headers = {
        "Content-Length": str(found.artifact.size),
        "Content-Disposition": _disposition(found.artifact.filename),
        "X-Steward-SHA256": found.artifact.sha256,
    }
    return StreamingResponse(chunks, media_type="application/octet-stream", headers=headers)


@router.put("/models/{name}/aliases/{alias}", response_model=ModelVersion)
async def set_alias(
    name: str, alias: str, body: AliasBody, call: Caller = Depends(caller)
) -> Response:
    return respond(await call.run(versions.set_alias, name, alias, body.version))


@router.get("/models/{name}/aliases/{alias}", response_model=ModelVersion)
async def get_alias(name: str, alias: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(versions.get_by_alias, name, alias))


@router.get("/models/{name}/aliases", response_model=dict[str, int])
async def list_aliases(name: str, call: Caller = Depends(caller)) -> dict[str, int]:
    return await call.run(versions.list_aliases, name)


@router.delete("/models/{name}/aliases/{alias}", status_code=204)
async def delete_alias(name: str, alias: str, call: Caller = Depends(caller)) -> Response:
    await call.run(versions.delete_alias, name, alias)
    return Response(status_code=204)


@router.post("/models/{name}/versions/{version}/transitions", response_model=TransitionResult)
async def transition(
    name: str, version: int, body: TransitionBody, call: Caller = Depends(caller)
) -> Response:
    result = await call.run(lifecycle.transition, name, version, body.to, body.justification)
    return respond(result)


@router.get("/models/{name}/versions/{version}/transitions", response_model=list[Transition])
async def list_transitions(name: str, version: int, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(lifecycle.transitions, name, version), tp=list[Transition])


@dataclasses.dataclass
class AmendMetadata:
    justification: str
    training_data: DatasetVersion | None = None
    evaluation_data: DatasetVersion | None = None


@router.post("/models/{name}/versions/{version}/amend", response_model=ModelVersion)
async def amend_version(
    name: str,
    version: int,
    metadata: str = Form(..., description="JSON: justification, training_data, evaluation_data"),
    artifact: UploadFile | None = File(None, description="A replacement artifact"),
    sha256: str | None = Form(None, description="Digest computed by the client, verified"),
    call: Caller = Depends(caller),
) -> Response:
    """Correct a version before production; approvals for the old content lapse."""
    meta = wire.load_json(AmendMetadata, metadata, what="amendment")

    def amend(ctx: Context, who: Principal) -> ModelVersion:
        limit, folder = ctx.settings.max_artifact_bytes, ctx.settings.spool_dir
        path = _spool(artifact, limit, folder) if artifact else None
        try:
            return versions.amend_version(
                ctx,
                who,
                name,
                version,
                justification=meta.justification,
                training_data=meta.training_data,
                evaluation_data=meta.evaluation_data,
                artifact=path,
                sha256=sha256 or None,
            )
        finally:
            if path is not None:
                path.unlink(missing_ok=True)

    return respond(await call.run(amend))


@router.get("/models/{name}/versions/{version}/gate", response_model=GateReport)
async def gate(name: str, version: int, to: str, call: Caller = Depends(caller)) -> Response:
    """Evaluate a move without applying it: each requirement met, unmet or waived, with reasons."""
    return respond(await call.run(gates.check_gate, name, version, to))
