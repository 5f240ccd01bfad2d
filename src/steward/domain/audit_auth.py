"""Authenticated journal events: what a hash chain alone cannot show.

The chain proves that events were not changed *relative to each other*; anyone
who can write to the database can still append a new event with a correct hash
(``role.granted admin``), replay an old one or backdate one. Each event
therefore also carries a MAC, ``HMAC-SHA256(key, CONTEXT || hash)``, made with a
key that lives in a file on the server (``steward.trust.auditkey``), never in the
database. The event hash already commits to the sequence number, time, content
and predecessor, so the MAC over it authenticates all of them; a database-only
attacker cannot mint one.

A MAC is stored as ``KEYID:HEX`` so retired keys can still check old events
after a rotation. ``Keyring.since`` is the first sequence number that must carry
a MAC: events before it were written before authentication existed (or before
a lost key was replaced) and are reported as unauthenticated, not as forged.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

CONTEXT = b"steward-audit-mac/1\n"
KEY_BYTES = 32

# (seq, time, hash, mac) — what the authentication pass reads of each event.
AuthRow = tuple[int, str, str, str | None]


def key_id(key: bytes) -> str:
    """A public name for a key (16 hex digits); reveals nothing usable about it."""
    return hashlib.sha256(b"steward-audit-key-id\n" + key).hexdigest()[:16]


class MacStatus(StrEnum):
    VALID = "valid"
    MISSING = "missing"
    UNKNOWN_KEY = "unknown_key"
    INVALID = "invalid"


@dataclass(frozen=True)
class Keyring:
    """The current key first, then retired keys kept only to check older events."""

    since: int
    keys: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("a keyring holds at least one key")
        if any(len(k) != KEY_BYTES for k in self.keys):
            raise ValueError(f"audit keys are {KEY_BYTES} bytes")
        if self.since < 1:
            raise ValueError("since is a sequence number, at least 1")

    @property
    def current_id(self) -> str:
        return key_id(self.keys[0])

    def mac(self, digest: str) -> str:
        """The MAC the current key gives an event with this chain hash."""
        key = self.keys[0]
        return f"{key_id(key)}:{_mac(key, digest)}"

    def by_id(self) -> dict[str, bytes]:
        return {key_id(k): k for k in self.keys}

    def check(self, digest: str, mac: str | None, ids: dict[str, bytes] | None = None) -> MacStatus:
        """Whether ``mac`` authenticates ``digest``; ``ids`` is :meth:`by_id`, precomputed."""
        if not mac:
            return MacStatus.MISSING
        kid, _, value = mac.partition(":")
        key = (self.by_id() if ids is None else ids).get(kid)
        if key is None:
            return MacStatus.UNKNOWN_KEY
        good = hmac.compare_digest(_mac(key, digest), value)
        return MacStatus.VALID if good else MacStatus.INVALID


class _Hmac:
    """HMAC-SHA256 (RFC 2104) with the key's inner and outer pads hashed once.

    Byte-for-byte ``hmac.digest(key, msg, "sha256")``, but each event then costs two
    SHA-256 compressions instead of four: verify runs it over every event.
    """

    __slots__ = ("inner", "outer")

    def __init__(self, key: bytes) -> None:
        block = key.ljust(64, b"\0")  # keys are 32 bytes, shorter than SHA-256's block
        self.inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def __call__(self, digest: str) -> str:
        inner = self.inner.copy()
        inner.update(CONTEXT + digest.encode())
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


@functools.lru_cache(maxsize=8)
def _hmac_for(key: bytes) -> _Hmac:
    # The pads are a pure function of the key: computing them per event cost more than
    # the MAC itself (every audited write, and every event of verify's exact pass).
    return _Hmac(key)


def _mac(key: bytes, digest: str) -> str:
    return _hmac_for(key)(digest)


class AuthProblem(StrEnum):
    FORGED = "forged"  # no valid MAC where one is required
    REPLAYED = "replayed"  # no valid MAC, and its content repeats an earlier event
    BACKDATED = "backdated"  # its time is earlier than its predecessor's


@dataclass(frozen=True)
class AuthReport:
    ok: bool
    checked: int
    # Events before this seq carry no MAC this key file can check (None: all checked).
    unauthenticated_before: int | None = None
    broken_seq: int | None = None
    problem: AuthProblem | None = None
    detail: str = ""


def authenticate(
    rows: Iterable[AuthRow],
    keyring: Keyring | None,
    earlier_copy: Callable[[int], int | None] = lambda _seq: None,
) -> AuthReport:
    """Check every event's MAC and that time never decreases along the journal.

    Runs after the chain verified, so ``rows`` are known to be consecutive.
    ``earlier_copy(seq)`` names an earlier event with the same actor, action,
    subject and payload (used only to explain a failed MAC as a replay).
    Without a keyring nothing can be authenticated: that is a failure, because
    an unchecked journal must not read as a clean one.
    """
    last_time = ""
    last_seq = 0
    unauthenticated: int | None = None
    checked = 0
    ids = keyring.by_id() if keyring is not None else {}
    macs = {kid: _Hmac(key) for kid, key in ids.items()}
    compare = hmac.compare_digest
    for seq, time, digest, mac in rows:
        checked += 1
        if time < last_time:
            return AuthReport(
                False,
                checked - 1,
                unauthenticated,
                seq,
                AuthProblem.BACKDATED,
                f"event {seq} is dated {time}, before event {last_seq} ({last_time}); "
                "Steward never writes time backwards: it was inserted or its time edited",
            )
        last_time, last_seq = time, seq
        if mac:
            # The hot path (a valid MAC) inlined: this runs over every event of every verify.
            kid, _, value = mac.partition(":")
            made = macs.get(kid)
            if made is not None and compare(made(digest), value):
                continue
        if keyring is None:
            return AuthReport(
                False,
                checked - 1,
                None,
                seq,
                AuthProblem.FORGED,
                "no audit key is available, so no event can be authenticated; give verify "
                "the server's key file (STEWARD_AUDIT_KEY)",
            )
        status = keyring.check(digest, mac, ids)
        if status is MacStatus.VALID:
            continue
        if seq < keyring.since and status is not MacStatus.INVALID:
            # Written before this key file existed: honest "unknown", not "forged".
            unauthenticated = seq + 1
            continue
        original = earlier_copy(seq)
        why = {
            MacStatus.MISSING: "has no MAC",
            MacStatus.UNKNOWN_KEY: "has a MAC made with a key this server does not hold",
            MacStatus.INVALID: "has a MAC that does not match its content",
        }[status]
        if original is not None:
            return AuthReport(
                False,
                checked - 1,
                unauthenticated,
                seq,
                AuthProblem.REPLAYED,
                f"event {seq} {why} and repeats event {original}: a replayed copy "
                "written directly into the database",
            )
        return AuthReport(
            False,
            checked - 1,
            unauthenticated,
            seq,
            AuthProblem.FORGED,
            f"event {seq} {why}: it was not written by Steward (forged with database "
            "access) or altered after it was written",
        )
    return AuthReport(True, checked, unauthenticated)
