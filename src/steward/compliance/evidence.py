"""Signed evidence packs: what goes in, and how anyone checks one offline.

A pack is a zip:

- ``manifest.json`` — canonical JSON naming the model, the versions documented, who
  exported it and when, every other file with its sha256 and size, and the **chain
  head**: the audit journal's last event (seq and hash) when the pack was made;
- ``manifest.json.sig`` — DER ECDSA signature over ``manifest.json`` with the key
  Steward signs approved versions with (``steward signature key``), whose public half
  is ``steward-signing-key.pub``;
- the evidence (model record, model cards, risk assessment, policy in force, approvals,
  check runs and plots, findings, waivers, reviews, signatures, narrative history,
  monitoring status);
- ``audit/events.jsonl`` — every journal event about the model, in full, as
  ``steward audit export`` writes them; ``audit/chain.jsonl`` — ``seq``, ``prev_hash``
  and ``hash`` of *every* event from the model's first one to the chain head, so each
  model event can be placed in the one chain that ends at the signed head (other
  models' event contents are not disclosed, only their hashes);
- ``audit/checkpoint.txt`` — the signed checkpoint (C2SP signed note, with any witness
  cosignature lines) the events are proven against, ``audit/log-key.vkey`` the log's
  verifier key, ``audit/witnesses.txt`` the verifier keys of the witnesses whose
  cosignatures the note carries, and ``audit/proofs.jsonl`` an RFC 9162 inclusion
  proof per event the checkpoint covers: each event is provably in the organisation's
  log without the rest of the journal;
- ``exports/`` — the model's OSCAL assessment results and the CycloneDX and SPDX bills of
  materials of the documented versions (``steward.services.exports``), so another GRC
  tool can load what the signed manifest vouches for.

:func:`verify_pack` needs no server: it checks the signature, that the manifest names
the key, every file's hash, that every model event still hashes to what the chain
says and that the chain links up to the signed head, and optional anchors recorded
earlier (``SEQ:HASH``). Every failure names the file or event.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from steward.domain import checkpoint as cp
from steward.domain import merkle
from steward.domain.audit import canonical_json, chain_hash, event_message
from steward.domain.errors import ArtifactTooLarge
from steward.domain.trust import VerifyCheck

PACK_FORMAT = "steward.evidence-pack/v1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
PUBLIC_KEY = "steward-signing-key.pub"
EVENTS = "audit/events.jsonl"
LINKS = "audit/chain.jsonl"
CHECKPOINT = "audit/checkpoint.txt"
PROOFS = "audit/proofs.jsonl"
WITNESSES = "audit/witnesses.txt"
LOG_KEY = "audit/log-key.vkey"
_META = frozenset({MANIFEST, SIGNATURE, PUBLIC_KEY})
# Bounds for reading a pack (on the server and offline): a zip bomb (a small file whose
# members inflate to gigabytes) costs at most these, never the inflated size. Members are
# stream-read and the read stops at the limit, whatever sizes the zip's headers claim.
MAX_MEMBERS = 10_000
MAX_PACK_BYTES = 512 * 1024**2  # everything in the pack, inflated (and the zip itself)
MAX_MEMBER_BYTES = {MANIFEST: 16 * 1024**2, SIGNATURE: 64 * 1024, PUBLIC_KEY: 64 * 1024}
_READ_CHUNK = 1024 * 1024
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
    "secp521r1": hashes.SHA512,
}
# A fixed timestamp for every zip entry, so a pack's bytes depend only on its content.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class PackSummary:
    model: str
    versions: list[int]
    files: int
    manifest_sha256: str
    key_id: str
    chain_head_seq: int
    chain_head_hash: str
    audit_events: int
    created_at: str
    created_by: str


@dataclass(frozen=True)
class PackVerification:
    pack: str
    ok: bool
    checks: list[VerifyCheck]
    manifest: dict[str, Any] | None

    def failures(self) -> list[VerifyCheck]:
        return [c for c in self.checks if not c.ok]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def key_id(public_pem: str) -> str:
    """sha256 of the PEM text: the key id Steward's signatures name."""
    return sha256(public_pem.encode())


def event_line(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, sort_keys=True) + "\n"


