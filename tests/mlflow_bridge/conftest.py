"""A real MLflow tracking server for the bridge's tests, populated the way users do it.

The server runs from its own virtualenv (``.venv-mlflow``, made by ``scripts/venv.sh test``):
the full ``mlflow`` package brings Flask, gunicorn and pins of its own that Steward's venv
does not need. The tests talk to it with the ``mlflow`` client library of Steward's
``mlflow`` extra, exactly as a data scientist's script would. The import tests (those using
``registry``) also run against MLflow 2.x (``.venv-mlflow2``), filled by its own 2.x client.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bench import mlflow_server as server_process

from tests.conftest import free_port
from tests.mlflow_bridge import populate
from tests.mlflow_bridge.populate import log_version, train

__all__ = ["Logged", "MlflowServer", "log_version", "remove_artifacts", "train"]

# Where each tested MLflow release's server comes from: (variable naming an `mlflow`
# executable, else the repository's virtualenv made by `scripts/venv.sh test`).
RELEASES = {
    "3": ("STEWARD_TEST_MLFLOW_SERVER", ".venv-mlflow"),
    "2": ("STEWARD_TEST_MLFLOW2_SERVER", ".venv-mlflow2"),
}

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

    def __init__(self, home: Path, release: str = "3") -> None:
        variable, venv = RELEASES[release]
        binary = server_process.server_binary(variable, venv)
        if binary is None:
            pytest.skip(
                f"No MLflow {release}.x server: run `scripts/venv.sh test` (it creates {venv}) "
                f"or set {variable} to an `mlflow` executable."
            )
        # The server's own virtualenv also has its MLflow client, which populates it.
        self.python = binary.parent / "python"
        self.home = home
        self.logged: Logged | None = None  # what populate.py put in, once
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
    client_version: str  # of the MLflow client that logged it
    run_ids: dict[tuple[str, int], str] = field(default_factory=dict)
    git_commit: str = populate.GIT_COMMIT


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mlflow2_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = MlflowServer(tmp_path_factory.mktemp("mlflow2-server"), release="2")
    try:
        yield server
    finally:
        server.stop()


def _populate_with_its_own_client(server: MlflowServer) -> dict[str, object]:
    """Run populate.py in the server's virtualenv: Steward's venv has the MLflow 3 client."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [str(server.python), populate.__file__, server.url],
        cwd=server.home,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"populate.py failed in {server.python}: {done.stderr[-3000:]}")
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


@pytest.fixture(scope="session", params=["mlflow3", "mlflow2"])
def registry(request: pytest.FixtureRequest) -> Logged:
    """populate.py's two registered models, on an MLflow 3 server filled in-process by
    Steward's MLflow 3 client, and on an MLflow 2.x server filled by its own 2.x client
    (the tests only read these)."""
    name = "mlflow_server" if request.param == "mlflow3" else "mlflow2_server"
    server: MlflowServer = request.getfixturevalue(name)
    # pytest may set a parametrized session fixture up again when tests of the two params
    # interleave; the server lives on, and MLflow refuses to register the models twice.
    if server.logged is not None:
        return server.logged
    if request.param == "mlflow3":
        import mlflow

        runs, version = populate.populate(server.url), mlflow.__version__
    else:
        answer = _populate_with_its_own_client(server)
        runs, version = dict(answer["runs"]), str(answer["mlflow"])  # type: ignore[call-overload]
    logged = Logged(url=server.url, server=server, client_version=version)
    for key, run_id in runs.items():
        model, number = key.rsplit("/", 1)
        logged.run_ids[(model, int(number))] = str(run_id)
    server.logged = logged
    return logged


def remove_artifacts(server: MlflowServer, run_or_model_id: str) -> None:
    """Delete a logged model's files on the server's disk (an operator's mistake)."""
    for path in server.artifacts.rglob(run_or_model_id):
        if path.is_dir():
            shutil.rmtree(path)
