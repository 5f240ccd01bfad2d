"""Governed write-back: Steward's decisions reach the real MLflow server from the sync job
(never from the user's request), and a production alias or stage moved in MLflow behind
Steward's back opens a critical finding and is put back when configured. SQLite and
PostgreSQL stores."""

from __future__ import annotations

import dataclasses
import warnings
from datetime import timedelta
from typing import Any

from steward.bridge.mlflow_source import MlflowSource
from steward.domain.audit import Action, AuditFilter
from steward.domain.permissions import Principal
from steward.services import findings, lifecycle, mlflow_bridge, mlflow_writeback, versions
from steward.services.context import Context
from tests.conftest import free_port
from tests.mlflow_bridge.conftest import MlflowServer, log_version
from tests.services.test_worker import NoSender


def _with(ctx: Context, **settings: Any) -> Context:
    return dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, **settings))


def _events(ctx: Context, action: Action) -> list[dict[str, Any]]:
    with ctx.uow.read() as uow:
        return [e.payload_dict() for e in uow.audit.stream(AuditFilter(actions=(action.value,)))]


def _promote(ctx: Context, who: Principal, model: str, version: int) -> None:
    for stage in ("validation", "approved", "production"):
        lifecycle.transition(ctx, who, model, version, stage, f"to {stage}")


def _imported(ctx: Context, who: Principal, url: str, seeds: tuple[int, ...]) -> str:
    name = f"wb-{free_port()}"
    for seed in seeds:
        log_version(url, name, seed)
    mlflow_bridge.import_registry(ctx, who, MlflowSource(url), only=[name])
    return name


def _client(url: str) -> Any:
    import mlflow

    return mlflow.MlflowClient(tracking_uri=url, registry_uri=url)


def _aliases(client: Any, name: str) -> dict[str, int]:
    return {k: int(v) for k, v in client.get_registered_model(name).aliases.items()}


def test_decisions_are_written_as_tags_and_champion_follows_production_moves(
    ctx: Context, alice: Principal, mlflow_server: MlflowServer
) -> None:
    url = mlflow_server.url
    ctx = _with(ctx, public_url="https://steward.example.com")
    name = _imported(ctx, alice, url, (21, 22))
    client = _client(url)
    source = MlflowSource(url)

    first = mlflow_writeback.sync_both_ways(ctx, alice, source, only=[name])
    assert set(first.written.tags_written) == {f"{name} 1", f"{name} 2"}
    tags = client.get_model_version(name, "1").tags
    v1 = versions.get_version(ctx, alice, name, 1)
    assert tags["steward.stage"] == "development"
    assert tags["steward.gate"] == "blocked"  # development cannot move to production
    assert tags["steward.sha256"] == v1.artifact.sha256
    assert tags["steward.url"] == f"https://steward.example.com/models/{name}?version=1"

    # The production move is the user's request; MLflow is not touched inside it.
    _promote(ctx, alice, name, 1)
    assert "champion" not in _aliases(client, name)
    owed = mlflow_writeback.pending(ctx, alice, source.id)
    assert {(p.mlflow_name, p.target) for p in owed} >= {
        (name, "alias:champion"),
        (name, "version:1"),
    }

    moved = mlflow_writeback.sync_both_ways(ctx, alice, source, only=[name])
    assert f"{name}@champion -> 1" in moved.written.aliases_set
    assert _aliases(client, name) == {"champion": 1}
    after = client.get_model_version(name, "1").tags
    assert (after["steward.stage"], after["steward.gate"]) == ("production", "pass")
    assert [
        p for p in mlflow_writeback.pending(ctx, alice, source.id) if p.mlflow_name == name
    ] == []
    written = [e for e in _events(ctx, Action.MLFLOW_WRITTEN_BACK) if e["mlflow_name"] == name]
    assert written[-1]["aliases"] == {"champion": 1}

    # Demotion: the alias leaves MLflow, and that is no drift (Steward had set it there).
    lifecycle.transition(ctx, alice, name, 1, "deprecated", "replaced")
    demoted = mlflow_writeback.sync_both_ways(ctx, alice, source, only=[name])
    assert f"{name}@champion" in demoted.written.aliases_removed
    assert demoted.written.drift == []
    assert "champion" not in _aliases(client, name)
    assert client.get_model_version(name, "1").tags["steward.stage"] == "deprecated"


