"""`steward backup` / `steward restore`: a store comes back whole, on either database kind.

The store is built through the services (models, versions with artifacts, moves,
an approval request, a webhook whose secret is sealed, a signed checkpoint), backed
up, and restored into an empty instance; the journal verifies and reconciles, every
artifact hashes right, and SDK reads match. A corrupted backup and a non-empty
target are refused and change nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect
from tests.conftest import PG_ADMIN_URL, SKIP_PG, TEST_OUTBOUND_ALLOW, _pg_admin, ensure_user

from steward import bootstrap
from steward.domain import backup as bk
from steward.domain.audit import AuditFilter
from steward.domain.errors import Conflict, IntegrityError, InvalidInput, SchemaOutOfDate
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services import backup, reconcile, schema, transparency
from steward.services.context import Context
from steward.settings import Settings
from steward.store import database

ADMIN = Principal(name="alice", roles=frozenset({OPERATOR}))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the other (or same) kind to restore into."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'steward.db'}"
        return
    if SKIP_PG:
        pytest.skip("STEWARD_TEST_SKIP_POSTGRES=1")
    name = f"steward_test_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def target_settings(tmp_path: Path, url: str) -> Settings:
    home = tmp_path / "restored"
    return Settings(
        home=home,
        database_url=url,
        artifacts_url=str(home / "artifacts"),
        outbound_allow=TEST_OUTBOUND_ALLOW,
    )


def populate(ctx: Context, tmp_path: Path) -> Steward:
    st = Steward(LocalBackend(ctx, "alice"))
    ensure_user(ctx, "val", "validator")
    st.create_team("risk", title="Risk")
    for name in ("credit", "churn"):
        st.create_model(name, purpose=f"{name} scoring", owner="alice")
        for i in range(2):
            blob = tmp_path / f"{name}-{i}.bin"
            blob.write_bytes(f"{name} weights {i} ".encode() * 1000)
            st.log_version(name, artifact=blob, metrics={"auc": 0.7 + i / 10}, capture_git=False)
    st.transition("credit", 1, to="validation", justification="first review")
    st.request_transition("credit", 1, to="approved", justification="validated")
    st.load_default_policy()  # from here moves wait for approvals
    pending = st.request_transition("churn", 1, to="validation", justification="ready")
    Steward(LocalBackend(ctx, "val")).approve(pending.request.id, "independent check done")
    st.set_alias("credit", "champion", 1)
    st.open_finding("credit", title="Drift in age band", severity="medium")
    st.create_webhook(
        "https://example.com/hook",
        events=["transition.applied"],
        secret="a-webhook-secret-of-32-characters",
    )
    transparency.create_checkpoint(ctx, ADMIN)
    st.create_model("after-checkpoint", purpose="events after the checkpoint", owner="alice")
    return st


def reads(st: Steward) -> dict[str, Any]:
    """A sample of SDK reads: whole domain objects, so every field must match."""
    return {
        "models": st.list_models().items,
        "versions": [st.list_versions(name).items for name in ("credit", "churn")],
        "alias": st.get_version("credit", "champion"),
        "transitions": st.transitions("credit", 1),
        "requests": st.requests(),
        "findings": st.findings(),
        "webhooks": st.webhooks(),
        "teams": st.list_teams(),
        "users": st.list_users(),
        "checkpoints": st.checkpoints(),
        "audit": st.audit_events(limit=10_000),
    }


def restore_pair(
    source_settings: Settings, tmp_path: Path, target_url: str
) -> tuple[Context, Steward, Path]:
    """Populate the source, back it up; returns the source context, its SDK and the backup."""
    ctx = bootstrap.build(source_settings, migrate=True)
    st = populate(ctx, tmp_path)
    dest = tmp_path / "backup"
    backup.backup(ctx, "alice", str(dest))
    return ctx, st, dest


def test_backup_restores_whole_into_an_empty_store(
    settings: Settings, tmp_path: Path, target_url: str
) -> None:
    ctx, st, dest = restore_pair(settings, tmp_path, target_url)
    before = reads(st)
    manifest = bk.Manifest.from_json((dest / bk.MANIFEST).read_text())
    assert manifest.schema_revision == schema.head()
    # Every key file that exists (the signing key appears with the first signature).
    assert (
        set(manifest.keys)
        == {name for name, path in backup.key_files(settings).items() if path.is_file()}
        >= {"secrets.key", "audit.key", "log-key.pem"}
    )
    assert manifest.checkpoint_tree_size == before["checkpoints"][0].tree_size
    assert len(manifest.artifacts) == 4 and not manifest.missing_artifacts
    # The backup is journalled (after the snapshot it describes).
    with ctx.uow.read() as uow:
        (event,) = uow.audit.search(AuditFilter(action="store.backed_up"), 10)
    assert event.payload_dict()["rows"] == manifest.total_rows
    ctx.uow.engine.dispose()

    target = target_settings(tmp_path, target_url)
    report = backup.restore(target, str(dest))
    assert report.rows == manifest.total_rows and report.artifacts == 4
    assert set(report.keys_written) == set(manifest.keys)

    restored = bootstrap.build(target)
    try:
        rst = Steward(LocalBackend(restored, "alice"))
        verdict = rst.verify_audit()
        assert verdict.ok, verdict.detail
        assert verdict.unauthenticated_before is None or verdict.unauthenticated_before <= 1
        assert reconcile.reconcile(restored, ADMIN).ok
        for digest in manifest.artifacts:
            data = b"".join(restored.artifacts.iter_verified(digest))
            assert hashlib.sha256(data).hexdigest() == digest
        after = reads(rst)
        # The backup's own event comes after the snapshot it describes: not in the backup.
        assert before["audit"][-1].action == "store.backed_up"
        assert after.pop("audit") == before.pop("audit")[:-1]
        assert after == before
        # The webhook secret was sealed with the secrets key: it still opens.
        (hook,) = rst.webhooks()
        assert rst.get_webhook(hook.id).url == "https://example.com/hook"
        # New writes continue the ids and the chain (PostgreSQL sequences were reset).
        rst.create_model("new-after-restore", purpose="p", owner="alice")
        v = rst.log_version("credit", artifact=tmp_path / "credit-0.bin", capture_git=False)
        assert v.version == 3
        assert rst.verify_audit().ok
        assert (target.home / "checkpoints" / "checkpoint").is_file()
    finally:
        restored.uow.engine.dispose()


@pytest.mark.parametrize("target_url", ["sqlite"], indirect=True)
def test_a_corrupted_backup_file_is_refused_by_name(
    settings: Settings, tmp_path: Path, target_url: str
) -> None:
    ctx, _st, dest = restore_pair(settings, tmp_path, target_url)
    ctx.uow.engine.dispose()
    victim = dest / "database" / "models.jsonl.gz"
    victim.write_bytes(victim.read_bytes() + b"x")
    target = target_settings(tmp_path, target_url)
    with pytest.raises(IntegrityError, match=r"database/models.jsonl.gz does not match"):
        backup.restore(target, str(dest))
    assert not (target.home / "keys").exists()  # nothing written
    assert not (target.home / "artifacts").exists()
    assert not Path(target_url.split("///", 1)[1]).exists() or _tables(target) == []


@pytest.mark.parametrize("target_url", ["sqlite"], indirect=True)
def test_restore_into_a_non_empty_store_is_refused_and_changes_nothing(
    settings: Settings, tmp_path: Path, target_url: str
) -> None:
    ctx, _st, dest = restore_pair(settings, tmp_path, target_url)
    ctx.uow.engine.dispose()
    target = target_settings(tmp_path, target_url)
    other = bootstrap.build(target, migrate=True)
    Steward(LocalBackend(other, "alice")).create_model("mine", purpose="p", owner="alice")
    keys_before = {p.name: p.read_bytes() for p in (target.home / "keys").iterdir()}
    with other.uow.read() as uow:
        head = uow.audit.search(AuditFilter(), 1000)
    other.uow.engine.dispose()
    with pytest.raises(Conflict, match=r"is not empty.*Create a new database"):
        backup.restore(target, str(dest))
    assert {p.name: p.read_bytes() for p in (target.home / "keys").iterdir()} == keys_before
    again = bootstrap.build(target)
    try:
        with again.uow.read() as uow:
            assert uow.audit.search(AuditFilter(), 1000) == head
        assert [m.name for m in Steward(LocalBackend(again, "alice")).list_models().items] == [
            "mine"
        ]
    finally:
        again.uow.engine.dispose()


@pytest.mark.parametrize("target_url", ["sqlite"], indirect=True)
def test_a_different_existing_key_is_never_overwritten(
    settings: Settings, tmp_path: Path, target_url: str
) -> None:
    ctx, _st, dest = restore_pair(settings, tmp_path, target_url)
    ctx.uow.engine.dispose()
    target = target_settings(tmp_path, target_url)
    target.audit_key_path.parent.mkdir(parents=True)
    target.audit_key_path.write_bytes(b"someone else's key\n")
    with pytest.raises(Conflict, match=r"audit.key already exists and differs"):
        backup.restore(target, str(dest))
    assert target.audit_key_path.read_bytes() == b"someone else's key\n"
    assert not target.signing_key_path.exists()


@pytest.mark.parametrize("target_url", ["sqlite"], indirect=True)
def test_backup_refuses_a_used_destination_and_restore_a_newer_schema(
    settings: Settings, tmp_path: Path, target_url: str
) -> None:
    ctx, _st, dest = restore_pair(settings, tmp_path, target_url)
    try:
        with pytest.raises(Conflict, match=r"already holds a backup"):
            backup.backup(ctx, "alice", str(dest))
    finally:
        ctx.uow.engine.dispose()
    target = target_settings(tmp_path, target_url)
    with pytest.raises(InvalidInput, match=r"holds no manifest.json"):
        backup.restore(target, str(tmp_path / "nowhere"))
    body = json.loads((dest / bk.MANIFEST).read_text())
    body["schema_revision"] = "9999"
    (dest / bk.MANIFEST).write_text(json.dumps(body))
    with pytest.raises(SchemaOutOfDate, match=r"revision 9999.*newer"):
        backup.restore(target, str(dest))


@pytest.mark.parametrize("target_url", ["sqlite"], indirect=True)
def test_without_keys_leaves_the_keys_out(
    settings: Settings, tmp_path: Path, target_url: str
) -> None:
    ctx = bootstrap.build(settings, migrate=True)
    try:
        Steward(LocalBackend(ctx, "alice")).create_model("m", purpose="p", owner="alice")
        report = backup.backup(ctx, "alice", str(tmp_path / "b"), keys=False)
    finally:
        ctx.uow.engine.dispose()
    assert report.keys == () and not (tmp_path / "b" / "keys").exists()
    manifest = bk.Manifest.from_json((tmp_path / "b" / bk.MANIFEST).read_text())
    assert not any(name.startswith("keys/") for name in manifest.files)


def _tables(settings: Settings) -> list[str]:
    from sqlalchemy import create_engine, inspect

    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            return list(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_backup_is_one_snapshot(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write committed while the dump runs is in no table of the backup (or all of them)."""
    ctx = bootstrap.build(settings, migrate=True)
    try:
        st = Steward(LocalBackend(ctx, "alice"))
        st.create_model("first", purpose="p", owner="alice")
        from steward.store import backup_repo

        real = backup_repo.stream_rows
        wrote: list[bool] = []

        def racing(conn: Any, table: Any, batch: int = 1000) -> Iterator[dict[str, Any]]:
            if table.name == "models" and not wrote:
                wrote.append(True)
                st.create_model("racer", purpose="p", owner="alice")  # commits mid-dump
            yield from real(conn, table, batch)

        monkeypatch.setattr(backup_repo, "stream_rows", racing)
        backup.backup(ctx, "alice", str(tmp_path / "b"))
        assert wrote and st.get_model("racer").name == "racer"
    finally:
        ctx.uow.engine.dispose()

    def rows(table: str) -> list[dict[str, Any]]:
        with gzip.open(tmp_path / "b" / "database" / f"{table}.jsonl.gz", "rt") as fh:
            return [json.loads(line) for line in fh]

    assert [m["name"] for m in rows("models")] == ["first"]
    assert [e["action"] for e in rows("audit_events")].count("model.created") == 1


