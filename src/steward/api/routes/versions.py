"""/api/v1/models/{name}/versions, aliases, transitions; /api/v1/versions search."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response, StreamingResponse

from steward import wire
from steward.api.deps import context, principal, respond
from steward.api.schemas import AliasBody, TransitionBody
from steward.domain.entities import ModelVersion, Page, Transition, TransitionResult
from steward.domain.errors import ArtifactTooLarge, InvalidInput
from steward.domain.permissions import Principal
from steward.domain.specs import VersionSpec
from steward.services import lifecycle, versions
from steward.services.context import Context

router = APIRouter(prefix="/api/v1", tags=["versions"])
CHUNK = 1024 * 1024


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


def _spool(upload: UploadFile, limit: int) -> Path:
    fd, name = tempfile.mkstemp(prefix="steward-upload-")
    path = Path(name)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := upload.file.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ArtifactTooLarge(
                        f"The artifact is larger than this server accepts ({limit} bytes, "
                        "STEWARD_MAX_ARTIFACT_BYTES)."
                    )
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


@router.post("/models/{name}/versions", status_code=201, response_model=ModelVersion)
def create_version(
    name: str,
    metadata: str = Form("{}", description="JSON: params, metrics, tags, flavor, datasets..."),
    artifact: UploadFile = File(..., description="The artifact bytes"),
    sha256: str | None = Form(None, description="Digest computed by the client, verified"),
    ctx: Context = Depends(context),
    who: Principal = Depends(principal),
) -> Response:
    spec = _metadata(metadata)
    if spec.filename == VersionSpec.filename and artifact.filename:
        spec = VersionSpec(**{**spec.__dict__, "filename": Path(artifact.filename).name})
    path = _spool(artifact, ctx.settings.max_artifact_bytes)
    try:
        created = versions.create_version(ctx, who, name, spec, path, sha256=sha256)
    finally:
        path.unlink(missing_ok=True)
    return respond(created, 201)


def _page(page: Page[ModelVersion]) -> Response:
    return respond(page, tp=Page[ModelVersion])


@router.get("/models/{name}/versions", response_model=Page[ModelVersion])
def list_versions(
    name: str,
    stage: str | None = None,
    tag: str | None = Query(None, description="'key' or 'key=value'"),
    limit: int = 100,
    cursor: str | None = None,
    ctx: Context = Depends(context),
    who: Principal = Depends(principal),
) -> Response:
    return _page(
        versions.list_versions(ctx, who, name, stage=stage, tag=tag, limit=limit, cursor=cursor)
    )


@router.get("/versions", response_model=Page[ModelVersion])
def search_versions(
    stage: str | None = None,
    tag: str | None = Query(None, description="'key' or 'key=value'"),
    model: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
    ctx: Context = Depends(context),
    who: Principal = Depends(principal),
) -> Response:
    return _page(
        versions.list_versions(ctx, who, model, stage=stage, tag=tag, limit=limit, cursor=cursor)
    )


@router.get("/models/{name}/versions/{version}", response_model=ModelVersion)
def get_version(
    name: str, version: int, ctx: Context = Depends(context), who: Principal = Depends(principal)
) -> Response:
    return respond(versions.get_version(ctx, who, name, version))


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
def download_artifact(
    name: str, version: int, ctx: Context = Depends(context), who: Principal = Depends(principal)
) -> StreamingResponse:
    found, chunks = versions.open_artifact(ctx, who, name, version)
    headers = {
        "Content-Length": str(found.artifact.size),
        "Content-Disposition": _disposition(found.artifact.filename),
        "X-Steward-SHA256": found.artifact.sha256,
    }
    return StreamingResponse(chunks, media_type="application/octet-stream", headers=headers)


@router.put("/models/{name}/aliases/{alias}", response_model=ModelVersion)
def set_alias(
    name: str,
    alias: str,
    body: AliasBody,
    ctx: Context = Depends(context),
    who: Principal = Depends(principal),
) -> Response:
    return respond(versions.set_alias(ctx, who, name, alias, body.version))


@router.get("/models/{name}/aliases/{alias}", response_model=ModelVersion)
def get_alias(
    name: str, alias: str, ctx: Context = Depends(context), who: Principal = Depends(principal)
) -> Response:
    return respond(versions.get_by_alias(ctx, who, name, alias))


@router.get("/models/{name}/aliases", response_model=dict[str, int])
def list_aliases(
    name: str, ctx: Context = Depends(context), who: Principal = Depends(principal)
) -> dict[str, int]:
    return versions.list_aliases(ctx, who, name)


@router.delete("/models/{name}/aliases/{alias}", status_code=204)
def delete_alias(
    name: str, alias: str, ctx: Context = Depends(context), who: Principal = Depends(principal)
) -> Response:
    versions.delete_alias(ctx, who, name, alias)
    return Response(status_code=204)


@router.post("/models/{name}/versions/{version}/transitions", response_model=TransitionResult)
def transition(
    name: str,
    version: int,
    body: TransitionBody,
    ctx: Context = Depends(context),
    who: Principal = Depends(principal),
) -> Response:
    return respond(lifecycle.transition(ctx, who, name, version, body.to, body.justification))


@router.get("/models/{name}/versions/{version}/transitions", response_model=list[Transition])
def list_transitions(
    name: str, version: int, ctx: Context = Depends(context), who: Principal = Depends(principal)
) -> Response:
    return respond(lifecycle.transitions(ctx, who, name, version), tp=list[Transition])


@router.get("/models/{name}/versions/{version}/gate")
def gate(
    name: str,
    version: int,
    to: str,
    ctx: Context = Depends(context),
    who: Principal = Depends(principal),
) -> dict[str, Any]:
    """Evaluate a transition without applying it: each requirement met or not, with reasons."""
    decision = lifecycle.check_transition(ctx, who, name, version, to)
    body: dict[str, Any] = wire.dump(decision)
    body["allowed"] = decision.allowed
    return body
