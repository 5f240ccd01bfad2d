"""Content-addressed artifact store over fsspec (local folder, ``s3://``, ``memory://``).

Blobs live at ``<root>/sha256/<aa>/<bb>/<digest>``. A blob is hashed locally
before it is published, and written under a temporary name then moved into
place on file systems that support it, so a reader never sees half a blob.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from steward.domain.errors import ArtifactError, IntegrityError, NotFound

CHUNK = 1024 * 1024


def sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class ArtifactStore:
    def __init__(self, url: str) -> None:
        import fsspec

        self.url = url
        try:
            fs, root = fsspec.core.url_to_fs(url, **_storage_options(url))
        except (ImportError, ValueError) as exc:
            hint = " Install it with: pip install 'steward[s3]'" if url.startswith("s3") else ""
            raise ArtifactError(f"Cannot use artifact store {url!r}: {exc}.{hint}") from exc
        self.fs: Any = fs
        self.root = root.rstrip("/")
        self.local = getattr(fs, "protocol", None) in ("file", ("file", "local"))

    def key(self, sha256: str) -> str:
        return f"{self.root}/sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def exists(self, sha256: str) -> bool:
        return bool(self.fs.exists(self.key(sha256)))

    def put(self, path: Path, sha256: str) -> bool:
        """Publish the file under its digest; returns True if this call created the blob."""
        key = self.key(sha256)
        if self.fs.exists(key):
            return False
        try:
            if self.local:
                self._put_local(path, Path(key))
            else:
                self.fs.put_file(str(path), key)
        except OSError as exc:
            raise ArtifactError(f"Could not write the artifact to {self.url}: {exc}") from exc
        return True

    def _put_local(self, path: Path, key: Path) -> None:
        for attempt in range(3):
            key.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(f"{key}.{uuid.uuid4().hex}.partial")
            try:
                shutil.copyfile(path, tmp)
                tmp.replace(key)
                return
            except FileNotFoundError:
                # A concurrent delete() pruned the emptied fan-out folder between our
                # mkdir and copy; make it again (the source file itself was checked).
                if attempt == 2 or not path.exists():
                    raise
            finally:
                tmp.unlink(missing_ok=True)  # a failed copy leaves no partial file

    def delete(self, sha256: str) -> None:
        key = self.key(sha256)
        if self.fs.exists(key):
            self.fs.rm(key)
        if self.local:
            # Leave the folder as it was: drop the fan-out folders this blob emptied.
            parent = Path(key).parent
            for folder in (parent, parent.parent, parent.parent.parent):
                try:
                    folder.rmdir()
                except OSError:
                    break

    def size(self, sha256: str) -> int:
        return int(self.fs.size(self.key(sha256)))

    def open(self, sha256: str) -> IO[bytes]:
        try:
            fh: IO[bytes] = self.fs.open(self.key(sha256), "rb")
        except FileNotFoundError:
            raise NotFound(
                f"Artifact {sha256} is recorded but missing from the store {self.url}."
            ) from None
        return fh

    def iter_verified(self, sha256: str) -> Iterator[bytes]:
        """Yield the blob's bytes; raise IntegrityError at the end if they don't hash right."""
        digest = hashlib.sha256()
        with self.open(sha256) as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                yield chunk
        if digest.hexdigest() != sha256:
            raise IntegrityError(
                f"Artifact {sha256} in {self.url} is corrupted: its bytes hash to "
                f"{digest.hexdigest()}. Restore it from a backup."
            )

    def download(self, sha256: str, dest: Path) -> None:
        """Write the blob to ``dest`` only if it verifies; never leave a bad file behind."""
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.partial")
        try:
            with tmp.open("wb") as out:
                for chunk in self.iter_verified(sha256):
                    out.write(chunk)
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)


def _storage_options(url: str) -> dict[str, Any]:
    if not url.startswith("s3://"):
        return {}
    endpoint = os.environ.get("STEWARD_S3_ENDPOINT_URL")
    return {"client_kwargs": {"endpoint_url": endpoint}} if endpoint else {}
