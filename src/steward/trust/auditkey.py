"""The key file that authenticates journal events, kept outside the database.

Default ``$STEWARD_HOME/keys/audit.key`` (mode 0600), or ``STEWARD_AUDIT_KEY``.
It is JSON: ``{"format": "steward-audit-key/1", "since": SEQ, "keys": [HEX, ...]}``;
the first key is current, later ones are retired keys kept to check older
events. ``since`` is the first event that must carry a MAC (see
``steward.domain.audit_auth``). Written once, atomically; rotation writes a
new file and renames it over the old one.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path

from steward.domain.audit_auth import KEY_BYTES, Keyring
from steward.domain.errors import StewardError
from steward.trust.keys import write_once

FORMAT = "steward-audit-key/1"
_LOCK = threading.Lock()
_CACHE: dict[Path, tuple[float, Keyring]] = {}


class AuditKeyError(StewardError):
    """The audit key file exists but cannot be used."""


def _encode(ring: Keyring) -> bytes:
    body = {"format": FORMAT, "since": ring.since, "keys": [k.hex() for k in ring.keys]}
    return (json.dumps(body, indent=1) + "\n").encode()


def load(path: Path) -> Keyring | None:
    """The keyring at ``path``; None when there is no file (never creates one)."""
    with _LOCK:
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return None
        cached = _CACHE.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            body = json.loads(path.read_bytes())
            if body.get("format") != FORMAT:
                raise ValueError(f"format is not {FORMAT}")
            ring = Keyring(int(body["since"]), tuple(bytes.fromhex(k) for k in body["keys"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AuditKeyError(
                f"The audit key file {path} cannot be used ({exc}). Restore it from your "
                "backup; see docs/audit.md, 'Losing or rotating the audit key'."
            ) from exc
        _CACHE[path] = (mtime, ring)
        return ring


def create(path: Path, since: int) -> Keyring:
    """A new key file whose MACs are required from event ``since`` on; an existing file wins."""
    ring = Keyring(since, (secrets.token_bytes(KEY_BYTES),))
    write_once(path, _encode(ring))
    found = load(path)
    assert found is not None
    return found


def rotate(path: Path) -> Keyring:
    """Put a new current key first; the old ones stay to check the events they made."""
    ring = load(path)
    if ring is None:
        raise AuditKeyError(f"There is no audit key file at {path} to rotate.")
    new = Keyring(ring.since, (secrets.token_bytes(KEY_BYTES), *ring.keys))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.rotate")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(_encode(new))
    tmp.replace(path)
    with _LOCK:
        _CACHE.pop(path, None)  # a rename within one mtime tick must not serve the old ring
    found = load(path)
    assert found is not None
    return found


def for_migration(path: Path, revision_before: str | None, mac_revision: str) -> Keyring | None:
    """The keyring a schema upgrade authenticates existing events with.

    A store created now, or upgraded to the revision that adds MACs, gets a key
    (``since`` 1: the upgrade vouches for the journal as it stands). A store
    already past that revision keeps what it has: creating a key there would
    silently re-authenticate events whose key was lost.
    """
    ring = load(path)
    if ring is not None:
        return ring
    if revision_before is None or revision_before < mac_revision:
        return create(path, 1)
    return None


class EventAuthenticator:
    """What the unit of work calls for each new event: its MAC, creating the key if needed."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, seq: int, digest: str) -> str:
        ring = load(self.path)
        if ring is None:
            # The key was never created or was lost: events from here on are authenticated,
            # the ones before are reported as unauthenticated (never silently vouched for).
            ring = create(self.path, seq)
        return ring.mac(digest)


Authenticator = Callable[[int, str], str]
