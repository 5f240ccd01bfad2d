"""Post queued webhook deliveries with httpx; a background worker for the server.

Each request carries ``Content-Type: application/json``, ``Steward-Event``,
``Steward-Delivery`` (the delivery id: receivers use it to drop duplicates, since
delivery is at-least-once) and ``Steward-Signature: t=<unix>,v1=<hex>`` where the
hex is HMAC-SHA256 of ``"<t>.<body>"`` with the webhook's secret.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx

from steward import __version__
from steward.domain import webhooks as hooks
from steward.domain.webhooks import DeliveryReport
from steward.services import webhooks
from steward.services.context import Context
from steward.services.webhooks import Outgoing

log = logging.getLogger("steward.webhooks")
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def headers(outgoing: Outgoing, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": f"Steward-Webhooks/{__version__}",
        "Steward-Event": outgoing.event,
        "Steward-Delivery": outgoing.delivery_id,
        "Steward-Signature": hooks.sign(outgoing.secret, timestamp, outgoing.body),
    }


class HttpSender:
    """The :class:`~steward.services.webhooks.Sender` that posts with httpx."""

    def __init__(self, client: httpx.Client | None = None) -> None:
        self._client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)

    def __call__(self, outgoing: Outgoing, timestamp: int) -> tuple[int | None, str | None]:
        try:
            response = self._client.post(
                outgoing.url,
                content=outgoing.body.encode(),
                headers=headers(outgoing, timestamp),
            )
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:1000]
        if response.is_success:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}: {response.text[:300]}"

    def close(self) -> None:
        self._client.close()


def deliver_now(ctx: Context, *, limit: int = 100) -> DeliveryReport:
    sender = HttpSender()
    try:
        return webhooks.deliver_due(ctx, sender, limit=limit)
    finally:
        sender.close()


class Worker:
    """Delivers due webhooks every ``interval`` seconds in a daemon thread.

    Several server processes may each run one: claims are leased (and taken with
    ``SKIP LOCKED`` on PostgreSQL), so a delivery is sent by one worker at a time.
    """

    def __init__(
        self,
        ctx: Context,
        *,
        interval: float = 1.0,
        backoff_base: timedelta = hooks.BACKOFF_BASE,
        sender: webhooks.Sender | None = None,
    ) -> None:
        self.ctx = ctx
        self.interval = interval
        self.backoff_base = backoff_base
        self._sender = sender
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="steward-webhooks", daemon=True)

    def start(self) -> Worker:
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        sender = self._sender or HttpSender()
        try:
            while not self._stop.is_set():
                try:
                    report = webhooks.deliver_due(self.ctx, sender, backoff_base=self.backoff_base)
                except Exception:  # the database may be briefly unavailable; try again
                    log.exception("webhook delivery pass failed")
                    report = DeliveryReport(0, 0, 0, 0)
                if report.attempted == 0:
                    self._wake.wait(self.interval)
                    self._wake.clear()
        finally:
            if isinstance(sender, HttpSender) and self._sender is None:
                sender.close()


def lifespan(ctx: Context) -> Callable[[Any], Any]:
    """A FastAPI/Starlette lifespan that runs the delivery worker while the server runs."""

    @asynccontextmanager
    async def run(_app: Any) -> AsyncIterator[None]:
        worker = Worker(ctx).start()
        try:
            yield
        finally:
            worker.stop()

    return run
