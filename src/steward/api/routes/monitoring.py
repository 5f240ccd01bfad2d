"""/api/v1/monitors, /api/v1/monitor-runs, /api/v1/alerts — production monitoring.

Batches are reduced where the data is (the SDK or CLI) and arrive as aggregates; the
server compares them with the stored reference profile.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from steward import wire
from steward.api.deps import Caller, caller, respond
from steward.domain.monitoring import (
    Alert,
    HistoryPoint,
    LabelReport,
    Monitor,
    MonitorRun,
    ScheduleReport,
)
from steward.monitoring.batches import BatchPayload, ReferencePayload
from steward.services import monitoring, scheduler

router = APIRouter(prefix="/api/v1", tags=["monitoring"])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MonitorBody(_Strict):
    name: str = "default"
    config: dict[str, Any] = Field(default_factory=dict, description="Monitor settings and rules")
    reference: dict[str, Any] = Field(description="The profiled reference (SDK: build_reference)")


class MonitorUpdate(_Strict):
    config: dict[str, Any] = Field(default_factory=dict)
    active: bool | None = Field(default=None, description="false pauses, true resumes")


class LabelsBody(_Strict):
    labels: dict[str, float] = Field(description="prediction id -> label")


class ResolveBody(_Strict):
    note: str


class ScheduleBody(_Strict):
    limit: int = 100
    engine: str = "duckdb"


@router.post("/models/{name}/versions/{version}/monitors", status_code=201, response_model=Monitor)
async def create_monitor(
    name: str, version: int, body: MonitorBody, call: Caller = Depends(caller)
) -> Response:
    reference = wire.load(ReferencePayload, body.reference, what="reference")
    found = await call.run(
        monitoring.create_monitor,
        name,
        version,
        name=body.name,
        config=body.config,
        reference=reference,
    )
    return respond(found, 201)


@router.get("/monitors", response_model=list[Monitor])
async def list_monitors(
    model: str | None = None,
    version: int | None = None,
    include_deleted: bool = False,
    call: Caller = Depends(caller),
) -> Response:
    found = await call.run(
        monitoring.list_monitors, model=model, version=version, include_deleted=include_deleted
    )
    return respond(found, tp=list[Monitor])


@router.post("/monitors/run-due", response_model=ScheduleReport)
async def run_due(body: ScheduleBody, call: Caller = Depends(caller)) -> Response:
    """Run the monitors whose schedule is due; the server reads each one's source."""
    return respond(await call.run(scheduler.run_due, limit=body.limit, engine=body.engine))


@router.get("/monitors/{ref}", response_model=Monitor)
async def get_monitor(ref: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(monitoring.get_monitor, ref))


@router.get("/monitors/{ref}/reference")
async def reference(ref: str, call: Caller = Depends(caller)) -> Response:
    """The reference profile (edges, categories, moments) batches are aggregated on."""
    text = await call.run(monitoring.monitor_reference, ref)
    return Response(text, media_type="application/json")


@router.get("/monitors/{ref}/reference/exact")
async def exact_reference(ref: str, call: Caller = Depends(caller)) -> Response:
    """The exact reference (sorted numeric columns and category counts, ``.npz``) exact runs
    compare the raw batch with; 404 for a sketch-only monitor."""
    data = await call.run(monitoring.monitor_exact_reference, ref)
    return Response(data, media_type="application/octet-stream")


@router.patch("/monitors/{ref}", response_model=Monitor)
async def update_monitor(ref: str, body: MonitorUpdate, call: Caller = Depends(caller)) -> Response:
    found = await call.run(monitoring.update_monitor, ref, config=body.config, active=body.active)
    return respond(found)


@router.delete("/monitors/{ref}", response_model=Monitor)
async def delete_monitor(ref: str, reason: str = "", call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(monitoring.delete_monitor, ref, reason=reason))


@router.post("/monitors/{ref}/runs", status_code=201, response_model=MonitorRun)
async def record_run(ref: str, body: dict[str, Any], call: Caller = Depends(caller)) -> Response:
    """Record one batch: its aggregate on the monitor's profile (+ prediction rows)."""
    payload = wire.load(BatchPayload, body, what="batch")
    return respond(await call.run(monitoring.record_batch, ref, payload), 201)


@router.get("/monitors/{ref}/runs", response_model=list[MonitorRun])
async def list_runs(
    ref: str, limit: int = 50, results: bool = False, call: Caller = Depends(caller)
) -> Response:
    found = await call.run(monitoring.list_runs, ref, limit=limit, with_results=results)
    return respond(found, tp=list[MonitorRun])


@router.get("/monitor-runs/{run_id}", response_model=MonitorRun)
async def get_run(run_id: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(monitoring.get_run, run_id))


@router.get("/monitors/{ref}/history", response_model=list[HistoryPoint])
async def history(
    ref: str,
    column: str | None = Query(None, description="A watched column; '' for dataset metrics"),
    metric: str | None = None,
    since: datetime | None = None,
    limit: int = 1000,
    by: str = Query(
        "run",
        description="run: each run's stored results; window: per window, merged from the "
        "runs' aggregates",
    ),
    call: Caller = Depends(caller),
) -> Response:
    found = await call.run(
        monitoring.history, ref, column=column, metric=metric, since=since, limit=limit, by=by
    )
    return respond(found, tp=list[HistoryPoint])


@router.post("/monitors/{ref}/labels", response_model=LabelReport)
async def labels(ref: str, body: LabelsBody, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(monitoring.record_labels, ref, body.labels))


@router.get("/alerts", response_model=list[Alert])
async def list_alerts(
    model: str | None = None,
    version: int | None = None,
    monitor: str | None = None,
    status: str = Query("open", description="open, resolved or all"),
    limit: int = 100,
    call: Caller = Depends(caller),
) -> Response:
    found = await call.run(
        monitoring.list_alerts,
        model=model,
        version=version,
        monitor=monitor,
        status=status,
        limit=limit,
    )
    return respond(found, tp=list[Alert])


@router.get("/alerts/{alert_id}", response_model=Alert)
async def get_alert(alert_id: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(monitoring.get_alert, alert_id))


@router.post("/alerts/{alert_id}/resolve", response_model=Alert)
async def resolve_alert(
    alert_id: str, body: ResolveBody, call: Caller = Depends(caller)
) -> Response:
    return respond(await call.run(monitoring.resolve_alert, alert_id, body.note))
