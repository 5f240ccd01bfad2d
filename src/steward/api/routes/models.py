"""/api/v1/models — the inventory."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from steward.api.deps import Caller, caller, respond
from steward.api.schemas import ModelCreate, ModelFields
from steward.domain.entities import HistoryEntry, Model, Page
from steward.services import lifecycle, models

router = APIRouter(prefix="/api/v1", tags=["models"])


@router.post("/models", status_code=201, response_model=Model)
async def create_model(body: ModelCreate, call: Caller = Depends(caller)) -> Response:
    fields = body.model_dump(exclude_unset=True)
    name = fields.pop("name")
    return respond(await call.run(models.create_model, name, **fields), 201)


@router.get("/models", response_model=Page[Model])
async def list_models(
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
    call: Caller = Depends(caller),
) -> Response:
    page = await call.run(
        models.list_models,
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
async def get_model(name: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(models.get_model, name))


@router.patch("/models/{name}", response_model=Model)
async def update_model(name: str, body: ModelFields, call: Caller = Depends(caller)) -> Response:
    changes = body.model_dump(exclude_unset=True)
    return respond(await call.run(models.update_model, name, **changes))


@router.get("/models/{name}/history", response_model=list[HistoryEntry])
async def model_history(
    name: str, at: datetime | None = None, call: Caller = Depends(caller)
) -> Response:
    entries = await call.run(lifecycle.history, at=at or datetime.now(UTC), model=name)
    return respond(entries, tp=list[HistoryEntry])


@router.get("/history", response_model=list[HistoryEntry])
async def history(at: datetime | None = None, call: Caller = Depends(caller)) -> Response:
    """What every model had in production and under each alias at ``at``."""
    entries = await call.run(lifecycle.history, at=at or datetime.now(UTC))
    return respond(entries, tp=list[HistoryEntry])