def _columns_at(revision: str, tmp_path: Path) -> dict[str, set[str]]:
    """The tables of a fresh SQLite store migrated to `revision` only, with their columns."""
    engine = create_engine(f"sqlite:///{tmp_path / f'at-{revision}.db'}")
    try:
        with engine.begin() as conn:
            config = Config()
            config.set_main_option("script_location", str(database.MIGRATIONS))
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        found = inspect(engine)
        return {
            name: {c["name"] for c in found.get_columns(name)}
            for name in found.get_table_names()
            if name != "alembic_version"
        }
    finally:
        engine.dispose()


def _as_written_at(
    dest: Path, files: dict[str, Any], table: dict[str, Any], columns: set[str]
) -> None:
    """Rewrite one table's dump as the release at that revision wrote it: without the
    columns later migrations added to the table (and its manifest entry to match)."""
    later = set(table["kinds"]) - columns
    if not later:
        return
    table["kinds"] = {k: v for k, v in table["kinds"].items() if k in columns}
    path = dest / table["file"]
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps({k: v for k, v in row.items() if k in columns}) + "\n")
    data = path.read_bytes()
    files[table["file"]] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


@pytest.mark.parametrize("target_url", ["sqlite"], indirect=True)
def test_an_older_revision_backup_is_created_at_its_revision_then_upgraded(
    settings: Settings, tmp_path: Path, target_url: str
) -> None:
    """A backup written by the release before the login throttle (0019) restores and upgrades."""
    ctx, st, dest = restore_pair(settings, tmp_path, target_url)
    models_before = st.list_models().items
    ctx.uow.engine.dispose()
    body = json.loads((dest / bk.MANIFEST).read_text())
    assert not any(t["name"] == "login_throttle" and t["rows"] for t in body["tables"])
    body["schema_revision"] = "0018"
    # every table and column a later migration added, read off a store built at 0018 (not
    # a list each new migration would have to remember)
    at_0018 = _columns_at("0018", tmp_path)
    newer = {t["name"] for t in body["tables"]} - set(at_0018)
    assert "login_throttle" in newer
    body["tables"] = [t for t in body["tables"] if t["name"] not in newer]
    for table in body["tables"]:
        _as_written_at(dest, body["files"], table, at_0018[table["name"]])
    (dest / bk.MANIFEST).write_text(json.dumps(body))
    target = target_settings(tmp_path, target_url)
    report = backup.restore(target, str(dest))
    assert (report.schema_revision, report.upgraded_to) == ("0018", schema.head())
    restored = bootstrap.build(target)  # refuses anything but head
    try:
        rst = Steward(LocalBackend(restored, "alice"))
        assert rst.verify_audit().ok
        assert rst.list_models().items == models_before
    finally:
        restored.uow.engine.dispose()


