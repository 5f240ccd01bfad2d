"""Signed checkpoints published to a webhook: the transactional outbox carries the note to a
real HTTP receiver on loopback, a refused delivery is retried and shown in the log."""

from __future__ import annotations

from datetime import timedelta

from tests.trust.receiver import receiver

from steward.domain import checkpoint as cp
from steward.domain.permissions import Principal
from steward.domain.webhooks import DeliveryStatus
from steward.services import models, transparency, webhooks
from steward.services.context import Context
from steward.trust import log_key
from steward.webhooks.deliver import HttpSender

ADMIN = Principal("root", roles=frozenset({"admin"}))
AUDITOR = Principal("ada", roles=frozenset({"auditor"}))


def test_a_checkpoint_reaches_a_webhook_and_a_failed_delivery_is_retried(
    ctx: Context, alice: Principal
) -> None:
    for i in range(3):
        models.create_model(ctx, alice, f"m{i}", purpose="p")
    with receiver() as rx:
        made = webhooks.create_webhook(ctx, ADMIN, url=rx.url, events=["checkpoint.signed"])
        rx.secret = made.secret
        rx.replies = [503]  # the receiver is down for the first attempt
        stored = transparency.create_checkpoint(ctx, AUDITOR)

        # No back-off in the test: the retry is due at once (production waits 10 s, 20 s, …).
        first = webhooks.deliver_due(ctx, HttpSender(), backoff_base=timedelta(0))
        assert (first.attempted, first.delivered, first.retrying) == (1, 0, 1)
        (pending,) = webhooks.list_deliveries(ctx, ADMIN, made.webhook.id)
        assert pending.event == "checkpoint.signed" and pending.status is DeliveryStatus.PENDING
        assert pending.last_status_code == 503 and pending.next_attempt_at is not None

        second = webhooks.deliver_due(ctx, HttpSender())
        assert second.delivered == 1
        got = rx.wait_for(2)[-1]
    assert got.valid and got.event == "checkpoint.signed"
    data = got.json()["data"]
    # The receiver holds the signed note itself and can check it with the verifier key alone.
    assert data["checkpoint"] == stored.note and data["tree_size"] == stored.tree_size
    name, _kind, public = cp.parse_any_verifier_key(data["verifier_key"])
    assert log_key.signature_valid(data["checkpoint"], name, public)
    (done,) = webhooks.list_deliveries(ctx, ADMIN, made.webhook.id)
    assert done.status is DeliveryStatus.DELIVERED and [a.status_code for a in done.log] == [
        503,
        200,
    ]
