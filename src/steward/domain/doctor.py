"""What `steward doctor` found (and, when fixing, removed)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DoctorReport:
    spool_files: tuple[str, ...]  # leftover spool files of dead processes
    orphan_objects: tuple[str, ...]  # sha256 of artifact objects nothing refers to
    orphan_bytes: int
    fixed: bool  # True when they were removed (and the removal journalled)
