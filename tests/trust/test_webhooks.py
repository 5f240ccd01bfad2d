"""Webhooks: the transactional outbox, signed delivery to a real receiver, retries, log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import Clock
from tests.trust.receiver import Receiver, receiver

from steward import bootstrap
from steward.domain import webhooks as hooks
from steward.domain.audit import Action, AuditFilter
from steward.domain.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from steward.domain.permissions import Principal
from steward.domain.specs import VersionSpec
from steward.services import lifecycle, models, versions, webhooks
from steward.services.context import Context
from steward.settings import Settings
from steward.webhooks.deliver import HttpSender, deliver_now

SECRET = "s3cret-for-the-receiver-0123"


@pytest.fixture
def cctx(settings: Settings, clock: Clock) -> Iterator[Context]:
    """A context on a clock the test moves (for backoff)."""
    context = bootstrap.build(settings, migrate=True, clock=clock)
    yield context
    context.uow.engine.dispose()


@pytest.fixture
def rx(clock: Clock) -> Iterator[Receiver]:
    with receiver(now=lambda: clock.now.timestamp()) as found:
        found.secret = SECRET
        yield found


def _version(ctx: Context, who: Principal, tmp_path: Path, name: str = "credit") -> int:
    models.create_model(ctx, who, name)
    path = tmp_path / f"{name}.bin"
    path.write_bytes(b"weights of " + name.encode())
    from steward.artifacts.store import sha256_file

    digest, _size = sha256_file(path)
    return versions.create_version(
        ctx, who, name, VersionSpec(filename=path.name), path, sha256=digest
    ).version


def queued_body(ctx: Context, delivery_id: str) -> str:
    from sqlalchemy import select

    from steward.store import tables as t

    with ctx.uow.read() as uow:
        q = t.webhook_deliveries.c
        return str(uow.conn.execute(select(q.body).where(q.id == delivery_id)).scalar_one())


def _journal(ctx: Context, action: Action) -> list[object]:
    with ctx.uow.read() as uow:
        return list(uow.audit.stream(AuditFilter(actions=(action.value,))))


def test_events_reach_a_real_receiver_with_a_valid_signature(
    cctx: Context, alice: Principal, rx: Receiver, tmp_path: Path
) -> None:
    hook = webhooks.create_webhook(
        cctx, alice, url=rx.url, events=["transition.applied"], secret=SECRET
    )
    assert hook.secret == SECRET and hook.webhook.events == ["transition.applied"]
    version = _version(cctx, alice, tmp_path)
    lifecycle.transition(cctx, alice, "credit", version, "validation", "ready for review")

    report = deliver_now(cctx)
    assert report == hooks.DeliveryReport(1, 1, 0, 0)
    [got] = rx.wait_for(1)
    assert got.valid, got.signature
    assert got.event == "transition.applied"
    body = got.json()
    assert body["id"] == got.delivery
    assert body["event"] == "transition.applied"
    assert body["data"]["to"] == "validation" and body["data"]["model"] == "credit"
    [event] = _journal(cctx, Action.VERSION_TRANSITIONED)
    assert body["audit"] == {"seq": event.seq, "action": "version.transitioned", "hash": event.hash}  # type: ignore[attr-defined]
    # a tampered body or another secret does not verify
    assert not hooks.verify_signature(SECRET, got.signature, got.body + " ", int(rx.now()))
    assert not hooks.verify_signature(
        "another-secret-xxxxxxx", got.signature, got.body, int(rx.now())
    )

    [logged] = webhooks.list_deliveries(cctx, alice, hook.webhook.id)
    assert logged.status is hooks.DeliveryStatus.DELIVERED
    assert (logged.attempts, logged.last_status_code, logged.last_error) == (1, 200, None)
    assert [a.status_code for a in logged.log] == [200]
    assert deliver_now(cctx).attempted == 0  # nothing is sent twice


def test_secrets_are_sealed_at_rest_with_a_key_outside_the_database(
    cctx: Context, alice: Principal, rx: Receiver, tmp_path: Path
) -> None:
    from sqlalchemy import select, update

    from steward.store import tables as t

    hook = webhooks.create_webhook(cctx, alice, url=rx.url, events=["*"], secret=SECRET)
    with cctx.uow.read() as uow:
        stored = uow.conn.execute(
            select(t.webhooks.c.secret).where(t.webhooks.c.id == hook.webhook.id)
        ).scalar_one()
    assert SECRET not in stored and stored.startswith("fernet:")
    key = cctx.settings.secrets_key_path
    assert key.exists() and key.stat().st_mode & 0o077 == 0  # owner-only, like the signing key
    # Deliveries are still signed with the clear secret.
    version = _version(cctx, alice, tmp_path)
    lifecycle.transition(cctx, alice, "credit", version, "validation", "go")
    assert deliver_now(cctx).delivered == 1
    [got] = rx.wait_for(1)
    assert hooks.verify_signature(SECRET, got.signature, got.body, int(rx.now()))
    # A secret written before sealing (no prefix) is still used as it is.
    with cctx.uow.write() as uow:
        uow.conn.execute(
            update(t.webhooks).where(t.webhooks.c.id == hook.webhook.id).values(secret=SECRET)
        )
        uow.commit()
    lifecycle.transition(cctx, alice, "credit", version, "development", "back")
    assert deliver_now(cctx).delivered == 1
    assert all(r.valid for r in rx.wait_for(2))


def test_a_wrong_secrets_key_is_explained(tmp_path: Path) -> None:
    from steward.domain.errors import StewardError
    from steward.trust import secretbox

    sealed = secretbox.load_or_create(tmp_path / "a.key").seal(SECRET)
    with pytest.raises(StewardError, match="STEWARD_SECRETS_KEY"):
        secretbox.load_or_create(tmp_path / "b.key").open(sealed)
    (tmp_path / "bad.key").write_text("not a key")
    with pytest.raises(StewardError, match="Fernet key"):
        secretbox.load_or_create(tmp_path / "bad.key")


def test_filters_choose_events_and_star_takes_all(
    cctx: Context, alice: Principal, rx: Receiver, tmp_path: Path
) -> None:
    only_deploys = webhooks.create_webhook(cctx, alice, url=rx.url, events=["deploy.mismatch"])
    everything = webhooks.create_webhook(cctx, alice, url=rx.url, events=["*"])
    version = _version(cctx, alice, tmp_path)
    lifecycle.transition(cctx, alice, "credit", version, "validation", "go")
    assert webhooks.list_deliveries(cctx, alice, only_deploys.webhook.id) == []
    [queued] = webhooks.list_deliveries(cctx, alice, everything.webhook.id)
    assert queued.event == "transition.applied" and queued.status is hooks.DeliveryStatus.PENDING
    # model.created / version.created have no webhook name: nothing else was queued
    with cctx.uow.read() as uow:
        assert len(uow.webhooks.deliveries(None, None, 100)) == 1


def test_a_rolled_back_change_sends_nothing(
    cctx: Context, alice: Principal, rx: Receiver, tmp_path: Path
) -> None:
    hook = webhooks.create_webhook(cctx, alice, url=rx.url, events=["*"])
    version = _version(cctx, alice, tmp_path)
    with cctx.uow.write() as uow:
        uow.record("alice", Action.VERSION_TRANSITIONED, "version", "credit/1", {"to": "x"})
        assert len(uow.webhooks.deliveries(hook.webhook.id, None, 10)) == 1  # queued with it
        # leaving without commit rolls the event and its delivery back together
    with pytest.raises(IllegalTransition):
        lifecycle.transition(cctx, alice, "credit", version, "production", "skip the line")
    assert webhooks.list_deliveries(cctx, alice, hook.webhook.id) == []
    assert deliver_now(cctx).attempted == 0
    assert rx.received == []


def test_a_subscription_made_by_another_process_is_seen_at_once(
    settings: Settings, alice: Principal, rx: Receiver, tmp_path: Path
) -> None:
    first = bootstrap.build(settings, migrate=True)
    second = bootstrap.build(settings)  # its own engine, as another server worker would have
    try:
        version = _version(second, alice, tmp_path)
        lifecycle.transition(second, alice, "credit", version, "validation", "before")
        hook = webhooks.create_webhook(first, alice, url=rx.url, events=["*"])
        lifecycle.transition(second, alice, "credit", version, "approved", "after")
        # only the move after the subscription is queued, by the other engine
        [queued] = webhooks.list_deliveries(first, alice, hook.webhook.id)
        assert queued.event == "transition.applied"
        assert json.loads(queued_body(first, queued.id))["data"]["to"] == "approved"
    finally:
        first.uow.engine.dispose()
        second.uow.engine.dispose()


def test_failed_attempts_are_retried_with_backoff_and_logged(
    cctx: Context, alice: Principal, rx: Receiver, clock: Clock, tmp_path: Path
) -> None:
    hook = webhooks.create_webhook(cctx, alice, url=rx.url, events=["*"], secret=SECRET)
    version = _version(cctx, alice, tmp_path)
    lifecycle.transition(cctx, alice, "credit", version, "validation", "go")
    rx.replies = [500, 503]
    sender = HttpSender()
    try:
        assert webhooks.deliver_due(cctx, sender) == hooks.DeliveryReport(1, 0, 1, 0)
        assert webhooks.deliver_due(cctx, sender).attempted == 0  # not due for 10 s
        clock.advance(seconds=9)
        assert webhooks.deliver_due(cctx, sender).attempted == 0
        clock.advance(seconds=1.5)
        assert webhooks.deliver_due(cctx, sender) == hooks.DeliveryReport(1, 0, 1, 0)
        clock.advance(seconds=15)
        assert webhooks.deliver_due(cctx, sender).attempted == 0  # second wait is 20 s
        clock.advance(seconds=6)
        assert webhooks.deliver_due(cctx, sender) == hooks.DeliveryReport(1, 1, 0, 0)
    finally:
        sender.close()
    got = rx.wait_for(3)
    assert all(r.valid for r in got)
    assert len({r.delivery for r in got}) == 1  # the same delivery, the same body
    assert len({r.body for r in got}) == 1
    [logged] = webhooks.list_deliveries(cctx, alice, hook.webhook.id)
    assert logged.status is hooks.DeliveryStatus.DELIVERED and logged.attempts == 3
    assert [(a.attempt, a.status_code) for a in logged.log] == [(1, 500), (2, 503), (3, 200)]
    assert "HTTP 500" in (logged.log[0].error or "") and logged.log[2].error is None


def test_an_unreachable_receiver_fails_for_good_after_the_last_attempt(
    cctx: Context, alice: Principal, clock: Clock, tmp_path: Path
) -> None:
    from tests.conftest import free_port

    hook = webhooks.create_webhook(
        cctx, alice, url=f"http://127.0.0.1:{free_port()}/nobody", events=["*"]
    )
    version = _version(cctx, alice, tmp_path)
    lifecycle.transition(cctx, alice, "credit", version, "validation", "go")
    sender = HttpSender()
    try:
        for attempt in range(1, hooks.MAX_ATTEMPTS + 1):
            report = webhooks.deliver_due(cctx, sender)
            assert report.attempted == 1, attempt
            clock.advance(hours=2)
    finally:
        sender.close()
    assert report == hooks.DeliveryReport(1, 0, 0, 1)
    [logged] = webhooks.list_deliveries(cctx, alice, hook.webhook.id)
    assert logged.status is hooks.DeliveryStatus.FAILED
    assert logged.attempts == hooks.MAX_ATTEMPTS and logged.next_attempt_at is None
    assert "ConnectError" in (logged.last_error or "")
    assert webhooks.list_deliveries(cctx, alice, hook.webhook.id, status="failed") == [logged]
    assert webhooks.deliver_due(cctx, HttpSender()).attempted == 0


def test_deleting_a_webhook_cancels_what_is_queued_and_stops_new_events(
    cctx: Context, alice: Principal, rx: Receiver, tmp_path: Path
) -> None:
    hook = webhooks.create_webhook(cctx, alice, url=rx.url, events=["*"])
    version = _version(cctx, alice, tmp_path)
    lifecycle.transition(cctx, alice, "credit", version, "validation", "go")
    deleted = webhooks.delete_webhook(cctx, alice, hook.webhook.id)
    assert not deleted.active and deleted.deleted_at is not None
    lifecycle.transition(cctx, alice, "credit", version, "approved", "go")
    [cancelled] = webhooks.list_deliveries(cctx, alice, hook.webhook.id)
    assert cancelled.status is hooks.DeliveryStatus.CANCELLED
    assert deliver_now(cctx).attempted == 0 and rx.received == []
    assert webhooks.list_webhooks(cctx, alice) == []
    assert webhooks.list_webhooks(cctx, alice, include_deleted=True) == [deleted]
    [event] = _journal(cctx, Action.WEBHOOK_DELETED)
    assert json.loads(event.payload)["cancelled_deliveries"] == 1  # type: ignore[attr-defined]
    assert webhooks.delete_webhook(cctx, alice, hook.webhook.id) == deleted  # idempotent
    assert len(_journal(cctx, Action.WEBHOOK_DELETED)) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "ftp://example.com/x", "events": ["*"]}, "must be an absolute http"),
        ({"url": "https://u:p@example.com/x", "events": ["*"]}, "no credentials"),
        ({"url": "https://example.com/x", "events": []}, "Choose the events"),
        ({"url": "https://example.com/x", "events": ["gate.passed"]}, "Unknown webhook event"),
        ({"url": "https://example.com/x", "events": ["*"], "secret": "short"}, "16-128"),
    ],
)
def test_bad_subscriptions_are_refused_and_nothing_is_written(
    cctx: Context, alice: Principal, fields: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        webhooks.create_webhook(cctx, alice, **fields)  # type: ignore[arg-type]
    assert webhooks.list_webhooks(cctx, alice, include_deleted=True) == []
    assert _journal(cctx, Action.WEBHOOK_CREATED) == []


def test_only_webhook_managers_may_touch_webhooks(cctx: Context, alice: Principal) -> None:
    auditor = Principal(name="audrey", roles=frozenset({"auditor"}))
    with pytest.raises(Forbidden):
        webhooks.create_webhook(cctx, auditor, url="https://example.com/x", events=["*"])
    with pytest.raises(Forbidden):
        webhooks.list_webhooks(cctx, auditor)
    with pytest.raises(Forbidden):
        webhooks.deliver(cctx, auditor, HttpSender())
    with pytest.raises(NotFound, match="steward webhook list"):
        webhooks.delete_webhook(cctx, alice, "wh_missing")
    with pytest.raises(InvalidInput, match="Unknown delivery status"):
        webhooks.list_deliveries(cctx, alice, status="lost")


def test_signature_helpers() -> None:
    header = hooks.sign("k" * 20, 1_700_000_000, '{"a":1}')
    assert header.startswith("t=1700000000,v1=")
    assert hooks.verify_signature("k" * 20, header, '{"a":1}', 1_700_000_100)
    assert not hooks.verify_signature("k" * 20, header, '{"a":1}', 1_700_000_000 + 301)  # stale
    assert not hooks.verify_signature("k" * 20, "v1=abc", '{"a":1}', 1_700_000_000)
    assert [hooks.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert hooks.backoff(30).total_seconds() == 3600
    assert hooks.event_for("approval.given") == hooks.event_for("approval.rejected")
    assert hooks.event_for("model.created") is None
