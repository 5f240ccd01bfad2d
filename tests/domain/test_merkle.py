"""RFC 9162 Merkle tree: checked against a naive recursive tree and the RFC 6962 vectors."""

from __future__ import annotations

import hashlib

import pytest

from steward.domain import merkle
from steward.domain.merkle import MemoryNodes, leaf_hash, node_hash

# The Certificate Transparency reference leaves and tree heads (RFC 6962 test vectors).
VECTOR_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
VECTOR_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
VECTOR_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
VECTOR_CONSISTENCY = {
    (2, 8): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
}

MAX = 70


# --- the naive recursive definitions of RFC 9162 §2.1, transcribed literally ---


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = _k(n)
    return node_hash(naive_mth(leaves[:k]), naive_mth(leaves[k:]))


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_mth(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_mth(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [naive_mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(m, leaves[:k], b), naive_mth(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_mth(leaves[:k])]


def naive_consistency(m: int, leaves: list[bytes]) -> list[bytes]:
    if m == 0 or m == len(leaves):
        return []
    return naive_subproof(m, leaves, True)


LEAVES = [leaf_hash(f"event {i}".encode()) for i in range(MAX)]
STORE = MemoryNodes(LEAVES)
ROOTS = [naive_mth(LEAVES[:n]) for n in range(MAX + 1)]


def test_rfc6962_reference_roots() -> None:
    leaves = [leaf_hash(d) for d in VECTOR_LEAVES]
    store = MemoryNodes(leaves)
    compact = merkle.CompactRange()
    for n in range(len(leaves) + 1):
        assert merkle.root(store, n).hex() == VECTOR_ROOTS[n]
        assert compact.root().hex() == VECTOR_ROOTS[n]
        if n < len(leaves):
            compact.append(leaves[n])


def test_rfc6962_reference_proofs() -> None:
    leaves = [leaf_hash(d) for d in VECTOR_LEAVES]
    store = MemoryNodes(leaves)
    for (index, size), proof in VECTOR_INCLUSION.items():
        assert [p.hex() for p in merkle.inclusion_proof(store, index, size)] == proof
        assert merkle.verify_inclusion(
            index,
            size,
            leaves[index],
            [bytes.fromhex(p) for p in proof],
            bytes.fromhex(VECTOR_ROOTS[size]),
        )
    for (old, new), proof in VECTOR_CONSISTENCY.items():
        assert [p.hex() for p in merkle.consistency_proof(store, old, new)] == proof
        assert merkle.verify_consistency(
            old,
            new,
            bytes.fromhex(VECTOR_ROOTS[old]),
            bytes.fromhex(VECTOR_ROOTS[new]),
            [bytes.fromhex(p) for p in proof],
        )


def test_roots_match_naive_tree_for_every_size() -> None:
    compact = merkle.CompactRange()
    for n in range(MAX + 1):
        assert merkle.root(STORE, n) == ROOTS[n]
        assert compact.root() == ROOTS[n]
        if n < MAX:
            compact.append(LEAVES[n])


def test_inclusion_proofs_match_naive_and_verify_for_every_leaf() -> None:
    for n in range(1, MAX + 1):
        for i in range(n):
            proof = merkle.inclusion_proof(STORE, i, n)
            assert proof == naive_path(i, LEAVES[:n])
            assert merkle.verify_inclusion(i, n, LEAVES[i], proof, ROOTS[n])


def test_consistency_proofs_match_naive_and_verify_for_every_pair() -> None:
    for new in range(MAX + 1):
        for old in range(new + 1):
            proof = merkle.consistency_proof(STORE, old, new)
            assert proof == naive_consistency(old, LEAVES[:new])
            assert merkle.verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


def test_proofs_read_only_logarithmically_many_nodes() -> None:
    class Counting:
        reads = 0

        def node(self, level: int, index: int) -> bytes:
            Counting.reads += 1
            return STORE.node(level, index)

    for n in range(1, MAX + 1):
        depth = (n - 1).bit_length()
        for i in range(n):
            Counting.reads = 0
            merkle.inclusion_proof(Counting(), i, n)
            assert Counting.reads <= 2 * depth + 1
        for old in range(1, n):
            Counting.reads = 0
            merkle.consistency_proof(Counting(), old, n)
            assert Counting.reads <= 2 * depth + 2


def _flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


def test_inclusion_attacks_are_rejected() -> None:
    for n in range(1, MAX + 1):
        for i in range(n):
            proof = merkle.inclusion_proof(STORE, i, n)
            leaf, root = LEAVES[i], ROOTS[n]
            # wrong index, wrong size, wrong leaf, wrong root
            for j in {i - 1, i + 1, i ^ 1} - {i}:
                assert not merkle.verify_inclusion(j, n, leaf, proof, root)
            # a proof for one tree head does not verify against another size's head
            for size in {n - 1, n + 1} - {0, MAX + 1}:
                if i < size:
                    assert not merkle.verify_inclusion(i, size, leaf, proof, ROOTS[size])
            assert not merkle.verify_inclusion(i, n, _flip(leaf), proof, root)
            assert not merkle.verify_inclusion(i, n, leaf, proof, _flip(root))
            for k in range(len(proof)):  # every tampered sibling
                bad = [*proof[:k], _flip(proof[k]), *proof[k + 1 :]]
                assert not merkle.verify_inclusion(i, n, leaf, bad, root)
            assert not merkle.verify_inclusion(i, n, leaf, [*proof, LEAVES[0]], root)
            if proof:
                assert not merkle.verify_inclusion(i, n, leaf, proof[:-1], root)


def test_consistency_attacks_are_rejected() -> None:
    for new in range(2, MAX + 1):
        for old in range(1, new):
            proof = merkle.consistency_proof(STORE, old, new)
            ro, rn = ROOTS[old], ROOTS[new]
            assert not merkle.verify_consistency(old, new, _flip(ro), rn, proof)
            assert not merkle.verify_consistency(old, new, ro, _flip(rn), proof)
            assert not merkle.verify_consistency(new, old, rn, ro, proof)
            assert not merkle.verify_consistency(old, new, ro, rn, [])
            for k in range(len(proof)):
                bad = [*proof[:k], _flip(proof[k]), *proof[k + 1 :]]
                assert not merkle.verify_consistency(old, new, ro, rn, bad)
            assert not merkle.verify_consistency(old, new, ro, rn, proof[:-1])
            assert not merkle.verify_consistency(old, new, ro, rn, [*proof, LEAVES[0]])
            # a different history of the same size does not extend to the new tree
            forged = naive_mth([LEAVES[0], *LEAVES[2 : old + 1]]) if old > 1 else LEAVES[1]
            assert not merkle.verify_consistency(old, new, forged, rn, proof)


def test_degenerate_consistency_cases() -> None:
    assert merkle.verify_consistency(4, 4, ROOTS[4], ROOTS[4], [])
    assert not merkle.verify_consistency(4, 4, ROOTS[4], ROOTS[5], [])
    assert not merkle.verify_consistency(4, 4, ROOTS[4], ROOTS[4], [ROOTS[1]])
    assert merkle.verify_consistency(0, 8, merkle.EMPTY_ROOT, ROOTS[8], [])


def test_impossible_requests_raise() -> None:
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_proof(STORE, 5, 5)
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_proof(STORE, -1, 5)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(STORE, 6, 5)
    with pytest.raises(merkle.ProofError):
        merkle.root(STORE, MAX + 1)  # the store has no such subtree


def test_compact_range_creates_the_same_nodes_as_the_store() -> None:
    compact = merkle.CompactRange()
    built: dict[tuple[int, int], bytes] = {}
    for leaf in LEAVES:
        for level, index, digest in compact.append(leaf):
            built[(level, index)] = digest
    assert built == STORE.nodes


def test_nodes_needed_lists_exactly_what_a_proof_reads() -> None:
    for n in range(1, MAX + 1):
        for i in range(0, n, 7):
            keys = merkle.nodes_needed(lambda r, i=i, n=n: merkle.inclusion_proof(r, i, n))
            subset = MemoryNodes()
            subset.nodes = {k: STORE.nodes[k] for k in keys}
            assert merkle.inclusion_proof(subset, i, n) == merkle.inclusion_proof(STORE, i, n)
