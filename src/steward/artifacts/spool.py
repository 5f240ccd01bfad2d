"""Upload spool files inside Steward's own folder ($STEWARD_HOME/spool), never /tmp.

Each file's name carries the id of the process that made it
(``upload-<pid>-<random>``), so a start-up clean-up (and ``steward doctor --fix``)
can remove what a killed process left behind without touching the live uploads of
the other worker processes.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

from steward.domain.errors import ArtifactTooLarge, InvalidInput

_NAME = re.compile(r"^[a-z]+-(\d+)-")


def new_file(folder: Path, kind: str = "upload", suffix: str = "") -> tuple[int, Path]:
    """An open descriptor and path for a fresh spool file of this process."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{kind}-{os.getpid()}-", suffix=suffix, dir=folder)
    return fd, Path(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def leftovers(folder: Path, grace_seconds: float | None = None) -> list[Path]:
    """Spool files whose process is gone (or, with a grace, any file older than it)."""
    if not folder.is_dir():
        return []
    now = time.time()
    found = []
    for path in folder.iterdir():
        if not path.is_file():
            continue
        match = _NAME.match(path.name)
        dead = match is None or not _alive(int(match.group(1)))
        old = grace_seconds is not None and now - path.stat().st_mtime > grace_seconds
        if dead or old:
            found.append(path)
    return sorted(found)


def clean(folder: Path) -> int:
    """Remove the files killed processes left; returns how many."""
    removed = 0
    for path in leftovers(folder):
        # Another worker starting at the same moment may have removed it first.
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed


CHUNK = 1024 * 1024
DATA_SUFFIXES = (".parquet", ".pq", ".csv")


def write(
    stream: BinaryIO,
    folder: Path,
    limit: int,
    *,
    too_large: str,
    field: str = "artifact",
    kind: str = "upload",
    suffix: str = "",
) -> Path:
    """Copy an upload into a fresh spool file chunk by chunk, refusing it (and leaving no
    file behind) once it passes ``limit`` bytes; ``too_large`` says what was too large.
    Every face that takes an upload (the REST API, the web UI) spools through here."""
    fd, path = new_file(folder, kind, suffix)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ArtifactTooLarge(
                        f"{too_large} is larger than this server accepts ({limit} bytes, "
                        "STEWARD_MAX_ARTIFACT_BYTES).",
                        limit=limit,
                        field=field,
                    )
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def write_artifact(stream: BinaryIO, folder: Path, limit: int) -> Path:
    """A model artifact upload, spooled."""
    return write(stream, folder, limit, too_large="The artifact")


def write_data(stream: BinaryIO, filename: str, folder: Path, limit: int, field: str) -> Path:
    """A data file upload (Parquet or CSV, told by its name's suffix), spooled; ``field``
    names the form field in the refusal."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise InvalidInput(
            f"The {field} file must be Parquet (.parquet) or CSV (.csv), not {filename!r}.",
            field=field,
        )
    return write(
        stream,
        folder,
        limit,
        too_large=f"The {field} file",
        field=field,
        kind="validate",
        suffix=suffix,
    )
