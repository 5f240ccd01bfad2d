"""Request ids, one structured log line per request, and Prometheus metrics.

Every response carries ``X-Request-ID`` (the caller's, when it is a sane token,
so a proxy's id follows the request through; else a new one). The access log
names the route *template* and the acting user, never the raw path or body:
model names and query strings stay out of logs and out of metric labels, which
also keeps label cardinality bounded whatever a client sends.

With several API processes (``steward server --workers N``) each process writes
its counters to ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` sums them, so a
scrape that lands on any process sees the whole server.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from steward import __version__
from steward.domain.permissions import Principal
from steward.services import health, schema
from steward.services.context import Context

access_log = logging.getLogger("steward.access")

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
REQUESTS = Counter(
    "steward_http_requests",
    "HTTP requests answered, by route template and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "steward_http_request_duration_seconds",
    "Time to answer a request, by route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
IN_FLIGHT = Gauge(
    "steward_http_requests_in_progress",
    "Requests being answered now.",
    multiprocess_mode="livesum",
)


class Observe:
    """Outermost ASGI middleware: id, timing, metrics and the access log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _SANE_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500  # what an exception before the response start amounts to
        started = time.perf_counter()

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, tagged)
        finally:
            IN_FLIGHT.dec()
            elapsed = time.perf_counter() - started
            route = _route(scope)
            method = str(scope.get("method", ""))
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            who: Principal | None = scope.get("state", {}).get("steward_principal")
            access_log.info(
                "%s %s %s",
                method,
                route,
                status,
                extra={
                    "request_id": request_id,
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "user": None if who is None else who.name,
                },
            )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    # Unmatched paths (404 scans) share one label rather than minting one per URL.
    return str(path) if path else "unmatched"


class _StoreGauges(Collector):
    """Numbers read from the store when Prometheus scrapes (the same from every process)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Any:
        info = GaugeMetricFamily(
            "steward_build_info", "This Steward's version and schema.", labels=["version", "schema"]
        )
        info.add_metric([__version__, schema.head()], 1)
        yield info
        seen = health.activity(self.ctx)
        yield GaugeMetricFamily(
            "steward_journal_events", "Events in the audit journal.", value=seen.journal_events
        )
        deliveries = GaugeMetricFamily(
            "steward_webhook_deliveries",
            "Webhook outbox rows by status (pending is the queue, failed gave up).",
            labels=["status"],
        )
        for status in ("pending", "delivered", "failed", "cancelled"):
            deliveries.add_metric([status], seen.deliveries.get(status, 0))
        yield deliveries
        yield GaugeMetricFamily(
            "steward_monitor_runs", "Monitor runs recorded.", value=seen.monitor_runs
        )
        alerts = GaugeMetricFamily(
            "steward_monitor_alerts_open", "Open monitor alerts by severity.", labels=["severity"]
        )
        for severity, count in sorted(seen.open_alerts.items()):
            alerts.add_metric([severity], count)
        yield alerts


def exposition(ctx: Context) -> tuple[bytes, str]:
    """The /metrics body: this process's (or every process's) counters plus the store's gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
        counters = generate_latest(processes)
    else:
        counters = generate_latest(REGISTRY)  # with the process CPU and memory collectors
    store = CollectorRegistry()
    store.register(_StoreGauges(ctx))
    return counters + generate_latest(store), CONTENT_TYPE_LATEST


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log shippers (Loki, ELK, CloudWatch) parse as-is."""

    FIELDS = ("request_id", "method", "route", "status", "duration_ms", "user")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(fmt: str, level: str = "info") -> None:
    """Route Steward's loggers to stderr as text or JSON lines (``STEWARD_LOG_FORMAT``)."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger("steward")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
