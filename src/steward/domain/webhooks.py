"""Webhook subscriptions: which journal events are sent where, and how they are signed.

Events reach subscribers through a transactional outbox: the unit of work that
appends an audit event also queues one delivery per matching subscription, in the
same transaction, so a rolled-back change sends nothing and a committed one is
never lost. A worker posts the queued JSON with ``Steward-Signature:
t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`` and retries with backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from steward.domain.backoff import doubling
from steward.domain.errors import InvalidInput

# Journal action -> the webhook event it is published as.
EVENT_FOR_ACTION: dict[str, str] = {
    "transition.requested": "approval.requested",
    "approval.given": "approval.decided",
    "approval.rejected": "approval.decided",
    "gate.failed": "gate.failed",
    "version.transitioned": "transition.applied",
    "finding.opened": "finding.opened",
    "review.overdue": "review.overdue",
    "deploy.mismatch": "deploy.mismatch",
    "alert.raised": "alert.raised",
    # An evidence pack left Steward: auditors record its manifest sha256 and chain head.
    "evidence.exported": "evidence.exported",
    # A signed checkpoint of the journal, note included: the receiver is one more place
    # outside the database that holds it (published like the folder and s3:// copies).
    "audit.checkpointed": "checkpoint.signed",
}
EVENTS: tuple[str, ...] = tuple(dict.fromkeys(EVENT_FOR_ACTION.values()))
ALL = "*"

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=10)
BACKOFF_CAP = timedelta(hours=1)
SIGNATURE_TOLERANCE_SECONDS = 300  # what docs/governance.md tells receivers to accept


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after MAX_ATTEMPTS
    CANCELLED = "cancelled"  # the subscription was deleted first


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    events: list[str]
    description: str
    active: bool
    created_by: str
    created_at: datetime
    deleted_at: datetime | None = None


@dataclass(frozen=True)
class NewWebhook:
    webhook: Webhook
    secret: str  # shown once; the receiver keeps it to check signatures


@dataclass(frozen=True)
class DeliveryAttempt:
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True)
class WebhookDelivery:
    id: str
    webhook_id: str
    event: str
    audit_seq: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    log: list[DeliveryAttempt]


@dataclass(frozen=True)
class DeliveryReport:
    """One pass of the delivery worker."""

    attempted: int
    delivered: int
    retrying: int
    failed: int


def event_for(action: str) -> str | None:
    return EVENT_FOR_ACTION.get(action)


def matches(events: list[str], event: str) -> bool:
    return ALL in events or event in events


def parse_events(values: list[str] | None) -> list[str]:
    chosen = [v.strip() for v in (values or []) if v and v.strip()]
    if not chosen:
        raise InvalidInput(
            f"Choose the events to send (--event, repeatable): {', '.join(EVENTS)}, or '*' "
            "for all of them.",
            field="events",
        )
    unknown = [v for v in chosen if v != ALL and v not in EVENTS]
    if unknown:
        raise InvalidInput(
            f"Unknown webhook event(s): {', '.join(unknown)}. Known events: "
            f"{', '.join(EVENTS)} (or '*').",
            field="events",
        )
    return [ALL] if ALL in chosen else sorted(set(chosen), key=EVENTS.index)


def webhook_url(value: str) -> str:
    text = (value or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(text) > 2000:
        raise InvalidInput(
            f"Webhook URL {value!r} must be an absolute http:// or https:// URL "
            "(e.g. https://hooks.example.com/steward).",
            field="url",
        )
    if parts.username or parts.password:
        raise InvalidInput(
            "Put no credentials in the webhook URL; the receiver authenticates Steward by "
            "checking the Steward-Signature header with the webhook secret.",
            field="url",
        )
    return text


def webhook_secret(value: str) -> str:
    if len(value) < 16 or len(value) > 128 or not value.isprintable() or value != value.strip():
        raise InvalidInput(
            "A webhook secret has 16-128 printable characters without surrounding spaces; "
            "omit it to let Steward generate one.",
            field="secret",
        )
    return value


def body(delivery_id: str, event: str, audit_event: Any) -> str:
    """The JSON a subscriber receives (``audit_event`` is a sealed AuditEvent)."""
    return json.dumps(
        {
            "id": delivery_id,
            "event": event,
            "occurred_at": audit_event.time,
            "actor": audit_event.actor,
            "subject": {"type": audit_event.subject_type, "id": audit_event.subject_id},
            "audit": {
                "seq": audit_event.seq,
                "action": audit_event.action,
                "hash": audit_event.hash,
            },
            "data": json.loads(audit_event.payload),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def sign(secret: str, timestamp: int, payload: str) -> str:
    """The ``Steward-Signature`` header value for ``payload`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str, header: str, payload: str, now: int, tolerance: int = SIGNATURE_TOLERANCE_SECONDS
) -> bool:
    """What a receiver does (docs/governance.md shows the same in a dozen lines)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, payload).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def backoff(attempt: int, base: timedelta = BACKOFF_BASE) -> timedelta:
    """Wait before attempt ``attempt + 1``: base, 2·base, 4·base, … capped at an hour."""
    return doubling(max(attempt - 1, 0), base, BACKOFF_CAP)
