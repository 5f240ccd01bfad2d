"""Attack (#12.6): 80 wrong passwords were all answered 401, the right one still worked,
and every attempt appended a journal event. Now: 429 with Retry-After after a few
failures, the right password is refused during the lockout too, and the journal
grows by a bounded number of events however many guesses arrive."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.conftest import ensure_user

from steward import bootstrap
from steward.api.app import create_app
from steward.domain import throttle
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.throttle import KeyState, Limits
from steward.services import identity
from steward.services.context import Context
from steward.settings import Settings
from steward.store import tables
from steward.store.audit_repo import AuditFilter

PASSWORD = "correct horse battery staple"
OP = Principal(name="admin", roles=frozenset({OPERATOR}))


def _journal_size(ctx: Context) -> int:
    with ctx.uow.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tables.audit_events)).scalar())


@pytest.fixture
def web(ctx: Context) -> Iterator[TestClient]:
    ensure_user(ctx, "bob", "owner")
    identity.set_password(ctx, OP, "bob", PASSWORD)
    with TestClient(create_app(ctx)) as client:
        yield client


def test_thirty_wrong_passwords_lock_the_account_with_a_bounded_journal(
    web: TestClient, ctx: Context
) -> None:
    before = _journal_size(ctx)
    answers = [
        web.post("/api/v1/auth/login", json={"user": "bob", "password": f"guess {i:04d} ..."})
        for i in range(30)
    ]
    codes = [a.status_code for a in answers]
    assert codes[:4] == [401] * 4 and set(codes[5:]) == {429}, codes
    throttled = answers[-1]
    assert int(throttled.headers["retry-after"]) >= 1
    assert throttled.headers["content-type"] == "application/problem+json"
    assert throttled.json()["status"] == 429 and throttled.json()["code"] == "too-many-requests"
    # The right password during the lockout is refused as well.
    right = web.post("/api/v1/auth/login", json={"user": "bob", "password": PASSWORD})
    assert right.status_code == 429 and "retry-after" in right.headers
    # One failure event for the window and one lockout event: not thirty.
    assert _journal_size(ctx) - before == 2
    with ctx.uow.read() as uow:
        locked = uow.audit.search(AuditFilter(action="auth.locked_out"), 10)
    assert [(e.payload_dict()["scope"], e.payload_dict()["failures"]) for e in locked] == [
        ("account", 5)
    ]


def test_the_web_sign_in_is_throttled_too(web: TestClient) -> None:
    for i in range(6):
        form = web.get("/login")
        token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        last = web.post(
            "/login", data={"username": "bob", "password": f"no {i} no", "csrf_token": token}
        )
    assert last.status_code == 429 and int(last.headers["retry-after"]) >= 1
    assert "try again in" in last.text


def test_many_invented_names_from_one_client_lock_the_client(web: TestClient, ctx: Context) -> None:
    before = _journal_size(ctx)
    codes = [
        web.post(
            "/api/v1/auth/login", json={"user": f"nobody{i}", "password": "x" * 12}
        ).status_code
        for i in range(40)
    ]
    assert codes[:19] == [401] * 19 and set(codes[20:]) == {429}
    assert _journal_size(ctx) - before == 2  # one failure event per client window + the lock


def test_lockouts_back_off_and_a_quiet_window_forgives() -> None:
    limits = Limits(account_failures=2, window=100, lockout=10, lockout_max=25)
    stored: dict[tuple[str, str], KeyState] = {}

    def fail(now: float) -> throttle.Failure:
        states = {
            kind: throttle.current(stored.get((kind, key)), now, limits)
            for kind, key in (("account", "bob"), ("client", "1.2.3.4"), ("journal", "k"))
        }
        stored.update(
            {
                (kind, k): s
                for (kind, k), s in zip(
                    (("account", "bob"), ("client", "1.2.3.4"), ("journal", "k")),
                    states.values(),
                    strict=True,
                )
            }
        )
        return throttle.failed(
            limits,
            ("bob", states["account"]),
            ("1.2.3.4", states["client"]),
            states["journal"],
            now,
        )

    def wait(now: float) -> float | None:
        return throttle.retry_after([stored.get(("account", "bob"))], now)

    seconds = []
    now = 0.0
    for _ in range(4):
        fail(now)
        (lock,) = fail(now).lockouts
        seconds.append(lock.seconds)
        assert wait(now) == lock.seconds
        now += lock.seconds
        assert wait(now) is None
    assert seconds == [10, 20, 25, 25]
    now += 200  # a quiet window: back to the first lockout's length
    fail(now)
    assert fail(now).lockouts[0].seconds == 10


def test_limits_come_from_settings(settings: Settings) -> None:
    ctx = bootstrap.build(settings.with_(login_max_failures=2), migrate=True)
    try:
        assert ctx.login_limits.account_failures == 2
    finally:
        ctx.uow.engine.dispose()
    env = {"STEWARD_HOME": str(settings.home), "STEWARD_LOGIN_LOCKOUT_SECONDS": "30"}
    assert Settings.from_env(env).login_lockout_seconds == 30


def test_two_processes_on_one_database_share_the_count(settings: Settings) -> None:
    """Attack: with several API workers each counted failures in its own memory, so an
    attacker alternating between them got N times the guesses. Two app instances (their
    own engines and contexts, as two worker processes have) on one database now lock the
    account after the same five failures, however they are spread."""
    first = bootstrap.build(settings, migrate=True)
    second = bootstrap.build(settings, migrate=False)
    try:
        ensure_user(first, "bob", "owner")
        identity.set_password(first, OP, "bob", PASSWORD)
        with TestClient(create_app(first)) as a, TestClient(create_app(second)) as b:
            codes = [
                (a if i % 2 else b)
                .post("/api/v1/auth/login", json={"user": "bob", "password": f"guess {i} ..."})
                .status_code
                for i in range(6)
            ]
            assert codes == [401] * 5 + [429], codes  # the fifth failure locks it
            # locked on both, the right password too
            for client in (a, b):
                right = client.post(
                    "/api/v1/auth/login", json={"user": "bob", "password": PASSWORD}
                )
                assert right.status_code == 429, right.text
            # one failure event for the window and one lockout, whichever worker saw them
            with first.uow.read() as uow:
                locked = uow.audit.search(AuditFilter(action="auth.locked_out"), 10)
            assert len(locked) == 1
    finally:
        first.uow.engine.dispose()
        second.uow.engine.dispose()


def test_a_right_password_clears_the_account_count_for_every_process(settings: Settings) -> None:
    first = bootstrap.build(settings, migrate=True)
    second = bootstrap.build(settings, migrate=False)
    try:
        ensure_user(first, "bob", "owner")
        identity.set_password(first, OP, "bob", PASSWORD)
        with TestClient(create_app(first)) as a, TestClient(create_app(second)) as b:
            for i in range(4):
                assert (
                    a.post(
                        "/api/v1/auth/login", json={"user": "bob", "password": f"no {i} no no"}
                    ).status_code
                    == 401
                )
            ok = b.post("/api/v1/auth/login", json={"user": "bob", "password": PASSWORD})
            assert ok.status_code == 200, ok.text
            # the count starts again: four more failures on the first process do not lock
            for i in range(4):
                assert (
                    a.post(
                        "/api/v1/auth/login", json={"user": "bob", "password": f"again {i} no"}
                    ).status_code
                    == 401
                )
    finally:
        first.uow.engine.dispose()
        second.uow.engine.dispose()
