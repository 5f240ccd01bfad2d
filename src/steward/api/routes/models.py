"""/api/v1/models — the inventory."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from steward.api.deps import context, principal, respond
from steward.api.schemas import ModelCreate, ModelFields
from steward.domain.entities import HistoryEntry, Model, Page
from steward.domain.permissions import Principal
from steward.services import lifecycle, models
from steward.services.context import Context

router = APIRouter(prefix="/api/v1", tags=["models"])


@router.post("/models", status_code=201, response_model=Model)
def create_model(
    body: ModelCreate, ctx: Context = Depends(context), who: Principal = Depends(principal)
) -> Response:
    fields = body.model_dump(exclude_unset=True)
    name = fields.pop("name")
    return respond(models.create_model(ctx, who, name, **fields), 201)


@router.get("/models", response_model=Page[Model])
def list_models(
    owner: str | None = None,
    team: str | None = None,
    risk_tier: str | None = None,
    regulatory_category: str | None = None,
    status: str | None = None,
    stage: str | None = Query(None, description="Models with at least one version in this stage"),
    tag: str | None = None,
    q: str | None = Query(None, description="Text search"),
    limit: int = 100,
    cursor: str | None = None,
    ctx: Context = Depends(context),
    who: Principal = Depends(principal),
) -> Response:
    page = models.list_models(
        ctx,
        who,
        owner=owner,
        team=team,
        risk_tier=risk_tier,
        regulatory_category=regulatory_category,
        status=status,
        stage=stage,
        tag=tag,
        q=q,
        limit=limit,
        cursor=cursor,
    )
    return respond(page, tp=Page[Model])


@router.get("/models/{name}", response_model=Model)
def get_model(
    name: str, ctx: Context = Depends(context), who: Principal = Depends(principal)
) -> Response:
    return respond(models.get_model(ctx, who, name))


@router.patch("/models/{name}", response_model=Model)
def update_model(
    name: str,
    body: ModelFields,
    ctx: Context = Depends(context),
    who: Principal = Depends(principal),
) -> Response:
    return respond(models.update_model(ctx, who, name, **body.model_dump(exclude_unset=True)))


@router.get("/models/{name}/history", response_model=list[HistoryEntry])
def model_history(
    name: str,
    at: datetime | None = None,
    ctx: Context = Depends(context),
    who: Principal = Depends(principal),
) -> Response:
    entries = lifecycle.history(ctx, who, at=at or datetime.now(UTC), model=name)
    return respond(entries, tp=list[HistoryEntry])


@router.get("/history", response_model=list[HistoryEntry])
def history(
    at: datetime | None = None, ctx: Context = Depends(context), who: Principal = Depends(principal)
) -> Response:
    """What every model had in production and under each alias at ``at``."""
    entries = lifecycle.history(ctx, who, at=at or datetime.now(UTC))
    return respond(entries, tp=list[HistoryEntry])
