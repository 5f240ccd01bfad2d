"""Publishing signed checkpoints outside the database: a folder or an ``s3://`` prefix.

Layout under a destination (the tlog convention, plus one immutable file per size)::

    checkpoint               the latest checkpoint (replaced on every publication)
    checkpoints/<size>       every checkpoint, written once and never replaced
    log-key.vkey             the signed-note verifier key of the log

A file under ``checkpoints/`` that already exists with other content is refused, not
overwritten: a second tree head of the same size is a split view, and publishing must
not erase the evidence of the first.
"""

from __future__ import annotations

from typing import Any

from steward.artifacts.store import _storage_options
from steward.domain.errors import StewardError


class PublishError(StewardError):
    """A checkpoint could not be written to (or read from) a destination."""

    code = "checkpoint-publish-failed"
    status = 502
    title = "Checkpoint publication failed"


def _fs(destination: str) -> tuple[Any, str]:
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(destination, **_storage_options(destination))
    except (ImportError, ValueError) as exc:
        hint = " Install it with: pip install 'steward[s3]'" if destination.startswith("s3") else ""
        raise PublishError(f"Cannot publish to {destination!r}: {exc}.{hint}") from exc
    return fs, root.rstrip("/")


def publish(destination: str, tree_size: int, note: str, verifier_key: str) -> None:
    fs, root = _fs(destination)
    try:
        fs.makedirs(f"{root}/checkpoints", exist_ok=True)
        fixed = f"{root}/checkpoints/{tree_size}"
        if fs.exists(fixed):
            with fs.open(fixed, "rb") as fh:
                existing = fh.read().decode("utf-8", "replace")
            if existing != note:
                raise PublishError(
                    f"{destination} already holds a different checkpoint of size {tree_size}: "
                    "two tree heads of one size is a split view; run `steward audit verify`"
                )
        else:
            fs.pipe_file(fixed, note.encode())
        fs.pipe_file(f"{root}/checkpoint", note.encode())
        fs.pipe_file(f"{root}/log-key.vkey", (verifier_key + "\n").encode())
    except PublishError:
        raise
    except Exception as exc:  # fsspec backends raise anything from OSError to botocore's
        raise PublishError(f"Cannot publish to {destination}: {exc}") from exc


def read_published(destination: str) -> list[tuple[str, str]]:
    """Every checkpoint published at ``destination`` as (location, text); [] if none yet."""
    fs, root = _fs(destination)
    try:
        if not fs.exists(f"{root}/checkpoints"):
            return []
        found = []
        for path in sorted(fs.ls(f"{root}/checkpoints", detail=False)):
            with fs.open(path, "rb") as fh:
                found.append((str(path), fh.read().decode("utf-8", "replace")))
        return found
    except Exception as exc:
        raise PublishError(
            f"Cannot read the checkpoints published at {destination}: {exc}"
        ) from exc