def build_manifest(
    *,
    model: str,
    versions: Sequence[int],
    created_at: str,
    created_by: str,
    key_id: str,
    algorithm: str,
    head: tuple[int, str],
    audit: dict[str, Any],
    files: dict[str, bytes],
) -> dict[str, Any]:
    return {
        "format": PACK_FORMAT,
        "model": model,
        "versions": list(versions),
        "created_at": created_at,
        "created_by": created_by,
        "key": {"id": key_id, "algorithm": algorithm, "file": PUBLIC_KEY},
        "chain_head": {"seq": head[0], "hash": head[1]},
        "audit": audit,
        "files": [
            {"path": path, "sha256": sha256(data), "size": len(data)}
            for path, data in sorted(files.items())
        ],
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return canonical_json(manifest).encode()


def summary(manifest: dict[str, Any], raw_manifest: bytes) -> PackSummary:
    return PackSummary(
        model=str(manifest["model"]),
        versions=[int(v) for v in manifest["versions"]],
        files=len(manifest["files"]),
        manifest_sha256=sha256(raw_manifest),
        key_id=str(manifest["key"]["id"]),
        chain_head_seq=int(manifest["chain_head"]["seq"]),
        chain_head_hash=str(manifest["chain_head"]["hash"]),
        audit_events=int(manifest["audit"]["events"]),
        created_at=str(manifest["created_at"]),
        created_by=str(manifest["created_by"]),
    )


def write_zip(
    out: IO[bytes], files: dict[str, bytes], raw_manifest: bytes, signature: bytes, pem: str
) -> None:
    entries = {MANIFEST: raw_manifest, SIGNATURE: signature, PUBLIC_KEY: pem.encode(), **files}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name])


def read_summary(path: Path) -> PackSummary:
    """The summary of a pack on disk (what the remote SDK returns after a download)."""
    with zipfile.ZipFile(path) as archive:
        raw = archive.read(MANIFEST)
    return summary(json.loads(raw), raw)


# -- verification -----------------------------------------------------------------------


def _parse_anchor(text: str) -> tuple[int, str] | None:
    seq, sep, digest = text.strip().partition(":")
    digest = digest.strip().lower()
    if not sep or not seq.strip().isdigit() or len(digest) != 64:
        return None
    return int(seq), digest


def verify_pack(
    source: str | Path | bytes | IO[bytes],
    *,
    public_key: bytes | None = None,
    anchors: Iterable[str] = (),
) -> PackVerification:
    """Check a pack offline. ``public_key``: a PEM you trust, instead of the pack's own."""
    name = str(source) if isinstance(source, str | Path) else "evidence pack"
    checks: list[VerifyCheck] = []
    manifest: dict[str, Any] | None = None

    def done() -> PackVerification:
        return PackVerification(name, bool(checks) and all(c.ok for c in checks), checks, manifest)

    def fail(check: str, detail: str) -> PackVerification:
        checks.append(VerifyCheck(check, False, detail))
        return done()

    try:
        handle: Any = io.BytesIO(source) if isinstance(source, bytes) else source
        archive = zipfile.ZipFile(handle)
    except (OSError, zipfile.BadZipFile) as exc:
        return fail("pack", f"cannot open {name} as a zip file: {exc}")
    with archive:
        try:
            contents = _read_bounded(archive, name)
        except (OSError, zipfile.BadZipFile, EOFError, NotImplementedError) as exc:
            return fail("pack", f"{name} is damaged: {exc}")  # a damaged or odd entry
    for meta in (MANIFEST, SIGNATURE):
        if meta not in contents:
            return fail(
                meta,
                f"{meta} is missing from the pack; it is not a Steward evidence "
                "pack or was repacked without it",
            )
    raw = contents[MANIFEST]
    pem = public_key if public_key is not None else contents.get(PUBLIC_KEY)
    if pem is None:
        return fail(
            "public key",
            f"{PUBLIC_KEY} is missing; pass the key you trust "
            "(`steward signature key`) with --public-key",
        )
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        return fail("public key", f"not a PEM public key: {exc}")
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _HASHES:
        return fail("public key", "not an EC P-256/P-384/P-521 public key")
    try:
        key.verify(contents[SIGNATURE], raw, ec.ECDSA(_HASHES[key.curve.name]()))
    except InvalidSignature:
        return fail(
            "manifest signature",
            f"{MANIFEST} was altered, or was not signed by this key ({key_id(pem.decode())[:16]}…)",
        )
    pinned = "" if public_key is None else " (pinned key)"
    checks.append(
        VerifyCheck("manifest signature", True, f"signed by key {key_id(pem.decode())}{pinned}")
    )
    try:
        loaded = json.loads(raw)
    except ValueError:
        loaded = None
    if not isinstance(loaded, dict) or loaded.get("format") != PACK_FORMAT:
        return fail("manifest", f"not a {PACK_FORMAT} manifest")
    manifest = loaded
    named = (manifest.get("key") or {}).get("id")
    if named != key_id(pem.decode()):
        checks.append(
            VerifyCheck(
                "signing key",
                False,
                f"the manifest names key {named}, not the key that verified it",
            )
        )
    if public_key is not None and PUBLIC_KEY in contents and contents[PUBLIC_KEY] != public_key:
        checks.append(
            VerifyCheck("signing key", False, f"{PUBLIC_KEY} in the pack is not the key you pinned")
        )
    _check_files(manifest, contents, checks)
    _check_chain(manifest, contents, checks, anchors)
    _check_proofs(manifest, contents, checks)
    return done()


