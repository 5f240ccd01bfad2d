"""RFC 9162 §2.1 Merkle trees: tree heads, inclusion and consistency proofs.

Hashing is SHA-256 with domain separation: a leaf is ``H(0x00 || data)`` and an
interior node ``H(0x01 || left || right)``; a tree of n leaves splits at the
largest power of two below n. Everything here works from a :class:`NodeReader`
that returns the hash of any *complete* subtree — ``2**level`` leaves starting at
leaf ``index * 2**level`` — which is what the store keeps, so a tree head or a
proof costs O(log n) node reads whatever the size of the journal.

Pure: no I/O. The verification functions need nothing but the proof, so the
stand-alone procedure in docs/audit.md is a transcription of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # RFC 9162: the hash of an empty tree


class ProofError(ValueError):
    """A proof was asked for or checked with impossible parameters, or does not verify."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class NodeReader(Protocol):
    def node(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree of 2**level leaves starting at leaf index * 2**level."""
        ...


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_complete(start: int, end: int) -> bool:
    size = end - start
    return size & (size - 1) == 0 and start % size == 0


def range_hash(store: NodeReader, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range whose left edge is aligned as RFC 9162 recursion makes it.

    Every range the proofs need is a complete subtree, or a complete left part
    followed by a (recursively) smaller right part: O(log n) reads.
    """
    if end <= start:
        raise ProofError("empty range")
    if _is_complete(start, end):
        size = end - start
        level = size.bit_length() - 1
        return store.node(level, start >> level)
    k = _split(end - start)
    return node_hash(range_hash(store, start, start + k), range_hash(store, start + k, end))


def root(store: NodeReader, size: int) -> bytes:
    """The tree head over the first ``size`` leaves."""
    if size < 0:
        raise ProofError("tree size cannot be negative")
    return EMPTY_ROOT if size == 0 else range_hash(store, 0, size)


def inclusion_proof(store: NodeReader, index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]), leaf-side sibling first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(range_hash(store, start + k, end))
            end = start + k
        else:
            path.append(range_hash(store, start, start + k))
            start += k
    path.reverse()
    return path


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root a proof implies; raises when its length is wrong."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    try:
        return root_from_inclusion(index, size, leaf, proof) == expected_root
    except ProofError:
        return False


def consistency_proof(store: NodeReader, old: int, new: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(old, D[0:new])."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    if old == 0 or old == new:
        return []
    proof: list[bytes] = []
    # SUBPROOF(m, D[start:end], b), unrolled: each step adds one hash.
    m, start, end, whole = old, 0, new, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                proof.append(range_hash(store, start, end))
            break
        k = _split(n)
        if m <= k:
            proof.append(range_hash(store, start + k, end))
            end = start + k
        else:
            proof.append(range_hash(store, start, start + k))
            m -= k
            start += k
            whole = False
    proof.reverse()
    return proof


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does the tree of size ``new`` extend the one of size ``old``?"""
    if not 0 <= old <= new:
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof  # every tree extends the empty one
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def new_nodes(index: int, leaf: bytes, store: NodeReader) -> list[tuple[int, int, bytes]]:
    """The complete-subtree nodes that appending leaf ``index`` creates, leaf first.

    Leaf i completes the subtree at level L for every L with (i + 1) divisible by
    2**L; each needs its left sibling, which is already stored.
    """
    out = [(0, index, leaf)]
    current = leaf
    level, pos = 0, index
    while pos & 1:
        current = node_hash(store.node(level, pos - 1), current)
        level, pos = level + 1, pos >> 1
        out.append((level, pos, current))
    return out


class CompactRange:
    """The running right edge of a tree being built leaf by leaf: O(log n) memory.

    Used by verify to recompute tree heads while streaming the journal once.
    """

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (level, hash), levels strictly decreasing

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add the next leaf; returns the complete-subtree nodes it creates (as new_nodes)."""
        level, current = 0, leaf
        stack = self._stack
        self.size += 1
        created = [(0, self.size - 1, leaf)]
        while stack and stack[-1][0] == level:
            current = node_hash(stack.pop()[1], current)
            level += 1
            created.append((level, (self.size >> level) - 1, current))
        stack.append((level, current))
        return created

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        it = reversed(self._stack)
        current = next(it)[1]
        for _, h in it:
            current = node_hash(h, current)
        return current


class _Recorder:
    def __init__(self) -> None:
        self.keys: list[tuple[int, int]] = []

    def node(self, level: int, index: int) -> bytes:
        self.keys.append((level, index))
        return bytes(HASH_SIZE)


def nodes_needed(compute: Callable[[NodeReader], object]) -> list[tuple[int, int]]:
    """The (level, index) nodes ``compute`` reads, so a store can fetch them in one query.

    The tree functions choose which nodes to read from sizes and indices alone,
    never from hash values, so a dry run with placeholder hashes finds them all.
    """
    recorder = _Recorder()
    compute(recorder)
    return recorder.keys


class MemoryNodes:
    """An in-memory node store (tests, and building small trees for offline checks)."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.size = 0
        for leaf in leaves:
            self.append(leaf)

    def node(self, level: int, index: int) -> bytes:
        try:
            return self.nodes[(level, index)]
        except KeyError:
            raise ProofError(f"no complete subtree at level {level}, index {index}") from None

    def append(self, leaf: bytes) -> None:
        for level, index, digest in new_nodes(self.size, leaf, self):
            self.nodes[(level, index)] = digest
        self.size += 1
