"""`steward backup` and `steward restore`: a consistent, database-kind-neutral snapshot.

Backup reads every table inside one read transaction (so concurrent writers cannot
make it inconsistent), copies each artifact object the rows refer to (verified by
hash), the key files unless told not to, and the latest signed checkpoint, then
writes a manifest with the sha256 of every file, and journals ``store.backed_up``.

Restore refuses anything it cannot do cleanly before it writes: a file that does not
match the manifest, a backup newer than this code, a database that is not empty, a
key file that exists with other bytes. It then restores keys and artifacts, creates
the schema at the backup's revision, loads the rows in foreign-key order in one
transaction, and upgrades to head.

Both act on the host's own files and database (like ``steward init``): there is no
API route, on purpose.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from steward.artifacts.store import CHUNK, ArtifactStore, _storage_options, sha256_file
from steward.domain import backup as bk
from steward.domain.audit import Action, format_time
from steward.domain.errors import (
    ArtifactError,
    Conflict,
    IntegrityError,
    InvalidInput,
    SchemaOutOfDate,
)
from steward.services.context import Context
from steward.settings import Settings
from steward.store import backup_repo, database
from steward.trust import auditkey, checkpoint_store, log_key

_DIGEST = re.compile(r"[0-9a-f]{64}")


def _fs(url: str) -> tuple[Any, str]:
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(url, **_storage_options(url))
    except (ImportError, ValueError) as exc:
        hint = " Install it with: pip install 'steward[s3]'" if url.startswith("s3") else ""
        raise InvalidInput(f"Cannot use {url!r}: {exc}.{hint}", field="destination") from exc
    return fs, root.rstrip("/")


def key_files(settings: Settings) -> dict[str, Path]:
    """Where each key lives on this host, by its name inside a backup."""
    return {
        "signing-key.pem": settings.signing_key_path,
        "secrets.key": settings.secrets_key_path,
        "audit.key": settings.audit_key_path,
        "log-key.pem": settings.log_key_path,
    }


# --- backup ---


def backup(ctx: Context, actor: str, destination: str, *, keys: bool = True) -> bk.BackupReport:
    """Write a snapshot of the store to ``destination`` (an empty folder or s3:// prefix)."""
    fs, root = _fs(destination)
    if fs.exists(f"{root}/{bk.MANIFEST}"):
        raise Conflict(
            f"{destination} already holds a backup ({bk.MANIFEST}); "
            "choose a new, empty destination for each backup."
        )
    files: dict[str, bk.FileEntry] = {}
    with tempfile.TemporaryDirectory(prefix="steward-backup-") as scratch:
        tmp = Path(scratch)
        dumps, revision, seen, required, checkpoint = _dump_tables(ctx, tmp)
        for dump in dumps:
            _put(fs, root, dump.file, tmp / Path(dump.file).name, files)
        copied, missing = _copy_artifacts(ctx.artifacts, fs, root, seen, required, tmp, files)
        held = []
        if keys:
            for name, path in key_files(ctx.settings).items():
                if path.is_file():
                    _put(fs, root, f"keys/{name}", path, files)
                    held.append(name)
        tree_size = None
        if checkpoint is not None:
            note = tmp / "checkpoint"
            note.write_text(str(checkpoint["note"]), encoding="utf-8")
            _put(fs, root, "checkpoint/checkpoint", note, files)
            tree_size = int(checkpoint["tree_size"])
    manifest = bk.Manifest(
        created_at=format_time(ctx.uow.clock()),
        schema_revision=revision,
        database_kind=ctx.uow.engine.dialect.name,
        tables=tuple(dumps),
        artifacts=tuple(copied),
        missing_artifacts=tuple(missing),
        keys=tuple(held),
        checkpoint_tree_size=tree_size,
        files=files,
    )
    text = manifest.to_json().encode()
    # Written last: a backup that stopped half way has no manifest and is refused.
    fs.pipe_file(f"{root}/{bk.MANIFEST}", text)
    report = bk.BackupReport(
        destination=destination,
        manifest_sha256=hashlib.sha256(text).hexdigest(),
        schema_revision=revision,
        rows=manifest.total_rows,
        artifacts=len(copied),
        missing_artifacts=tuple(missing),
        keys=tuple(held),
        checkpoint_tree_size=tree_size,
    )
    with ctx.uow.write() as uow:
        uow.record(
            actor,
            Action.STORE_BACKED_UP,
            "store",
            "backup",
            {
                "destination": destination,
                "manifest_sha256": report.manifest_sha256,
                "schema_revision": revision,
                "rows": report.rows,
                "artifacts": report.artifacts,
                "missing_artifacts": list(missing),
                "keys": list(held),
                "checkpoint_tree_size": tree_size,
            },
        )
        uow.commit()
    return report


def _dump_tables(
    ctx: Context, tmp: Path
) -> tuple[list[bk.TableDump], str, set[str], set[str], dict[str, Any] | None]:
    """Every table to ``tmp/<table>.jsonl.gz`` from one read snapshot."""
    dumps = []
    seen: set[str] = set()  # every digest-shaped value: conservative, like `steward doctor`
    required: set[str] = set()  # artifact_sha256 columns: objects that must exist
    checkpoint: dict[str, Any] | None = None
    with backup_repo.snapshot(ctx.uow.engine) as conn:
        revision = backup_repo.revision(conn)
        for table in backup_repo.dumped_tables():
            name = f"{table.name}.jsonl.gz"
            count = 0
            with gzip.open(tmp / name, "wt", encoding="utf-8") as out:
                for row in backup_repo.stream_rows(conn, table):
                    line = json.dumps(row, separators=(",", ":"), ensure_ascii=False)
                    out.write(line + "\n")
                    count += 1
                    seen.update(_DIGEST.findall(line))
                    if row.get("artifact_sha256"):
                        required.add(str(row["artifact_sha256"]))
                    if table.name == "audit_checkpoints" and (
                        checkpoint is None or row["id"] > checkpoint["id"]
                    ):
                        checkpoint = row
            dumps.append(
                bk.TableDump(table.name, f"database/{name}", count, backup_repo.kinds(table))
            )
    return dumps, revision, seen, required, checkpoint


def _copy_artifacts(
    store: ArtifactStore,
    fs: Any,
    root: str,
    seen: set[str],
    required: set[str],
    tmp: Path,
    files: dict[str, bk.FileEntry],
) -> tuple[list[str], list[str]]:
    base = f"{store.root}/sha256"
    present = (
        {key.rsplit("/", 1)[-1] for key in store.fs.find(base)} if store.fs.exists(base) else set()
    )
    copied = []
    for digest in sorted(seen & present):
        local = tmp / digest
        try:
            store.download(digest, local)  # verifies the hash; a corrupt object stops the backup
            _put(fs, root, bk.artifact_path(digest), local, files)
        finally:
            local.unlink(missing_ok=True)
        copied.append(digest)
    return copied, sorted(required - present)


def _put(fs: Any, root: str, rel: str, local: Path, files: dict[str, bk.FileEntry]) -> None:
    digest, size = sha256_file(local)
    target = f"{root}/{rel}"
    try:
        fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        fs.put_file(str(local), target)
    except OSError as exc:
        raise ArtifactError(f"Could not write {target}: {exc}") from exc
    files[rel] = bk.FileEntry(digest, size)


# --- restore ---


def restore(settings: Settings, source: str) -> bk.RestoreReport:
    """Bring the backup at ``source`` up in the (empty) store ``settings`` names."""
    fs, root = _fs(source)
    manifest = _manifest(fs, root, source)
    _verify_files(fs, root, manifest)
    if manifest.schema_revision not in database.known_revisions():
        raise SchemaOutOfDate(
            f"The backup is at schema revision {manifest.schema_revision}, which this Steward "
            f"does not know (it goes up to {database.SCHEMA_HEAD}): it was written by a newer "
            "Steward. Restore it with that release (or a later one)."
        )
    engine = database.make_engine(settings.database_url)
    try:
        _ensure_empty(engine, settings)
        written, kept = _restore_keys(fs, root, manifest, settings)
        try:
            store = ArtifactStore(settings.artifacts_url)
            for digest in manifest.artifacts:
                _restore_artifact(fs, root, digest, store)
            rows = _load(engine, fs, root, manifest, settings)
        except BaseException:
            for path in written:  # nothing half-written: keys go with the failed restore
                path.unlink(missing_ok=True)
            raise
    finally:
        engine.dispose()
    if manifest.checkpoint_tree_size is not None and settings.log_key_path.is_file():
        _republish(fs, root, manifest.checkpoint_tree_size, settings)
    return bk.RestoreReport(
        source=source,
        schema_revision=manifest.schema_revision,
        upgraded_to=database.SCHEMA_HEAD,
        rows=rows,
        artifacts=len(manifest.artifacts),
        keys_written=tuple(p.name for p in written),
        keys_kept=tuple(kept),
        checkpoint_tree_size=manifest.checkpoint_tree_size,
    )


def _manifest(fs: Any, root: str, source: str) -> bk.Manifest:
    where = f"{root}/{bk.MANIFEST}"
    if not fs.exists(where):
        raise InvalidInput(
            f"{source} holds no {bk.MANIFEST}: it is not a Steward backup, or the backup did "
            "not finish. Point `steward restore` at the folder `steward backup` wrote.",
            field="source",
        )
    try:
        return bk.Manifest.from_json(fs.cat_file(where).decode("utf-8"))
    except (bk.BackupFormatError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{source}/{bk.MANIFEST}: {exc}", field="source") from exc


def _safe(rel: str) -> str:
    path = PurePosixPath(rel)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise IntegrityError(f"The backup's manifest names an unsafe path {rel!r}; refused.")
    return rel


def _verify_files(fs: Any, root: str, manifest: bk.Manifest) -> None:
    """Every file the restore will read exists and hashes as the manifest says."""
    bad = [d for d in manifest.artifacts if not _DIGEST.fullmatch(d)]
    if bad:
        raise IntegrityError(f"The backup names an artifact {bad[0]!r} that is no sha256; refused.")
    needed = [t.file for t in manifest.tables]
    needed += [bk.artifact_path(d) for d in manifest.artifacts]
    needed += [f"keys/{k}" for k in manifest.keys]
    if manifest.checkpoint_tree_size is not None:
        needed.append("checkpoint/checkpoint")
    unlisted = [n for n in needed if n not in manifest.files]
    if unlisted:
        raise IntegrityError(f"The backup's manifest has no hash for {unlisted[0]}; refused.")
    for k in manifest.keys:
        if k not in bk.KEY_NAMES:
            raise IntegrityError(f"The backup names an unknown key file {k!r}; refused.")
    for rel, entry in sorted(manifest.files.items()):
        digest = hashlib.sha256()
        try:
            with fs.open(f"{root}/{_safe(rel)}", "rb") as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:
            raise IntegrityError(
                f"The backup file {rel} is missing: the backup is incomplete; use another one."
            ) from None
        if digest.hexdigest() != entry.sha256:
            raise IntegrityError(
                f"The backup file {rel} does not match its manifest (sha256 "
                f"{digest.hexdigest()}, expected {entry.sha256}): the backup is corrupted or "
                "was altered. Nothing was restored; use another backup."
            )


def _ensure_empty(engine: Any, settings: Settings) -> None:
    with engine.connect() as conn:
        found = backup_repo.has_tables(conn)
    if found:
        where = settings.database_url.split("@")[-1]
        raise Conflict(
            f"The database {where} is not empty ({len(found)} tables, e.g. {found[0]}): "
            "restore only fills an empty database. Create a new database (or a new "
            "STEWARD_HOME for SQLite) and point STEWARD_DATABASE_URL at it; nothing was changed."
        )


def _restore_keys(
    fs: Any, root: str, manifest: bk.Manifest, settings: Settings
) -> tuple[list[Path], list[str]]:
    targets = key_files(settings)
    wanted = {name: fs.cat_file(f"{root}/keys/{name}") for name in manifest.keys}
    kept = []
    for name, content in wanted.items():
        path = targets[name]
        if path.exists():
            if path.read_bytes() != content:
                raise Conflict(
                    f"The key file {path} already exists and differs from the backup's "
                    f"{name}: restoring would leave data sealed or signed with a key this host "
                    "lacks. Move the file aside (keep it!) or restore into a fresh "
                    "STEWARD_HOME; nothing was changed."
                )
            kept.append(name)
    written = []
    for name, content in wanted.items():
        path = targets[name]
        if name in kept:
            continue
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_bytes(content)
        path.chmod(0o600)
        written.append(path)
    return written, kept


def _restore_artifact(fs: Any, root: str, digest: str, store: ArtifactStore) -> None:
    with tempfile.TemporaryDirectory(prefix="steward-restore-") as scratch:
        local = Path(scratch) / digest
        hasher = hashlib.sha256()
        with fs.open(f"{root}/{bk.artifact_path(digest)}", "rb") as src, local.open("wb") as out:
            while chunk := src.read(CHUNK):
                hasher.update(chunk)
                out.write(chunk)
        if hasher.hexdigest() != digest:
            raise IntegrityError(
                f"The backup's artifact {digest} hashes to {hasher.hexdigest()}; refused."
            )
        store.put(local, digest)


def _rows(fs: Any, root: str, rel: str) -> Iterator[dict[str, Any]]:
    with fs.open(f"{root}/{rel}", "rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _load(engine: Any, fs: Any, root: str, manifest: bk.Manifest, settings: Settings) -> int:
    """Schema at the backup's revision, rows in FK order, sequences, then head: one transaction."""
    dumps = {t.name: t for t in manifest.tables}
    mac: Callable[[int, str], str] | None = None
    if manifest.schema_revision < database.AUDIT_MAC_REVISION:
        ring = auditkey.for_migration(
            settings.audit_key_path, manifest.schema_revision, database.AUDIT_MAC_REVISION
        )
        if ring is not None:
            mac = lambda _seq, digest: ring.mac(digest)  # noqa: E731
    total = 0
    with engine.connect().execution_options(steward_write=True) as conn, conn.begin():
        database.create_at(conn, manifest.schema_revision)
        loader = backup_repo.Loader(conn, dumps)
        absent = loader.missing(dumps)
        if absent:
            raise IntegrityError(
                f"The backup has table {absent[0]}, which schema revision "
                f"{manifest.schema_revision} does not; refused."
            )
        loader.clear()
        for name in loader.order():
            dump = dumps[name]
            try:
                loaded = loader.load(name, dump.kinds, _rows(fs, root, dump.file))
            except (ValueError, KeyError, TypeError) as exc:  # JSON errors are ValueErrors
                raise IntegrityError(
                    f"The backup's {dump.file} cannot be loaded ({exc}); nothing was restored."
                ) from exc
            if loaded != dump.rows:
                raise IntegrityError(
                    f"The backup's {dump.file} holds {loaded} rows, its manifest says "
                    f"{dump.rows}; refused."
                )
            total += loaded
        loader.reset_sequences()
        database.upgrade_in(conn, mac)
    return total


def _republish(fs: Any, root: str, tree_size: int, settings: Settings) -> None:
    """Put the latest checkpoint where this host publishes them (best effort)."""
    note = fs.cat_file(f"{root}/checkpoint/checkpoint").decode("utf-8")
    key = log_key.load_or_create(settings.log_key_path, settings.checkpoint_origin)
    for destination in settings.checkpoint_destinations:
        try:
            checkpoint_store.publish(destination, tree_size, note, key.verifier_key)
        except checkpoint_store.PublishError:
            continue  # the checkpoints are in the database too; the scheduler republishes
