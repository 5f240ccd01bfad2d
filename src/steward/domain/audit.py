"""The tamper-evident audit chain.

Each event is hashed as ``sha256(prev_hash_bytes || canonical_event)`` where
``canonical_event`` is the UTF-8 JSON array
``[seq, time, actor, action, subject_type, subject_id, payload]`` written with
sorted keys, no insignificant whitespace and non-ASCII characters kept as-is.
A third party can recompute it from an export with ``json.dumps`` alone
(see docs/audit.md), which is the point: the format is boring on purpose.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

GENESIS = "0" * 64
_DUMPS = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


class Action(StrEnum):
    """Typed event names: every mutation Steward performs is one of these."""

    MODEL_CREATED = "model.created"
    MODEL_UPDATED = "model.updated"
    VERSION_CREATED = "version.created"
    VERSION_TRANSITIONED = "version.transitioned"
    ALIAS_SET = "alias.set"
    ALIAS_DELETED = "alias.deleted"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    SETTING_CHANGED = "setting.changed"


def canonical_json(value: Any) -> str:
    """Canonical text of a JSON value (the form that is hashed and stored)."""
    return _DUMPS(value)


def format_time(moment: datetime) -> str:
    """Audit times are UTC, microsecond precision, fixed width, so they sort as text."""
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    seq: int
    time: str
    actor: str
    action: str
    subject_type: str
    subject_id: str
    payload: str  # canonical JSON text
    prev_hash: str
    hash: str

    def payload_dict(self) -> dict[str, Any]:
        value = json.loads(self.payload)
        assert isinstance(value, dict)
        return value

    def to_export(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "actor": self.actor,
            "action": self.action,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "payload": json.loads(self.payload),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def event_message(
    seq: int,
    time: str,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    payload_text: str,
) -> bytes:
    # Equal to canonical_json([seq, time, ..., payload]) because payload_text is
    # already canonical; splicing it in avoids a parse + dump per event on verify.
    head = _DUMPS([seq, time, actor, action, subject_type, subject_id])
    return (head[:-1] + "," + payload_text + "]").encode()


def chain_hash(prev_hash: str, message: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + message).hexdigest()


def seal(
    *,
    seq: int,
    time: str,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    payload: dict[str, Any],
    prev_hash: str,
) -> AuditEvent:
    text = canonical_json(payload)
    digest = chain_hash(
        prev_hash, event_message(seq, time, actor, action, subject_type, subject_id, text)
    )
    return AuditEvent(seq, time, actor, action, subject_type, subject_id, text, prev_hash, digest)


def recompute(event: AuditEvent, prev_hash: str | None = None, seq: int | None = None) -> str:
    return chain_hash(
        event.prev_hash if prev_hash is None else prev_hash,
        event_message(
            event.seq if seq is None else seq,
            event.time,
            event.actor,
            event.action,
            event.subject_type,
            event.subject_id,
            event.payload,
        ),
    )


class Tampering(StrEnum):
    ALTERED = "altered"
    REMOVED = "removed"
    INSERTED = "inserted"
    REORDERED = "reordered"


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    kind: Tampering | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "broken_seq": self.broken_seq,
            "kind": self.kind.value if self.kind else None,
            "detail": self.detail,
        }


def verify(
    events: Iterable[AuditEvent],
    has_later_successor: Callable[[str, int], bool] = lambda _h, _s: False,
) -> Verification:
    """Walk the chain in seq order; stop at the first break and say what kind it is.

    ``has_later_successor(hash, seq)`` answers whether some event after ``seq``
    claims ``hash`` as its predecessor (used only to recognise reordering).
    """
    it: Iterator[AuditEvent] = iter(events)
    expected_seq = 1
    prev_hash = GENESIS
    checked = 0
    sha = hashlib.sha256
    fromhex = bytes.fromhex
    for event in it:
        if event.seq == expected_seq and event.prev_hash == prev_hash:
            message = event_message(
                event.seq,
                event.time,
                event.actor,
                event.action,
                event.subject_type,
                event.subject_id,
                event.payload,
            )
            if sha(fromhex(prev_hash) + message).hexdigest() == event.hash:
                prev_hash = event.hash
                expected_seq += 1
                checked += 1
                continue
        lookahead = [e for _, e in zip(range(2), it, strict=False)]
        kind, detail = _classify(event, lookahead, expected_seq, prev_hash, has_later_successor)
        return Verification(False, checked, expected_seq - 1, prev_hash, expected_seq, kind, detail)
    return Verification(True, checked, expected_seq - 1, prev_hash)


def _classify(
    event: AuditEvent,
    after: list[AuditEvent],
    expected_seq: int,
    prev_hash: str,
    has_later_successor: Callable[[str, int], bool],
) -> tuple[Tampering, str]:
    nxt = after[0] if after else None
    if event.seq > expected_seq:
        missing = (
            f"{expected_seq}"
            if event.seq == expected_seq + 1
            else f"{expected_seq}-{event.seq - 1}"
        )
        return Tampering.REMOVED, f"event(s) {missing} are missing; the chain jumps to {event.seq}"
    if event.seq < expected_seq:
        return Tampering.INSERTED, f"event {event.seq} appears again after {expected_seq - 1}"
    if event.prev_hash == prev_hash:
        return Tampering.ALTERED, (
            f"event {event.seq} was changed after it was written: its content no longer "
            "matches its hash"
        )
    # The event does not link to its predecessor. Either an event was slipped in
    # here (the next one is the original, renumbered), events were swapped, or
    # the predecessor was deleted and the rest renumbered.
    if nxt is not None and recompute(nxt, prev_hash, expected_seq) == nxt.hash:
        if (
            nxt.prev_hash == prev_hash
            and recompute(event, nxt.hash, expected_seq + 1) == event.hash
        ):
            return Tampering.REORDERED, (
                f"events {expected_seq} and {expected_seq + 1} were swapped"
            )
        return Tampering.INSERTED, (
            f"event {event.seq} was inserted: the event now numbered {nxt.seq} is the "
            f"original {expected_seq}"
        )
    if has_later_successor(prev_hash, event.seq):
        return Tampering.REORDERED, (
            f"event {event.seq} is out of place: the successor of event {expected_seq - 1} "
            "appears later in the journal"
        )
    if recompute(event, seq=event.seq + 1) == event.hash:
        return Tampering.REMOVED, (
            f"the event before {event.seq} is missing: event {event.seq} links to a "
            "predecessor that is no longer in the journal"
        )
    return Tampering.ALTERED, (
        f"event {event.seq} was changed after it was written: its content and link no "
        "longer match its hash"
    )
