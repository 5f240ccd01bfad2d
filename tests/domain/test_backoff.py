"""The one back-off formula: doubling from the first wait, held at the ceiling."""

from __future__ import annotations

from datetime import timedelta

import pytest

from steward.domain import throttle, webhooks
from steward.domain.backoff import doubling
from steward.domain.throttle import Limits


def test_doubles_from_the_first_wait_up_to_the_ceiling() -> None:
    minute, hour = timedelta(minutes=1), timedelta(hours=1)
    assert [doubling(n, minute, hour) for n in range(8)] == [
        minute * k for k in (1, 2, 4, 8, 16, 32, 60, 60)
    ]
    assert [doubling(n, 1.5, 10.0) for n in range(4)] == [1.5, 3.0, 6.0, 10.0]


def test_a_long_streak_stays_at_the_ceiling_without_overflowing() -> None:
    # timedelta(minutes=1) * 2**100 would raise OverflowError.
    assert doubling(100, timedelta(minutes=1), timedelta(days=1)) == timedelta(days=1)
    assert doubling(10_000, 60.0, 3600.0) == 3600.0
    assert doubling(0, timedelta(hours=2), timedelta(hours=1)) == timedelta(hours=1)
    with pytest.raises(ValueError, match="counts from 0"):
        doubling(-1, 1.0, 2.0)


def test_every_retry_waits_by_it() -> None:
    assert webhooks.backoff(3) == doubling(2, webhooks.BACKOFF_BASE, webhooks.BACKOFF_CAP)
    limits = Limits(account_failures=1, client_failures=100, lockout=60.0)
    account = throttle.current(None, 0.0, limits)
    client = throttle.current(None, 0.0, limits)
    journal = throttle.current(None, 0.0, limits)
    first = throttle.failed(limits, ("alice", account), ("10.0.0.1", client), journal, 0.0)
    assert [lock.seconds for lock in first.lockouts] == [60.0]
    account = throttle.current(account, 100.0, limits)
    client = throttle.current(client, 100.0, limits)
    second = throttle.failed(limits, ("alice", account), ("10.0.0.1", client), journal, 100.0)
    assert [lock.seconds for lock in second.lockouts] == [120.0]
