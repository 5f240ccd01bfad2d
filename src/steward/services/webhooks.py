"""Webhook subscriptions, the delivery log, and one pass of the delivery worker.

Deliveries are queued by ``UnitOfWork.record`` (the transactional outbox); this
module claims due ones, hands each to a :class:`Sender` (the HTTP adapter lives
in :mod:`steward.webhooks.deliver`), and records every attempt. A failed attempt
is retried with exponential backoff (10 s, 20 s, 40 s, … capped at an hour) until
``MAX_ATTEMPTS``; then the delivery is marked failed and stays in the log.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from steward.domain import webhooks as hooks
from steward.domain.audit import Action
from steward.domain.errors import InvalidInput, NotFound
from steward.domain.permissions import Permission, Principal, ensure
from steward.domain.webhooks import (
    DeliveryReport,
    DeliveryStatus,
    NewWebhook,
    Webhook,
    WebhookDelivery,
)
from steward.services import outbound
from steward.services.context import Context
from steward.services.models import check_limit
from steward.trust import secretbox

LEASE = timedelta(minutes=5)  # a claimed delivery waits this long before another worker retries


@dataclass(frozen=True)
class Outgoing:
    delivery_id: str
    webhook_id: str
    url: str
    secret: str
    event: str
    body: str
    attempt: int


class Sender(Protocol):
    def __call__(self, outgoing: Outgoing, timestamp: int) -> tuple[int | None, str | None]:
        """POST it; return (HTTP status or None, error text or None)."""
        ...


def _secrets(ctx: Context) -> secretbox.SecretBox:
    """Webhook secrets are sealed at rest with a key kept outside the database."""
    return secretbox.load_or_create(ctx.settings.secrets_key_path)


def create_webhook(
    ctx: Context,
    principal: Principal,
    *,
    url: str,
    events: list[str],
    description: str = "",
    secret: str | None = None,
) -> NewWebhook:
    ensure(principal, Permission.WEBHOOK_MANAGE)
    target = hooks.webhook_url(url)
    outbound.check_url(ctx.settings, target, "A webhook")
    chosen = hooks.parse_events(events)
    key = (
        hooks.webhook_secret(secret) if secret is not None else "whsec_" + secrets.token_urlsafe(32)
    )
    if len(description) > 500:
        raise InvalidInput("A webhook description has at most 500 characters.", field="description")
    webhook_id = "wh_" + secrets.token_hex(8)
    with ctx.uow.write() as uow:
        uow.webhooks.insert(
            {
                "id": webhook_id,
                "url": target,
                "events": chosen,
                "secret": _secrets(ctx).seal(key),
                "description": description,
                "active": True,
                "created_by": principal.name,
                "created_at": uow.now,
            }
        )
        uow.outbox.forget()
        uow.record(
            principal.name,
            Action.WEBHOOK_CREATED,
            "webhook",
            webhook_id,
            {"url": target, "events": chosen, "description": description},
        )
        found = uow.webhooks.get(webhook_id)
        uow.commit()
    assert found is not None
    return NewWebhook(found, key)


def _get(ctx: Context, webhook_id: str) -> Webhook:
    with ctx.uow.read() as uow:
        found = uow.webhooks.get(webhook_id)
    if found is None:
        raise NotFound(
            f"No webhook with id {webhook_id!r}. List them with `steward webhook list`.",
            webhook=webhook_id,
        )
    return found


def get_webhook(ctx: Context, principal: Principal, webhook_id: str) -> Webhook:
    ensure(principal, Permission.WEBHOOK_MANAGE)
    return _get(ctx, webhook_id)


def list_webhooks(
    ctx: Context, principal: Principal, *, include_deleted: bool = False
) -> list[Webhook]:
    ensure(principal, Permission.WEBHOOK_MANAGE)
    with ctx.uow.read() as uow:
        return uow.webhooks.all(include_deleted)


def delete_webhook(ctx: Context, principal: Principal, webhook_id: str) -> Webhook:
    """Stop sending to it; queued deliveries are cancelled, the log is kept."""
    ensure(principal, Permission.WEBHOOK_MANAGE)
    with ctx.uow.write() as uow:
        found = uow.webhooks.get(webhook_id)
        if found is None:
            raise NotFound(
                f"No webhook with id {webhook_id!r}. List them with `steward webhook list`.",
                webhook=webhook_id,
            )
        if found.active:
            cancelled = uow.webhooks.deactivate(webhook_id, principal.name, uow.now)
            uow.outbox.forget()
            uow.record(
                principal.name,
                Action.WEBHOOK_DELETED,
                "webhook",
                webhook_id,
                {"url": found.url, "cancelled_deliveries": cancelled},
            )
        after = uow.webhooks.get(webhook_id)
        uow.commit()
    assert after is not None
    return after


def list_deliveries(
    ctx: Context,
    principal: Principal,
    webhook_id: str | None = None,
    *,
    status: str | None = None,
    limit: int = 100,
) -> list[WebhookDelivery]:
    """The delivery log, newest first, each with its attempts."""
    ensure(principal, Permission.WEBHOOK_MANAGE)
    check_limit(limit)
    if status is not None and status not in {s.value for s in DeliveryStatus}:
        known = ", ".join(s.value for s in DeliveryStatus)
        raise InvalidInput(
            f"Unknown delivery status {status!r}; use one of: {known}.", field="status"
        )
    if webhook_id is not None:
        _get(ctx, webhook_id)
    with ctx.uow.read() as uow:
        return uow.webhooks.deliveries(webhook_id, status, limit)


def deliver(
    ctx: Context, principal: Principal, sender: Sender, *, limit: int = 100
) -> DeliveryReport:
    """Send what is due now (`steward webhook deliver`, POST /api/v1/webhooks/deliver)."""
    ensure(principal, Permission.WEBHOOK_MANAGE)
    check_limit(limit)
    return deliver_due(ctx, sender, limit=limit)


def deliver_due(
    ctx: Context,
    sender: Sender,
    *,
    limit: int = 100,
    backoff_base: timedelta = hooks.BACKOFF_BASE,
) -> DeliveryReport:
    """One pass of the worker (the server's background thread calls this)."""
    with ctx.uow.read() as uow:
        if not uow.webhooks.any_due(uow.now):
            return DeliveryReport(0, 0, 0, 0)
    with ctx.uow.write() as uow:
        claimed = uow.webhooks.claim_due(uow.now, uow.now + LEASE, limit)
        uow.commit()
    delivered = retrying = failed = 0
    for row in claimed:
        outgoing = Outgoing(
            delivery_id=row["id"],
            webhook_id=row["webhook_id"],
            url=row["url"],
            secret=_secrets(ctx).open(row["secret"]),
            event=row["event"],
            body=row["body"],
            attempt=int(row["attempts"]) + 1,
        )
        started = time.monotonic()
        timestamp = int(ctx.uow.clock().timestamp())
        status_code: int | None
        error: str | None
        try:
            # checked again at send time: the allow-list may have changed, or the host
            # name may resolve elsewhere now
            outbound.check_url(ctx.settings, outgoing.url, "A webhook")
        except InvalidInput as exc:
            status_code, error = None, exc.detail
        else:
            status_code, error = _send(sender, outgoing, timestamp)
        duration = int((time.monotonic() - started) * 1000)
        ok = status_code is not None and 200 <= status_code < 300 and error is None
        with ctx.uow.write() as uow:
            if ok:
                state, next_at = DeliveryStatus.DELIVERED, None
                delivered += 1
            elif outgoing.attempt >= hooks.MAX_ATTEMPTS:
                state, next_at = DeliveryStatus.FAILED, None
                failed += 1
            else:
                state = DeliveryStatus.PENDING
                next_at = uow.now + hooks.backoff(outgoing.attempt, backoff_base)
                retrying += 1
            uow.webhooks.finish_attempt(
                outgoing.delivery_id,
                outgoing.attempt,
                at=uow.now,
                status_code=status_code,
                error=None if ok else (error or f"HTTP {status_code}")[:1000],
                duration_ms=duration,
                status=state,
                next_attempt_at=next_at,
            )
            uow.commit()
    return DeliveryReport(len(claimed), delivered, retrying, failed)


def _send(sender: Sender, outgoing: Outgoing, timestamp: int) -> tuple[int | None, str | None]:
    try:
        return sender(outgoing, timestamp)
    except Exception as exc:  # a sender bug must not lose the delivery: log and retry
        return None, f"{type(exc).__name__}: {exc}"
