"""Shared fixtures: real stores on SQLite and PostgreSQL, a live server, a moto S3 server.

Every store-level fixture is parametrised over both databases. PostgreSQL is
expected at 127.0.0.1:5432 (user postgres, trust auth) — each test gets its own
freshly created database, dropped afterwards. Set STEWARD_TEST_POSTGRES_URL to
point elsewhere; set STEWARD_TEST_SKIP_POSTGRES=1 only on a machine without it.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from steward import bootstrap
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services.context import Context
from steward.settings import Settings

PG_ADMIN_URL = os.environ.get(
    "STEWARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SKIP_PG = os.environ.get("STEWARD_TEST_SKIP_POSTGRES") == "1"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# Tests run their webhook receivers and servers on this machine: allow loopback, which a
# real deployment must list explicitly (STEWARD_OUTBOUND_ALLOW; steward.domain.outbound).
TEST_OUTBOUND_ALLOW = ("127.0.0.1", "::1", "localhost", "example.com", "*.example.com")
os.environ.setdefault("STEWARD_OUTBOUND_ALLOW", ",".join(TEST_OUTBOUND_ALLOW))


def _pg_admin(statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every test that touches the store runs on SQLite and on PostgreSQL."""
    kind = request.param
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'steward.db'}"
        return
    if SKIP_PG:
        pytest.skip("STEWARD_TEST_SKIP_POSTGRES=1")
    name = f"steward_test_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Clock:
    """A controllable clock: tests move time forward explicitly."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self.now += timedelta(microseconds=1)
            return self.now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self.now += timedelta(**delta)
            return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        home=tmp_path,
        database_url=database_url,
        artifacts_url=str(tmp_path / "artifacts"),
        outbound_allow=TEST_OUTBOUND_ALLOW,
    )


@pytest.fixture
def ctx(settings: Settings) -> Iterator[Context]:
    context = bootstrap.build(settings, migrate=True)
    yield context
    context.uow.engine.dispose()


@pytest.fixture
def alice() -> Principal:
    return Principal(name="alice", roles=frozenset({OPERATOR}))


@pytest.fixture
def local(ctx: Context) -> Steward:
    return Steward(LocalBackend(ctx, "alice"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The real ASGI app under uvicorn in a thread, on a free loopback port."""

    def __init__(self, ctx: Context) -> None:
        import uvicorn

        from steward.api.app import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(ctx), host="127.0.0.1", port=self.port, log_level="error"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(ctx: Context) -> Iterator[LiveServer]:
    with LiveServer(ctx) as server:
        yield server


@pytest.fixture
def token(ctx: Context) -> str:
    from steward.services import tokens

    operator = Principal(name="admin", roles=frozenset({OPERATOR}))
    ensure_user(ctx, "alice", "admin")
    return tokens.create_token(ctx, operator, user="alice", name="tests").token


def ensure_user(ctx: Context, name: str, *roles: str, teams: tuple[str, ...] = ()) -> None:
    """Create a user with these roles (and existing teams) unless they exist already."""
    from steward.services import identity

    operator = Principal(name="admin", roles=frozenset({OPERATOR}))
    with ctx.uow.read() as uow:
        exists = uow.users.get(name) is not None
    if not exists:
        identity.create_user(ctx, operator, name, roles=roles, teams=teams)


@pytest.fixture
def remote(live_server: LiveServer, token: str) -> Iterator[Steward]:
    import steward

    client = steward.connect(live_server.url, token=token)
    yield client
    client.close()


@pytest.fixture(params=["local", "remote"])
def client(request: pytest.FixtureRequest, ctx: Context) -> Steward:
    """The SDK, embedded and over HTTP: tests using it must pass with both."""
    found: Steward = request.getfixturevalue(request.param)
    return found


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A moto S3 server on loopback; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def make_file(tmp_path: Path) -> Callable[[bytes, str], Path]:
    def make(data: bytes, name: str = "model.bin") -> Path:
        path = tmp_path / f"{uuid.uuid4().hex[:8]}-{name}"
        path.write_bytes(data)
        return path

    return make
