"""Password-guessing throttle: per-account and per-client lockout with back-off.

Pure bookkeeping over times the caller passes in (monotonic seconds), held in the
memory of one process. Each account and each client (an IP address) has a window
of ``window`` seconds; ``account_failures`` failed sign-ins for one account, or
``client_failures`` from one client, lock that key for ``lockout`` seconds,
doubling with every further lockout up to ``lockout_max``. While a key is locked
every attempt is refused before its password is even checked — the right password
too — so guessing gains nothing and costs the server no hashing.

The journal sees failures aggregated: the first failure of a window for a journal
key is recorded; the rest are counted and the next recorded event carries the
count. Lockouts are recorded when they begin.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from steward.domain.backoff import doubling


@dataclass(frozen=True)
class Limits:
    account_failures: int = 5
    client_failures: int = 20
    window: float = 900.0
    lockout: float = 60.0
    lockout_max: float = 3600.0


@dataclass
class _Key:
    window_start: float
    failures: int = 0
    locked_until: float = 0.0
    lockouts: int = 0  # lockouts so far: the next one lasts twice as long
    journalled: bool = False  # this window's failure event is already in the journal
    unjournalled: int = 0  # failures counted but not journalled since the last event

    def roll(self, now: float, window: float) -> None:
        if now - self.window_start >= window and now >= self.locked_until:
            if now - self.locked_until >= window:
                self.lockouts = 0  # a quiet window forgives earlier lockouts
            self.window_start, self.failures, self.journalled = now, 0, False


@dataclass(frozen=True)
class Lockout:
    scope: str  # "account" or "client"
    key: str
    seconds: float
    failures: int


@dataclass(frozen=True)
class Failure:
    journal: bool  # record this attempt's failure event
    aggregated: int  # earlier failures of this journal key that were only counted
    lockouts: tuple[Lockout, ...] = field(default=())


class LoginThrottle:
    """Thread-safe; bounded to ``max_keys`` keys per kind (oldest idle ones dropped)."""

    def __init__(self, limits: Limits | None = None, max_keys: int = 50_000) -> None:
        self.limits = limits or Limits()
        self.max_keys = max_keys
        self._lock = threading.Lock()
        self._accounts: dict[str, _Key] = {}
        self._clients: dict[str, _Key] = {}
        self._journal: dict[str, _Key] = {}

    def retry_after(self, account: str, client: str, now: float) -> float | None:
        """Seconds until this account and client may try again, or None if they may now."""
        with self._lock:
            waits = [
                k.locked_until - now
                for k in (self._accounts.get(account), self._clients.get(client))
                if k is not None and k.locked_until > now
            ]
        return max(waits) if waits else None

    def failed(self, account: str, client: str, journal_key: str, now: float) -> Failure:
        with self._lock:
            locks = []
            for scope, table, key, limit in (
                ("account", self._accounts, account, self.limits.account_failures),
                ("client", self._clients, client, self.limits.client_failures),
            ):
                state = self._get(table, key, now)
                state.failures += 1
                if state.failures >= limit:
                    seconds = doubling(
                        state.lockouts, self.limits.lockout, self.limits.lockout_max
                    )
                    state.lockouts += 1
                    state.locked_until = now + seconds
                    locks.append(Lockout(scope, key, seconds, state.failures))
                    state.failures = 0
            entry = self._get(self._journal, journal_key, now)
            if entry.journalled:
                entry.unjournalled += 1
                return Failure(False, 0, tuple(locks))
            entry.journalled, aggregated, entry.unjournalled = True, entry.unjournalled, 0
            return Failure(True, aggregated, tuple(locks))

    def succeeded(self, account: str) -> None:
        """A right password outside any lockout clears the account's count (not the client's)."""
        with self._lock:
            self._accounts.pop(account, None)

    def _get(self, table: dict[str, _Key], key: str, now: float) -> _Key:
        state = table.get(key)
        if state is None:
            if len(table) >= self.max_keys:
                self._prune(table, now)
            state = table[key] = _Key(window_start=now)
        state.roll(now, self.limits.window)
        return state

    def _prune(self, table: dict[str, _Key], now: float) -> None:
        # Idle keys first; if a flood of fresh names fills the table, drop the oldest half.
        idle = [
            k
            for k, s in table.items()
            if s.locked_until <= now and now - s.window_start >= self.limits.window
        ]
        for k in idle:
            del table[k]
        if len(table) >= self.max_keys:
            for k in sorted(table, key=lambda k: table[k].window_start)[: len(table) // 2]:
                del table[k]
