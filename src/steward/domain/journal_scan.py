"""One streamed pass over a stretch of the journal: chain, MAC, time order and Merkle leaves.

``steward audit verify`` used to read the journal three times (the chain walk, the
MAC pass, the tree pass), and only the first ran in parallel. :func:`scan` does all
three per row while the row is in hand, over a *chunk* of the journal whose first
leaf index is a multiple of :data:`CHUNK` (a power of two), so each chunk's Merkle
nodes are nodes of the whole tree and chunks can be checked in any process and in
any order, then folded together in seq order with :func:`fold`.

It is a fast path that only ever says "everything here holds" or "something does
not" (``None``): explaining *what* happened (altered, removed, forged, backdated…)
is left to the exact passes in ``steward.domain.audit`` and
``steward.domain.audit_auth``, which run only when this one fails. Both apply the
same rules, so the fast path can never accept what they would reject.

Pure: hashing only, rows come from the caller.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring

from steward.domain import merkle
from steward.domain.audit_auth import CONTEXT, KEY_BYTES, Keyring, key_id

# Leaves per chunk: 2**16 keeps a chunk's rows (~30 MB of Python objects) and its
# scheduling overhead both small, and leaves many chunks to share between processes.
CHUNK = 1 << 16

# (seq, time, actor, action, subject_type, subject_id, payload, prev_hash, hash, mac)
ScanRow = tuple[int, str, str, str, str, str, str, str, str, str | None]


@dataclass(frozen=True)
class ChunkScan:
    """What a chunk proved: its rows link, carry valid MACs, keep time order."""

    first: int  # seq of its first event
    last: int  # seq of its last event
    last_hash: str
    # Roots of the chunk's perfect subtrees, largest first (its compact range).
    stack: tuple[bytes, ...]
    # For each requested tree size inside the chunk: the chunk's compact range there.
    at_sizes: dict[int, tuple[bytes, ...]] = field(default_factory=dict)
    # Events before this seq carry no MAC the key file can check (None: all checked).
    unauthenticated_before: int | None = None


def chunks(last_seq: int) -> list[tuple[int, int]]:
    """(first seq, last seq) of every chunk of a journal ending at ``last_seq``."""
    return [(start + 1, min(start + CHUNK, last_seq)) for start in range(0, last_seq, CHUNK)]


class _Pads:
    """HMAC-SHA256 with the key's pads, and CONTEXT after the inner one, absorbed once
    (as ``audit_auth._Hmac``)."""

    __slots__ = ("inner", "outer")

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"audit keys are {KEY_BYTES} bytes")
        block = key.ljust(64, b"\0")
        self.inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        # Every MAC'd message starts with CONTEXT: absorbed once here, not once per event.
        self.inner.update(CONTEXT)
        self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))


def scan(
    rows: Iterable[ScanRow],
    *,
    first: int,
    last: int,
    keyring: Keyring,
    sizes: Sequence[int] = (),
) -> ChunkScan | None:
    """Check events ``first``..``last``; ``rows`` start with event ``first - 1`` if any.

    The event before the chunk is taken as stored (the chunk before checks it):
    its hash starts the chain and its time the order. ``sizes`` are tree sizes
    (checkpoints) ending inside this chunk. Returns None at the first thing that
    does not hold; the exact passes then say what it is.
    """
    if (first - 1) % CHUNK:
        raise ValueError("a chunk starts at a multiple of CHUNK leaves")
    it = iter(rows)
    prev_hex, last_time = "0" * 64, ""
    if first > 1:
        before = next(it, None)
        if before is None or before[0] != first - 1:
            return None
        prev_hex, last_time = before[8], before[1]
    prev = bytes.fromhex(prev_hex)
    want = sorted(s for s in sizes if first <= s <= last)
    pending = iter(want)
    next_size = next(pending, 0)
    at_sizes: dict[int, tuple[bytes, ...]] = {}
    pads = {key_id(k): _Pads(k) for k in keyring.keys}
    since = keyring.since
    unauthenticated: int | None = None
    stack: list[bytes] = []
    push, pop = stack.append, stack.pop
    sha, enc = hashlib.sha256, encode_basestring
    expected = first
    # The hot loop of `steward audit verify`: everything per row is inlined.
    for seq, time, actor, action, stype, sid, payload, row_prev, row_hash, mac in it:
        if seq != expected or time < last_time or row_prev != prev_hex:
            return None
        message = f"[{seq},{enc(time)},{enc(actor)},{enc(action)},{enc(stype)},{enc(sid)},"
        digest = sha(prev + (message + payload + "]").encode()).digest()
        hexed = digest.hex()
        if hexed != row_hash:
            return None
        kid, _, value = (mac or "").partition(":")
        key = pads.get(kid)
        if key is None:
            # Missing, or made with a key this file does not hold: acceptable only for
            # events written before the key file existed (as audit_auth.authenticate).
            if seq >= since:
                return None
            unauthenticated = seq + 1
        else:
            inner = key.inner.copy()
            inner.update(hexed.encode())
            outer = key.outer.copy()
            outer.update(inner.digest())
            if outer.hexdigest() != value:
                return None
        # merkle.CompactRange.add, inlined: one merge per trailing zero of the local size.
        node = sha(b"\x00" + digest).digest()
        n = seq - first + 1
        while not n & 1:
            node = sha(b"\x01" + pop() + node).digest()
            n >>= 1
        push(node)
        if seq == next_size:
            at_sizes[seq] = tuple(stack)
            next_size = next(pending, 0)
        prev, prev_hex, last_time = digest, hexed, time
        expected += 1
    if expected != last + 1:
        return None  # rows missing at the end of the chunk
    return ChunkScan(first, last, prev_hex, tuple(stack), at_sizes, unauthenticated)


class Fold:
    """The whole tree's compact range, built chunk by chunk in seq order."""

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[bytes] = []
        self.roots: dict[int, bytes] = {}  # tree size -> root, for the requested sizes
        self.unauthenticated_before: int | None = None
        self.last_hash = "0" * 64

    def add(self, chunk: ChunkScan) -> None:
        if chunk.first != self.size + 1:
            raise ValueError("chunks are folded in seq order")
        for size, part in chunk.at_sizes.items():
            self.roots[size] = _root(_extended(self.stack, self.size, size - self.size, part))
        count = chunk.last - self.size
        self.stack = _extended(self.stack, self.size, count, chunk.stack)
        self.size = chunk.last
        self.last_hash = chunk.last_hash
        if chunk.unauthenticated_before is not None:
            self.unauthenticated_before = chunk.unauthenticated_before

    def root(self) -> bytes:
        return _root(self.stack)


def _extended(stack: list[bytes], size: int, count: int, part: Sequence[bytes]) -> list[bytes]:
    """The compact range of ``size`` leaves followed by the next ``count`` leaves' range.

    ``part`` is the compact range of those ``count`` leaves on their own: perfect
    subtrees at the levels of count's set bits, largest first. ``size`` is a multiple
    of CHUNK >= count, so each lands on a boundary of its own size and appending it is
    a binary carry, as for a single leaf.
    """
    levels = [b for b in range(count.bit_length() - 1, -1, -1) if count >> b & 1]
    if len(levels) != len(part):
        raise ValueError("a compact range has one node per set bit of its size")
    out = list(stack)
    for level, node in zip(levels, part, strict=True):
        n = (size >> level) + 1
        current = node
        while not n & 1:
            current = merkle.node_hash(out.pop(), current)
            n >>= 1
        out.append(current)
        size += 1 << level
    return out


def _root(nodes: Sequence[bytes]) -> bytes:
    if not nodes:
        return merkle.EMPTY_ROOT
    it = reversed(nodes)
    current = next(it)
    for node in it:
        current = merkle.node_hash(node, current)
    return current
