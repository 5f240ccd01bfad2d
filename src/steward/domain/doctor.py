"""What `steward doctor` found (and, when fixing, removed)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DoctorCheck:
    """One check of the service: what it looked at, whether it passed, and the fix."""

    # configuration | config file | keys | home | database | artifacts | worker |
    # single sign-on | e-mail | leftovers
    name: str
    ok: bool
    detail: str
    fix: str = ""  # one line saying what to do; empty when nothing is to be done


@dataclass(frozen=True)
class DoctorReport:
    spool_files: tuple[str, ...]  # leftover spool files of dead processes
    orphan_objects: tuple[str, ...]  # sha256 of artifact objects nothing refers to
    orphan_bytes: int
    fixed: bool  # True when they were removed (and the removal journalled)
    checks: tuple[DoctorCheck, ...] = ()

    @property
    def ok(self) -> bool:
        """False when a check failed (`steward doctor` then exits 1)."""
        return all(c.ok for c in self.checks)