def test_an_alias_moved_in_mlflow_opens_a_critical_finding_and_is_reverted_when_configured(
    ctx: Context, alice: Principal, mlflow_server: MlflowServer
) -> None:
    url = mlflow_server.url
    name = _imported(ctx, alice, url, (23, 24))
    client = _client(url)
    source = MlflowSource(url)
    _promote(ctx, alice, name, 1)
    mlflow_writeback.sync_both_ways(ctx, alice, source, only=[name])
    assert _aliases(client, name) == {"champion": 1}

    client.set_registered_model_alias(name, "champion", "2")  # by hand, behind Steward's back
    found = mlflow_writeback.write_back(ctx, alice, source)
    assert found.drift == [f"{name} alias 'champion' -> 2"] and found.reverted == []
    assert _aliases(client, name) == {"champion": 2}  # left (not configured)
    opened = [
        f for f in findings.list_findings(ctx, alice, model=name).items if f.source == "mlflow"
    ]
    assert [(f.severity.value, f.version) for f in opened] == [("critical", 2)]
    assert "has not put in production" in opened[0].description
    mlflow_writeback.write_back(ctx, alice, source)  # seen again: the same finding, not another
    assert (
        len(
            [
                f
                for f in findings.list_findings(ctx, alice, model=name).items
                if f.source == "mlflow"
            ]
        )
        == 1
    )
    drift = [e for e in _events(ctx, Action.MLFLOW_DRIFT) if e["mlflow_name"] == name]
    assert [(d["mlflow_version"], d["steward_production"]) for d in drift] == [(2, 1)]

    reverting = _with(ctx, mlflow_revert_aliases=True)
    back = mlflow_writeback.write_back(reverting, alice, source)
    assert back.reverted == [f"{name}@champion: 2 -> 1"]
    assert _aliases(client, name) == {"champion": 1}
    reverted = [e for e in _events(ctx, Action.MLFLOW_REVERTED) if e["mlflow_name"] == name]
    assert [(r["from"], r["to"]) for r in reverted] == [(2, 1)]

    # The legacy stage too: version 2 moved to Production in MLflow is found and put back.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.transition_model_version_stage(name, "2", "Production")
    staged = mlflow_writeback.write_back(reverting, alice, source)
    assert staged.drift == [f"{name} stage 'Production' -> 2"]
    assert staged.reverted == [f"{name} 2 stage -> None"]
    assert client.get_model_version(name, "2").current_stage == "None"


def test_a_refused_write_is_retried_after_its_back_off_and_shown_in_status(
    ctx: Context, alice: Principal, mlflow_server: MlflowServer
) -> None:
    url = mlflow_server.url
    name = _imported(ctx, alice, url, (25,))
    source = MlflowSource(url)
    # A link MLflow refuses to store (its tag values are bounded): the write fails.
    refused = _with(ctx, public_url="https://steward.example.com/" + "x" * 150_000)
    first = mlflow_writeback.write_back(refused, alice, source)
    assert [f.split(":")[0] for f in first.failed] == [f"{name} version"]
    owed = [p for p in mlflow_writeback.pending(refused, alice, source.id) if p.mlflow_name == name]
    assert [(p.target, p.attempts) for p in owed] == [("version:1", 1)]
    assert owed[0].last_error and "MLflow at" in owed[0].last_error
    assert owed[0].next_at is not None

    # Within the back-off nothing is tried; after it, the write is tried again.
    waiting = mlflow_writeback.write_back(refused, alice, source)
    assert waiting.failed == [] and waiting.waiting >= 1
    later = owed[0].next_at + timedelta(seconds=1)
    refused.uow.clock = lambda: later
    again = mlflow_writeback.write_back(refused, alice, source)
    assert [f.split(":")[0] for f in again.failed] == [f"{name} version"]
    owed = [p for p in mlflow_writeback.pending(refused, alice, source.id) if p.mlflow_name == name]
    assert owed[0].attempts == 2 and owed[0].next_at is not None
    assert owed[0].next_at - later == timedelta(minutes=1)  # 30 s, then doubled

    # Corrected (no link), and past the next back-off: written, nothing owed any more.
    fixed = _with(refused, public_url=None)
    fixed.uow.clock = lambda: later + timedelta(minutes=2)
    assert mlflow_writeback.write_back(fixed, alice, source).failed == []
    assert [
        p for p in mlflow_writeback.pending(fixed, alice, source.id) if p.mlflow_name == name
    ] == []
    assert _client(url).get_model_version(name, "1").tags["steward.stage"] == "development"


def test_the_worker_job_writes_back_and_reports_it(
    ctx: Context, alice: Principal, mlflow_server: MlflowServer
) -> None:
    from steward.domain.worker import Job
    from steward.services import worker

    url = mlflow_server.url
    name = _imported(ctx, alice, url, (26,))
    _promote(ctx, alice, name, 1)
    configured = _with(ctx, mlflow_tracking_uri=url)
    report = worker.run_pass(
        configured, alice, (Job.MLFLOW_SYNC,), NoSender(), identity=worker.Identity()
    )
    outcome = report.outcomes[0]
    # The job syncs the whole (shared) server, where other tests left versions whose files
    # are gone: those fail the job, and the write-back is done and reported all the same.
    assert outcome.ran and "alias(es) set" in outcome.detail, outcome.detail
    assert _aliases(_client(url), name) == {"champion": 1}

    off = _with(configured, mlflow_write_back=False)
    assert mlflow_writeback.write_back(off, alice, MlflowSource(url)).tags_written == []
    assert mlflow_writeback.pending(off, alice) == []
