"""/api/v1/webhooks — subscriptions, their delivery log, and delivering now."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from steward.api.deps import Caller, caller, respond
from steward.domain.permissions import Principal
from steward.domain.webhooks import DeliveryReport, NewWebhook, Webhook, WebhookDelivery
from steward.services import webhooks
from steward.services.context import Context

router = APIRouter(prefix="/api/v1", tags=["webhooks"])


class WebhookBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="http(s) URL that receives POSTed JSON events")
    events: list[str] = Field(description="Event names, or ['*'] for all")
    description: str = ""
    secret: str | None = Field(
        default=None, description="HMAC secret (16-128 chars); omit to have one generated"
    )


class DeliverBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = 100


@router.post("/webhooks", status_code=201, response_model=NewWebhook)
async def create_webhook(body: WebhookBody, call: Caller = Depends(caller)) -> Response:
    """The response holds the secret once; receivers need it to check signatures."""
    return respond(await call.run(webhooks.create_webhook, **body.model_dump()), 201)


@router.get("/webhooks", response_model=list[Webhook])
async def list_webhooks(include_deleted: bool = False, call: Caller = Depends(caller)) -> Response:
    found = await call.run(webhooks.list_webhooks, include_deleted=include_deleted)
    return respond(found, tp=list[Webhook])


@router.post("/webhooks/deliver", response_model=DeliveryReport)
async def deliver(body: DeliverBody, call: Caller = Depends(caller)) -> Response:
    """Send every delivery that is due now (the server also does this in the background)."""

    def run(ctx: Context, who: Principal) -> DeliveryReport:
        from steward.webhooks.deliver import HttpSender

        sender = HttpSender()
        try:
            return webhooks.deliver(ctx, who, sender, limit=body.limit)
        finally:
            sender.close()

    return respond(await call.run(run))


@router.get("/webhooks/{webhook_id}", response_model=Webhook)
async def get_webhook(webhook_id: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(webhooks.get_webhook, webhook_id))


@router.delete("/webhooks/{webhook_id}", response_model=Webhook)
async def delete_webhook(webhook_id: str, call: Caller = Depends(caller)) -> Response:
    """Stop sending; queued deliveries are cancelled and the delivery log is kept."""
    return respond(await call.run(webhooks.delete_webhook, webhook_id))


@router.get("/webhooks/{webhook_id}/deliveries", response_model=list[WebhookDelivery])
async def list_deliveries(
    webhook_id: str,
    status: str | None = None,
    limit: int = 100,
    call: Caller = Depends(caller),
) -> Response:
    found = await call.run(webhooks.list_deliveries, webhook_id, status=status, limit=limit)
    return respond(found, tp=list[WebhookDelivery])
