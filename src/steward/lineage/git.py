"""Capture the git commit a version was trained from, when there is one."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from steward.domain.entities import CodeRef

_CREDENTIALS = re.compile(r"(?<=://)[^/@]+@")


def _git(cwd: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def capture(cwd: Path | None = None) -> CodeRef | None:
    """Repo URL (credentials stripped), commit, branch, path and dirty flag, or None."""
    where = (cwd or Path.cwd()).resolve()
    top = _git(where, "rev-parse", "--show-toplevel")
    if not top:
        return None
    commit = _git(where, "rev-parse", "HEAD")
    status = _git(where, "status", "--porcelain", "--untracked-files=no")
    url = _git(where, "config", "--get", "remote.origin.url")
    branch = _git(where, "rev-parse", "--abbrev-ref", "HEAD")
    rel = where.relative_to(Path(top)).as_posix() if where != Path(top) else "."
    return CodeRef(
        repo_url=_CREDENTIALS.sub("", url) if url else None,
        commit=commit or None,
        branch=None if branch in (None, "HEAD") else branch,
        path=rel,
        dirty=bool(status),
    )
