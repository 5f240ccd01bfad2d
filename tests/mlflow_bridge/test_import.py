"""`steward mlflow import` against a real MLflow server, on SQLite and PostgreSQL stores."""

from __future__ import annotations

import dataclasses
import hashlib
import tarfile
import warnings
from pathlib import Path

import pytest

from steward.bridge.mlflow_source import MlflowSource
from steward.domain.audit import Action, AuditFilter
from steward.domain.errors import ArtifactError, NotFound, SourceUnavailable
from steward.domain.lifecycle import Stage
from steward.domain.permissions import Principal
from steward.services import mlflow_bridge, models, versions
from steward.services.context import Context
from tests.conftest import free_port
from tests.mlflow_bridge.conftest import Logged, MlflowServer, log_version, remove_artifacts
from tests.services.test_worker import NoSender


def _events(ctx: Context, action: Action) -> list[dict[str, object]]:
    with ctx.uow.read() as uow:
        return [e.payload_dict() for e in uow.audit.stream(AuditFilter(actions=(action.value,)))]


def test_import_brings_models_versions_stages_aliases_and_lineage(
    ctx: Context, alice: Principal, registry: Logged, tmp_path: Path
) -> None:
    source = MlflowSource(registry.url)
    summary = mlflow_bridge.import_registry(
        ctx, alice, source, only=["Credit Scoring", "fraud-detector"]
    )

    assert summary.models_created == ["credit-scoring", "fraud-detector"]
    assert summary.renamed == {"Credit Scoring": "credit-scoring"}
    assert len(summary.versions_imported) == 3
    model = models.get_model(ctx, alice, "credit-scoring")
    assert model.description == "Approve consumer loans"
    assert model.title == "Credit Scoring"

    v1 = versions.get_version(ctx, alice, "credit-scoring", 1)
    v2 = versions.get_version(ctx, alice, "credit-scoring", 2)
    assert (v1.stage, v2.stage) == (Stage.PRODUCTION, Stage.VALIDATION)
    assert versions.get_version(ctx, alice, "fraud-detector", 1).stage is Stage.DEVELOPMENT
    assert versions.list_aliases(ctx, alice, "credit-scoring") == {"champion": 1, "challenger": 2}
    assert v2.tags == {"validated_by": "qa team"}
    assert v1.params == {"C": "2.0", "solver": "lbfgs"}
    assert v1.metrics == {"roc_auc": pytest.approx(0.81), "val_loss": 0.3}
    assert v1.code is not None and v1.code.commit == registry.git_commit
    assert v1.signature is not None
    assert [c.name for c in v1.signature.inputs] == ["income", "debt"]
    assert v1.training_data is not None and v1.training_data.name == "loans-train"
    assert v1.training_data.fingerprint.startswith("mlflow:")
    assert v1.training_data.rows == 60

    # The artifact is the model folder MLflow holds, stored content-addressed with its sha256.
    dest = tmp_path / "v1.tar"
    versions.download_artifact(ctx, alice, "credit-scoring", 1, dest)
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == v1.artifact.sha256
    # MLflow 3 saves sklearn models with skops by default, MLflow 2 with cloudpickle.
    saved = "model.skops" if registry.client_version.startswith("3.") else "model.pkl"
    with tarfile.open(dest) as tar:
        assert {"MLmodel", saved} <= set(tar.getnames())

    imported = _events(ctx, Action.MLFLOW_VERSION_IMPORTED)
    first = next(e for e in imported if e["model"] == "credit-scoring" and e["version"] == 1)
    assert first["mlflow_name"] == "Credit Scoring"
    assert first["run_id"] == registry.run_ids[("Credit Scoring", 1)]
    assert first["mlflow_stage"] == "Production"
    linked = _events(ctx, Action.MLFLOW_MODEL_LINKED)
    assert {(e["mlflow_name"], e["model"], e["renamed"]) for e in linked} == {
        ("Credit Scoring", "credit-scoring", True),
        ("fraud-detector", "fraud-detector", False),
    }
    # The observed stage is on the record as such: who, and that no gate was evaluated.
    with ctx.uow.read() as uow:
        moves = [
            e.payload_dict()
            for e in uow.audit.stream(AuditFilter(actions=(Action.VERSION_TRANSITIONED.value,)))
        ]
    assert [(m["version"], m["to"], m["caused_by"]) for m in moves] == [
        (1, "production", "mlflow"),
        (2, "validation", "mlflow"),
    ]

    # Re-running imports nothing twice and changes nothing.
    with ctx.uow.read() as uow:
        before = uow.audit.head()
    again = mlflow_bridge.import_registry(
        ctx, alice, source, only=["Credit Scoring", "fraud-detector"]
    )
    assert again.versions_imported == [] and again.versions_skipped == 3
    assert again.models_created == [] and again.models_linked == [
        "credit-scoring",
        "fraud-detector",
    ]
    with ctx.uow.read() as uow:
        assert uow.audit.head() == before

    state = mlflow_bridge.status(ctx, alice, source)
    assert {(s.link.mlflow_name, s.link.mlflow_version) for s in state.versions} == {
        ("Credit Scoring", 1),
        ("Credit Scoring", 2),
        ("fraud-detector", 1),
    }
    assert all(s.differences == [] for s in state.versions)


