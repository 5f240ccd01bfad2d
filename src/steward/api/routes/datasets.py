"""/api/v1/datasets — datasets as governed assets: inventory, versions, quality rules,
approvals, impact; and a model version's data lineage (docs/datasets.md)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from steward.api.deps import Caller, caller, document, respond
from steward.api.routes.validation import spool_data
from steward.domain.datasets import (
    DataFinding,
    DataLineage,
    Dataset,
    DatasetSnapshot,
    Impact,
    Recall,
    RuleSet,
)
from steward.domain.discovery import Discovery
from steward.domain.entities import Page
from steward.domain.permissions import Permission, Principal
from steward.services import data_discovery, data_quality, data_recall, dataset_cards, datasets
from steward.services.context import Context

router = APIRouter(prefix="/api/v1", tags=["datasets"])


class DatasetFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    description: str | None = None
    owner: str | None = None
    steward_team: str | None = None
    source: str | None = Field(
        None,
        description="conn:NAME#table=schema.table, conn:NAME#path=glob or s3://… "
        "(a server never reads a path a caller names)",
    )
    classification: str | None = Field(
        None, description="public, internal, confidential or restricted"
    )
    legal_basis: str | None = None
    consent_ref: str | None = None
    retention: str | None = Field(None, description="e.g. 7y, 90d")
    licence: str | None = None
    tags: list[str] | None = None
    status: str | None = Field(None, description="proposed, active or retired")


class DatasetCreate(DatasetFields):
    name: str


class RulesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The rules file's YAML text")
    filename: str = "rules.yaml"


class RecallBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(description="Why the data is unfit; every finding's description")
    severity: str = Field("high", description="low, medium, high or critical")


class ApprovalBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = ""


@router.post("/datasets", status_code=201, response_model=Dataset)
async def create_dataset(body: DatasetCreate, call: Caller = Depends(caller)) -> Response:
    fields = body.model_dump(exclude_none=True)
    name = fields.pop("name")
    return respond(await call.run(datasets.create_dataset, name, **fields), 201)


@router.get("/datasets", response_model=Page[Dataset])
async def list_datasets(
    owner: str | None = None,
    steward_team: str | None = None,
    classification: str | None = None,
    status: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
    call: Caller = Depends(caller),
) -> Response:
    page = await call.run(
        datasets.list_datasets,
        owner=owner,
        steward_team=steward_team,
        classification=classification,
        status=status,
        limit=limit,
        cursor=cursor,
    )
    return respond(page, tp=Page[Dataset])


@router.get("/datasets/{name}", response_model=Dataset)
async def get_dataset(name: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(datasets.get_dataset, name))


@router.patch("/datasets/{name}", response_model=Dataset)
async def update_dataset(
    name: str, body: DatasetFields, call: Caller = Depends(caller)
) -> Response:
    return respond(
        await call.run(datasets.update_dataset, name, **body.model_dump(exclude_none=True))
    )


@router.get("/datasets/{name}/versions", response_model=list[DatasetSnapshot])
async def list_versions(name: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(datasets.versions, name), tp=list[DatasetSnapshot])


@router.post("/datasets/{name}/versions", status_code=201, response_model=DatasetSnapshot)
async def snapshot(
    name: str,
    data: UploadFile | None = File(
        None,
        description="The rows (Parquet or CSV); without it, read through the source's connection",
    ),
    source: str = Form("", description="What the uploaded rows are (a label, never read)"),
    call: Caller = Depends(caller),
) -> Response:
    """A new dataset version: fingerprint, schema, profile and the rules' results."""

    def run(ctx: Context, who: Principal) -> DatasetSnapshot:
        # The object before the upload: a stranger's bytes are never stored.
        datasets.check_first(ctx, who, Permission.DATASET_WRITE, name)
        if data is None:
            return data_quality.snapshot(ctx, who, name)
        path: Path | None = None
        try:
            limit = ctx.settings.max_artifact_bytes
            path = spool_data(data, limit, "data", ctx.settings.spool_dir)
            return data_quality.snapshot(ctx, who, name, path, source=source)
        finally:
            if path is not None:
                path.unlink(missing_ok=True)

    return respond(await call.run(run), 201)


@router.get("/datasets/{name}/versions/{version}", response_model=DatasetSnapshot)
async def get_version(name: str, version: int, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(datasets.get_version, f"{name}@{version}"))


@router.post(
    "/datasets/{name}/versions/{version}/approvals", status_code=201, response_model=DatasetSnapshot
)
async def approve(
    name: str, version: int, body: ApprovalBody, call: Caller = Depends(caller)
) -> Response:
    """A data steward approves the version for use (never the dataset's owner)."""
    return respond(await call.run(datasets.approve, f"{name}@{version}", body.comment), 201)


@router.get("/datasets/{name}/versions/{version}/impact", response_model=Impact)
async def impact(name: str, version: int, call: Caller = Depends(caller)) -> Response:
    """Model versions trained or evaluated on this dataset version, and their deployments."""
    return respond(await call.run(datasets.impact, f"{name}@{version}"))


@router.get("/datasets/{name}/card", response_class=Response)
async def card(
    name: str,
    format: str = Query("html", description="md, html or pdf"),
    call: Caller = Depends(caller),
) -> Response:
    """The dataset card (datasheet): inventory, versions, quality results, personal data,
    approvals and lineage, as Markdown, self-contained HTML or PDF."""
    return document(await call.run(dataset_cards.render, name, format))


@router.post("/datasets/{name}/versions/{version}/recall", status_code=201, response_model=Recall)
async def recall(
    name: str, version: int, body: RecallBody, call: Caller = Depends(caller)
) -> Response:
    """A data recall: a finding on every model version built on this dataset version."""
    return respond(
        await call.run(
            data_recall.recall, f"{name}@{version}", severity=body.severity, reason=body.reason
        ),
        201,
    )


@router.get("/connections/{name}/discovery", response_model=Discovery)
async def discover(name: str, call: Caller = Depends(caller)) -> Response:
    """Tables and files behind the connection that no registered dataset covers, with row
    counts, from the connection's own catalogue (`dataset:approve`, allowed on it)."""
    return respond(await call.run(data_discovery.discover, name))


@router.put("/datasets/{name}/rules", status_code=201, response_model=RuleSet)
async def set_rules(name: str, body: RulesBody, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(data_quality.set_rules, name, body.text, body.filename), 201)


@router.get("/datasets/{name}/rules", response_model=list[RuleSet])
async def list_rules(name: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(datasets.rule_sets, name), tp=list[RuleSet])


@router.get("/datasets/{name}/findings", response_model=list[DataFinding])
async def list_findings(name: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(datasets.findings, name), tp=list[DataFinding])


@router.get("/models/{name}/versions/{version}/datasets", response_model=DataLineage)
async def version_datasets(name: str, version: int, call: Caller = Depends(caller)) -> Response:
    """The registered dataset versions this model version was trained and evaluated on."""
    return respond(await call.run(datasets.lineage, name, version))
