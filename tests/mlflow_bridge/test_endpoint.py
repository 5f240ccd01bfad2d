"""`/mlflow` driven by the real `mlflow` client library, as a data scientist would use it.

MLflow itself stays the tracking server (runs, logged models); Steward is the registry
(``mlflow.set_registry_uri(".../mlflow")``), authenticated with ``MLFLOW_TRACKING_TOKEN``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tarfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from steward import bootstrap
from steward.domain.lifecycle import Stage
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.policy import default_pack_text
from steward.services import models, policies, tokens, versions
from steward.services.context import Context
from steward.settings import Settings
from tests.conftest import LiveServer, ensure_user
from tests.mlflow_bridge.conftest import MlflowServer, train

ADMIN = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.fixture
def steward_ctx(settings: Settings, mlflow_server: MlflowServer) -> Iterator[Context]:
    configured = dataclasses.replace(settings, mlflow_tracking_uri=mlflow_server.url)
    context = bootstrap.build(configured, migrate=True)
    yield context
    context.uow.engine.dispose()


@pytest.fixture
def steward_url(steward_ctx: Context) -> Iterator[str]:
    with LiveServer(steward_ctx) as server:
        yield server.url


def token_for(ctx: Context, user: str, *roles: str) -> str:
    ensure_user(ctx, user, *roles)
    return tokens.create_token(ctx, ADMIN, user=user, name="mlflow").token


def log_run(tracking: str, seed: int) -> str:
    """Train and log a model to MLflow's tracking server, without registering it."""
    import mlflow

    mlflow.set_tracking_uri(tracking)
    mlflow.set_experiment("endpoint-tests")
    model, frame, target = train(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mlflow.start_run() as run:
            mlflow.log_param("C", 1.0 + seed)
            mlflow.log_metric("roc_auc", 0.75)
            mlflow.set_tag("mlflow.source.git.commit", "feedface" * 5)
            mlflow.sklearn.log_model(
                model,
                name="model",
                signature=mlflow.models.infer_signature(frame, target),
                pip_requirements=["scikit-learn"],
            )
    return str(run.info.run_id)


@pytest.fixture
def as_user(
    monkeypatch: pytest.MonkeyPatch, mlflow_server: MlflowServer, steward_url: str
) -> Iterator[object]:
    import mlflow

    def use(token: str | None) -> mlflow.MlflowClient:
        if token is None:
            monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
        else:
            monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
        # Few retries: a refusal is an answer, not a fault to retry for minutes.
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        mlflow.set_tracking_uri(mlflow_server.url)
        mlflow.set_registry_uri(f"{steward_url}/mlflow")
        return mlflow.MlflowClient()

    yield use
    mlflow.set_registry_uri(None)  # type: ignore[arg-type]


def test_the_mlflow_client_registers_reads_and_downloads_through_steward(
    steward_ctx: Context, mlflow_server: MlflowServer, as_user: object, tmp_path: Path
) -> None:
    import mlflow
    from mlflow.exceptions import MlflowException

    token = token_for(steward_ctx, "olive", "owner")
    client = as_user(token)  # type: ignore[operator]
    run_id = log_run(mlflow_server.url, 1)

    registered = mlflow.register_model(f"runs:/{run_id}/model", "credit-scoring")
    assert registered.version == "1" and registered.status == "READY"
    # It is a governed Steward version: owner, stage, content hash, lineage from the run.
    assert models.get_model(steward_ctx, ADMIN, "credit-scoring").owner == "olive"
    stored = versions.get_version(steward_ctx, ADMIN, "credit-scoring", 1)
    assert stored.stage is Stage.DEVELOPMENT
    assert stored.params == {"C": "2.0"} and stored.metrics == {"roc_auc": 0.75}
    assert stored.code is not None and stored.code.commit == "feedface" * 5
    assert stored.tags["mlflow.run_id"] == run_id
    assert stored.signature is not None

    got = client.get_model_version("credit-scoring", "1")
    assert (got.current_stage, got.run_id, got.status) == ("None", run_id, "READY")
    assert [m.name for m in client.search_registered_models("name='credit-scoring'")] == [
        "credit-scoring"
    ]
    assert [v.version for v in client.search_model_versions(f"run_id='{run_id}'")] == ["1"]
    assert client.get_registered_model("credit-scoring").latest_versions[0].version == "1"

    client.set_model_version_tag("credit-scoring", "1", "reviewed_by", "dana")
    assert versions.get_version(steward_ctx, ADMIN, "credit-scoring", 1).tags["reviewed_by"] == (
        "dana"
    )
    client.set_registered_model_tag("credit-scoring", "team", "retail")
    assert client.get_registered_model("credit-scoring").tags == {"team": "retail"}

    client.set_registered_model_alias("credit-scoring", "challenger", "1")
    assert client.get_model_version_by_alias("credit-scoring", "challenger").version == "1"
    client.delete_registered_model_alias("credit-scoring", "challenger")
    with pytest.raises(MlflowException) as gone:
        client.get_model_version_by_alias("credit-scoring", "challenger")
    assert gone.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    # The client downloads the model folder through Steward: the bytes MLflow logged.
    local = Path(
        mlflow.artifacts.download_artifacts(
            "models:/credit-scoring/1", dst_path=str(tmp_path / "dl")
        )
    )
    assert (local / "MLmodel").is_file() and (local / "model.skops").is_file()
    blob = tmp_path / "blob.tar"
    versions.download_artifact(steward_ctx, ADMIN, "credit-scoring", 1, blob)
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == stored.artifact.sha256
    with tarfile.open(blob) as tar:
        for name in ("MLmodel", "model.skops"):
            member = tar.extractfile(name)
            assert member is not None and member.read() == (local / name).read_bytes()

    # A legacy stage move is the lifecycle move (no policy pack is active yet).
    moved = client.transition_model_version_stage("credit-scoring", "1", "Staging")
    assert moved.current_stage == "Staging"
    assert versions.get_version(steward_ctx, ADMIN, "credit-scoring", 1).stage is Stage.VALIDATION


def test_a_production_alias_is_refused_with_the_gates_reasons(
    steward_ctx: Context, mlflow_server: MlflowServer, as_user: object
) -> None:
    import mlflow
    from mlflow.exceptions import MlflowException

    client = as_user(token_for(steward_ctx, "olive", "owner"))  # type: ignore[operator]
    mlflow.register_model(f"runs:/{log_run(mlflow_server.url, 2)}/model", "credit-scoring")

    # 'champion' means production: from development the lifecycle itself says no.
    with pytest.raises(MlflowException) as refused:
        client.set_registered_model_alias("credit-scoring", "champion", "1")
    assert refused.value.error_code == "PERMISSION_DENIED"
    assert refused.value.get_http_status_code() == 403
    assert "production alias 'champion'" in refused.value.message
    assert "development" in refused.value.message  # Steward's reason: where it stands
    assert versions.list_aliases(steward_ctx, ADMIN, "credit-scoring") == {}

    # In validation under the shipped policy pack: refused, saying what must come first.
    client.transition_model_version_stage("credit-scoring", "1", "Staging")
    policies.load_pack(steward_ctx, ADMIN, default_pack_text(), activate=True)
    with pytest.raises(MlflowException) as gated:
        client.set_registered_model_alias("credit-scoring", "champion", "1")
    assert gated.value.error_code == "PERMISSION_DENIED"
    assert "cannot move to production" in gated.value.message
    assert "Allowed next stages: approved" in gated.value.message
    with pytest.raises(MlflowException) as staged:
        client.transition_model_version_stage("credit-scoring", "1", "Production")
    assert staged.value.error_code == "PERMISSION_DENIED"
    assert versions.get_version(steward_ctx, ADMIN, "credit-scoring", 1).stage is Stage.VALIDATION
    assert versions.list_aliases(steward_ctx, ADMIN, "credit-scoring") == {}


def test_strangers_anonymous_callers_and_foreign_sources_are_refused(
    steward_ctx: Context, mlflow_server: MlflowServer, as_user: object
) -> None:
    import mlflow
    from mlflow.exceptions import MlflowException

    as_user(token_for(steward_ctx, "olive", "owner"))  # type: ignore[operator]
    mlflow.register_model(f"runs:/{log_run(mlflow_server.url, 3)}/model", "credit-scoring")

    stranger = as_user(token_for(steward_ctx, "mallory", "owner"))  # type: ignore[operator]
    for attempt in (
        lambda: stranger.set_registered_model_alias("credit-scoring", "challenger", "1"),
        lambda: stranger.set_model_version_tag("credit-scoring", "1", "k", "v"),
        lambda: stranger.transition_model_version_stage("credit-scoring", "1", "Staging"),
        lambda: stranger.create_model_version("credit-scoring", "runs:/x/model", "x"),
    ):
        with pytest.raises(MlflowException) as denied:
            attempt()
        assert denied.value.error_code == "PERMISSION_DENIED"

    anonymous = as_user(None)  # type: ignore[operator]
    with pytest.raises(MlflowException) as nobody:
        anonymous.get_registered_model("credit-scoring")
    assert nobody.value.error_code == "UNAUTHENTICATED"

    # A source outside the configured MLflow server's artifact proxy is never read.
    owner = as_user(token_for(steward_ctx, "olive", "owner"))  # type: ignore[operator]
    for source in ("file:///etc", "http://169.254.169.254/latest", "s3://bucket/model"):
        with pytest.raises(MlflowException) as foreign:
            owner.create_model_version("credit-scoring", source, None)
        assert foreign.value.error_code == "INVALID_PARAMETER_VALUE"
        assert "only through its MLflow server" in foreign.value.message
    assert [
        v.version for v in versions.list_versions(steward_ctx, ADMIN, "credit-scoring").items
    ] == [1]


def test_a_folder_logged_under_the_run_is_registered_whole(
    steward_ctx: Context, mlflow_server: MlflowServer, as_user: object, tmp_path: Path
) -> None:
    """``runs:/<run>/model`` of files logged with ``log_artifacts`` (not a logged model) is
    read straight from the run's folder on MLflow's proxy (logged models, which MLflow keeps
    elsewhere, are registered by the test above)."""
    import mlflow

    as_user(token_for(steward_ctx, "olive", "owner"))  # type: ignore[operator]
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text("artifact_path: model\nflavors: {}\n")
    (folder / "weights.bin").write_bytes(b"w" * 4096)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(folder), "model")
    registered = mlflow.register_model(f"runs:/{run.info.run_id}/model", "plain-folder")
    assert registered.version == "1"
    dest = tmp_path / "stored.tar"
    stored = versions.download_artifact(steward_ctx, ADMIN, "plain-folder", 1, dest)
    with tarfile.open(dest) as tar:
        assert {"MLmodel", "weights.bin"} <= {Path(n).name for n in tar.getnames()}
    assert stored.tags["mlflow.run_id"] == run.info.run_id
