"""/api/v1/datasets/{name}/versions/{version}/personal-data — the personal-data scan of a
dataset version and the review of each column's classification (docs/datasets.md)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from steward.api.deps import Caller, caller, respond
from steward.api.routes.validation import spool_data
from steward.domain.permissions import Permission, Principal
from steward.domain.personal_data import ColumnClass, PersonalData
from steward.services import datasets, personal_data
from steward.services.context import Context

router = APIRouter(prefix="/api/v1", tags=["datasets"])
PATH = "/datasets/{name}/versions/{version}/personal-data"


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str = Field(max_length=10_000)
    categories: list[str] | None = Field(
        None,
        description="What the column holds ([] or ['none']: no personal data); omitted: "
        "confirm what the scan detected",
    )
    reason: str = Field("", description="Why; required when overriding the detection")


@router.get(PATH, response_model=PersonalData)
async def get_personal_data(name: str, version: int, call: Caller = Depends(caller)) -> Response:
    """Per column: the categories detected (share, masked examples) and the review."""
    return respond(await call.run(personal_data.classification, f"{name}@{version}"))


@router.post(PATH + "/scan", response_model=PersonalData)
async def scan(
    name: str,
    version: int,
    data: UploadFile | None = File(
        None, description="The version's rows (Parquet or CSV); without it, read its source"
    ),
    rescan: bool = Form(True, description="Scan again even when a scan is stored"),
    call: Caller = Depends(caller),
) -> Response:
    """Scan the version's rows (which must have its fingerprint) and store the result."""
    ref = f"{name}@{version}"

    def run(ctx: Context, who: Principal) -> PersonalData:
        # The object before the upload: a stranger's bytes are never stored.
        datasets.check_first(ctx, who, Permission.DATASET_WRITE, name)
        if data is None:
            return personal_data.scan(ctx, who, ref, rescan=rescan)
        path: Path | None = None
        try:
            path = spool_data(data, ctx.settings.max_artifact_bytes, "data", ctx.settings.spool_dir)
            return personal_data.scan(ctx, who, ref, path, rescan=True)
        finally:
            if path is not None:
                path.unlink(missing_ok=True)

    return respond(await call.run(run))


@router.post(PATH + "/reviews", status_code=201, response_model=ColumnClass)
async def review(
    name: str, version: int, body: ReviewBody, call: Caller = Depends(caller)
) -> Response:
    """Confirm or override a column's classification (the dataset's owner, its steward
    team or a data steward; an override needs a reason)."""
    return respond(
        await call.run(
            personal_data.classify,
            f"{name}@{version}",
            body.column,
            body.categories,
            body.reason,
        ),
        201,
    )
