"""Start a local `mlflow server` and wait until it answers: shared by the MLflow bridge's
benchmark (bench/mlflow_bridge.py) and its tests (tests/mlflow_bridge/conftest.py), so
both run the same server the same way and neither carries its own wait loop.

The server runs from its own virtualenv (``.venv-mlflow``, made by ``scripts/venv.sh
test``): the full ``mlflow`` package brings Flask, gunicorn and pins of its own that
Steward's venv does not need.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import IO

import httpx

REPO = Path(__file__).resolve().parent.parent
# The machine may be busy (benchmarks and tests share it): a cold MLflow start takes long.
START_TIMEOUT = 300.0


def server_binary(
    variable: str = "STEWARD_TEST_MLFLOW_SERVER", venv: str = ".venv-mlflow"
) -> Path | None:
    """``$variable`` if set, else ``<venv>/bin/mlflow`` in the repository; None if absent.

    The defaults are MLflow 3 (``.venv-mlflow``); the tests also pass
    ``STEWARD_TEST_MLFLOW2_SERVER`` and ``.venv-mlflow2`` for MLflow 2.x."""
    configured = os.environ.get(variable)
    candidates = [Path(configured)] if configured else []
    candidates.append(REPO / venv / "bin" / "mlflow")
    return next((c for c in candidates if c.is_file()), None)


def wait_until_up(
    url: str,
    process: subprocess.Popen[bytes],
    what: str,
    *,
    timeout: float = START_TIMEOUT,
    log: Path | None = None,
) -> None:
    """Return once ``url`` answers 200; raise if ``process`` exits or ``timeout`` passes.

    ``log``: the server's output file, whose tail the error quotes when it exits early.
    """
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.is_file() else ""
            raise RuntimeError(f"{what} exited with {process.returncode}: {tail}".rstrip(": "))
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop(process)
            raise RuntimeError(f"{what} did not start within {timeout:.0f} s")
        time.sleep(0.3)


def start(
    binary: Path,
    home: Path,
    port: int,
    output: IO[bytes] | int = subprocess.DEVNULL,
    extra_env: dict[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """`mlflow server` with a SQLite backend store and a local artifact root, on loopback;
    returns the process and its URL once ``/health`` answers. ``extra_env``: MLflow
    settings for the server (the caller's own MLFLOW_* variables are not passed on)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    # Its background job runner (prompt optimisation, ...) is not what is measured or tested.
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    env.update(extra_env or {})
    process = subprocess.Popen(
        [
            str(binary),
            "server",
            "--backend-store-uri",
            f"sqlite:///{home / 'mlflow.db'}",
            "--artifacts-destination",
            str(home / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=home,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its gunicorn/uvicorn workers stop with it
    )
    url = f"http://127.0.0.1:{port}"
    log = Path(output.name) if hasattr(output, "name") and isinstance(output.name, str) else None
    wait_until_up(f"{url}/health", process, "mlflow server", log=log)
    return process, url


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the process group this module started (by its id), killing it if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
