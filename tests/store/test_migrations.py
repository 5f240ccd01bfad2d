"""Schema migrations: the head revision, schema/metadata parity, init and out-of-date refusal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError as DBIntegrityError
from typer.testing import CliRunner

import steward
from steward import bootstrap
from steward.cli.main import app
from steward.domain.errors import SchemaOutOfDate
from steward.settings import Settings
from steward.store import database
from steward.store import tables as t

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store location comes from the arguments under test, never from the environment."""
    for name in ("STEWARD_URL", "STEWARD_HOME", "STEWARD_DATABASE_URL", "STEWARD_ARTIFACTS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "500")  # keep Rich from wrapping long paths


def _set_revision(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def test_schema_head_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(database.MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert script.get_heads() == [database.SCHEMA_HEAD]
    # one linear history, starting at the initial schema
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None
    assert revisions[0].revision == database.SCHEMA_HEAD


def test_migrated_schema_matches_the_table_metadata(database_url: str) -> None:
    engine = database.make_engine(database_url)
    try:
        assert database.migrate(engine) == (None, database.SCHEMA_HEAD)
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    "include_name": database.include_name,
                },
            )
            assert compare_metadata(context, t.metadata) == []
        assert database.current_revision(engine) == database.SCHEMA_HEAD
        # running it again changes nothing
        assert database.migrate(engine) == (database.SCHEMA_HEAD, database.SCHEMA_HEAD)
    finally:
        engine.dispose()


def test_connect_creates_a_new_store(tmp_path: Path) -> None:
    home = tmp_path / "new" / "store"
    client = steward.connect(home=str(home), actor="alice")
    try:
        assert (home / "steward.db").is_file()
        model = client.create_model("first")
        assert model.created_by == "alice"
    finally:
        client.close()
    engine = database.make_engine(f"sqlite:///{home / 'steward.db'}")
    try:
        assert database.current_revision(engine) == database.SCHEMA_HEAD
    finally:
        engine.dispose()
    # and opens it again, keeping what it holds
    again = steward.connect(home=str(home), actor="bob")
    try:
        assert again.get_model("first").created_by == "alice"
    finally:
        again.close()


def test_connect_refuses_a_store_at_an_older_revision(tmp_path: Path) -> None:
    older = database.known_revisions()[-2]
    home = tmp_path / "old"
    steward.connect(home=str(home), actor="alice").close()
    engine = database.make_engine(f"sqlite:///{home / 'steward.db'}")
    _set_revision(engine, older)
    engine.dispose()
    with pytest.raises(SchemaOutOfDate) as err:
        steward.connect(home=str(home), actor="alice")
    assert err.value.detail == (
        f"The database schema is at revision {older} but this Steward needs "
        f"{database.SCHEMA_HEAD}. Run `steward init` to upgrade it (back up the database first)."
    )
    assert err.value.status == 503


@pytest.mark.parametrize("revision", ["0000", "ffffffffffff"])
def test_a_schema_written_by_a_newer_steward_is_refused_everywhere(
    tmp_path: Path, revision: str
) -> None:
    """Connecting, `steward init` and `steward server` all refuse; nothing is downgraded."""
    home = tmp_path / "newer"
    steward.connect(home=str(home), actor="alice").close()
    engine = database.make_engine(f"sqlite:///{home / 'steward.db'}")
    _set_revision(engine, revision)
    try:
        with pytest.raises(SchemaOutOfDate, match="does not know") as err:
            steward.connect(home=str(home), actor="alice")
        assert "written by a newer (or different) Steward" in err.value.detail
        assert "never downgrades" in err.value.detail
        with pytest.raises(SchemaOutOfDate, match="does not know"):
            database.migrate(engine)
        runner = CliRunner()
        for command in (["init"], ["server", "--port", "1"]):
            result = runner.invoke(app, ["--home", str(home), *command])
            assert result.exit_code != 0, command
            assert "does not know" in result.output, command
        assert database.current_revision(engine) == revision
    finally:
        engine.dispose()


def test_build_refuses_an_out_of_date_or_missing_schema(settings: Settings) -> None:
    with pytest.raises(SchemaOutOfDate, match=r"not initialised\. Run `steward init` to create it"):
        bootstrap.build(settings)
    bootstrap.build(settings, migrate=True).uow.engine.dispose()
    engine = database.make_engine(settings.database_url)
    try:
        older = database.known_revisions()[0]
        _set_revision(engine, older)
        with pytest.raises(SchemaOutOfDate, match=rf"revision {older} .* Run `steward init`"):
            bootstrap.build(settings)
        # create_if_missing never touches an existing store
        with pytest.raises(SchemaOutOfDate, match="Run `steward init`"):
            bootstrap.build(settings, create_if_missing=True)
        assert database.current_revision(engine) == older
    finally:
        engine.dispose()


def test_steward_init_creates_then_reports_current(tmp_path: Path) -> None:
    home = tmp_path / "cli-store"
    runner = CliRunner()
    first = runner.invoke(app, ["--home", str(home), "init"])
    assert first.exit_code == 0, first.output
    db = home.resolve() / "steward.db"
    assert first.stderr.strip() == (
        f"Created a new Steward store (schema {database.SCHEMA_HEAD}) at sqlite:///{db}"
    )
    assert db.is_file()
    second = runner.invoke(app, ["--home", str(home), "init"])
    assert second.exit_code == 0, second.output
    assert second.stderr.strip() == (
        f"Database schema is current ({database.SCHEMA_HEAD}) at sqlite:///{db}"
    )
    # a store that `steward init` created is usable without further setup
    client = steward.connect(home=str(home), actor="alice")
    try:
        assert client.list_models().items == []
    finally:
        client.close()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_steward_init_on_postgres_does_not_print_credentials(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_password = database_url.replace("://postgres@", "://postgres:hunter2@")
    assert "hunter2" in with_password
    monkeypatch.setenv("STEWARD_DATABASE_URL", with_password)
    result = CliRunner().invoke(app, ["--home", str(tmp_path), "init"])
    assert result.exit_code == 0, result.output
    server = database_url.split("@")[-1]
    assert result.stderr.strip() == (
        f"Created a new Steward store (schema {database.SCHEMA_HEAD}) at {server}"
    )
    assert "hunter2" not in result.output


@SQLITE_ONLY
def test_sqlite_pragmas(settings: Settings) -> None:
    ctx = bootstrap.build(settings, migrate=True)
    try:
        with ctx.uow.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60000
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        # foreign keys are enforced, not just declared
        with (
            pytest.raises(DBIntegrityError, match="FOREIGN KEY constraint failed"),
            ctx.uow.write() as uow,
        ):
            uow.conn.execute(insert(t.model_tags).values(model_id=999, tag="x"))
            uow.commit()
    finally:
        ctx.uow.engine.dispose()


def test_0016_scopes_existing_findings_and_leaves_team_lines_unset(database_url: str) -> None:
    # Existing drift/monitoring findings are about the population (model scope); findings that
    # name no version already held every version; the rest stay on their version.
    from alembic import command

    engine = database.make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(database.MIGRATIONS))
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0015")
            # Table metadata at head inserts only the columns given or defaulted in Python,
            # so these inserts never name the 0016 columns.
            now = datetime(2026, 1, 1, tzinfo=UTC)
            conn.execute(insert(t.teams).values(name="audit", created_at=now, created_by="root"))
            conn.execute(
                insert(t.models).values(
                    id=1, name="credit", created_at=now, created_by="bob", updated_at=now
                )
            )
            conn.execute(
                insert(t.model_versions).values(
                    id=1,
                    model_id=1,
                    version=1,
                    stage="development",
                    artifact_sha256="a" * 64,
                    artifact_size=1,
                    artifact_flavor="file",
                    artifact_filename="m.bin",
                    params={},
                    metrics={},
                    created_at=now,
                    created_by="bob",
                    stage_changed_at=now,
                )
            )
            for fid, source, vid in ((1, "monitor", 1), (2, "manual", None), (3, "manual", 1)):
                conn.execute(
                    insert(t.findings).values(
                        id=fid,
                        model_id=1,
                        version_id=vid,
                        title="t",
                        description="",
                        severity="high",
                        status="open",
                        source=source,
                        owner="bob",
                        evidence={},
                        opened_by="bob",
                        opened_at=now,
                        updated_at=now,
                        comments=0,
                    )
                )
            command.upgrade(config, "head")
            scopes = dict(conn.execute(text("SELECT id, scope FROM findings")).all())
            line = conn.execute(text("SELECT line FROM teams WHERE name = 'audit'")).scalar()
        assert scopes == {1: "model", 2: "model", 3: "version"}
        assert line is None
    finally:
        engine.dispose()


def test_0033_backfills_message_keys_of_findings_steward_wrote(database_url: str) -> None:
    # Findings whose English matches a template Steward wrote get the key and parameters
    # read back from it; what a person typed (even when it looks alike) and English that
    # matches no template keep no key. Nothing stored changes.
    import json

    from alembic import command

    engine = database.make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(database.MIGRATIONS))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rows = {
        1: (
            "check",
            "Check failed: fairness.four_fifths",
            "Ratio low; value 0.62 (threshold: >= 0.8)",
        ),
        2: (
            "monitor",
            "Monitoring alert: psi on the dataset",
            "Monitor drift (mon_1): psi = 0.31 on dataset (> 0.2) for 2 run(s) in a row [rule r1].",
        ),
        3: ("review", "Periodic review needs improvement", "Notes the reviewer wrote"),
        4: ("manual", "Check failed: fairness.four_fifths", "typed by a person"),
        5: ("monitor", "Something else entirely", ""),
    }
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0029")
            conn.execute(
                insert(t.models).values(
                    id=1, name="credit", created_at=now, created_by="bob", updated_at=now
                )
            )
            for fid, (source, title, description) in rows.items():
                conn.execute(
                    insert(t.findings).values(
                        id=fid,
                        model_id=1,
                        title=title,
                        description=description,
                        severity="high",
                        status="open",
                        source=source,
                        owner="bob",
                        evidence={},
                        opened_by="bob",
                        opened_at=now,
                        updated_at=now,
                        comments=0,
                    )
                )
            command.upgrade(config, "head")
            found = {
                r[0]: (r[1], r[2], r[3], r[4])
                for r in conn.execute(
                    text(
                        "SELECT id, message_key, message_params, title, description "
                        "FROM findings ORDER BY id"
                    )
                ).all()
            }
    finally:
        engine.dispose()

    def params(raw: object) -> object:
        return json.loads(raw) if isinstance(raw, str) else raw

    assert {fid: (title, description) for fid, (_, _, title, description) in found.items()} == {
        fid: (title, description) for fid, (_, title, description) in rows.items()
    }
    assert found[1][0] == "check.failed"
    assert params(found[1][1]) == {
        "check": "fairness.four_fifths",
        "message": "Ratio low",
        "value": 0.62,
        "op": ">=",
        "limit": 0.8,
    }
    assert found[2][0] == "monitor.alert"
    assert params(found[2][1]) == {
        "metric": "psi",
        "column": None,
        "monitor": "drift",
        "monitor_id": "mon_1",
        "value": 0.31,
        "op": ">",
        "threshold": 0.2,
        "streak": 2,
        "rule": "r1",
    }
    assert (found[3][0], params(found[3][1])) == (
        "review.adverse",
        {"outcome": "needs_improvement"},
    )
    assert found[4][:2] == (None, None) and found[5][:2] == (None, None)
