"""Upgrading a store that holds data, from every earlier schema revision to head.

An organisation upgrades Steward months apart: whatever revision its store is at,
`steward init` must bring it to head without losing a model, a version or a
journal event, and the store must keep working (writes, the journal chain).
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from tests.attacker import rebuild_tree
from tests.conftest import BACKENDS, PG_ADMIN_URL, SKIP_PG, DatabaseDropper, _pg_admin

from steward import bootstrap
from steward.domain import audit
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.settings import Settings
from steward.store import database

# The oldest data a store can hold: a model, one version and the journal events
# that created them, written as the 0001 schema had them.
CREATED = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
MODEL = {
    "name": "legacy-scorecard",
    "title": "Legacy scorecard",
    "description": "Registered before the upgrade",
    "purpose": "Score retail loan applications",
    "business_unit": "Retail credit",
    "owner": "alice",
    "team": "",
    "risk_tier": "unassessed",
    "regulatory_category": "unassessed",
    "status": "active",
    "allow_multiple_production": False,
    "latest_version": 1,
    "search_text": "legacy-scorecard legacy scorecard",
}
VERSION = {
    "version": 1,
    "stage": "development",
    "artifact_sha256": "ab" * 32,
    "artifact_size": 1234,
    "artifact_flavor": "sklearn",
    "artifact_filename": "model.skops",
    "artifact_is_directory": False,
    "description": "first cut",
}


def _alembic(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(database.MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def _upgrade_to(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.upgrade(_alembic(conn), revision)


def _seed(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO models (name, title, description, purpose, business_unit, owner,"
                " team, risk_tier, regulatory_category, status, allow_multiple_production,"
                " latest_version, created_at, created_by, updated_at, search_text) VALUES"
                " (:name, :title, :description, :purpose, :business_unit, :owner, :team,"
                " :risk_tier, :regulatory_category, :status, :allow_multiple_production,"
                " :latest_version, :at, 'alice', :at, :search_text)"
            ),
            MODEL | {"at": CREATED},
        )
        model_id = conn.execute(
            text("SELECT id FROM models WHERE name = :n"), {"n": MODEL["name"]}
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO model_versions (model_id, version, stage, artifact_sha256,"
                " artifact_size, artifact_flavor, artifact_filename, artifact_is_directory,"
                " description, params, metrics, created_at, created_by, stage_changed_at)"
                " VALUES (:model_id, :version, :stage, :artifact_sha256, :artifact_size,"
                " :artifact_flavor, :artifact_filename, :artifact_is_directory, :description,"
                " :params, :metrics, :at, 'alice', :at)"
            ),
            VERSION
            | {
                "model_id": model_id,
                "params": json.dumps({"C": 1.0}),
                "metrics": json.dumps({"auc": 0.81}),
                "at": CREATED,
            },
        )
        prev = "0" * 64
        time = audit.format_time(CREATED)
        for seq, (action, subject, payload) in enumerate(
            [
                ("model.created", MODEL["name"], {"after": {"name": MODEL["name"]}}),
                ("version.created", f"{MODEL['name']}/1", {"version": 1}),
            ],
            start=1,
        ):
            event = audit.seal(
                seq=seq,
                time=time,
                actor="alice",
                action=action,
                subject_type="model" if action == "model.created" else "version",
                subject_id=subject,
                payload=payload,
                prev_hash=prev,
            )
            conn.execute(
                text(
                    "INSERT INTO audit_events (seq, time, actor, action, subject_type,"
                    " subject_id, payload, prev_hash, hash) VALUES (:seq, :time, :actor,"
                    " :action, :subject_type, :subject_id, :payload, :prev_hash, :hash)"
                ),
                {
                    "seq": event.seq,
                    "time": event.time,
                    "actor": event.actor,
                    "action": event.action,
                    "subject_type": event.subject_type,
                    "subject_id": event.subject_id,
                    "payload": event.payload,
                    "prev_hash": event.prev_hash,
                    "hash": event.hash,
                },
            )
            prev = event.hash
        if inspect(conn).has_table("audit_tree"):
            # from 0017 on Steward writes each event's Merkle-tree nodes beside it
            rebuild_tree(conn)


EARLIER = database.known_revisions()[:-1]


class Snapshots:
    """An empty store at each earlier revision, made by walking the migrations once.

    Each test starts from a copy of the store at its revision (a file copy on SQLite,
    ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL) instead of migrating up to it from
    nothing again; what it tests, the upgrade of a store holding data, runs as before.
    """

    def __init__(self, kind: str, root: Path, dropper: DatabaseDropper | None) -> None:
        self.kind = kind
        self.root = root
        self.dropper = dropper
        self.made: dict[str, str] = {}  # revision -> snapshot file or template database

    def _walk(self) -> None:
        if self.kind == "sqlite":
            work = self.root / "work.db"
            for revision in EARLIER:
                engine = database.make_engine(f"sqlite:///{work}")
                try:
                    _upgrade_to(engine, revision)
                finally:
                    engine.dispose()  # the last connection folds the WAL into the file
                shutil.copyfile(work, self.root / f"{revision}.db")
                self.made[revision] = str(self.root / f"{revision}.db")
            return
        work = f"steward_upgrade_{uuid.uuid4().hex[:8]}"
        _pg_admin(f'CREATE DATABASE "{work}"')
        try:
            for revision in EARLIER:
                engine = database.make_engine(_pg_url(work))
                try:
                    _upgrade_to(engine, revision)
                finally:
                    engine.dispose()
                snapshot = f"{work}_{revision}"
                _pg_admin(f'CREATE DATABASE "{snapshot}" TEMPLATE "{work}"')
                self.made[revision] = snapshot
        finally:
            _pg_admin(f'DROP DATABASE IF EXISTS "{work}" WITH (FORCE)')

    def copy_at(self, revision: str, tmp_path: Path) -> str:
        """A new database URL holding the empty store at ``revision``."""
        if not self.made:
            self._walk()
        if self.kind == "sqlite":
            path = tmp_path / "steward.db"
            shutil.copyfile(self.made[revision], path)
            return f"sqlite:///{path}"
        assert self.dropper is not None
        name = f"steward_test_{uuid.uuid4().hex[:12]}"
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.made[revision]}"')
        return _pg_url(name)

    def discard(self, url: str) -> None:
        if self.kind == "postgres":
            assert self.dropper is not None
            self.dropper.drop(url.rsplit("/", 1)[1])

    def close(self) -> None:
        if self.kind == "postgres":
            assert self.dropper is not None
            for snapshot in self.made.values():
                self.dropper.drop(snapshot)


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="module", params=BACKENDS)
def snapshots(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Snapshots]:
    kind = request.param
    dropper: DatabaseDropper | None = None
    if kind == "postgres":
        if SKIP_PG:
            pytest.skip("STEWARD_TEST_SKIP_POSTGRES=1")
        dropper = request.getfixturevalue("database_dropper")
    made = Snapshots(kind, tmp_path_factory.mktemp(f"upgrade-{kind}"), dropper)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def database_url(revision: str, snapshots: Snapshots, tmp_path: Path) -> Iterator[str]:
    """The empty store at ``revision``, copied for this test."""
    url = snapshots.copy_at(revision, tmp_path)
    try:
        yield url
    finally:
        snapshots.discard(url)


@pytest.mark.parametrize("revision", EARLIER)
def test_a_store_with_data_upgrades_from_every_earlier_revision(
    revision: str, database_url: str, tmp_path: Path
) -> None:
    engine = database.make_engine(database_url)
    try:
        _seed(engine)
        # what `steward init` does on an old store
        assert database.migrate(engine) == (revision, database.SCHEMA_HEAD)
    finally:
        engine.dispose()

    settings = Settings(
        home=tmp_path, database_url=database_url, artifacts_url=str(tmp_path / "artifacts")
    )
    ctx = bootstrap.build(settings)
    try:
        client = Steward(LocalBackend(ctx, "alice"))
        model = client.get_model(MODEL["name"])
        assert (model.owner, model.purpose, model.latest_version) == (
            "alice",
            MODEL["purpose"],
            1,
        )
        version = client.get_version(MODEL["name"], 1)
        assert version.artifact.sha256 == VERSION["artifact_sha256"]
        assert (version.stage, version.params, version.metrics) == (
            "development",
            {"C": 1.0},
            {"auc": 0.81},
        )
        # the upgraded store keeps working and its journal stays one chain
        client.update_model(MODEL["name"], description="after the upgrade")
        check = client.verify_audit()
        assert check.ok, check
        assert check.checked >= 3
    finally:
        ctx.uow.engine.dispose()
