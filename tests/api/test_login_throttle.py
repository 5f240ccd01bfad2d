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
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.throttle import Limits, LoginThrottle
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


def test_many_invented_names_from_one_client_lock_the_client(
    web: TestClient, ctx: Context
) -> None:
    before = _journal_size(ctx)
    codes = [
        web.post("/api/v1/auth/login", json={"user": f"nobody{i}", "password": "x" * 12})
        .status_code
        for i in range(40)
    ]
    assert codes[:19] == [401] * 19 and set(codes[20:]) == {429}
    assert _journal_size(ctx) - before == 2  # one failure event per client window + the lock


def test_lockouts_back_off_and_a_quiet_window_forgives() -> None:
    throttle = LoginThrottle(Limits(account_failures=2, window=100, lockout=10, lockout_max=25))
    seconds = []
    now = 0.0
    for _ in range(4):
        throttle.failed("bob", "1.2.3.4", "k", now)
        failure = throttle.failed("bob", "1.2.3.4", "k", now)
        (lock,) = failure.lockouts
        seconds.append(lock.seconds)
        assert throttle.retry_after("bob", "5.6.7.8", now) == lock.seconds
        now += lock.seconds
        assert throttle.retry_after("bob", "5.6.7.8", now) is None
    assert seconds == [10, 20, 25, 25]
    now += 200  # a quiet window: back to the first lockout's length
    throttle.failed("bob", "1.2.3.4", "k", now)
    assert throttle.failed("bob", "1.2.3.4", "k", now).lockouts[0].seconds == 10


def test_limits_come_from_settings(settings: Settings) -> None:
    ctx = bootstrap.build(settings.with_(login_max_failures=2), migrate=True)
    try:
        assert ctx.login_throttle.limits.account_failures == 2
    finally:
        ctx.uow.engine.dispose()
    env = {"STEWARD_HOME": str(settings.home), "STEWARD_LOGIN_LOCKOUT_SECONDS": "30"}
    assert Settings.from_env(env).login_lockout_seconds == 30
