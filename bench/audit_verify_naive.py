"""The comparison for bench/audit_verify.py: `steward audit verify` written the way a
competent user would write it from docs/audit.md, with no Steward code.

It performs the same verification — every event's chain hash (json.dumps of the
canonical array, as docs/audit.md prescribes), its MAC (hmac.new), time order, and the
RFC 9162 Merkle root at every signed checkpoint (Ed25519 signature checked with
`cryptography`) — with a straightforward tree:

    --tree naive     leaves kept in a list, MTH computed by the RFC's recursion
    --tree pymerkle  leaves appended to pymerkle's InmemoryTree, get_root(size)

Runs in any interpreter with `cryptography` (and `pymerkle` for that tree): the bench
runs the pymerkle variant in its own virtualenv. Prints one JSON line (result, seconds,
peak memory from /proc/self/status VmHWM).

    python bench/audit_verify_naive.py DB KEYFILE VERIFIER_KEY [--tree naive|pymerkle]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import sqlite3
import sys
import time

CONTEXT = b"steward-audit-mac/1\n"


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"steward-audit-key-id\n" + key).hexdigest()[:16]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def mth(leaves: list[bytes], lo: int, hi: int) -> bytes:
    """RFC 9162 §2.1.1 MTH(D[lo:hi]), recursively (leaves already hashed)."""
    if hi - lo == 1:
        return leaves[lo]
    k = 1
    while k * 2 < hi - lo:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves, lo, lo + k) + mth(leaves, lo + k, hi)).digest()


def checkpoint_heads(db: sqlite3.Connection, vkey: str) -> dict[int, bytes]:
    """tree size -> root of every stored checkpoint whose signature is the log key's."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    name, kid_hex, encoded = vkey.split("+", 2)
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(encoded)[1:])
    heads = {}
    for (note,) in db.execute("SELECT note FROM audit_checkpoints ORDER BY id"):
        body, _, sigs = note.partition("\n\n")
        _origin, size, root = body.split("\n")[:3]
        for line in sigs.splitlines():
            signer, blob = line.removeprefix("\u2014 ").rsplit(" ", 1)
            raw = base64.b64decode(blob)
            if signer == name and raw[:4].hex() == kid_hex:
                public.verify(raw[4:], (body + "\n").encode())  # raises when forged
        heads[int(size)] = base64.b64decode(root)
    return heads


def verify(db_path: str, key_file: str, vkey: str, tree: str) -> dict[str, object]:
    db = sqlite3.connect(db_path)
    with open(key_file) as fh:
        ring = json.load(fh)
    keys = {key_id(bytes.fromhex(k)): bytes.fromhex(k) for k in ring["keys"]}
    heads = checkpoint_heads(db, vkey)
    if tree == "pymerkle":
        from pymerkle import InmemoryTree

        pm = InmemoryTree(algorithm="sha256")
    leaves: list[bytes] = []
    prev, last_time, expected = "0" * 64, "", 1
    rows = db.execute(
        "SELECT seq, time, actor, action, subject_type, subject_id, payload, prev_hash, hash, "
        "mac FROM audit_events ORDER BY seq"
    )
    for seq, when, actor, action, stype, sid, payload, row_prev, row_hash, mac in rows:
        canonical = json.dumps(
            [seq, when, actor, action, stype, sid, json.loads(payload)],
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        digest = hashlib.sha256(bytes.fromhex(prev) + canonical.encode()).hexdigest()
        if seq != expected or row_prev != prev or digest != row_hash or when < last_time:
            return {"ok": False, "broken_seq": seq}
        kid, _, value = (mac or "").partition(":")
        if kid not in keys or not hmac.compare_digest(
            hmac.new(keys[kid], CONTEXT + digest.encode(), hashlib.sha256).hexdigest(), value
        ):
            return {"ok": False, "broken_seq": seq, "mac": True}
        if tree == "pymerkle":
            pm.append_entry(bytes.fromhex(digest))
        else:
            leaves.append(leaf_hash(bytes.fromhex(digest)))
        prev, last_time, expected = digest, when, expected + 1
    count = expected - 1
    for size, root in sorted(heads.items()):
        if size > count:
            return {"ok": False, "truncated": size}
        got = pm.get_root(size) if tree == "pymerkle" else mth(leaves, 0, size)
        if got != root:
            return {"ok": False, "rewritten": size}
    return {"ok": True, "checked": count, "checkpoints": len(heads)}


def vm_hwm_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("db")
    parser.add_argument("key_file")
    parser.add_argument("verifier_key")
    parser.add_argument("--tree", choices=("naive", "pymerkle"), default="naive")
    args = parser.parse_args()
    t0 = time.perf_counter()
    result = verify(args.db, args.key_file, args.verifier_key, args.tree)
    seconds = time.perf_counter() - t0
    json.dump(result | {"seconds": seconds, "vm_hwm_kib": vm_hwm_kib()}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