def test_an_interrupted_import_resumes_without_duplicates(
    ctx: Context,
    alice: Principal,
    mlflow_server: MlflowServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = mlflow_server.url
    name = f"resume-{free_port()}"
    for seed in (4, 5, 6):
        log_version(url, name, seed)
    real = versions.create_version
    calls = {"n": 0}

    def crash_on_second(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process is stopped mid-import
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(versions, "create_version", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        mlflow_bridge.import_registry(ctx, alice, MlflowSource(url), only=[name])
    assert [v.version for v in versions.list_versions(ctx, alice, name).items] == [1]

    monkeypatch.setattr(versions, "create_version", real)
    resumed = mlflow_bridge.import_registry(ctx, alice, MlflowSource(url), only=[name])
    assert resumed.versions_skipped == 1 and len(resumed.versions_imported) == 2
    listed = versions.list_versions(ctx, alice, name).items
    assert sorted(v.version for v in listed) == [1, 2, 3]
    with ctx.uow.read() as uow:
        links = uow.mlflow.versions(mlflow_bridge.mb.source_id(url), name)
    assert [(x.mlflow_version, x.version) for x in links] == [(1, 1), (2, 2), (3, 3)]


def test_missing_artifacts_refuse_that_version_whole(
    ctx: Context, alice: Principal, mlflow_server: MlflowServer
) -> None:
    url = mlflow_server.url
    name = f"broken-{free_port()}"
    log_version(url, name, 7)
    import mlflow

    mv = mlflow.MlflowClient(tracking_uri=url, registry_uri=url).get_model_version(name, "1")
    model_id = mv.source.rsplit("/", 1)[-1]  # models:/m-...
    remove_artifacts(mlflow_server, model_id)
    with pytest.raises(ArtifactError, match=r"could not be downloaded|are missing"):
        mlflow_bridge.import_registry(ctx, alice, MlflowSource(url), only=[name])
    # The model is linked (it exists in MLflow) but no version, link or blob is half-written.
    assert versions.list_versions(ctx, alice, name).items == []
    with ctx.uow.read() as uow:
        assert uow.mlflow.versions(None, name) == []
    assert _events(ctx, Action.MLFLOW_VERSION_IMPORTED) == []
    assert not any(p.is_file() for p in Path(ctx.settings.artifacts_url).rglob("*"))


def test_unreachable_mlflow_is_a_clear_error_and_writes_nothing(
    ctx: Context, alice: Principal
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SourceUnavailable, match="does not answer"):
        mlflow_bridge.import_registry(ctx, alice, MlflowSource(url))
    with ctx.uow.read() as uow:
        assert uow.audit.head() is None


def test_an_unknown_model_is_named_before_anything_is_written(
    ctx: Context, alice: Principal, registry: Logged
) -> None:
    with pytest.raises(NotFound, match="no registered model 'nope'"):
        mlflow_bridge.import_registry(
            ctx, alice, MlflowSource(registry.url), only=["fraud-detector", "nope"]
        )
    assert models.list_models(ctx, alice).items == []


def test_sync_brings_new_versions_in_development_and_status_shows_a_moved_alias(
    ctx: Context, alice: Principal, mlflow_server: MlflowServer
) -> None:
    import mlflow

    url = mlflow_server.url
    name = f"synced-{free_port()}"
    log_version(url, name, 8)
    client = mlflow.MlflowClient(tracking_uri=url, registry_uri=url)
    client.set_registered_model_alias(name, "champion", "1")
    mlflow_bridge.import_registry(ctx, alice, MlflowSource(url), only=[name])

    # A data scientist registers a new version in MLflow, marks it Production, moves champion.
    log_version(url, name, 9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.transition_model_version_stage(name, "2", "Production")
    client.set_registered_model_alias(name, "champion", "2")
    client.update_registered_model(name, description="Scores loans, v2")

    # Sync brings it in development (the gates apply from there), whatever MLflow's stage.
    synced = mlflow_bridge.sync(ctx, alice, MlflowSource(url), only=[name])
    assert synced.versions_imported == [f"{name}/2 <- {name} 2"] and synced.failed == []
    assert versions.get_version(ctx, alice, name, 2).stage is Stage.DEVELOPMENT
    assert versions.list_aliases(ctx, alice, name) == {"champion": 1}  # not moved by MLflow
    assert models.get_model(ctx, alice, name).description == "Scores loans, v2"

    state = mlflow_bridge.status(ctx, alice, MlflowSource(url))
    assert state.aliases == [f"{name}@champion: MLflow -> version 2 (Steward 2), Steward -> 1"]
    assert [s.differences for s in state.versions if s.link.mlflow_version == 2] == [
        ["Steward stage development, MLflow stage Production"]
    ]
    again = mlflow_bridge.sync(ctx, alice, MlflowSource(url), only=[name])
    assert again.versions_imported == []


def test_sync_skips_a_broken_version_and_goes_on_with_other_models(
    ctx: Context, alice: Principal, mlflow_server: MlflowServer
) -> None:
    import mlflow

    url = mlflow_server.url
    broken, fine = f"gap-{free_port()}", f"fine-{free_port()}"
    log_version(url, broken, 10)
    log_version(url, broken, 11)
    log_version(url, fine, 12)
    client = mlflow.MlflowClient(tracking_uri=url, registry_uri=url)
    remove_artifacts(mlflow_server, client.get_model_version(broken, "1").source.rsplit("/", 1)[-1])

    synced = mlflow_bridge.sync(ctx, alice, MlflowSource(url), only=[broken, fine])
    assert synced.versions_imported == [f"{fine}/1 <- {fine} 1"]
    assert [f.split(":")[0] for f in synced.failed] == [f"{broken} 1"]
    assert versions.list_versions(ctx, alice, broken).items == []  # version 2 waits for 1


def test_the_worker_runs_the_sync_when_configured(ctx: Context, alice: Principal) -> None:
    from steward.domain.worker import Job
    from steward.services import worker

    url = f"http://127.0.0.1:{free_port()}"  # configured, but down: the job says so
    configured = dataclasses.replace(
        ctx, settings=dataclasses.replace(ctx.settings, mlflow_tracking_uri=url)
    )
    report = worker.run_pass(
        configured, alice, (Job.MLFLOW_SYNC,), NoSender(), identity=worker.Identity()
    )
    outcome = report.outcomes[0]
    assert outcome.ran and not outcome.ok and "does not answer" in outcome.detail
