"""Event MACs and the authentication pass, without a database."""

from __future__ import annotations

import hmac

import pytest

from steward.domain.audit_auth import (
    CONTEXT,
    AuthProblem,
    Keyring,
    MacStatus,
    authenticate,
    key_id,
)

KEY, OLD = bytes(range(32)), bytes(range(32, 64))
RING = Keyring(1, (KEY,))


def rows(n: int, ring: Keyring = RING) -> list[tuple[int, str, str, str | None]]:
    return [
        (s, f"2026-01-01T00:00:{s:02d}.000000Z", f"{s:064x}", ring.mac(f"{s:064x}"))
        for s in range(1, n + 1)
    ]


def test_the_mac_is_standard_hmac_sha256_over_the_context_and_hash() -> None:
    digest = "ab" * 32
    expected = hmac.digest(KEY, CONTEXT + digest.encode(), "sha256").hex()
    assert RING.mac(digest) == f"{key_id(KEY)}:{expected}"


def test_check_names_each_outcome() -> None:
    digest = "cd" * 32
    assert RING.check(digest, RING.mac(digest)) is MacStatus.VALID
    assert RING.check(digest, None) is MacStatus.MISSING
    assert RING.check(digest, Keyring(1, (OLD,)).mac(digest)) is MacStatus.UNKNOWN_KEY
    assert RING.check("ef" * 32, RING.mac(digest)) is MacStatus.INVALID


def test_a_keyring_refuses_wrong_sizes_and_an_empty_list() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Keyring(1, (b"short",))
    with pytest.raises(ValueError, match="at least one key"):
        Keyring(1, ())
    with pytest.raises(ValueError, match="at least 1"):
        Keyring(0, (KEY,))


def test_an_authenticated_journal_passes_and_retired_keys_still_check() -> None:
    old = rows(3, Keyring(1, (OLD,)))
    new = [(s + 3, t.replace(":0", ":1", 1), d, RING.mac(d)) for s, t, d, _ in rows(3)]
    report = authenticate(old + new, Keyring(1, (KEY, OLD)))
    assert (report.ok, report.checked, report.unauthenticated_before) == (True, 6, None)


def test_events_before_since_are_unauthenticated_not_forged() -> None:
    journal = [(s, t, d, None) for s, t, d, _ in rows(3)] + rows(5)[3:]
    report = authenticate(journal, Keyring(4, (KEY,)))
    assert (report.ok, report.unauthenticated_before) == (True, 4)
    # the same gap after ``since`` is a forgery
    bad = authenticate(journal, Keyring(2, (KEY,)))
    assert (bad.ok, bad.problem, bad.broken_seq, bad.checked) == (False, AuthProblem.FORGED, 2, 1)


def test_a_wrong_mac_before_since_is_still_forged() -> None:
    journal = rows(3)
    journal[0] = (1, journal[0][1], journal[0][2], RING.mac("00" * 32))
    report = authenticate(journal, Keyring(3, (KEY,)))
    assert (report.problem, report.broken_seq) == (AuthProblem.FORGED, 1)
    assert "does not match its content" in report.detail


def test_a_failed_mac_that_repeats_an_earlier_event_is_a_replay() -> None:
    journal = [*rows(3), (4, "2026-01-01T00:00:09.000000Z", "ff" * 32, None)]
    report = authenticate(journal, RING, lambda seq: 2 if seq == 4 else None)
    assert (report.problem, report.broken_seq) == (AuthProblem.REPLAYED, 4)
    assert "repeats event 2" in report.detail


def test_time_going_backwards_is_backdating_even_with_a_valid_mac() -> None:
    journal = rows(3)
    s, _, d, m = journal[2]
    journal[2] = (s, "2025-12-31T00:00:00.000000Z", d, m)
    report = authenticate(journal, RING)
    assert (report.problem, report.broken_seq, report.checked) == (AuthProblem.BACKDATED, 3, 2)


def test_without_a_keyring_a_journal_is_not_called_authentic() -> None:
    report = authenticate(rows(2), None)
    assert (report.ok, report.problem, report.broken_seq) == (False, AuthProblem.FORGED, 1)
    assert authenticate([], None).ok
