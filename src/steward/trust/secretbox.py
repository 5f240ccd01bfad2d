"""Secrets Steward must use again in clear (webhook HMAC keys), encrypted at rest.

A signing secret cannot be stored as a hash: Steward needs it to sign every delivery.
So it is sealed with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a
key kept *outside* the database — ``<home>/keys/secrets.key`` (mode 0600, created on
first use) or the file named by ``STEWARD_SECRETS_KEY``. A copy of the database alone
(a backup, a dump handed to a consultant) then reveals no webhook secret. Every server
process of one deployment needs the same key file, like the signing key.

Sealed values read ``fernet:<token>``; a value without the prefix (written before
secrets were sealed) is read as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from steward.domain.errors import StewardError
from steward.trust.keys import write_once

PREFIX = "fernet:"
_LOCK = threading.Lock()
_CACHE: dict[Path, tuple[float, SecretBox]] = {}


class SecretBox:
    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._fernet = Fernet(key)
        self._key = key

    def seal(self, secret: str) -> str:
        return PREFIX + self._fernet.encrypt(secret.encode()).decode()

    def digest(self, value: str, purpose: str) -> str:
        """A keyed hash of ``value`` (HMAC-SHA256 under this key, 16 hex digits): the same
        value gives the same digest in one deployment, and the database alone cannot be
        searched for what was typed."""
        mac = hmac.new(self._key, f"{purpose}\0{value}".encode(), hashlib.sha256)
        return mac.hexdigest()[:16]

    def open_fresh(self, stored: str, max_age: int) -> str | None:
        """A value sealed here at most ``max_age`` seconds ago, or None (forged, altered,
        sealed under another key or too old): for short-lived state handed to a browser."""
        if not stored.startswith(PREFIX):
            return None
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode(), ttl=max_age).decode()
        except (InvalidToken, UnicodeDecodeError):
            return None

    def open(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise StewardError(
                f"A stored secret was sealed with another key than {self.path}. Restore the "
                "deployment's secrets key (STEWARD_SECRETS_KEY), or delete and re-create the "
                "webhook to get a new secret."
            ) from None


def load_or_create(path: Path) -> SecretBox:
    """The box for the key at ``path``, creating a key there first if there is none."""
    with _LOCK:
        if not path.exists():
            write_once(path, Fernet.generate_key())
        mtime = path.stat().st_mtime
        cached = _CACHE.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            box = SecretBox(path, path.read_bytes().strip())
        except (OSError, ValueError) as exc:
            raise StewardError(
                f"Cannot use the secrets key {path}: {exc}. It must hold one Fernet key "
                "(32 url-safe base64 bytes), as Steward writes it."
            ) from None
        _CACHE[path] = (mtime, box)
        return box
