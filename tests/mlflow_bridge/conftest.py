"""A real MLflow tracking server for the bridge's tests, populated the way users do it.

The server runs from its own virtualenv (``.venv-mlflow``, made by ``scripts/venv.sh test``):
the full ``mlflow`` package brings Flask, gunicorn and pins of its own that Steward's venv
does not need. The tests talk to it with the ``mlflow`` client library of Steward's
``mlflow`` extra, exactly as a data scientist's script would.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from bench import mlflow_server as server_process

from tests.conftest import free_port

# MLflow (3.3+) posts registry webhooks only to https URLs on public addresses unless told
# otherwise (the tests' Steward listens on http://127.0.0.1), and caches the list of
# webhooks for 60 s (a webhook created in a test would wait that long to fire).
WEBHOOKS_TO_LOOPBACK = {
    "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
    "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
    "MLFLOW_WEBHOOK_CACHE_TTL": "1",
}


class MlflowServer:
    """`mlflow server` with a SQLite backend store and a local artifact root, on loopback
    (started and stopped by bench/mlflow_server.py, which the benchmark uses too)."""

    def __init__(self, home: Path) -> None:
        binary = server_process.server_binary()
        if binary is None:
            pytest.skip(
                "No MLflow server: run `scripts/venv.sh test` (it creates .venv-mlflow) or set "
                "STEWARD_TEST_MLFLOW_SERVER to an `mlflow` executable."
            )
        self.home = home
        self.artifacts = home / "artifacts"
        self.port = free_port()
        self.log = (home / "server.log").open("wb")
        try:
            self.process, self.url = server_process.start(
                binary, home, self.port, self.log, extra_env=WEBHOOKS_TO_LOOPBACK
            )
        except BaseException:
            self.log.close()
            raise

    def stop(self) -> None:
        server_process.stop(self.process)
        self.log.close()


@dataclass
class Logged:
    """What the population script put into MLflow, for the tests to compare with."""

    url: str
    server: MlflowServer
    run_ids: dict[tuple[str, int], str] = field(default_factory=dict)
    git_commit: str = "0123456789abcdef0123456789abcdef01234567"


def train(seed: int) -> tuple[Any, Any, Any]:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"income": rng.normal(50, 10, 60), "debt": rng.normal(10, 3, 60)})
    target = (frame.income - 2 * frame.debt + rng.normal(0, 5, 60) > 30).astype(int)
    model = LogisticRegression(C=1.0 + seed).fit(frame, target)
    return model, frame, target


def log_version(
    url: str,
    registered: str,
    seed: int,
    *,
    git_commit: str | None = None,
    version_tags: dict[str, str] | None = None,
) -> tuple[str, int]:
    """One training run logged as users do: params, metrics, a dataset, an sklearn model."""
    import mlflow

    mlflow.set_tracking_uri(url)
    mlflow.set_registry_uri(url)
    mlflow.set_experiment("steward-bridge-tests")
    model, frame, target = train(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mlflow.start_run() as run:
            mlflow.log_params({"C": 1.0 + seed, "solver": "lbfgs"})
            mlflow.log_metric("roc_auc", 0.8 + seed / 100)
            mlflow.log_metric("val loss", 0.3)  # not a valid Steward key: mapped to val_loss
            if git_commit:
                mlflow.set_tag("mlflow.source.git.commit", git_commit)
            dataset = mlflow.data.from_pandas(
                frame.assign(default=target), name="loans-train", targets="default"
            )
            mlflow.log_input(dataset, context="training")
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                signature=mlflow.models.infer_signature(frame, target),
                pip_requirements=["scikit-learn"],
            )
        registered_version = mlflow.register_model(info.model_uri, registered, tags=version_tags)
    return run.info.run_id, int(registered_version.version)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def registry(mlflow_server: MlflowServer) -> Logged:
    """Two registered models as a team would have them (the tests only read these).

    'Credit Scoring' (not a Steward slug): v1 Production with alias champion, v2 Staging
    with alias challenger and a version tag; 'fraud-detector': v1 with no stage.
    """
    import mlflow

    url = mlflow_server.url
    logged = Logged(url=url, server=mlflow_server)
    client = mlflow.MlflowClient(tracking_uri=url, registry_uri=url)
    client.create_registered_model(
        "Credit Scoring", tags={"team": "retail"}, description="Approve consumer loans"
    )
    for seed, tags in ((1, None), (2, {"validated_by": "qa team"})):
        run_id, number = log_version(
            url, "Credit Scoring", seed, git_commit=logged.git_commit, version_tags=tags
        )
        logged.run_ids[("Credit Scoring", number)] = run_id
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.transition_model_version_stage("Credit Scoring", "1", "Production")
        client.transition_model_version_stage("Credit Scoring", "2", "Staging")
    client.set_registered_model_alias("Credit Scoring", "champion", "1")
    client.set_registered_model_alias("Credit Scoring", "challenger", "2")
    run_id, number = log_version(url, "fraud-detector", 3)
    logged.run_ids[("fraud-detector", number)] = run_id
    return logged


def remove_artifacts(server: MlflowServer, run_or_model_id: str) -> None:
    """Delete a logged model's files on the server's disk (an operator's mistake)."""
    for path in server.artifacts.rglob(run_or_model_id):
        if path.is_dir():
            shutil.rmtree(path)