def _check_proofs(
    manifest: dict[str, Any], contents: dict[str, bytes], checks: list[VerifyCheck]
) -> None:
    """Each event's inclusion proof against the pack's signed checkpoint (and its cosigners).

    The checkpoint's text and the keys are covered by the manifest signature (their
    sha256 is in it); the checkpoint's own signature is checked with the log key, so a
    pack's proofs are as good as the published checkpoint they match.
    """
    from steward.trust.witness import cosignature_valid

    meta = (manifest.get("audit") or {}).get("checkpoint")
    if meta is None:
        return  # exported before any checkpoint existed: the chain is the proof
    proofs = _jsonl(contents.get(PROOFS), PROOFS, checks)
    events = _jsonl(contents.get(EVENTS), EVENTS, checks)
    if proofs is None or events is None:
        return
    note = contents.get(CHECKPOINT, b"").decode("utf-8", "replace")
    vkey = contents.get(LOG_KEY, b"").decode("utf-8", "replace").strip()
    try:
        parsed, _ = cp.parse(note)
        signed = cosignature_valid(note, vkey)
    except cp.CheckpointFormatError as exc:
        checks.append(VerifyCheck("audit checkpoint", False, f"{CHECKPOINT} or {LOG_KEY}: {exc}"))
        return
    if not signed or cp.parse_verifier_key(vkey)[0] != parsed.origin:
        checks.append(
            VerifyCheck(
                "audit checkpoint",
                False,
                f"{CHECKPOINT} is not signed by the log key in {LOG_KEY}: it was forged or altered",
            )
        )
        return
    if parsed.tree_size != meta.get("tree_size") or parsed.root_hash.hex() != meta.get("root_hash"):
        checks.append(
            VerifyCheck(
                "audit checkpoint", False, f"{CHECKPOINT} is not the checkpoint the manifest names"
            )
        )
        return
    checks.append(
        VerifyCheck(
            "audit checkpoint",
            True,
            f"signed by the log key {vkey.split('+', 1)[0]}: {parsed.tree_size} events, root "
            f"{parsed.root_hash.hex()}",
        )
    )
    cosigners = []
    for line in contents.get(WITNESSES, b"").decode("utf-8", "replace").splitlines():
        if not line.strip():
            continue
        try:
            ok = cosignature_valid(note, line.strip())
        except cp.CheckpointFormatError:
            ok = False
        name = line.split("+", 1)[0]
        if not ok:
            checks.append(
                VerifyCheck(f"witness {name}", False, f"{CHECKPOINT} carries no valid cosignature")
            )
        else:
            cosigners.append(name)
    if cosigners:
        checks.append(
            VerifyCheck("witness cosignatures", True, f"cosigned by {', '.join(cosigners)}")
        )
    by_seq = {p.get("seq"): p for p in proofs}
    proven = 0
    for event in events:
        seq = event.get("seq")
        if not isinstance(seq, int) or seq > parsed.tree_size:
            continue  # newer than the checkpoint: covered by the chain only
        where = (
            f"audit event {seq} ({event.get('action')} on "
            f"{event.get('subject_type')}:{event.get('subject_id')})"
        )
        step = by_seq.get(seq)
        if step is None:
            checks.append(VerifyCheck(where, False, f"no inclusion proof in {PROOFS}"))
            continue
        try:
            digest = chain_hash(
                str(event["prev_hash"]),
                event_message(
                    int(event["seq"]),
                    str(event["time"]),
                    str(event["actor"]),
                    str(event["action"]),
                    str(event["subject_type"]),
                    str(event["subject_id"]),
                    canonical_json(event["payload"]),
                ),
            )
            included = merkle.verify_inclusion(
                seq - 1,
                parsed.tree_size,
                cp.journal_leaf(digest),
                [bytes.fromhex(h) for h in step["proof"]],
                parsed.root_hash,
            )
        except (KeyError, ValueError, TypeError) as exc:
            checks.append(VerifyCheck(where, False, f"malformed event or proof: {exc}"))
            continue
        if not included:
            checks.append(
                VerifyCheck(
                    where,
                    False,
                    f"not in the log signed by {CHECKPOINT}: the event was altered after the "
                    "checkpoint or its proof is wrong",
                )
            )
            continue
        proven += 1
    if proven == sum(
        1 for e in events if isinstance(e.get("seq"), int) and e["seq"] <= parsed.tree_size
    ):
        checks.append(
            VerifyCheck(
                "inclusion proofs",
                True,
                f"{proven} events are in the log signed by the checkpoint of {parsed.tree_size} "
                f"events (newer ones: chain only)",
            )
        )


