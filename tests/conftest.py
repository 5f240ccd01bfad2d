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


class StoreTemplates:
    """A store migrated to head once per test process, copied for each test that wants one.

    Running every migration costs about 0.5 s on SQLite and 1-2 s on PostgreSQL; a copy of
    the migrated file (SQLite) or ``CREATE DATABASE ... TEMPLATE`` (PostgreSQL) costs a few
    milliseconds. The copy is the schema the migrations built, not a stand-in; the tests of
    the migrations themselves ask for an empty ``database_url`` and run them.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._sqlite: Path | None = None
        self._postgres: str | None = None
        self.copies: set[str] = set()  # the database URLs made from a template

    def _migrate(self, url: str) -> None:
        from steward.store import database

        engine = database.make_engine(url)
        try:
            database.migrate(engine)
        finally:
            engine.dispose()

    def sqlite(self, target: Path) -> None:
        import shutil

        if self._sqlite is None:
            path = self.root / "template.db"
            self._migrate(f"sqlite:///{path}")  # the last connection folds the WAL in
            self._sqlite = path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._sqlite, target)

    def postgres(self) -> str:
        """The name of a migrated template database on the test server."""
        if self._postgres is None:
            name = f"steward_tmpl_{uuid.uuid4().hex[:12]}"
            _pg_admin(f'CREATE DATABASE "{name}"')
            self._migrate(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
            self._postgres = name
        return self._postgres

    def close(self) -> None:
        if self._postgres is not None:
            _pg_admin(f'DROP DATABASE IF EXISTS "{self._postgres}" WITH (FORCE)')


@pytest.fixture(scope="session")
def store_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreTemplates]:
    templates = StoreTemplates(tmp_path_factory.mktemp("store-template"))
    try:
        yield templates
    finally:
        templates.close()


class DatabaseDropper:
    """Drops the tests' PostgreSQL databases behind them, several at a time.

    Each ``DROP DATABASE`` waits for a checkpoint (1-3 s on a busy machine); drops issued
    together share one, and in this thread none of them holds up the next test. The
    session waits for every drop at its end and fails loudly if one did not happen.
    """

    def __init__(self) -> None:
        import queue

        self.pending: queue.Queue[str | None] = queue.Queue()
        self.failures: list[str] = []
        self.thread = threading.Thread(target=self._run, name="drop-databases", daemon=True)
        self.thread.start()

    def drop(self, name: str) -> None:
        self.pending.put(name)

    def _drop(self, name: str) -> None:
        try:
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception as exc:  # reported at the end of the session
            self.failures.append(f"{name}: {exc}")

    def _run(self) -> None:
        import queue
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=8) as pool:
            while True:
                batch = [self.pending.get()]
                while True:
                    try:
                        batch.append(self.pending.get_nowait())
                    except queue.Empty:
                        break
                names = [name for name in batch if name is not None]
                list(pool.map(self._drop, names))
                if None in batch:
                    return

    def close(self) -> None:
        self.pending.put(None)
        self.thread.join()
        if self.failures:
            raise RuntimeError("test databases not dropped: " + "; ".join(self.failures))


@pytest.fixture(scope="session")
def database_dropper() -> Iterator[DatabaseDropper]:
    dropper = DatabaseDropper()
    try:
        yield dropper
    finally:
        dropper.close()


# Fixtures (here and in test modules) that build a context with ``migrate=True`` on the
# ``settings`` fixture's database: a test using one gets that database already migrated.
MIGRATING_FIXTURES = frozenset({"ctx", "timed", "clocked"})


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every test that touches the store runs on SQLite and on PostgreSQL.

    The database is empty, or, for tests using a fixture that migrates it before the test
    runs (MIGRATING_FIXTURES), a copy of one already migrated to head.
    """
    kind = request.param
    templates: StoreTemplates | None = None
    if MIGRATING_FIXTURES.intersection(request.fixturenames):
        templates = request.getfixturevalue("store_templates")
    if kind == "sqlite":
        path = tmp_path / "steward.db"
        url = f"sqlite:///{path}"
        if templates is not None:
            templates.sqlite(path)
            templates.copies.add(url)
        yield url
        return
    if SKIP_PG:
        pytest.skip("STEWARD_TEST_SKIP_POSTGRES=1")
    dropper: DatabaseDropper = request.getfixturevalue("database_dropper")
    name = f"steward_test_{uuid.uuid4().hex[:12]}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    if templates is not None:
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{templates.postgres()}"')
        templates.copies.add(url)
    else:
        _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield url
    finally:
        dropper.drop(name)


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
def settings(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Settings:
    made = Settings(
        home=tmp_path,
        database_url=database_url,
        artifacts_url=str(tmp_path / "artifacts"),
        outbound_allow=TEST_OUTBOUND_ALLOW,
    )
    if MIGRATING_FIXTURES.intersection(request.fixturenames):
        templates: StoreTemplates = request.getfixturevalue("store_templates")
        if database_url in templates.copies:
            from steward.store import database
            from steward.trust import auditkey

            # A store created by the migrations gets its audit key from them; one copied
            # from the migrated template gets a fresh key of its own the same way.
            auditkey.for_migration(made.audit_key_path, None, database.AUDIT_MAC_REVISION)
    return made


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
