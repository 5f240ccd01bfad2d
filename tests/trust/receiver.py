"""A real HTTP webhook receiver on loopback that checks Steward's signature like a user would."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from steward.domain import webhooks as hooks


@dataclass
class Received:
    event: str
    delivery: str
    signature: str
    body: str
    valid: bool  # the HMAC checked out with the receiver's secret

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self, secret: str = "", now: Callable[[], float] = time.time) -> None:
        self.secret = secret
        self.now = now
        self.received: list[Received] = []
        self.replies: list[int] = []  # status codes to answer with, in order; then 200
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                header = self.headers.get("Steward-Signature", "")
                valid = hooks.verify_signature(outer.secret, header, body, int(outer.now()))
                with outer._lock:
                    outer.received.append(
                        Received(
                            self.headers.get("Steward-Event", ""),
                            self.headers.get("Steward-Delivery", ""),
                            header,
                            body,
                            valid,
                        )
                    )
                    code = outer.replies.pop(0) if outer.replies else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok" if code < 300 else b"receiver says no")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} deliveries, got {len(self.received)}")


@contextmanager
def receiver(now: Callable[[], float] = time.time) -> Iterator[Receiver]:
    rx = Receiver(now=now)
    thread = threading.Thread(target=rx.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rx
    finally:
        rx.server.shutdown()
        rx.server.server_close()