def _mib(size: int) -> str:
    return f"{size // 1024**2} MiB" if size >= 1024**2 else f"{size // 1024} KiB"


def _read_bounded(archive: zipfile.ZipFile, name: str) -> dict[str, bytes]:
    """Every member's bytes, refusing (413) a pack over :data:`MAX_MEMBERS` members or whose
    members inflate beyond their limit or :data:`MAX_PACK_BYTES` in total."""
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) > MAX_MEMBERS:
        raise ArtifactTooLarge(
            f"{name} has {len(members)} members; an evidence pack may have at most {MAX_MEMBERS}.",
            limit="members",
            maximum=MAX_MEMBERS,
        )
    contents: dict[str, bytes] = {}
    total = 0
    for info in members:
        own = MAX_MEMBER_BYTES.get(info.filename)
        remaining = MAX_PACK_BYTES - total
        limit = remaining if own is None else min(own, remaining)
        parts: list[bytes] = []
        size = 0
        with archive.open(info) as member:
            # Read at most one byte past the limit: enough to know it is exceeded.
            while chunk := member.read(min(_READ_CHUNK, limit + 1 - size)):
                size += len(chunk)
                if size > limit:
                    alone = own is not None and own <= remaining
                    cap = own if alone and own is not None else MAX_PACK_BYTES
                    what = info.filename if alone else "the pack's members together"
                    raise ArtifactTooLarge(
                        f"{name} is refused: {what} would inflate beyond {_mib(cap)}, the "
                        "limit for an evidence pack (a zip bomb, or not a Steward evidence "
                        "pack).",
                        limit="inflated bytes",
                        member=info.filename,
                        maximum=cap,
                    )
                parts.append(chunk)
        contents[info.filename] = b"".join(parts)
        total += size
    return contents


def _check_files(
    manifest: dict[str, Any], contents: dict[str, bytes], checks: list[VerifyCheck]
) -> None:
    listed: set[str] = set()
    bad = 0
    for entry in manifest.get("files") or []:
        path = str(entry.get("path"))
        listed.add(path)
        data = contents.get(path)
        if data is None:
            bad += 1
            checks.append(
                VerifyCheck(
                    f"file {path}", False, "listed in the manifest but missing from the pack"
                )
            )
            continue
        actual = sha256(data)
        if actual != entry.get("sha256"):
            bad += 1
            checks.append(
                VerifyCheck(
                    f"file {path}",
                    False,
                    f"sha256 is {actual}, the signed manifest says {entry.get('sha256')}: "
                    "the file was changed after export",
                )
            )
    for path in sorted(set(contents) - listed - _META):
        bad += 1
        checks.append(
            VerifyCheck(
                f"file {path}", False, "not in the signed manifest: it was added after export"
            )
        )
    if not bad:
        checks.append(
            VerifyCheck("files", True, f"{len(listed)} files match the sha256 in the manifest")
        )


def _jsonl(data: bytes | None, what: str, checks: list[VerifyCheck]) -> list[dict[str, Any]] | None:
    if data is None:
        checks.append(VerifyCheck(what, False, f"{what} is missing from the pack"))
        return None
    out = []
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        try:
            item = json.loads(line)
        except ValueError:
            checks.append(VerifyCheck(what, False, f"line {number} of {what} is not JSON"))
            return None
        if not isinstance(item, dict):
            checks.append(VerifyCheck(what, False, f"line {number} of {what} is not an object"))
            return None
        out.append(item)
    return out