def test_backup_to_and_restore_from_s3(
    settings: Settings, tmp_path: Path, s3_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.setenv("STEWARD_S3_ENDPOINT_URL", s3_server)
    bucket = f"backup-{uuid.uuid4().hex[:12]}"  # the moto server outlives one test
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=bucket)
    ctx = bootstrap.build(settings, migrate=True)
    try:
        st = populate(ctx, tmp_path)
        report = backup.backup(ctx, "alice", f"s3://{bucket}/nightly")
        before = st.list_versions("credit").items
    finally:
        ctx.uow.engine.dispose()
    assert report.artifacts == 4
    target = target_settings(tmp_path, f"sqlite:///{tmp_path / 'restored' / 'steward.db'}")
    backup.restore(target, f"s3://{bucket}/nightly")
    restored = bootstrap.build(target)
    try:
        rst = Steward(LocalBackend(restored, "alice"))
        assert rst.verify_audit().ok
        assert rst.list_versions("credit").items == before
        for v in before:
            b"".join(restored.artifacts.iter_verified(v.artifact.sha256))
    finally:
        restored.uow.engine.dispose()


@pytest.mark.parametrize("target_url", ["sqlite"], indirect=True)
def test_a_crafted_manifest_cannot_reach_outside_the_backup(
    settings: Settings, tmp_path: Path, target_url: str
) -> None:
    """The manifest is input: paths stay inside the backup, digests are digests."""
    ctx, _st, dest = restore_pair(settings, tmp_path, target_url)
    ctx.uow.engine.dispose()
    original = (dest / bk.MANIFEST).read_text()
    target = target_settings(tmp_path, target_url)
    body = json.loads(original)
    body["artifacts"].append("../../../etc/passwd")
    (dest / bk.MANIFEST).write_text(json.dumps(body))
    with pytest.raises(IntegrityError, match="no sha256"):
        backup.restore(target, str(dest))
    body = json.loads(original)
    body["files"]["../outside"] = {"sha256": "0" * 64, "size": 1}
    (dest / bk.MANIFEST).write_text(json.dumps(body))
    with pytest.raises(IntegrityError, match="unsafe path"):
        backup.restore(target, str(dest))
    assert not (target.home / "keys").exists()


@pytest.mark.parametrize("target_url", ["sqlite"], indirect=True)
def test_an_object_missing_from_the_store_is_named_not_hidden(
    settings: Settings, tmp_path: Path, target_url: str
) -> None:
    ctx = bootstrap.build(settings, migrate=True)
    try:
        st = populate(ctx, tmp_path)
        lost = st.get_version("churn", 2).artifact.sha256
        ctx.artifacts.delete(lost)
        report = backup.backup(ctx, "alice", str(tmp_path / "b"))
    finally:
        ctx.uow.engine.dispose()
    assert report.missing_artifacts == (lost,) and report.artifacts == 3
    manifest = bk.Manifest.from_json((tmp_path / "b" / bk.MANIFEST).read_text())
    assert manifest.missing_artifacts == (lost,) and lost not in manifest.artifacts
