"""Signed tree heads in the C2SP tlog-checkpoint / signed-note format.

A checkpoint is a note::

    <origin>\\n
    <tree size, decimal>\\n
    <root hash, standard base64>\\n
    \\n
    — <key name> <base64(key id[4] || Ed25519 signature[64])>\\n

The signature covers the note text up to and including the root line's newline.
The key id is the first four bytes of SHA-256(key name || 0x0A || 0x01 || public key),
0x01 being the signed-note type of Ed25519. Any tool that reads C2SP checkpoints
(transparency-dev witnesses, Go's sumdb/note) reads Steward's.

This module is the text format only; signing and checking signatures live in
``steward.trust.log_key`` (the domain does no cryptography beyond hashing).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from steward.domain import audit, merkle

ED25519 = 0x01
COSIGNATURE_V1 = 0x04  # C2SP tlog-cosignature: a witness's timestamped Ed25519 cosignature
DASH = "\u2014 "


class CheckpointFormatError(ValueError):
    """Text that is not a well-formed signed checkpoint."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes

    def body(self) -> str:
        """The signed text."""
        return f"{self.origin}\n{self.tree_size}\n{base64.b64encode(self.root_hash).decode()}\n"


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes  # 4 bytes
    signature: bytes

    def line(self) -> str:
        return f"{DASH}{self.name} {base64.b64encode(self.key_id + self.signature).decode()}\n"


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint as Steward keeps it, with its publication state."""

    id: int
    tree_size: int
    root_hash: str  # hex
    note: str
    created_at: datetime
    created_by: str
    published_to: tuple[str, ...]
    publish_error: str | None
    publish_attempts: int
    # Registered witnesses whose cosignature of this note Steward checked and stored.
    cosigners: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "note": self.note,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "published_to": list(self.published_to),
            "publish_error": self.publish_error,
            "publish_attempts": self.publish_attempts,
            "cosigners": list(self.cosigners),
        }


@dataclass(frozen=True)
class Witness:
    """A registered witness: someone outside the operator who cosigns checkpoints.

    ``verifier_key`` is its signed-note verifier key (``NAME+KEYID+BASE64``); the
    witness's name is the key's name, the one its signature lines carry.
    """

    name: str
    verifier_key: str
    created_at: datetime
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "verifier_key": self.verifier_key,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
        }


def leaf_index(seq: int) -> int:
    """Event ``seq``'s leaf in the journal's Merkle tree: leaves count from 0, events from 1.

    Records that cite an event (deploy records, signed manifests, evidence proofs) give
    both, so ``steward audit prove SEQ`` and any RFC 9162 tool find the same leaf.
    """
    return seq - 1


def journal_leaf(event_hash: str) -> bytes:
    """The Merkle leaf of a journal event: ``SHA-256(0x00 || its chain hash, 32 bytes)``.

    The chain hash already commits to the event's canonical message and, through
    ``prev_hash``, to everything before it; verify checks each one against the event
    first. Hashing 32 bytes instead of re-encoding the event keeps the tree pass of a
    verify cheap.
    """
    return merkle.leaf_hash(bytes.fromhex(event_hash))


def key_id(name: str, public_key: bytes, kind: int = ED25519) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public_key).digest()[:4]


def key_fingerprint(verifier_key_text: str) -> str:
    """SHA-256 of a verifier key's raw public key, hex: what two people compare by phone."""
    _name, _kind, raw = parse_any_verifier_key(verifier_key_text)
    return hashlib.sha256(raw).hexdigest()


def verifier_key(name: str, public_key: bytes, kind: int = ED25519) -> str:
    """The signed-note verifier key text: ``name+hex(key id)+base64(kind || key)``."""
    encoded = base64.b64encode(bytes([kind]) + public_key).decode()
    return f"{name}+{key_id(name, public_key, kind).hex()}+{encoded}"


def parse_any_verifier_key(text: str) -> tuple[str, int, bytes]:
    """(name, type, raw Ed25519 key) of an Ed25519 (0x01) or cosignature/v1 (0x04) key."""
    parts = text.strip().split("+", 2)  # names have no "+", base64 may
    if len(parts) != 3:
        raise CheckpointFormatError("a verifier key is NAME+KEYID+BASE64KEY")
    name, hex_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
        wanted = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError):
        raise CheckpointFormatError("the verifier key's id or key is not hex/base64") from None
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise CheckpointFormatError(
            "only Ed25519 (0x01) and tlog-cosignature/v1 (0x04) verifier keys are supported"
        )
    if key_id(name, raw[1:], raw[0]) != wanted:
        raise CheckpointFormatError("the verifier key's id does not match its name and key")
    return name, raw[0], raw[1:]


