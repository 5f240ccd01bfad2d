"""Password-guessing throttle: per-account and per-client lockout with back-off.

Pure bookkeeping over key states and times (seconds) the caller passes in; the states
live in the database (``login_throttle``, see services/identity.py), so every API
worker and web process shares one count: with N workers an attacker gets no N-fold
attempts. Each account and each client (an IP address) has a window of ``window``
seconds; ``account_failures`` failed sign-ins for one account, or ``client_failures``
from one client, lock that key for ``lockout`` seconds, doubling with every further
lockout up to ``lockout_max``. While a key is locked every attempt is refused before
its password is even checked — the right password too — so guessing gains nothing and
costs the server no hashing.

The journal sees failures aggregated: the first failure of a window for a journal
key is recorded; the rest are counted and the next recorded event carries the
count. Lockouts are recorded when they begin.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from steward.domain.backoff import doubling

ACCOUNT, CLIENT, JOURNAL = "account", "client", "journal"  # the kinds of key
# Single sign-on's device flow: each start and each poll makes the server call the
# provider for an unauthenticated caller, so both are counted per client address.
DEVICE_START, DEVICE_POLL = "sso_start", "sso_poll"  # (kind is at most 10 characters)


@dataclass(frozen=True)
class Limits:
    account_failures: int = 5
    client_failures: int = 20
    window: float = 900.0
    lockout: float = 60.0
    lockout_max: float = 3600.0


@dataclass(frozen=True)
class Rate:
    """At most ``calls`` per window (``Limits.window``) from one key, then locked with
    the same doubling back-off as a sign-in."""

    calls: int


# A device sign-in is started once and polled every few seconds (RFC 8628's default
# interval is 5 s) for at most the code's lifetime: these leave a person typing slowly
# plenty of room and a flood from one address very little.
DEVICE_RATES = {DEVICE_START: Rate(calls=10), DEVICE_POLL: Rate(calls=400)}


@dataclass
class KeyState:
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

    def idle(self, now: float, window: float) -> bool:
        """Whether this state says nothing a fresh one would not (it can be forgotten)."""
        return now - self.window_start >= window and now - self.locked_until >= window


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


def current(state: KeyState | None, now: float, limits: Limits) -> KeyState:
    """The state to count with now: a fresh one for an unseen key, else rolled forward."""
    if state is None:
        return KeyState(window_start=now)
    state.roll(now, limits.window)
    return state


def retry_after(states: Iterable[KeyState | None], now: float) -> float | None:
    """Seconds until every one of these keys (an account, a client) is unlocked, or None."""
    waits = [s.locked_until - now for s in states if s is not None and s.locked_until > now]
    return max(waits) if waits else None


def failed(
    limits: Limits,
    account: tuple[str, KeyState],
    client: tuple[str, KeyState],
    journal: KeyState,
    now: float,
) -> Failure:
    """Count one failed sign-in on the (current) states, which it changes in place."""
    locks = []
    for scope, (key, state), limit in (
        (ACCOUNT, account, limits.account_failures),
        (CLIENT, client, limits.client_failures),
    ):
        state.failures += 1
        if state.failures >= limit:
            seconds = doubling(state.lockouts, limits.lockout, limits.lockout_max)
            state.lockouts += 1
            state.locked_until = now + seconds
            locks.append(Lockout(scope, key, seconds, state.failures))
            state.failures = 0
    if journal.journalled:
        journal.unjournalled += 1
        return Failure(False, 0, tuple(locks))
    journal.journalled, aggregated, journal.unjournalled = True, journal.unjournalled, 0
    return Failure(True, aggregated, tuple(locks))


def spend(state: KeyState, rate: Rate, limits: Limits, now: float) -> float | None:
    """Count one rate-limited call on the (current) state, which it changes in place;
    the seconds to wait when the call is refused (the key is or becomes locked)."""
    if state.locked_until > now:
        return state.locked_until - now
    state.failures += 1
    if state.failures <= rate.calls:
        return None
    seconds = doubling(state.lockouts, limits.lockout, limits.lockout_max)
    state.lockouts += 1
    state.locked_until = now + seconds
    state.failures = 0
    return seconds
