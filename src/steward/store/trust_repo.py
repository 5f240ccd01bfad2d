"""Signing keys, signatures, deploy records, webhooks and the webhook outbox."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from steward.domain import webhooks as hooks
from steward.domain.audit import AuditEvent
from steward.domain.checkpoint import leaf_index
from steward.domain.lifecycle import Stage
from steward.domain.trust import Deployment, DeployStatus, SignatureRecord, SigningKeyInfo
from steward.domain.webhooks import DeliveryAttempt, DeliveryStatus, Webhook, WebhookDelivery
from steward.store import tables as t
from steward.store.versions_repo import new_id

_s = t.signatures.c
_d = t.deployments.c
_h = t.webhooks.c
_q = t.webhook_deliveries.c
_a = t.webhook_attempts.c
_m = t.models.c
_v = t.model_versions.c

_SIGNATURES = select(
    *t.signatures.c, _m.name.label("model_name"), _v.version.label("version_no")
).select_from(
    t.signatures.join(t.model_versions, _v.id == _s.version_id).join(t.models, _m.id == _v.model_id)
)
_DEPLOYMENTS = select(
    *t.deployments.c, _m.name.label("model_name"), _v.version.label("version_no")
).select_from(
    t.deployments.join(t.models, _m.id == _d.model_id).outerjoin(
        t.model_versions, _v.id == _d.version_id
    )
)
# Built once: the outbox asks this at most once per write transaction.
_ACTIVE_SUBSCRIPTIONS = select(_h.id, _h.events).where(_h.active.is_(True))
_ENQUEUE = insert(t.webhook_deliveries)
_VERSIONS_OF_MODEL = select(_v.version, _v.stage, _v.artifact_sha256).where(
    _v.model_id == bindparam("model_id")
)


def _signature(row: RowMapping) -> SignatureRecord:
    return SignatureRecord(
        id=int(row["id"]),
        model=row["model_name"],
        version=int(row["version_no"]),
        key_id=row["key_id"],
        artifact_sha256=row["artifact_sha256"],
        manifest=dict(row["manifest"]),
        manifest_sha256=row["manifest_sha256"],
        manifest_signature_sha256=row["manifest_signature_sha256"],
        model_signature_sha256=row["model_signature_sha256"],
        signed_by=row["signed_by"],
        signed_at=row["signed_at"],
        audit_seq=int(row["audit_seq"]),
        leaf_index=leaf_index(int(row["audit_seq"])),
    )


def _deployment(row: RowMapping) -> Deployment:
    return Deployment(
        id=int(row["id"]),
        model=row["model_name"],
        version=None if row["version_no"] is None else int(row["version_no"]),
        environment=row["environment"],
        artifact_sha256=row["artifact_sha256"],
        status=DeployStatus(row["status"]),
        reason=row["reason"],
        signed=bool(row["signed"]),
        details=dict(row["details"]),
        finding_id=row["finding_id"],
        reported_by=row["reported_by"],
        reported_at=row["reported_at"],
        audit_seq=int(row["audit_seq"]),
        leaf_index=leaf_index(int(row["audit_seq"])),
    )


def _webhook(row: RowMapping) -> Webhook:
    return Webhook(
        id=row["id"],
        url=row["url"],
        events=list(row["events"]),
        description=row["description"],
        active=bool(row["active"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        deleted_at=row["deleted_at"],
    )


class SigningRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def ensure_key(self, key: SigningKeyInfo, now: datetime) -> None:
        k = t.signing_keys.c
        if self.conn.execute(select(k.key_id).where(k.key_id == key.key_id)).first():
            return
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(t.signing_keys).values(
                        key_id=key.key_id,
                        algorithm=key.algorithm,
                        public_key=key.public_key,
                        first_used_at=now,
                    )
                )
        except IntegrityError:  # a concurrent signer registered it first
            pass

    def public_key(self, key_id: str) -> str | None:
        k = t.signing_keys.c
        found = self.conn.execute(select(k.public_key).where(k.key_id == key_id)).scalar()
        return None if found is None else str(found)

    def insert(self, values: dict[str, Any]) -> int:
        return new_id(self.conn.execute(insert(t.signatures).values(**values)))

    def for_version(self, version_id: int) -> list[SignatureRecord]:
        rows = self.conn.execute(
            _SIGNATURES.where(_s.version_id == version_id).order_by(_s.id.desc())
        ).mappings()
        return [_signature(r) for r in rows]

    def signed_artifact(self, version_id: int, sha256: str) -> bool:
        found = self.conn.execute(
            select(_s.id).where(_s.version_id == version_id, _s.artifact_sha256 == sha256).limit(1)
        ).first()
        return found is not None


class DeploymentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def versions_of(self, model_id: int) -> list[tuple[int, Stage, str]]:
        rows = self.conn.execute(_VERSIONS_OF_MODEL, {"model_id": model_id})
        return [(int(no), Stage(stage), str(sha)) for no, stage, sha in rows]

    def insert(self, values: dict[str, Any]) -> int:
        return new_id(self.conn.execute(insert(t.deployments).values(**values)))

    def get(self, deployment_id: int) -> Deployment:
        row = self.conn.execute(_DEPLOYMENTS.where(_d.id == deployment_id)).mappings().one()
        return _deployment(row)

    def search(
        self,
        *,
        model_id: int | None,
        environment: str | None,
        status: str | None,
        limit: int,
    ) -> list[Deployment]:
        query = _DEPLOYMENTS
        if model_id is not None:
            query = query.where(_d.model_id == model_id)
        if environment is not None:
            query = query.where(_d.environment == environment)
        if status is not None:
            query = query.where(_d.status == status)
        rows = self.conn.execute(query.order_by(_d.id.desc()).limit(limit)).mappings()
        return [_deployment(r) for r in rows]


class WebhookRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(t.webhooks).values(**values))

    def get(self, webhook_id: str) -> Webhook | None:
        row = self.conn.execute(select(t.webhooks).where(_h.id == webhook_id)).mappings().first()
        return None if row is None else _webhook(row)

    def all(self, include_deleted: bool = False) -> list[Webhook]:
        query = select(t.webhooks)
        if not include_deleted:
            query = query.where(_h.active.is_(True))
        rows = self.conn.execute(query.order_by(_h.created_at, _h.id)).mappings()
        return [_webhook(r) for r in rows]

    def deactivate(self, webhook_id: str, by: str, now: datetime) -> int:
        """Soft delete (the delivery log stays); cancel what was still queued."""
        self.conn.execute(
            update(t.webhooks)
            .where(_h.id == webhook_id)
            .values(active=False, deleted_by=by, deleted_at=now)
        )
        cancelled = self.conn.execute(
            update(t.webhook_deliveries)
            .where(_q.webhook_id == webhook_id, _q.status == DeliveryStatus.PENDING.value)
            .values(status=DeliveryStatus.CANCELLED.value, next_attempt_at=None)
        )
        return int(cancelled.rowcount or 0)

    # -- deliveries ----------------------------------------------------------------
    def deliveries(
        self, webhook_id: str | None, status: str | None, limit: int
    ) -> list[WebhookDelivery]:
        query = select(t.webhook_deliveries)
        if webhook_id is not None:
            query = query.where(_q.webhook_id == webhook_id)
        if status is not None:
            query = query.where(_q.status == status)
        rows = list(
            self.conn.execute(
                query.order_by(_q.created_at.desc(), _q.id.desc()).limit(limit)
            ).mappings()
        )
        logs: dict[str, list[DeliveryAttempt]] = {r["id"]: [] for r in rows}
        if logs:
            for a in self.conn.execute(
                select(t.webhook_attempts)
                .where(_a.delivery_id.in_(list(logs)))
                .order_by(_a.delivery_id, _a.attempt)
            ).mappings():
                logs[a["delivery_id"]].append(
                    DeliveryAttempt(
                        attempt=int(a["attempt"]),
                        at=a["at"],
                        status_code=a["status_code"],
                        error=a["error"],
                        duration_ms=int(a["duration_ms"]),
                    )
                )
        return [
            WebhookDelivery(
                id=r["id"],
                webhook_id=r["webhook_id"],
                event=r["event"],
                audit_seq=int(r["audit_seq"]),
                status=DeliveryStatus(r["status"]),
                attempts=int(r["attempts"]),
                next_attempt_at=r["next_attempt_at"],
                last_status_code=r["last_status_code"],
                last_error=r["last_error"],
                created_at=r["created_at"],
                delivered_at=r["delivered_at"],
                log=logs[r["id"]],
            )
            for r in rows
        ]

    def any_due(self, now: datetime) -> bool:
        """A read-only probe, so an idle worker never takes the writer lock."""
        found = self.conn.execute(
            select(_q.id)
            .where(_q.status == DeliveryStatus.PENDING.value, _q.next_attempt_at <= now)
            .limit(1)
        ).first()
        return found is not None

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[RowMapping]:
        """Take due deliveries for this worker: other workers skip them until the lease ends.

        The claim pushes ``next_attempt_at`` to the lease end, so a worker that dies
        mid-send leaves the delivery to be retried, never lost.
        """
        query = (
            select(
                _q.id,
                _q.webhook_id,
                _q.event,
                _q.body,
                _q.attempts,
                _h.url,
                _h.secret,
            )
            .select_from(t.webhook_deliveries.join(t.webhooks, _h.id == _q.webhook_id))
            .where(_q.status == DeliveryStatus.PENDING.value, _q.next_attempt_at <= now)
            .order_by(_q.next_attempt_at, _q.id)
            .limit(limit)
        )
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=t.webhook_deliveries)
        rows = list(self.conn.execute(query).mappings())
        if rows:
            self.conn.execute(
                update(t.webhook_deliveries)
                .where(_q.id.in_([r["id"] for r in rows]))
                .values(next_attempt_at=lease_until, attempts=_q.attempts + 1)
            )
        return rows

    def finish_attempt(
        self,
        delivery_id: str,
        attempt: int,
        *,
        at: datetime,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> None:
        self.conn.execute(
            insert(t.webhook_attempts).values(
                delivery_id=delivery_id,
                attempt=attempt,
                at=at,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
            )
        )
        self.conn.execute(
            update(t.webhook_deliveries)
            # A subscription deleted while this was in flight stays cancelled.
            .where(_q.id == delivery_id, _q.status == DeliveryStatus.PENDING.value)
            .values(
                status=status.value,
                next_attempt_at=next_attempt_at,
                last_status_code=status_code,
                last_error=error,
                delivered_at=at if status is DeliveryStatus.DELIVERED else None,
            )
        )


class WebhookOutbox:
    """Queues webhook deliveries for journal events, inside the writing transaction.

    Subscriptions are read at most once per unit of work, and only when an event
    that has a webhook name is recorded: a transaction that records nothing
    webhook-worthy, or a store without subscriptions, pays one empty indexed
    lookup at most. Reading them in the writer's own transaction (never from a
    process-wide cache) means a subscription created by another process is seen
    by the very next transaction, so no event after it is missed.
    """

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self._subscriptions: list[tuple[str, list[str]]] | None = None

    def enqueue(self, event: AuditEvent) -> int:
        name = hooks.event_for(event.action)
        if name is None:
            return 0
        if self._subscriptions is None:
            self._subscriptions = [
                (str(i), list(e)) for i, e in self.conn.execute(_ACTIVE_SUBSCRIPTIONS)
            ]
        rows = []
        for webhook_id, events in self._subscriptions:
            if hooks.matches(events, name):
                delivery_id = "dlv_" + secrets.token_hex(12)
                rows.append(
                    {
                        "id": delivery_id,
                        "webhook_id": webhook_id,
                        "event": name,
                        "audit_seq": event.seq,
                        "body": hooks.body(delivery_id, name, event),
                        "status": DeliveryStatus.PENDING.value,
                        "attempts": 0,
                        "next_attempt_at": self.now,
                        "last_status_code": None,
                        "last_error": None,
                        "created_at": self.now,
                        "delivered_at": None,
                    }
                )
        if rows:
            self.conn.execute(_ENQUEUE, rows)
        return len(rows)

    def forget(self) -> None:
        """Subscriptions changed in this transaction: read them again next time."""
        self._subscriptions = None
