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
