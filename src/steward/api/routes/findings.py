"""/api/v1/findings and /api/v1/models/{name}/findings — findings and their comments."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from steward.api.deps import Caller, caller, respond
from steward.domain.datasets import DataFinding
from steward.domain.entities import Page
from steward.domain.findings import Finding, FindingComment
from steward.services import findings

router = APIRouter(prefix="/api/v1", tags=["findings"])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FindingBody(_Strict):
    title: str = Field(description="One line: what is wrong")
    severity: str = Field(description="low, medium, high or critical")
    description: str = ""
    version: int | None = Field(default=None, description="The version it concerns, if one")
    owner: str | None = Field(default=None, description="Who remediates (default: model owner)")
    due_date: date | None = Field(default=None, description="Default: by severity")
    source: str = Field(default="manual", description="Where it came from")
    source_ref: str | None = None
    evidence: dict[str, Any] | None = None
    scope: str | None = Field(
        default=None,
        description="version (this version only; default when a version is given) or model "
        "(the model and every version serving its population; default otherwise)",
    )


class FindingUpdate(_Strict):
    status: str | None = Field(
        default=None, description="open, in_remediation, resolved or accepted"
    )
    severity: str | None = None
    owner: str | None = None
    due_date: date | None = None
    note: str | None = Field(default=None, description="Required to resolve or accept")


class CommentBody(_Strict):
    body: str


@router.post("/models/{name}/findings", status_code=201, response_model=Finding)
async def open_finding(name: str, body: FindingBody, call: Caller = Depends(caller)) -> Response:
    found = await call.run(findings.open_finding, name, **body.model_dump())
    return respond(found, 201)


@router.get("/findings", response_model=Page[Finding])
async def list_findings(
    model: str | None = None,
    version: int | None = None,
    status: str | None = Query(
        None, description="active (default), closed, all, or one exact status"
    ),
    severity_at_least: str | None = None,
    owner: str | None = None,
    source: str | None = None,
    dataset: str | None = Query(
        None, description="NAME or NAME@V: the findings a data recall of it opened"
    ),
    limit: int = 100,
    cursor: str | None = None,
    call: Caller = Depends(caller),
) -> Response:
    page = await call.run(
        findings.list_findings,
        dataset=dataset,
        model=model,
        version=version,
        status=status,
        severity_at_least=severity_at_least,
        owner=owner,
        source=source,
        limit=limit,
        cursor=cursor,
    )
    return respond(page, tp=Page[Finding])


# Declared before /findings/{finding_id}, which would otherwise take "data" for an id.
@router.get("/findings/data", response_model=list[DataFinding])
async def list_data_findings(
    dataset: str | None = Query(None, description="NAME or NAME@V: only this dataset (version)"),
    status: str | None = Query(
        None, description="active (default) or open, closed or resolved, all"
    ),
    severity_at_least: str | None = None,
    limit: int = 100,
    call: Caller = Depends(caller),
) -> Response:
    """Data findings: failed quality rules of dataset versions, newest first."""
    found = await call.run(
        findings.list_data_findings,
        dataset=dataset,
        status=status,
        severity_at_least=severity_at_least,
        limit=limit,
    )
    return respond(found, tp=list[DataFinding])


@router.get("/findings/{finding_id}", response_model=Finding)
async def get_finding(finding_id: int, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(findings.get_finding, finding_id))


@router.patch("/findings/{finding_id}", response_model=Finding)
async def update_finding(
    finding_id: int, body: FindingUpdate, call: Caller = Depends(caller)
) -> Response:
    return respond(await call.run(findings.update_finding, finding_id, **body.model_dump()))


@router.post("/findings/{finding_id}/comments", status_code=201, response_model=FindingComment)
async def comment(finding_id: int, body: CommentBody, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(findings.comment_finding, finding_id, body.body), 201)


@router.get("/findings/{finding_id}/comments", response_model=list[FindingComment])
async def comments(finding_id: int, call: Caller = Depends(caller)) -> Response:
    found = await call.run(findings.finding_comments, finding_id)
    return respond(found, tp=list[FindingComment])
