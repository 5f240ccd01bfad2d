"""What a backup holds: its manifest (every file with its sha256) and what it says.

A backup is a folder (or an ``s3://`` prefix) laid out as::

    manifest.json                      this manifest
    database/<table>.jsonl.gz          each table's rows, in primary-key order
    artifacts/sha256/<aa>/<bb>/<hash>  every artifact object the database refers to
    keys/<name>                        the key files (absent with --without-keys)
    checkpoint/checkpoint              the latest signed audit checkpoint, if any

The database part is logical and database-kind neutral: a SQLite backup restores
into PostgreSQL and the other way round.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

FORMAT = "steward-backup/1"
MANIFEST = "manifest.json"
# The key files a backup may hold, by the name used inside the backup.
KEY_NAMES = ("signing-key.pem", "secrets.key", "audit.key", "log-key.pem")


class BackupFormatError(ValueError):
    """The manifest is not one this Steward can read."""


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True)
class TableDump:
    name: str
    file: str
    rows: int
    # column -> how its values are written: datetime, date, bytes, json or value
    kinds: dict[str, str]


@dataclass(frozen=True)
class Manifest:
    created_at: str
    schema_revision: str
    database_kind: str  # sqlite or postgresql, as written; restore may use the other
    tables: tuple[TableDump, ...]
    artifacts: tuple[str, ...]  # digests of the objects copied
    missing_artifacts: tuple[str, ...]  # referenced by a row but absent from the store
    keys: tuple[str, ...]  # KEY_NAMES present under keys/
    checkpoint_tree_size: int | None
    files: dict[str, FileEntry] = field(default_factory=dict)
    format: str = FORMAT

    def to_json(self) -> str:
        body: dict[str, Any] = {
            "format": self.format,
            "created_at": self.created_at,
            "schema_revision": self.schema_revision,
            "database_kind": self.database_kind,
            "tables": [
                {"name": t.name, "file": t.file, "rows": t.rows, "kinds": t.kinds}
                for t in self.tables
            ],
            "artifacts": list(self.artifacts),
            "missing_artifacts": list(self.missing_artifacts),
            "keys": list(self.keys),
            "checkpoint_tree_size": self.checkpoint_tree_size,
            "files": {
                name: {"sha256": f.sha256, "size": f.size} for name, f in sorted(self.files.items())
            },
        }
        return json.dumps(body, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        try:
            body = json.loads(text)
            if body.get("format") != FORMAT:
                raise BackupFormatError(
                    f"this is not a {FORMAT} backup (format {body.get('format')!r})"
                )
            return cls(
                created_at=str(body["created_at"]),
                schema_revision=str(body["schema_revision"]),
                database_kind=str(body["database_kind"]),
                tables=tuple(
                    TableDump(str(t["name"]), str(t["file"]), int(t["rows"]), dict(t["kinds"]))
                    for t in body["tables"]
                ),
                artifacts=tuple(str(a) for a in body["artifacts"]),
                missing_artifacts=tuple(str(a) for a in body["missing_artifacts"]),
                keys=tuple(str(k) for k in body["keys"]),
                checkpoint_tree_size=body["checkpoint_tree_size"],
                files={
                    str(n): FileEntry(str(f["sha256"]), int(f["size"]))
                    for n, f in body["files"].items()
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, BackupFormatError):
                raise
            raise BackupFormatError(f"the manifest is malformed ({exc})") from exc

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)


def artifact_path(digest: str) -> str:
    return f"artifacts/sha256/{digest[:2]}/{digest[2:4]}/{digest}"


@dataclass(frozen=True)
class BackupReport:
    destination: str
    manifest_sha256: str
    schema_revision: str
    rows: int
    artifacts: int
    missing_artifacts: tuple[str, ...]
    keys: tuple[str, ...]
    checkpoint_tree_size: int | None


@dataclass(frozen=True)
class RestoreReport:
    source: str
    schema_revision: str  # the backup's
    upgraded_to: str
    rows: int
    artifacts: int
    keys_written: tuple[str, ...]
    keys_kept: tuple[str, ...]  # already present with the same bytes
    checkpoint_tree_size: int | None
