"""The hash chain, pure: sealing, canonical JSON, verification and tamper classification."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from steward.domain.audit import (
    GENESIS,
    AuditEvent,
    Tampering,
    Verification,
    canonical_json,
    event_message,
    format_time,
    parse_time,
    seal,
    verify,
)

Chain = list[AuditEvent]


def build(count: int = 10, start: int = 1, prev_hash: str = GENESIS) -> Chain:
    events: Chain = []
    for seq in range(start, start + count):
        event = seal(
            seq=seq,
            time=f"2026-01-01T00:00:{seq % 60:02d}.{seq:06d}Z",
            actor="alice" if seq % 2 else "bob",
            action="version.transitioned",
            subject_type="version",
            subject_id=f"credit/{seq}",
            payload={"model": "credit", "version": seq, "to": "validation", "note": "ok"},
            prev_hash=prev_hash,
        )
        events.append(event)
        prev_hash = event.hash
    return events


def reseal(
    event: AuditEvent, *, seq: int | None = None, prev_hash: str | None = None, **payload: object
) -> AuditEvent:
    """What a forger who knows the algorithm does: recompute a valid hash."""
    return seal(
        seq=event.seq if seq is None else seq,
        time=event.time,
        actor=event.actor,
        action=event.action,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        payload={**event.payload_dict(), **payload},
        prev_hash=event.prev_hash if prev_hash is None else prev_hash,
    )


def renumber(events: Chain, delta: int) -> Chain:
    return [replace(e, seq=e.seq + delta) for e in events]


def successor_lookup(events: Chain) -> Callable[[str, int], bool]:
    def has_later_successor(prev_hash: str, seq: int) -> bool:
        return any(e.prev_hash == prev_hash and e.seq > seq for e in events)

    return has_later_successor


def check_broken(
    result: Verification, chain: Chain, broken: int, kind: Tampering, *phrases: str
) -> None:
    assert not result.ok
    assert (result.broken_seq, result.kind) == (broken, kind), result.detail
    assert result.checked == broken - 1
    assert result.head_seq == broken - 1
    assert result.head_hash == (GENESIS if broken == 1 else chain[broken - 2].hash)
    for phrase in phrases:
        assert phrase in result.detail


# -- sealing and the canonical form --------------------------------------------------


def test_seal_hashes_the_previous_hash_and_the_canonical_event() -> None:
    event = seal(
        seq=1,
        time="2026-03-01T12:00:00.000000Z",
        actor="alice",
        action="model.created",
        subject_type="model",
        subject_id="credit",
        payload={"b": 1, "a": "é"},
        prev_hash=GENESIS,
    )
    text = json.dumps(
        [
            1,
            "2026-03-01T12:00:00.000000Z",
            "alice",
            "model.created",
            "model",
            "credit",
            {"a": "é", "b": 1},
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert text == (
        '[1,"2026-03-01T12:00:00.000000Z","alice","model.created","model","credit",{"a":"é","b":1}]'
    )
    assert event.hash == hashlib.sha256(bytes(32) + text.encode("utf-8")).hexdigest()
    assert event.payload == '{"a":"é","b":1}'
    assert event.prev_hash == GENESIS == "0" * 64
    assert event.payload_dict() == {"a": "é", "b": 1}


def test_each_event_links_to_the_hash_of_the_one_before() -> None:
    chain = build(5)
    assert chain[0].prev_hash == GENESIS
    for earlier, later in itertools.pairwise(chain):
        assert later.prev_hash == earlier.hash
    assert len({e.hash for e in chain}) == 5


def test_canonical_json_does_not_depend_on_key_order() -> None:
    one = {"z": 1, "a": {"y": [3, {"q": 1, "p": 2}], "b": None}, "m": True}
    two = {"m": True, "a": {"b": None, "y": [3, {"p": 2, "q": 1}]}, "z": 1}
    assert canonical_json(one) == canonical_json(two)
    assert canonical_json(one) == '{"a":{"b":null,"y":[3,{"p":2,"q":1}]},"m":true,"z":1}'


def test_canonical_json_keeps_unicode_and_has_no_whitespace() -> None:
    text = canonical_json({"name": "Zoë Ångström", "emoji": "🚀", "list": [1, 2.5, "a b"]})
    assert text == '{"emoji":"🚀","list":[1,2.5,"a b"],"name":"Zoë Ångström"}'
    assert "\\u" not in text
    assert " " not in text.replace("a b", "").replace("Zoë Ångström", "")
    assert "\n" not in canonical_json({"multi": "line\nbreak"})  # escaped, not raw


@pytest.mark.parametrize(
    "text",
    [
        'quote " and \\ backslash',
        "tab\tnew\nline\r",
        "\x00\x1f control",
        "é 中文 🚀",
        "\u2028\u2029",
        "",
    ],
)
def test_the_hashed_message_is_the_canonical_json_of_the_event(text: str) -> None:
    payload = {"text": text, "n": 1.5}
    expected = canonical_json([7, text, text, "alias.set", text, text, payload]).encode("utf-8")
    assert (
        event_message(7, text, text, "alias.set", text, text, canonical_json(payload)) == expected
    )
    event = seal(
        seq=1,
        time=text,
        actor=text,
        action="alias.set",
        subject_type=text,
        subject_id=text,
        payload=payload,
        prev_hash=GENESIS,
    )
    assert verify([event]).ok


def test_audit_times_are_fixed_width_utc_text() -> None:
    paris = timezone(timedelta(hours=2))
    moment = datetime(2026, 6, 1, 14, 30, 5, 42, tzinfo=paris)
    assert format_time(moment) == "2026-06-01T12:30:05.000042Z"
    assert format_time(datetime(2026, 6, 1, tzinfo=UTC)) == "2026-06-01T00:00:00.000000Z"
    assert parse_time("2026-06-01T12:30:05.000042Z") == moment
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2026, 6, 1))


# -- verification of an intact chain -------------------------------------------------


def test_an_intact_chain_verifies_with_its_head_hash() -> None:
    chain = build(12)
    result = verify(chain)
    assert result == Verification(ok=True, checked=12, head_seq=12, head_hash=chain[-1].hash)
    assert result.to_dict() == {
        "ok": True,
        "checked": 12,
        "head_seq": 12,
        "head_hash": chain[-1].hash,
        "broken_seq": None,
        "kind": None,
        "detail": "",
        "unauthenticated_before": None,
    }


def test_an_empty_journal_verifies_with_the_genesis_hash() -> None:
    assert verify([]) == Verification(ok=True, checked=0, head_seq=0, head_hash=GENESIS)


def test_rows_as_plain_tuples_verify_like_events() -> None:
    chain = build(6)
    rows = [
        (
            e.seq,
            e.time,
            e.actor,
            e.action,
            e.subject_type,
            e.subject_id,
            e.payload,
            e.prev_hash,
            e.hash,
        )
        for e in chain
    ]
    assert verify(rows) == verify(chain)
    rows[2] = (*rows[2][:6], '{"forged":true}', *rows[2][7:])
    assert (verify(rows).broken_seq, verify(rows).kind) == (3, Tampering.ALTERED)


def test_a_segment_verifies_from_the_stored_hash_before_it() -> None:
    chain = build(20)
    result = verify(chain[10:], start_seq=11, start_hash=chain[9].hash)
    assert result == Verification(True, 10, 20, chain[-1].hash)
    wrong_start = verify(chain[10:], start_seq=11, start_hash=GENESIS)
    assert not wrong_start.ok
    assert wrong_start.broken_seq == 11


# -- each kind of tampering --------------------------------------------------------------


@pytest.mark.parametrize("position", [1, 5, 10])
def test_an_edited_payload_is_altered_at_that_event(position: int) -> None:
    chain = build(10)
    tampered = list(chain)
    tampered[position - 1] = replace(chain[position - 1], payload='{"model":"credit","to":"x"}')
    result = verify(tampered)
    check_broken(result, chain, position, Tampering.ALTERED, f"event {position} was changed")
    assert result.to_dict()["kind"] == "altered"


@pytest.mark.parametrize("column", ["time", "actor", "action", "subject_id"])
def test_an_edited_column_is_altered(column: str) -> None:
    chain = build(10)
    tampered = list(chain)
    changes: dict[str, Any] = {column: "2026-01-01T00:00:00.000000Z"}
    tampered[3] = replace(chain[3], **changes)
    check_broken(verify(tampered), chain, 4, Tampering.ALTERED)


def test_an_edit_whose_hash_was_recomputed_is_blamed_on_the_edited_event() -> None:
    chain = build(10)
    tampered = list(chain)
    tampered[4] = reseal(chain[4], note="approved by nobody")
    result = verify(tampered)
    check_broken(result, chain, 5, Tampering.ALTERED, "event 5 was changed and its hash recomputed")


def test_an_edit_with_a_recomputed_hash_on_the_newest_event_goes_unnoticed() -> None:
    chain = build(10)
    tampered = [*chain[:-1], reseal(chain[-1], note="rewritten")]
    result = verify(tampered)
    assert result.ok  # only an externally kept head hash reveals this
    assert result.head_hash != chain[-1].hash


@pytest.mark.parametrize(("first", "count"), [(1, 1), (4, 1), (4, 3), (9, 1)])
def test_deleted_rows_leave_a_gap_reported_as_removed(first: int, count: int) -> None:
    chain = build(10)
    tampered = chain[: first - 1] + chain[first - 1 + count :]
    last = first + count - 1
    missing = f"event {first} is missing" if count == 1 else f"events {first}-{last} are missing"
    check_broken(verify(tampered), chain, first, Tampering.REMOVED, missing, f"jumps to {last + 1}")


@pytest.mark.parametrize(("first", "count"), [(1, 1), (4, 1), (4, 3)])
def test_deleted_rows_with_the_rest_renumbered_are_removed(first: int, count: int) -> None:
    chain = build(10)
    tampered = chain[: first - 1] + renumber(chain[first - 1 + count :], -count)
    check_broken(
        verify(tampered, successor_lookup(tampered)),
        chain,
        first,
        Tampering.REMOVED,
        f"is the original {first + count}",
    )


def test_deleting_the_newest_events_goes_unnoticed_without_an_external_head() -> None:
    chain = build(10)
    result = verify(chain[:7])
    assert result.ok
    assert (result.head_seq, result.head_hash) == (7, chain[6].hash)
    assert result.head_hash != chain[-1].hash


def test_a_forged_row_with_a_made_up_hash_is_inserted() -> None:
    chain = build(10)
    forged = replace(chain[4], actor="mallory", hash="f" * 64)  # claims seq 5, links to 4
    tampered = [*chain[:4], forged, *renumber(chain[4:], 1)]
    check_broken(
        verify(tampered, successor_lookup(tampered)),
        chain,
        5,
        Tampering.INSERTED,
        "event 5 was inserted",
        "now numbered 6 is the original 5",
    )


def test_a_forged_row_with_a_valid_hash_is_inserted() -> None:
    chain = build(10)
    forged = reseal(chain[4], note="forged", prev_hash=chain[3].hash)
    tampered = [*chain[:4], forged, *renumber(chain[4:], 1)]
    result = verify(tampered, successor_lookup(tampered))
    check_broken(result, chain, 5, Tampering.INSERTED, "event 5 was inserted")


def test_several_forged_rows_with_valid_hashes_are_inserted() -> None:
    chain = build(10)
    first = reseal(chain[2], note="forged-1", prev_hash=chain[1].hash)
    second = reseal(chain[3], note="forged-2", prev_hash=first.hash)
    tampered = [*chain[:2], first, second, *renumber(chain[2:], 2)]
    result = verify(tampered, successor_lookup(tampered))
    check_broken(result, chain, 3, Tampering.INSERTED, "events 3-4 were inserted")


def test_a_duplicated_seq_is_inserted() -> None:
    chain = build(6)
    tampered = [*chain[:3], replace(chain[3], seq=3), *chain[3:]]
    result = verify(tampered)
    assert (result.ok, result.broken_seq, result.kind) == (False, 4, Tampering.INSERTED)


@pytest.mark.parametrize("position", [1, 5, 9])
def test_two_swapped_neighbours_are_reordered(position: int) -> None:
    chain = build(10)
    a, b = chain[position - 1], chain[position]
    tampered = list(chain)
    tampered[position - 1] = replace(b, seq=a.seq)
    tampered[position] = replace(a, seq=b.seq)
    check_broken(
        verify(tampered, successor_lookup(tampered)),
        chain,
        position,
        Tampering.REORDERED,
        f"events {position} and {position + 1} were swapped",
    )


def test_an_event_moved_further_along_is_reordered() -> None:
    chain = build(10)
    moved = [chain[4], chain[5], chain[6], chain[3]]  # event 4 now sits after 7
    tampered = chain[:3] + [replace(e, seq=seq) for e, seq in zip(moved, range(4, 8), strict=True)]
    tampered += chain[7:]
    check_broken(
        verify(tampered, successor_lookup(tampered)),
        chain,
        4,
        Tampering.REORDERED,
        "appears later in the journal",
    )


def test_only_the_first_break_is_reported() -> None:
    chain = build(10)
    tampered = list(chain)
    tampered[2] = replace(chain[2], payload="{}")
    del tampered[7]
    check_broken(verify(tampered), chain, 3, Tampering.ALTERED)


def test_a_whole_chain_rewritten_from_some_event_on_verifies() -> None:
    """The chain alone cannot catch a consistent rewrite: that is what an external head is for."""
    chain = build(10)
    rewritten = chain[:5]
    for event in chain[5:]:
        rewritten.append(reseal(event, seq=event.seq, prev_hash=rewritten[-1].hash, note="new"))
    result = verify(rewritten)
    assert result.ok
    assert result.head_seq == 10
    assert result.head_hash != chain[-1].hash