def _check_chain(
    manifest: dict[str, Any],
    contents: dict[str, bytes],
    checks: list[VerifyCheck],
    anchors: Iterable[str],
) -> None:
    head = manifest.get("chain_head") or {}
    links = _jsonl(contents.get(LINKS), LINKS, checks)
    events = _jsonl(contents.get(EVENTS), EVENTS, checks)
    if links is None or events is None:
        return
    by_seq: dict[int, dict[str, Any]] = {}
    prev: dict[str, Any] | None = None
    for link in links:
        seq = link.get("seq")
        if not isinstance(seq, int):
            checks.append(VerifyCheck("audit chain", False, f"{LINKS}: an entry has no seq"))
            return
        if prev is not None and (seq != prev["seq"] + 1 or link.get("prev_hash") != prev["hash"]):
            checks.append(
                VerifyCheck(
                    "audit chain",
                    False,
                    f"{LINKS}: event {seq} does not continue event {prev['seq']} (its prev_hash is "
                    f"not the hash before it)",
                )
            )
            return
        by_seq[int(seq)] = link
        prev = link
    if prev is None or prev.get("seq") != head.get("seq") or prev.get("hash") != head.get("hash"):
        checks.append(
            VerifyCheck(
                "audit chain",
                False,
                f"{LINKS} ends at event {None if prev is None else prev.get('seq')}, not at the "
                f"signed chain head {head.get('seq')}",
            )
        )
        return
    expected = (manifest.get("audit") or {}).get("events")
    if expected != len(events):
        checks.append(
            VerifyCheck(
                "audit events",
                False,
                f"{EVENTS} holds {len(events)} events, the signed manifest says {expected}: "
                "events were removed or added",
            )
        )
    broken = 0
    for event in events:
        seq = event.get("seq")
        where = (
            f"audit event {seq} ({event.get('action')} on "
            f"{event.get('subject_type')}:{event.get('subject_id')})"
        )
        found = by_seq.get(seq) if isinstance(seq, int) else None
        if found is None:
            broken += 1
            checks.append(VerifyCheck(where, False, f"not in the chain segment of {LINKS}"))
            continue
        link = found
        try:
            payload = canonical_json(event["payload"])
            digest = chain_hash(
                str(event["prev_hash"]),
                event_message(
                    int(event["seq"]),
                    str(event["time"]),
                    str(event["actor"]),
                    str(event["action"]),
                    str(event["subject_type"]),
                    str(event["subject_id"]),
                    payload,
                ),
            )
        except (KeyError, ValueError, TypeError) as exc:
            broken += 1
            checks.append(VerifyCheck(where, False, f"malformed event: {exc}"))
            continue
        if digest != event.get("hash") or event.get("hash") != link.get("hash"):
            broken += 1
            checks.append(
                VerifyCheck(
                    where,
                    False,
                    "its content no longer matches its hash in the signed chain: it was altered "
                    "after export",
                )
            )
        elif event.get("prev_hash") != link.get("prev_hash"):
            broken += 1
            checks.append(VerifyCheck(where, False, "it does not link to the event before it"))
    if not broken:
        checks.append(
            VerifyCheck(
                "audit chain",
                True,
                f"{len(events)} model events hash correctly and link through {len(links)} chain "
                f"entries to the signed head {head.get('seq')}:{head.get('hash')}",
            )
        )
    for text in anchors:
        anchor = _parse_anchor(text)
        if anchor is None:
            checks.append(VerifyCheck(f"anchor {text}", False, "use SEQ:HASH (64 hex digits)"))
            continue
        seq, digest = anchor
        pinned = by_seq.get(seq)
        if pinned is None:
            checks.append(
                VerifyCheck(
                    f"anchor {seq}",
                    False,
                    f"event {seq} is outside the pack's chain segment "
                    f"({links[0]['seq']}-{links[-1]['seq']})",
                )
            )
        else:
            ok = pinned.get("hash") == digest
            checks.append(
                VerifyCheck(
                    f"anchor {seq}",
                    ok,
                    "matches the recorded hash"
                    if ok
                    else f"the pack has {pinned.get('hash')}, recorded {digest}: "
                    "the journal was rewritten",
                )
            )