def parse_verifier_key(text: str) -> tuple[str, bytes]:
    """(name, raw Ed25519 public key) from an Ed25519 (0x01) verifier key; raises otherwise."""
    name, kind, raw = parse_any_verifier_key(text)
    if kind != ED25519:
        raise CheckpointFormatError("only Ed25519 verifier keys are supported")
    return name, raw


def cosigned_message(body: bytes, timestamp: int) -> bytes:
    """What a C2SP tlog-cosignature/v1 signs: a header with the time, then the checkpoint."""
    return b"cosignature/v1\ntime %d\n" % timestamp + body


def _valid_name(name: str) -> bool:
    return bool(name) and not any(c.isspace() or c == "+" for c in name)


def note(checkpoint: Checkpoint, signatures: list[NoteSignature]) -> str:
    if not _valid_name(checkpoint.origin):
        raise CheckpointFormatError("the origin must be non-empty, without spaces or '+'")
    return checkpoint.body() + "\n" + "".join(s.line() for s in signatures)


def parse(text: str) -> tuple[Checkpoint, list[NoteSignature]]:
    """Split a signed checkpoint into its body and signature lines (signatures unchecked)."""
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise CheckpointFormatError("a signed note contains no control characters but newline")
    body, sep, sigs = text.rpartition("\n\n")
    if not sep or not sigs.endswith("\n"):
        raise CheckpointFormatError(
            "not a signed note: expected the checkpoint text, a blank line and signature lines"
        )
    lines = (body + "\n").split("\n")[:-1]
    if len(lines) < 3:
        raise CheckpointFormatError("a checkpoint has an origin, a tree size and a root hash")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise CheckpointFormatError(f"tree size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise CheckpointFormatError("the root hash is not base64") from None
    if len(root) != 32:
        raise CheckpointFormatError("the root hash is not 32 bytes")
    if not _valid_name(origin):
        raise CheckpointFormatError("the origin line is empty or has spaces")
    signatures: list[NoteSignature] = []
    for line in sigs[:-1].split("\n"):
        if not line.startswith(DASH):
            raise CheckpointFormatError(f"not a signature line: {line[:40]!r}")
        name, _, encoded = line[len(DASH) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise CheckpointFormatError(f"signature of {name!r} is not base64") from None
        if len(raw) < 5 or not _valid_name(name):
            raise CheckpointFormatError(f"malformed signature line for {name!r}")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    # Extension lines (after the root) are signed but carry nothing Steward uses;
    # keep them in the body so the signature still covers exactly what was sent.
    checkpoint = Checkpoint(origin, int(size_text), root)
    return checkpoint, signatures


def with_signatures(text: str, lines: list[str]) -> str:
    """The note ``text`` with extra signature lines appended (each ends with a newline)."""
    return text + "".join(lines)


def signed_text(text: str) -> bytes:
    """The bytes a note's signatures cover: everything before the blank line, with its newline."""
    body, _, _ = text.rpartition("\n\n")
    return (body + "\n").encode()


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    leaf_index: int
    leaf_hash: str
    tree_size: int
    root_hash: str
    proof: tuple[str, ...]
    checkpoint_id: int
    checkpoint: str  # the signed note the root comes from
    event: dict[str, Any]  # the event as exported (its canonical message is the leaf data)

    def verify(self) -> bool:
        """Is the event (its hash recomputed from ``event``) the proven leaf under ``root_hash``?

        Hashes only: that ``checkpoint`` is signed by the log key is checked apart.
        """
        e = self.event
        message = audit.event_message(
            e["seq"],
            e["time"],
            e["actor"],
            e["action"],
            e["subject_type"],
            e["subject_id"],
            audit.canonical_json(e["payload"]),
        )
        if audit.chain_hash(e["prev_hash"], message) != e["hash"]:
            return False
        leaf = journal_leaf(e["hash"])
        return leaf.hex() == self.leaf_hash and merkle.verify_inclusion(
            self.leaf_index,
            self.tree_size,
            leaf,
            [bytes.fromhex(p) for p in self.proof],
            bytes.fromhex(self.root_hash),
        )


@dataclass(frozen=True)
class ConsistencyProof:
    old: StoredCheckpoint
    new: StoredCheckpoint
    proof: tuple[str, ...]

    def verify(self) -> bool:
        """Does the new tree extend the old one (hashes only; signatures apart)?"""
        return merkle.verify_consistency(
            self.old.tree_size,
            self.new.tree_size,
            bytes.fromhex(self.old.root_hash),
            bytes.fromhex(self.new.root_hash),
            [bytes.fromhex(p) for p in self.proof],
        )
