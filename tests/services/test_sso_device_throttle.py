"""The device flow's two unauthenticated routes (start, poll) make the server call the
single sign-on provider, so each is rate-limited per caller address in the database
(shared by every process), on SQLite and PostgreSQL. The provider is replaced here: the
limit is checked before it is called, which is what these tests show."""

from __future__ import annotations

import json
from typing import Any

import pytest

from steward.domain import throttle
from steward.domain.audit import Action, AuditFilter
from steward.domain.errors import SignInPending, TooManyRequests
from steward.domain.permissions import OPERATOR, Principal
from steward.services import audit, sso
from steward.services.context import Context
from steward.trust import oidc

OP = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.fixture
def device_ctx(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> tuple[Context, list[str]]:
    calls: list[str] = []

    def start(client: oidc.Client) -> dict[str, Any]:
        calls.append("start")
        return {"device_code": "dc", "user_code": "ABCD", "verification_uri": "https://x/d"}

    def poll(client: oidc.Client, device_code: str) -> str:
        calls.append("poll")
        raise SignInPending("Finish signing in at the provider, then ask again.")

    monkeypatch.setattr(oidc, "start_device", start)
    monkeypatch.setattr(oidc, "poll_device", poll)
    settings = ctx.settings.with_(oidc_issuer="https://login.example.org", oidc_client_id="s")
    return Context(settings=settings, uow=ctx.uow, artifacts=ctx.artifacts), calls


def test_a_flood_of_device_starts_from_one_address_is_refused_before_the_provider(
    device_ctx: tuple[Context, list[str]],
) -> None:
    ctx, calls = device_ctx
    allowed = throttle.DEVICE_RATES[throttle.DEVICE_START].calls
    for _ in range(allowed):
        assert sso.device_start(ctx, "203.0.113.7")["user_code"] == "ABCD"
    with pytest.raises(TooManyRequests) as refused:
        sso.device_start(ctx, "203.0.113.7")
    assert refused.value.extra["retry_after"] >= 1
    assert "try again in" in str(refused.value)
    with pytest.raises(TooManyRequests):  # still locked: the provider is not asked again
        sso.device_start(ctx, "203.0.113.7")
    assert calls.count("start") == allowed
    # Another address is not held back by the first one's flood.
    assert sso.device_start(ctx, "198.51.100.2")["device_code"] == "dc"
    # The lockout is journalled once, naming the address and the flow.
    locked = [
        json.loads(e.payload)
        for e in audit.list_events(ctx, OP, AuditFilter(action=Action.LOGIN_LOCKED.value))
    ]
    assert [p["scope"] for p in locked] == [throttle.DEVICE_START]
    assert locked[0]["client"] == "203.0.113.7"


def test_polls_have_their_own_budget_and_a_bad_device_code_is_not_counted(
    device_ctx: tuple[Context, list[str]],
) -> None:
    ctx, calls = device_ctx
    for _ in range(throttle.DEVICE_RATES[throttle.DEVICE_START].calls):
        sso.device_start(ctx, "203.0.113.9")
    # Starts are used up; polling the code already issued still works (pending).
    with pytest.raises(SignInPending):
        sso.device_poll(ctx, "dc", "203.0.113.9")
    assert calls[-1] == "poll"


def test_spend_locks_after_the_budget_with_doubling_back_off() -> None:
    limits = throttle.Limits(lockout=60.0, lockout_max=3600.0)
    rate = throttle.Rate(calls=2)
    state = throttle.current(None, 0.0, limits)
    assert throttle.spend(state, rate, limits, 1.0) is None
    assert throttle.spend(state, rate, limits, 2.0) is None
    assert throttle.spend(state, rate, limits, 3.0) == 60.0
    assert throttle.spend(state, rate, limits, 10.0) == pytest.approx(53.0)
    # After the lock, the budget starts again; the next lockout lasts twice as long.
    assert throttle.spend(state, rate, limits, 64.0) is None
    assert throttle.spend(state, rate, limits, 65.0) is None
    assert throttle.spend(state, rate, limits, 66.0) == 120.0
