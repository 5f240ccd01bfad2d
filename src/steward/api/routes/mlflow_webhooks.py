"""`POST /mlflow/webhooks`: MLflow's registry webhooks (MLflow 3.3+) ask for a sync.

MLflow proves the delivery with an HMAC signature over the delivery id, timestamp and body
(secret: ``STEWARD_MLFLOW_WEBHOOK_SECRET``), not with a Steward token; a bad signature,
an old timestamp or a delivery id seen before is refused. An accepted delivery only asks
the worker's ``mlflow_sync`` job to run now: nothing in it is applied as such, the sync
reads MLflow itself. Everything is decided in ``services/mlflow_writeback.py``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel

from steward.api.deps import app_context, respond
from steward.services import mlflow_writeback

router = APIRouter(tags=["mlflow"])
PATH = "/mlflow/webhooks"
# The problem answers app.py documents for public operations, plus this one's own 403.
_NOT_CONFIGURED: dict[int | str, dict[str, Any]] = {
    403: {
        "description": "STEWARD_MLFLOW_WEBHOOK_SECRET is not set: no delivery is taken",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
}


class Accepted(BaseModel):
    accepted: bool
    event: str


@router.post(PATH, status_code=202, response_model=Accepted, responses=_NOT_CONFIGURED)
async def mlflow_webhook(request: Request) -> Response:
    """Accept one signed MLflow registry webhook delivery (202); 401 for a bad or stale
    signature, 409 for a replayed delivery id, 403 when no secret is configured."""
    body = await request.body()
    event = await run_in_threadpool(
        mlflow_writeback.accept_webhook,
        app_context(request),
        delivery_id=request.headers.get("x-mlflow-delivery-id"),
        timestamp=request.headers.get("x-mlflow-timestamp"),
        signature=request.headers.get("x-mlflow-signature"),
        body=body,
    )
    return respond(Accepted(accepted=True, event=event), 202)
