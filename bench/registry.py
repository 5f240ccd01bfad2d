"""Registry benchmark: Steward against MLflow, one command.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/registry.py            # full run: ~2 000 and ~20 000 versions
    .venv/bin/python bench/registry.py --quick    # smoke run: ~200 and ~2 000 versions

The script installs MLflow into its own virtualenv (bench/.venv-mlflow), starts an MLflow
tracking server and a Steward server on 127.0.0.1 (SQLite and local files in fresh temporary
directories), fills both registries to the same shape, drives both with the same httpx client at
1 and 8 concurrent clients, and reports throughput and latency per operation. Results go to
stdout, bench/results/registry-<date>.json and, for full runs, the "Registry" section of
BENCHMARKS.md. See bench/README.md for the method.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import (  # bench/report.py, shared by the benchmarks
    cpu_model,
    memory_gib,
    replace_section,
)

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"
MLFLOW_VENV = BENCH_DIR / ".venv-mlflow"
MLFLOW_MARKER = MLFLOW_VENV / "bench-install.json"
RESULTS_DIR = BENCH_DIR / "results"
BENCHMARKS_MD = REPO / "BENCHMARKS.md"
STEWARD_BIN = REPO / ".venv" / "bin" / "steward"
STEWARD_PYTHON = REPO / ".venv" / "bin" / "python"
SECTION_TITLE = "## Registry (bench/registry.py)"

PYTHON_FOR_MLFLOW = "python3.11"
MLFLOW_SPEC = "mlflow==3.17.*"
MLFLOW_FALLBACK_SPEC = "mlflow>=3,<4"

HOST = "127.0.0.1"
ALIAS = "champion"
BATCH_SIZE = 10  # versions sharing one `batch` tag value, spread over BATCH_SIZE models
ARTIFACT_BYTES = 1024
READY_TIMEOUT_S = 180.0
READY_SAMPLES = 3
HELP_SAMPLES = 5
HTTP_TIMEOUT_S = 60.0
POPULATE_RETRIES = 3

TARGET_RATIO = 3.0
TARGET_FLOOR_RATIO = 0.5  # Steward within 2x of the floor: at least half its ops/s
TARGET_SEARCH_P95_MS = 50.0
TARGET_READY_S = 2.0
TARGET_HELP_S = 0.5


# --------------------------------------------------------------------------------------------
# Plan


@dataclass(frozen=True)
class Size:
    label: str
    models: int
    versions_per_model: int

    @property
    def versions(self) -> int:
        return self.models * self.versions_per_model

    @property
    def batches(self) -> int:
        return self.versions // BATCH_SIZE


@dataclass(frozen=True)
class Plan:
    """Every engine gets the same plan: per operation, one warm-up run that is not counted,
    then `repeats` measured runs of `measure_s` seconds each (ops/s: their median)."""

    mode: str
    sizes: tuple[Size, ...]
    warmup_s: float
    measure_s: float
    repeats: int
    concurrencies: tuple[int, ...] = (1, 8)
    # The headline is a new connection per request (what most HTTP clients, scripts and
    # serverless callers do); keep-alive is measured too.
    connections: tuple[str, ...] = ("fresh", "keepalive")
    populate_threads: int = 8


FULL_PLAN = Plan(
    mode="full",
    sizes=(Size("2k", 100, 20), Size("20k", 1000, 20)),
    warmup_s=0.5,
    measure_s=2.0,
    repeats=3,
)
# A smoke run that proves the script works end to end; its figures mean nothing.
QUICK_PLAN = Plan(
    mode="quick",
    sizes=(Size("200", 10, 20),),
    warmup_s=0.1,
    measure_s=0.3,
    repeats=1,
)

# The headline alone when the full run does not fit (a shared machine, a deadline): the
# smaller registry, new connection per request, one 2 s run per measurement after the same
# warm-up; every engine still gets the same plan.
SHORT_PLAN = Plan(
    mode="short",
    sizes=(Size("2k", 100, 20),),
    warmup_s=0.5,
    measure_s=2.0,
    repeats=1,
    connections=("fresh",),
)

OPERATIONS: tuple[tuple[str, str], ...] = (
    ("create_model", "create model"),
    ("create_version", "create version (3 tags)"),
    ("get_version", "get version"),
    ("search_by_name", "search versions by model name"),
    ("search_by_tag", "search versions by tag"),
    ("set_alias", "set alias"),
    ("get_by_alias", "get version by alias"),
)
SEARCH_OPS = ("search_by_name", "search_by_tag")
CONNECTION_LABELS = {
    "keepalive": "keep-alive connection per client thread",
    "fresh": "new connection per request",
}
HEALTH_PROBES = 50
OTHER_CPU_WARN_PCT = 10.0  # flag measurements during which other processes used more CPU


def model_name(index: int) -> str:
    return f"bench-{index:05d}"


def batch_of(model_index: int, version_index: int, versions_per_model: int) -> int:
    """Tag value shared by BATCH_SIZE versions: version j of models 10k..10k+9."""
    return (model_index // BATCH_SIZE) * versions_per_model + version_index


def version_tags(model_index: int, version_index: int, versions_per_model: int) -> dict[str, str]:
    seq = model_index * versions_per_model + version_index
    return {
        "batch": str(batch_of(model_index, version_index, versions_per_model)),
        "team": f"team-{model_index % 7}",
        "seq": str(seq),
    }


def artifact_payload(seed: str) -> bytes:
    """1 KiB that differs for every version, so that each upload is genuinely stored."""
    head = seed.encode()[:64].ljust(64, b"\0")
    return head + random.Random(seed).randbytes(ARTIFACT_BYTES - len(head))


# --------------------------------------------------------------------------------------------
# Small helpers


class BenchError(RuntimeError):
    """The benchmark cannot go on (install failure, server failure, contract mismatch)."""


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile of already sorted values (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def run_checked(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 1800.0,
) -> str:
    proc = subprocess.run(
        list(cmd),
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise BenchError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    return proc.stdout


def describe_response(resp: httpx.Response) -> str:
    body = resp.text[:300].replace("\n", " ")
    return f"{resp.request.method} {resp.request.url.path} -> {resp.status_code}: {body}"


class UnexpectedStatusError(RuntimeError):
    def __init__(self, resp: httpx.Response, expected: Sequence[int]) -> None:
        super().__init__(
            f"expected HTTP {'/'.join(map(str, expected))}, got " + describe_response(resp)
        )
        self.status_code = resp.status_code


def expect(resp: httpx.Response, *codes: int) -> httpx.Response:
    if resp.status_code not in codes:
        raise UnexpectedStatusError(resp, codes)
    return resp


# --------------------------------------------------------------------------------------------
# Server processes


class ServerProcess:
    """A server started in its own process group, so that all its workers can be stopped."""

    def __init__(
        self,
        name: str,
        cmd: list[str],
        env: dict[str, str],
        cwd: Path,
        health_url: str,
        log_path: Path,
    ) -> None:
        self.name = name
        self.cmd = cmd
        self.env = env
        self.cwd = cwd
        self.health_url = health_url
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Spawn the server; return the seconds until its health endpoint answered 200."""
        with self.log_path.open("ab") as log_file:
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(
                self.cmd,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _LIVE_SERVERS.append(self)
        with httpx.Client(timeout=2.0) as client:
            while True:
                try:
                    if client.get(self.health_url).status_code == 200:
                        return time.perf_counter() - t0
                except httpx.TransportError:
                    pass
                if self.proc.poll() is not None:
                    raise BenchError(
                        f"{self.name} server exited with code "
                        f"{self.proc.returncode}\n{self.log_tail()}"
                    )
                if time.perf_counter() - t0 > READY_TIMEOUT_S:
                    raise BenchError(
                        f"{self.name} server not ready after {READY_TIMEOUT_S:.0f} s"
                        f"\n{self.log_tail()}"
                    )
                time.sleep(0.02)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if self in _LIVE_SERVERS:
            _LIVE_SERVERS.remove(self)
        if proc is None:
            return
        for sig, wait_s in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                continue
            # The leader is gone; make sure no worker of the group survives it.
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            break

    def peak_memory(self) -> dict[str, Any]:
        """Peak resident memory (VmHWM) of every process in the server's process group."""
        peaks: list[int] = []
        if self.proc is not None:
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    rest = stat.read_text().rsplit(")", 1)[1].split()
                    if int(rest[2]) != self.proc.pid:
                        continue
                    status = (stat.parent / "status").read_text()
                except (OSError, IndexError, ValueError):
                    continue
                match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
                if match:
                    peaks.append(int(match.group(1)))
        return {
            "processes": len(peaks),
            "sum_mib": round(sum(peaks) / 1024, 1),
            "largest_mib": round(max(peaks) / 1024, 1) if peaks else None,
        }

    def process_count(self) -> int:
        """Processes currently in the server's process group (leader, workers, helpers)."""
        if self.proc is None:
            return 0
        count = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                rest = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            count += int(rest[2]) == self.proc.pid
        return count

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])


_LIVE_SERVERS: list[ServerProcess] = []


def stop_all_servers() -> None:
    for server in list(_LIVE_SERVERS):
        server.stop()


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


# --------------------------------------------------------------------------------------------
# Engines


class Engine(ABC):
    key: str
    label: str
    health_path: str

    def __init__(self) -> None:
        self.home: Path | None = None
        self.info: dict[str, Any] = {}

    # lifecycle -------------------------------------------------------------------------------
    @abstractmethod
    def install(self) -> None: ...

    @abstractmethod
    def prepare(self, home: Path) -> None:
        """Initialise an empty store in `home` (not timed)."""

    @abstractmethod
    def server_command(self, port: int) -> list[str]: ...

    @abstractmethod
    def server_env(self) -> dict[str, str]: ...

    @abstractmethod
    def help_command(self) -> list[str]: ...

    def headers(self) -> dict[str, str]:
        return {}

    def client(self, base_url: str, keepalive: bool = True) -> httpx.Client:
        """An HTTP client; without keep-alive every request opens (and closes) a connection."""
        limits = httpx.Limits() if keepalive else httpx.Limits(max_keepalive_connections=0)
        return httpx.Client(
            base_url=base_url, headers=self.headers(), timeout=HTTP_TIMEOUT_S, limits=limits
        )

    # operations ------------------------------------------------------------------------------
    @abstractmethod
    def create_model(self, c: httpx.Client, name: str) -> None: ...

    @abstractmethod
    def create_version(
        self, c: httpx.Client, model: str, tags: dict[str, str], payload: bytes
    ) -> int: ...

    @abstractmethod
    def get_version(self, c: httpx.Client, model: str, version: int) -> int: ...

    @abstractmethod
    def search_by_name(self, c: httpx.Client, model: str) -> int:
        """Return the number of versions found (first page, 100 at most)."""

    @abstractmethod
    def search_by_tag(self, c: httpx.Client, key: str, value: str) -> int:
        """Return the number of versions found (first page, 100 at most)."""

    @abstractmethod
    def set_alias(self, c: httpx.Client, model: str, alias: str, version: int) -> None: ...

    @abstractmethod
    def get_by_alias(self, c: httpx.Client, model: str, alias: str) -> int:
        """Return the version number the alias points at."""


class MlflowEngine(Engine):
    key = "mlflow"
    label = "MLflow"
    health_path = "/health"
    api = "/api/2.0/mlflow"

    @property
    def bin(self) -> Path:
        return MLFLOW_VENV / "bin"

    def install(self) -> None:
        if MLFLOW_MARKER.exists():
            marker = json.loads(MLFLOW_MARKER.read_text())
            log(f"MLflow {marker['version']} already installed in {MLFLOW_VENV}")
        else:
            marker = self._create_venv()
        self.info.update(marker)
        self.info["python"] = run_checked(
            [str(self.bin / "python"), "-c", "import platform; print(platform.python_version())"]
        ).strip()
        self.info["server_defaults"] = (
            "uvicorn, --workers default (4 worker processes) plus MLflow's job-runner "
            "processes; security middleware on with its default allow-list (localhost and "
            "127.0.0.1 pass, no --allowed-hosts needed)"
        )

    def _create_venv(self) -> dict[str, Any]:
        python = shutil.which(PYTHON_FOR_MLFLOW)
        if python is None:
            raise BenchError(f"{PYTHON_FOR_MLFLOW} not found on PATH")
        if MLFLOW_VENV.exists():
            shutil.rmtree(MLFLOW_VENV)
        log(f"creating {MLFLOW_VENV} with {PYTHON_FOR_MLFLOW}")
        run_checked([python, "-m", "venv", str(MLFLOW_VENV)])
        pip = [str(self.bin / "python"), "-m", "pip", "install", "--quiet"]
        spec = MLFLOW_SPEC
        t0 = time.perf_counter()
        try:
            log(f"pip install '{spec}' (about a minute)")
            run_checked([*pip, spec])
        except BenchError as first:
            log(
                f"'{spec}' did not install ({str(first).splitlines()[0]}); "
                f"falling back to '{MLFLOW_FALLBACK_SPEC}'"
            )
            spec = MLFLOW_FALLBACK_SPEC
            run_checked([*pip, spec])
        version = run_checked(
            [
                str(self.bin / "python"),
                "-c",
                "import importlib.metadata as m; print(m.version('mlflow'))",
            ]
        ).strip()
        marker = {
            "version": version,
            "requested": MLFLOW_SPEC,
            "installed_with": spec,
            "install_seconds": round(time.perf_counter() - t0, 1),
        }
        MLFLOW_MARKER.write_text(json.dumps(marker, indent=2) + "\n")
        log(f"installed MLflow {version}")
        return marker

    def prepare(self, home: Path) -> None:
        self.home = home
        (home / "artifacts").mkdir(parents=True, exist_ok=True)
        # Create the schema up front, as `steward init` does for Steward, so that the measured
        # ready time of both servers starts from an initialised store.
        run_checked(
            [str(self.bin / "mlflow"), "db", "upgrade", self._db_uri()],
            env=self.server_env(),
            cwd=home,
        )

    def _db_uri(self) -> str:
        assert self.home is not None
        return f"sqlite:///{self.home / 'mlflow.db'}"

    def server_command(self, port: int) -> list[str]:
        assert self.home is not None
        return [
            str(self.bin / "mlflow"),
            "server",
            "--backend-store-uri",
            self._db_uri(),
            "--default-artifact-root",
            (self.home / "artifacts").as_uri(),
            "--host",
            HOST,
            "--port",
            str(port),
        ]

    def server_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env.pop("VIRTUAL_ENV", None)
        return env

    def help_command(self) -> list[str]:
        return [str(self.bin / "mlflow"), "--help"]

    # operations ------------------------------------------------------------------------------
    def create_model(self, c: httpx.Client, name: str) -> None:
        expect(c.post(f"{self.api}/registered-models/create", json={"name": name}), 200)

    def create_version(
        self, c: httpx.Client, model: str, tags: dict[str, str], payload: bytes
    ) -> int:
        # MLflow's registry records a source URI; it stores no bytes at this call. MLflow 3
        # refuses file:// sources that are not inside a run's artifact directory, and
        # host-addressed schemes (http, ftp, ...) pointing elsewhere; s3:// is accepted as is.
        del payload
        body = {
            "name": model,
            "source": f"s3://steward-bench/models/{model}/{tags['seq']}",
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        }
        resp = expect(c.post(f"{self.api}/model-versions/create", json=body), 200)
        return int(resp.json()["model_version"]["version"])

    def get_version(self, c: httpx.Client, model: str, version: int) -> int:
        resp = expect(
            c.get(
                f"{self.api}/model-versions/get", params={"name": model, "version": str(version)}
            ),
            200,
        )
        return int(resp.json()["model_version"]["version"])

    def _search(self, c: httpx.Client, filter_string: str) -> int:
        resp = expect(
            c.get(
                f"{self.api}/model-versions/search",
                params={"filter": filter_string, "max_results": "100"},
            ),
            200,
        )
        return len(resp.json().get("model_versions", []))

    def search_by_name(self, c: httpx.Client, model: str) -> int:
        return self._search(c, f"name='{model}'")

    def search_by_tag(self, c: httpx.Client, key: str, value: str) -> int:
        return self._search(c, f"tags.`{key}`='{value}'")

    def set_alias(self, c: httpx.Client, model: str, alias: str, version: int) -> None:
        body = {"name": model, "alias": alias, "version": str(version)}
        expect(c.post(f"{self.api}/registered-models/alias", json=body), 200)

    def get_by_alias(self, c: httpx.Client, model: str, alias: str) -> int:
        resp = expect(
            c.get(f"{self.api}/registered-models/alias", params={"name": model, "alias": alias}),
            200,
        )
        return int(resp.json()["model_version"]["version"])


class StewardEngine(Engine):
    key = "steward"
    label = "Steward"
    health_path = "/api/v1/health"
    api = "/api/v1"

    def __init__(self) -> None:
        super().__init__()
        self.token: str | None = None

    def install(self) -> None:
        if not STEWARD_BIN.exists():
            raise BenchError(
                f"{STEWARD_BIN} not found: install the project first "
                "(python3.11 -m venv .venv && .venv/bin/pip install -e '.[dev]')"
            )
        self.info["version"] = importlib.metadata.version("steward")
        self.info["git"] = git_describe()
        self.info["python"] = platform.python_version()
        self.info["server_defaults"] = steward_server_defaults()

    def prepare(self, home: Path) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        env = self.server_env()
        run_checked([str(STEWARD_BIN), "init"], env=env, cwd=home)
        # Tokens act as a user (since governance): an owner may create models and versions.
        run_checked(
            [str(STEWARD_BIN), "user", "create", "bench", "--role", "owner"], env=env, cwd=home
        )
        out = run_checked(
            [str(STEWARD_BIN), "token", "create", "--user", "bench", "--json"], env=env, cwd=home
        )
        try:
            token = json.loads(out)["token"]
        except (ValueError, KeyError, TypeError) as exc:
            raise BenchError(
                "contract mismatch: `steward token create --user bench --json` "
                f"did not print JSON with a 'token' field: {out[:300]!r}"
            ) from exc
        if not isinstance(token, str) or not token:
            raise BenchError(f"contract mismatch: empty or non-string token: {token!r}")
        self.token = token

    def server_command(self, port: int) -> list[str]:
        return [str(STEWARD_BIN), "server", "--host", HOST, "--port", str(port)]

    def server_env(self) -> dict[str, str]:
        assert self.home is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
        env["STEWARD_HOME"] = str(self.home)
        return env

    def help_command(self) -> list[str]:
        return [str(STEWARD_BIN), "--help"]

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    # operations ------------------------------------------------------------------------------
    def create_model(self, c: httpx.Client, name: str) -> None:
        body = {"name": name, "owner": "bench", "purpose": "benchmark"}
        expect(c.post(f"{self.api}/models", json=body), 201)

    def create_version(
        self, c: httpx.Client, model: str, tags: dict[str, str], payload: bytes
    ) -> int:
        metadata = {"tags": tags, "params": {}, "metrics": {}, "flavor": "other"}
        resp = expect(
            c.post(
                f"{self.api}/models/{model}/versions",
                data={"metadata": json.dumps(metadata)},
                files={"artifact": ("model.bin", payload, "application/octet-stream")},
            ),
            201,
        )
        return int(resp.json()["version"])

    def get_version(self, c: httpx.Client, model: str, version: int) -> int:
        resp = expect(c.get(f"{self.api}/models/{model}/versions/{version}"), 200)
        return int(resp.json()["version"])

    def search_by_name(self, c: httpx.Client, model: str) -> int:
        resp = expect(c.get(f"{self.api}/models/{model}/versions", params={"limit": "100"}), 200)
        return len(resp.json()["items"])

    def search_by_tag(self, c: httpx.Client, key: str, value: str) -> int:
        resp = expect(
            c.get(f"{self.api}/versions", params={"tag": f"{key}={value}", "limit": "100"}), 200
        )
        return len(resp.json()["items"])

    def set_alias(self, c: httpx.Client, model: str, alias: str, version: int) -> None:
        expect(c.put(f"{self.api}/models/{model}/aliases/{alias}", json={"version": version}), 200)

    def get_by_alias(self, c: httpx.Client, model: str, alias: str) -> int:
        resp = expect(c.get(f"{self.api}/models/{model}/aliases/{alias}"), 200)
        return int(resp.json()["version"])


class FloorEngine(StewardEngine):
    """bench/registry_floor.py: HTTP + SQLite and nothing else, on Steward's ASGI stack.

    Its routes mirror Steward's (without the /api/v1 prefix), so the operations are
    Steward's own requests: the same multipart upload, JSON bodies and bearer token."""

    key = "floor"
    label = "Floor (HTTP + SQLite)"
    health_path = "/health"
    api = ""
    script = BENCH_DIR / "registry_floor.py"

    def install(self) -> None:
        if not STEWARD_PYTHON.exists():
            raise BenchError(f"{STEWARD_PYTHON} not found: the floor runs on Steward's venv")
        self.info["version"] = "bench/registry_floor.py"
        self.info["python"] = platform.python_version()
        self.info["server_defaults"] = (
            f"Starlette under uvicorn like Steward, {floor_workers()} worker processes "
            "(Steward's default count); SQLite in WAL mode; token looked up per request"
        )

    def prepare(self, home: Path) -> None:
        self.home = home
        out = run_checked(
            [str(STEWARD_PYTHON), str(self.script), "init", "--home", str(home)],
            env=self.server_env(),
            cwd=home,
        )
        self.token = str(json.loads(out)["token"])

    def server_command(self, port: int) -> list[str]:
        assert self.home is not None
        return [
            str(STEWARD_PYTHON),
            str(self.script),
            "serve",
            "--home",
            str(self.home),
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(floor_workers()),
        ]

    def server_env(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}

    def help_command(self) -> list[str]:
        return [str(STEWARD_PYTHON), str(self.script), "--help"]


def floor_workers() -> int:
    """The worker count `steward server` picks by default (one per CPU, at most 4)."""
    return min(os.cpu_count() or 1, 4)


def steward_server_defaults() -> str:
    """Describe `steward server`'s default worker count, as its --help states it."""
    try:
        text = run_checked([str(STEWARD_BIN), "server", "--help"], timeout=60)
    except (BenchError, subprocess.TimeoutExpired):
        return "its default settings"
    flat = re.sub(r"[\s│╭╮╰╯─]+", " ", text)
    match = re.search(r"--workers\s+<int>\s+(.*?)\s*(?=--[a-z]|$)", flat)
    if match is None:
        return "its default settings"
    return f"default settings; `--workers`: {match.group(1).rstrip('.')}"


ENGINES: dict[str, Callable[[], Engine]] = {
    "steward": StewardEngine,
    "mlflow": MlflowEngine,
    "floor": FloorEngine,
}


def git_describe() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if out.returncode != 0:
        return "no commit"
    return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


# --------------------------------------------------------------------------------------------
# Load generation


@dataclass
class RunResult:
    op: str
    concurrency: int
    connection: str
    ok: int = 0
    errors: int = 0
    wall_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    first_error: str | None = None
    created: list[str] = field(default_factory=list)
    other_cpu_pct: float | None = None

    @property
    def ops_per_s(self) -> float | None:
        return self.ok / self.wall_s if self.wall_s > 0 else None


def summarise(runs: list[RunResult]) -> dict[str, Any]:
    """One measurement from its repeats: median ops/s, latencies pooled over the repeats."""
    first = runs[0]
    lat = sorted(x for r in runs for x in r.latencies_ms)
    rates = [r.ops_per_s for r in runs if r.ops_per_s is not None]
    others = [r.other_cpu_pct for r in runs if r.other_cpu_pct is not None]
    errors = [r.first_error for r in runs if r.first_error]
    return {
        "op": first.op,
        "concurrency": first.concurrency,
        "connection": first.connection,
        "repeats": len(runs),
        "ok": sum(r.ok for r in runs),
        "errors": sum(r.errors for r in runs),
        "first_error": errors[0] if errors else None,
        "wall_s": [round(r.wall_s, 4) for r in runs],
        "ops_per_s_repeats": [round(x, 2) for x in rates],
        "ops_per_s": round(statistics.median(rates), 2) if rates else None,
        "p50_ms": round(percentile(lat, 50), 3) if lat else None,
        "p95_ms": round(percentile(lat, 95), 3) if lat else None,
        "mean_ms": round(statistics.fmean(lat), 3) if lat else None,
        "max_ms": round(lat[-1], 3) if lat else None,
        "other_cpu_pct": max(others) if others else None,
    }


@dataclass(frozen=True)
class CpuSample:
    """CPU time of the whole machine and of the benchmark's own processes (this process and the
    servers' process groups), to tell how much other work competed during a measurement."""

    wall: float
    machine_busy_s: float
    ours_s: float

    @classmethod
    def take(cls) -> CpuSample:
        tick = os.sysconf("SC_CLK_TCK")
        try:
            fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        except OSError:
            return cls(time.perf_counter(), 0.0, 0.0)
        # user nice system idle iowait irq softirq steal: everything but idle and iowait
        values = [int(v) for v in fields[:8]]
        busy = sum(values) - values[3] - values[4]
        groups = {s.proc.pid for s in _LIVE_SERVERS if s.proc is not None}
        ours = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                rest = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            pid = int(stat.parent.name)
            if pid == os.getpid():
                # utime + stime + cutime + cstime: this process and the children it reaped
                # (--help runs, stopped servers)
                ours += sum(int(v) for v in rest[11:15])
            elif int(rest[2]) in groups:
                ours += int(rest[11]) + int(rest[12])  # utime + stime
        return cls(time.perf_counter(), busy / tick, ours / tick)

    def other_cpu_pct_since(self, before: CpuSample) -> float | None:
        """Share of the machine's CPU capacity used by other processes since `before`."""
        wall = self.wall - before.wall
        if wall <= 0 or self.machine_busy_s == 0:
            return None
        other = (self.machine_busy_s - before.machine_busy_s) - (self.ours_s - before.ours_s)
        capacity = wall * len(os.sched_getaffinity(0))
        return round(max(0.0, other) / capacity * 100.0, 1)


# One measured request: (engine, client, op index, per-thread RNG) -> name created, if any.
OpFn = Callable[[Engine, httpx.Client, int, random.Random], str | None]


def run_load(
    engine: Engine,
    base_url: str,
    op: str,
    fn: OpFn,
    concurrency: int,
    keepalive: bool,
    duration_s: float,
    seed: str,
) -> RunResult:
    """Call `fn` from `concurrency` threads, each with its own client, for `duration_s`.

    Thread t performs the calls whose index i satisfies i % concurrency == t, starting
    together; each starts no new call once `duration_s` has passed since its start. Wall
    time runs from the first thread's start to the last thread's end (so at least
    `duration_s`).
    """
    connection = "keepalive" if keepalive else "fresh"
    result = RunResult(op=op, concurrency=concurrency, connection=connection)
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency)
    starts: list[float] = []
    ends: list[float] = []
    health = engine.health_path

    def worker(tid: int) -> None:
        rng = random.Random(f"{seed}/{tid}")
        latencies: list[float] = []
        created: list[str] = []
        ok = errors = 0
        first_error: str | None = None
        with engine.client(base_url, keepalive) as client:
            with suppress(httpx.HTTPError):
                client.get(health)  # open the keep-alive connection before the clock starts
            barrier.wait()
            t_start = time.perf_counter()
            i = tid - concurrency
            while time.perf_counter() - t_start < duration_s:
                i += concurrency
                t0 = time.perf_counter()
                try:
                    name = fn(engine, client, i, rng)
                except (UnexpectedStatusError, httpx.HTTPError, KeyError, ValueError) as exc:
                    errors += 1
                    first_error = first_error or f"{type(exc).__name__}: {exc}"
                    continue
                latencies.append((time.perf_counter() - t0) * 1000.0)
                ok += 1
                if name is not None:
                    created.append(name)
            t_end = time.perf_counter()
        with lock:
            starts.append(t_start)
            ends.append(t_end)
            result.latencies_ms.extend(latencies)
            result.created.extend(created)
            result.ok += ok
            result.errors += errors
            result.first_error = result.first_error or first_error

    threads = [
        threading.Thread(target=worker, args=(t,), name=f"{op}-{t}", daemon=True)
        for t in range(concurrency)
    ]
    cpu_before = CpuSample.take()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.other_cpu_pct = CpuSample.take().other_cpu_pct_since(cpu_before)
    if starts:
        result.wall_s = max(ends) - min(starts)
    return result


def measured_ops(size: Size, phase: str, created_models: list[str]) -> dict[str, OpFn]:
    """The seven measured operations; random choices come from per-thread seeded RNGs, so both
    engines receive exactly the same requests."""
    vpm = size.versions_per_model

    def create_model(e: Engine, c: httpx.Client, i: int, rng: random.Random) -> str | None:
        # Unique across the repeats of a measurement: the thread's RNG differs per repeat.
        name = f"new-{phase}-{i:05d}-{rng.getrandbits(32):08x}"
        e.create_model(c, name)
        return name

    def create_version(e: Engine, c: httpx.Client, i: int, rng: random.Random) -> str | None:
        targets = created_models
        model = targets[i % len(targets)] if targets else model_name(i % size.models)
        tags = {"batch": f"new-{phase}", "team": f"team-{i % 7}", "seq": f"{phase}-{i}"}
        e.create_version(c, model, tags, artifact_payload(f"{phase}/{i}"))
        return None

    def get_version(e: Engine, c: httpx.Client, i: int, rng: random.Random) -> str | None:
        e.get_version(c, model_name(rng.randrange(size.models)), rng.randint(1, vpm))
        return None

    def search_by_name(e: Engine, c: httpx.Client, i: int, rng: random.Random) -> str | None:
        e.search_by_name(c, model_name(rng.randrange(size.models)))
        return None

    def search_by_tag(e: Engine, c: httpx.Client, i: int, rng: random.Random) -> str | None:
        e.search_by_tag(c, "batch", str(rng.randrange(size.batches)))
        return None

    def set_alias(e: Engine, c: httpx.Client, i: int, rng: random.Random) -> str | None:
        e.set_alias(c, model_name(rng.randrange(size.models)), ALIAS, rng.randint(1, vpm))
        return None

    def get_by_alias(e: Engine, c: httpx.Client, i: int, rng: random.Random) -> str | None:
        e.get_by_alias(c, model_name(rng.randrange(size.models)), ALIAS)
        return None

    return {
        "create_model": create_model,
        "create_version": create_version,
        "get_version": get_version,
        "search_by_name": search_by_name,
        "search_by_tag": search_by_tag,
        "set_alias": set_alias,
        "get_by_alias": get_by_alias,
    }


def with_retries(action: Callable[[], Any], what: str) -> Any:
    """Populating only: retry transient failures (server errors, dropped connections)."""
    for attempt in range(1, POPULATE_RETRIES + 1):
        try:
            return action()
        except UnexpectedStatusError as exc:
            if exc.status_code < 500 or attempt == POPULATE_RETRIES:
                raise BenchError(f"populating failed at {what}: {exc}") from exc
        except httpx.TransportError as exc:
            if attempt == POPULATE_RETRIES:
                raise BenchError(f"populating failed at {what}: {exc!r}") from exc
        time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def populate(engine: Engine, base_url: str, first_model: int, size: Size, threads: int) -> float:
    """Create models [first_model, size.models) with their versions and alias; return seconds."""
    vpm = size.versions_per_model
    todo = list(range(first_model, size.models))
    total = len(todo)
    lock = threading.Lock()
    errors: list[BaseException] = []
    done = [0]
    step = max(1, total // 10)

    def next_model() -> int | None:
        with lock:
            if errors or not todo:
                return None
            return todo.pop(0)

    def worker() -> None:
        try:
            # A new connection per request: MLflow's default server stalls ~40 ms on every
            # keep-alive request (see METHOD_NOTES), which would slow populating needlessly.
            with engine.client(base_url, keepalive=False) as client:
                while (m := next_model()) is not None:
                    name = model_name(m)
                    with_retries(partial(engine.create_model, client, name), f"model {name}")
                    for j in range(vpm):
                        version = with_retries(
                            partial(
                                engine.create_version,
                                client,
                                name,
                                version_tags(m, j, vpm),
                                artifact_payload(f"populate/{m}/{j}"),
                            ),
                            f"version {j + 1} of {name}",
                        )
                        if version != j + 1:
                            raise BenchError(f"{name}: expected version {j + 1}, got {version}")
                    with_retries(
                        partial(engine.set_alias, client, name, ALIAS, vpm), f"alias of {name}"
                    )
                    with lock:
                        done[0] += 1
                        if done[0] % step == 0:
                            log(f"  {engine.label}: {done[0]}/{total} models")
        except BaseException as exc:
            with lock:
                errors.append(exc)

    t0 = time.perf_counter()
    pool = [
        threading.Thread(target=worker, name=f"populate-{t}", daemon=True) for t in range(threads)
    ]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - t0


def sanity_check(engine: Engine, base_url: str, size: Size) -> None:
    """Verify that the registry answers what was stored (guards against contract drift)."""
    vpm = size.versions_per_model
    last = size.models - 1
    with engine.client(base_url) as c:
        checks: list[tuple[str, int, int]] = [
            ("get version 1 of model 0", engine.get_version(c, model_name(0), 1), 1),
            (
                f"search by name of {model_name(last)}",
                engine.search_by_name(c, model_name(last)),
                vpm,
            ),
            ("search by tag batch=0", engine.search_by_tag(c, "batch", "0"), BATCH_SIZE),
            (
                f"search by tag batch={size.batches - 1}",
                engine.search_by_tag(c, "batch", str(size.batches - 1)),
                BATCH_SIZE,
            ),
            (
                f"alias {ALIAS} of {model_name(last)}",
                engine.get_by_alias(c, model_name(last), ALIAS),
                vpm,
            ),
        ]
    wrong = [f"{what}: got {got}, expected {want}" for what, got, want in checks if got != want]
    if wrong:
        raise BenchError(f"{engine.label} returned unexpected data: " + "; ".join(wrong))


# --------------------------------------------------------------------------------------------
# Engine session


def time_help(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    def once() -> float:
        t0 = time.perf_counter()
        subprocess.run(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
            timeout=120,
        )
        return time.perf_counter() - t0

    once()  # warm-up (bytecode caches), not counted
    cpu_before = CpuSample.take()
    samples = [once() for _ in range(HELP_SAMPLES)]
    return {
        "other_cpu_pct": CpuSample.take().other_cpu_pct_since(cpu_before),
        "median_s": round(statistics.median(samples), 4),
        "samples_s": [round(s, 4) for s in samples],
    }


def health_round_trip(engine: Engine, base_url: str, keepalive: bool) -> float:
    """Median round trip of HEALTH_PROBES sequential health requests on one client."""
    samples: list[float] = []
    with engine.client(base_url, keepalive) as client:
        expect(client.get(engine.health_path), 200)
        for _ in range(HEALTH_PROBES):
            t0 = time.perf_counter()
            expect(client.get(engine.health_path), 200)
            samples.append((time.perf_counter() - t0) * 1000.0)
    return round(statistics.median(samples), 2)


@contextmanager
def running_server(
    engine: Engine, home: Path, ready: list[float]
) -> Iterator[tuple[str, ServerProcess]]:
    """Start the engine's server READY_SAMPLES times, recording each ready time; the last start
    stays up for the benchmark. Yields the base URL and the server."""
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    server = ServerProcess(
        engine.label,
        engine.server_command(port),
        engine.server_env(),
        home,
        base_url + engine.health_path,
        home / "server.log",
    )
    engine.info["server_command"] = " ".join(engine.server_command(port))
    try:
        for sample in range(READY_SAMPLES):
            ready.append(server.start())
            log(f"{engine.label} ready in {ready[-1]:.2f} s (start {sample + 1}/{READY_SAMPLES})")
            if sample < READY_SAMPLES - 1:
                server.stop()
        yield base_url, server
        if server.proc is not None and server.proc.poll() is not None:
            raise BenchError(f"{engine.label} server died\n{server.log_tail()}")
    except BaseException:
        log(f"{engine.label} server log tail:\n{server.log_tail()}")
        raise
    finally:
        server.stop()


def bench_engine(engine: Engine, plan: Plan, workdir: Path) -> dict[str, Any]:
    home = workdir / engine.key
    home.mkdir(parents=True)
    log(f"== {engine.label}: preparing store in {home}")
    engine.prepare(home)
    out: dict[str, Any] = {"info": engine.info, "sizes": {}}
    out["help"] = time_help(engine.help_command(), engine.server_env())
    log(f"{engine.label} --help median {out['help']['median_s']:.3f} s")
    ready: list[float] = []
    cpu_before = CpuSample.take()
    with running_server(engine, home, ready) as (base_url, server):
        out["ready"] = {
            "median_s": round(statistics.median(ready), 3),
            "samples_s": [round(r, 3) for r in ready],
            "other_cpu_pct": CpuSample.take().other_cpu_pct_since(cpu_before),
        }
        out["health_rtt_ms"] = {
            conn: health_round_trip(engine, base_url, conn == "keepalive")
            for conn in plan.connections
        }
        log(f"{engine.label} health round trip (median ms): {out['health_rtt_ms']}")
        engine.info["server_processes"] = server.process_count()
        populated = 0
        extra_models = 0
        extra_versions = 0
        for size_index, size in enumerate(plan.sizes):
            log(
                f"{engine.label}: populating to {size.models} models x "
                f"{size.versions_per_model} versions"
            )
            pop_s = populate(engine, base_url, populated, size, plan.populate_threads)
            populated = size.models
            sanity_check(engine, base_url, size)
            log(f"{engine.label}: populated in {pop_s:.1f} s")
            size_out: dict[str, Any] = {
                "populate_s": round(pop_s, 1),
                "models_at_start": size.models + extra_models,
                "versions_at_start": size.versions + extra_versions,
                "runs": [],
            }
            for conn in plan.connections:
                for conc in plan.concurrencies:
                    phase = f"s{size_index}-{conn}-c{conc}"
                    created: list[str] = []
                    ops = measured_ops(size, phase, created)
                    for op, label in OPERATIONS:
                        # The same warm-up and repeats for every engine; the warm-up's
                        # requests count towards the data shape but not the figures.
                        runs: list[RunResult] = []
                        for rep in range(plan.repeats + 1):
                            res = run_load(
                                engine,
                                base_url,
                                op,
                                ops[op],
                                conc,
                                conn == "keepalive",
                                plan.warmup_s if rep == 0 else plan.measure_s,
                                seed=f"{phase}/{op}/{rep}",
                            )
                            if op == "create_model":
                                created.extend(sorted(res.created))
                                extra_models += res.ok
                            elif op == "create_version":
                                extra_versions += res.ok
                            if rep > 0:
                                runs.append(res)
                        summary = summarise(runs)
                        size_out["runs"].append(summary)
                        errors = summary["errors"]
                        note = f", {errors} errors" if errors else ""
                        log(
                            f"  {engine.label} {size.label} {conn} c={conc} {label}: "
                            f"{summary['ops_per_s']} ops/s p50 {summary['p50_ms']} ms "
                            f"p95 {summary['p95_ms']} ms{note}"
                        )
                        if summary["ok"] == 0:
                            raise BenchError(
                                f"{engine.label}: every '{label}' request failed: "
                                f"{summary['first_error']}"
                            )
            out["sizes"][size.label] = size_out
        out["peak_memory"] = server.peak_memory()
        log(f"{engine.label} peak memory (VmHWM): {out['peak_memory']}")
    return out


# --------------------------------------------------------------------------------------------
# Environment description


def machine_info() -> dict[str, Any]:
    cpu = cpu_model()
    mem_gib = memory_gib()
    os_name = platform.system()
    os_release = Path("/etc/os-release")
    if os_release.exists():
        match = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', os_release.read_text(), re.MULTILINE)
        if match:
            os_name = match.group(1)
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "ram_gib": mem_gib,
        "cpu_model": cpu,
        "os": f"{os_name}, kernel {platform.release()}",
        "client_python": platform.python_version(),
        "httpx": httpx.__version__,
    }


# --------------------------------------------------------------------------------------------
# Report


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def _runs(
    engine_out: dict[str, Any] | None, size_label: str
) -> dict[tuple[str, str, int], dict[str, Any]]:
    """Runs of one engine at one size, keyed by (connection, op, concurrency)."""
    if not engine_out:
        return {}
    runs = engine_out["sizes"].get(size_label, {}).get("runs", [])
    return {(r.get("connection", "keepalive"), r["op"], r["concurrency"]): r for r in runs}


def _ratio(s: dict[str, Any] | None, m: dict[str, Any] | None) -> float | None:
    if not s or not m or not s.get("ops_per_s") or not m.get("ops_per_s"):
        return None
    return float(s["ops_per_s"]) / float(m["ops_per_s"])


def _clients(n: int) -> str:
    return f"{n} client" if n == 1 else f"{n} clients"


def _status(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**unmet**")


def _versions_label(size: dict[str, Any]) -> str:
    return f"~{size['models'] * size['versions_per_model']:,} versions"


NAMES = {"steward": "Steward", "mlflow": "MLflow", "floor": "Floor"}


def render_markdown(results: dict[str, Any]) -> str:
    plan = results["plan"]
    engines = results["engines"]
    st, ml, fl = engines.get("steward"), engines.get("mlflow"), engines.get("floor")
    everyone = ((st, "Steward"), (ml, "MLflow"), (fl, "Floor"))
    mach = results["machine"]
    out: list[str] = [SECTION_TITLE, ""]
    out.append(
        f"_Generated by `bench/registry.py` ({plan['mode']} run) on {results['started_utc']} UTC "
        f"in {results['duration_s'] / 60:.1f} min; raw data in `{results['json_path']}`._"
    )
    if plan["mode"] == "quick":
        out += [
            "",
            "> Quick smoke run: tiny registry and sub-second measurements; these figures are "
            "not representative.",
        ]
    elif plan["mode"] == "short":
        out += [
            "",
            "> Short run: the headline only (~2,000 versions, new connection per request, one "
            "2 s run per measurement after a 0.5 s warm-up); no 20k size, no keep-alive.",
        ]
    missing = [NAMES[name] for name in ENGINES if name not in engines]
    if missing:
        out += ["", f"> Not measured in this run: {', '.join(missing)}."]

    out += ["", "### Targets", "", "| Target | Measured | Status |", "|---|---|---|"]
    out += _target_rows(results)

    out += ["", "### Setup", "", "| | |", "|---|---|"]
    out.append(
        f"| Machine | {mach['nproc']} CPUs ({mach['cpu_model']}), {mach['ram_gib']} GiB RAM, "
        f"{mach['os']} |"
    )
    out.append(
        f"| Client | Python {mach['client_python']}, httpx {mach['httpx']}; one `httpx.Client` "
        "per thread, 1 and 8 threads, in one process on the same machine |"
    )
    for engine_out, name in everyone:
        if not engine_out:
            continue
        info = engine_out["info"]
        version = str(info.get("version"))
        if name == "Steward":
            version += f" (git {info.get('git')})"
        elif name == "MLflow":
            version += f" (requested `{info.get('requested')}`)"
        out.append(
            f"| {name} | {version}, Python {info.get('python')}; `{_cmd(engine_out)}`; "
            f"{info.get('server_defaults')}{_processes(info)} |"
        )
    out.append(
        "| Stores | SQLite and local files in a fresh temporary directory per engine; schema "
        "created before the first start (`steward init`, `mlflow db upgrade`, "
        "`registry_floor.py init`) |"
    )
    out.append(
        "| Other processes' CPU use during the measurements (share of the whole machine) | "
        + ". ".join(f"{name} runs: {_other_cpu(e)}" for e, name in everyone if e)
        + f". Throughput figures marked \\* were measured while other processes used more "
        f"than {OTHER_CPU_WARN_PCT:.0f} % |"
    )

    present = [(e, name) for e, name in everyone if e]
    names = " / ".join(name for _, name in present)
    out += [
        "",
        "### Data shape",
        "",
        f"| Size | Populated (models x versions) | Models when measuring ({names}) "
        f"| Versions when measuring ({names}) | Versions per `batch` tag value "
        f"| Populating took ({names}) |",
        "|---|---|---|---|---|---|",
    ]
    for size in plan["sizes"]:

        def each(key: str, unit: str = "", label: str = size["label"]) -> str:
            vals = [
                f"{e['sizes'][label][key]:,}{unit}" if label in e["sizes"] else "-"
                for e, _ in present
            ]
            return " / ".join(vals)

        out.append(
            f"| {_versions_label(size)} | {size['models']:,} x {size['versions_per_model']} | "
            f"{each('models_at_start')} | {each('versions_at_start')} | {plan['batch_size']} | "
            f"{each('populate_s', ' s')} |"
        )
    out.append("")
    if "warmup_s" in plan:
        out.append(
            f"Each measurement, the same for every engine: a {plan['warmup_s']:g} s warm-up of "
            f"the same operation (not counted), then {plan['repeats']} run(s) of "
            f"{plan['measure_s']:g} s; ops/s is the median of the runs, p50/p95 are over all "
            "their requests."
        )
    else:  # a results file from before warm-up and timed runs (rendered with --render)
        out.append(
            f"Each measurement: {plan['ops_per_run']} operations split over the client threads, "
            "no warm-up, one run."
        )

    header = " | ".join(name for _, name in everyone)
    out += ["", "### Start-up, round trip and memory", "", f"| | {header} |", "|---|---|---|---|"]
    cells = " | ".join(_ready(e) for e, _ in everyone)
    out.append(
        f"| Server ready: spawn until health answers 200 (median of {READY_SAMPLES} starts; "
        f"each start) | {cells} |"
    )
    cells = " | ".join(_help(e) for e, _ in everyone)
    out.append(f"| `--help` wall time (median of {HELP_SAMPLES} fresh processes) | {cells} |")
    for conn in plan.get("connections", ["keepalive"]):
        cells = " | ".join(_rtt(e, conn) for e, _ in everyone)
        out.append(
            f"| Health request round trip, {CONNECTION_LABELS[conn]} (median of "
            f"{HEALTH_PROBES}) | {cells} |"
        )
    cells = " | ".join(_memory(e) for e, _ in everyone)
    out.append(
        "| Peak memory after all measurements: VmHWM summed over the server's processes "
        f"(largest process) | {cells} |"
    )

    for size in plan["sizes"]:
        s_runs, m_runs = _runs(st, size["label"]), _runs(ml, size["label"])
        f_runs = _runs(fl, size["label"])
        for conn in plan.get("connections", ["keepalive"]):
            headline = " (headline)" if conn == "fresh" else ""
            out += [
                "",
                f"### Operations at {_versions_label(size)}, {CONNECTION_LABELS[conn]}{headline}",
                "",
                "| Operation | Clients | Steward ops/s | p50 ms | p95 ms | MLflow ops/s | p50 ms "
                "| p95 ms | Floor ops/s | p50 ms | p95 ms | Steward / MLflow | Steward / floor |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for conc in plan["concurrencies"]:
                for op, label in OPERATIONS:
                    key = (conn, op, conc)
                    s, m, f = s_runs.get(key), m_runs.get(key), f_runs.get(key)
                    vs_ml = _ratio_text(_ratio(s, m), TARGET_RATIO)
                    vs_floor = _ratio_text(_ratio(s, f), TARGET_FLOOR_RATIO)
                    row = " | ".join(
                        f"{_cell(r, 'ops_per_s')} | {_cell(r, 'p50_ms')} | {_cell(r, 'p95_ms')}"
                        for r in (s, m, f)
                    )
                    out.append(
                        f"| {label}{_errors_note(s, m, f)} | {conc} | {row} | {vs_ml} "
                        f"| {vs_floor} |"
                    )

    out += ["", "### Method and caveats", ""]
    out += [f"- {note}" for note in METHOD_NOTES]
    return "\n".join(out) + "\n"


def _ratio_text(ratio: float | None, target: float) -> str:
    if ratio is None:
        return "n/a"
    return f"{ratio:.2f}x" + (f" (< {target:g}x)" if ratio < target else "")


def _memory(engine_out: dict[str, Any] | None) -> str:
    peak = (engine_out or {}).get("peak_memory")
    if not peak or not peak.get("processes"):
        return "n/a"
    return (
        f"{peak['sum_mib']:,.0f} MiB over {peak['processes']} processes "
        f"({peak['largest_mib']:,.0f} MiB)"
    )


METHOD_NOTES = (
    "Populating comes first (8 threads, a new connection per request) and is not measured: "
    "model `bench-NNNNN` gets 20 versions tagged `batch`, `team` and `seq`, then the alias "
    "`champion` on its last version.",
    "ops/s = successful operations / wall time of a run (first thread start to last thread "
    "end), median over the repeats; p50 and p95 are per-request latencies over all threads "
    "and repeats. Every engine receives the same requests (seeded choices of model, version "
    "and tag value) with the same warm-up and repeats.",
    "create model uses fresh names; create version adds a version with 3 tags to the models "
    "just created by create model; get version, both searches and both alias operations pick "
    "random populated models; set alias moves `champion` to a random version. Search by tag "
    f"asks for `batch=<n>`, a value shared by exactly {BATCH_SIZE} versions spread over "
    f"{BATCH_SIZE} models; both searches return the first page (at most 100 versions).",
    "Steward's and the floor's create version upload a distinct 1 KiB artifact (multipart) "
    "that the server hashes and stores. MLflow's registry stores no bytes in this call, it "
    "only records a `source` URI (`s3://steward-bench/...`: MLflow 3 refuses `file://` "
    "sources outside a run's artifact directory). This favours MLflow on that operation.",
    "The floor (`bench/registry_floor.py`) is the least a registry over HTTP can do: the same "
    "routes and requests as Steward's on the same ASGI stack (Starlette under uvicorn, the "
    "same worker count), SQLite in WAL mode, a bearer token looked up per request, artifacts "
    "stored by hash. It keeps no audit journal or hash chain, checks no roles or per-model "
    "rights, has no lifecycle and validates nothing; the Steward / floor ratio is what that "
    "governance costs per request.",
    "The headline mode is a new connection per request: what most HTTP clients, scripts and "
    "serverless callers do, and it costs every engine one TCP handshake per request. With "
    "keep-alive connections, MLflow's default server (uvicorn with 4 worker processes) "
    "answers every request after the first on a connection about 40 ms late: uvicorn's "
    "multi-worker mode binds its listening socket without `IPPROTO_TCP`, so asyncio never "
    "sets `TCP_NODELAY` on accepted connections, and the response's second write waits for "
    "the client's delayed ACK (uvicorn issue #3149; a single-process uvicorn is not "
    "affected). The health round-trip row shows the effect. MLflow's own Python client keeps "
    "connections alive, so its users see this, but it is a transport artifact, not registry "
    "work.",
    "All servers, and the load generator, share the same 2 CPUs. The client is a single "
    "Python process, so at 8 threads its own CPU use (GIL) caps the highest throughput it can "
    "observe.",
    "Server ready: from process spawn until the health endpoint (`/health` for MLflow and the "
    "floor, `/api/v1/health` for Steward) first answers 200, polled every 20 ms, on a store "
    "whose schema already exists. `--help` times exclude one warm-up run.",
    "Peak memory is each server process's VmHWM (high-water resident set, from "
    "/proc/<pid>/status) read after the last measurement, summed over the server's process "
    "group; shared pages count once per process, so the sum overstates the machine's use.",
)


def _cmd(engine_out: dict[str, Any]) -> str:
    cmd = str(engine_out["info"].get("server_command", ""))
    cmd = re.sub(r"\S*/(steward|mlflow) ", r"\1 ", cmd, count=1)
    cmd = re.sub(r"(sqlite:///|file://)\S+", r"\1<tmp>/...", cmd)
    return re.sub(r"--port \d+", "--port <free port>", cmd)


def _processes(info: dict[str, Any]) -> str:
    count = info.get("server_processes")
    return f"; {count} processes in its process group while serving" if count else ""


def _busy_note(part: dict[str, Any]) -> str:
    other = part.get("other_cpu_pct")
    return f" \\* (other processes: {other:.0f} %)" if other and other > OTHER_CPU_WARN_PCT else ""


def _ready(engine_out: dict[str, Any] | None) -> str:
    if not engine_out or "ready" not in engine_out:
        return "n/a"
    ready = engine_out["ready"]
    samples = ", ".join(f"{s:.2f}" for s in ready["samples_s"])
    return f"{ready['median_s']:.2f} s ({samples}){_busy_note(ready)}"


def _help(engine_out: dict[str, Any] | None) -> str:
    if not engine_out or "help" not in engine_out:
        return "n/a"
    return f"{engine_out['help']['median_s']:.3f} s{_busy_note(engine_out['help'])}"


def _rtt(engine_out: dict[str, Any] | None, conn: str) -> str:
    value = (engine_out or {}).get("health_rtt_ms", {}).get(conn)
    return "n/a" if value is None else f"{value:.2f} ms"


def _cell(run: dict[str, Any] | None, key: str) -> str:
    if not run:
        return "n/a"
    if key != "ops_per_s":
        return _fmt(run.get(key), 2)
    text = _fmt(run.get(key), 1)
    other = run.get("other_cpu_pct")
    return text + " \\*" if other is not None and other > OTHER_CPU_WARN_PCT else text


def _other_cpu(engine_out: dict[str, Any] | None) -> str:
    if not engine_out:
        return "n/a"
    values = [
        r["other_cpu_pct"]
        for size in engine_out["sizes"].values()
        for r in size["runs"]
        if r.get("other_cpu_pct") is not None
    ]
    if not values:
        return "not recorded"
    flagged = sum(v > OTHER_CPU_WARN_PCT for v in values)
    return (
        f"median {statistics.median(values):.1f} %, max {max(values):.1f} %; "
        f"{flagged} of {len(values)} measurements above {OTHER_CPU_WARN_PCT:.0f} %"
    )


def _errors_note(*runs: dict[str, Any] | None) -> str:
    parts = []
    for name, run in zip(("Steward", "MLflow", "Floor"), runs, strict=True):
        if run and run.get("errors"):
            parts.append(f"{name}: {run['errors']} errors")
    return f" ({'; '.join(parts)})" if parts else ""


def _target_rows(results: dict[str, Any]) -> list[str]:
    plan = results["plan"]
    engines = results["engines"]
    st = engines.get("steward")
    connections = plan.get("connections", ["keepalive"])
    rows: list[str] = []

    # 1. Steward >= 3x MLflow, and 2. within 2x of the floor, on every operation, per
    # connection mode (the new-connection rows first: they are the headline).
    for other, goal, what in (
        ("mlflow", TARGET_RATIO, "Steward >= 3x MLflow ops/s on every operation"),
        ("floor", TARGET_FLOOR_RATIO, "Steward within 2x of the floor's ops/s on every operation"),
    ):
        for conn in connections:
            ratios: list[tuple[float, str]] = []
            for size in plan["sizes"]:
                s_runs, o_runs = _runs(st, size["label"]), _runs(engines.get(other), size["label"])
                for conc in plan["concurrencies"]:
                    for op, label in OPERATIONS:
                        key = (conn, op, conc)
                        ratio = _ratio(s_runs.get(key), o_runs.get(key))
                        if ratio is not None:
                            ratios.append((ratio, f"{label}, {_clients(conc)}, {size['label']}"))
            target = f"{what} ({CONNECTION_LABELS[conn]})"
            if ratios:
                worst = min(ratios)
                below = [where for r, where in ratios if r < goal]
                measured = (
                    f"lowest {worst[0]:.2f}x ({worst[1]}); {len(below)} of {len(ratios)} "
                    f"measurements below {goal:g}x"
                )
                rows.append(f"| {target} | {measured} | {_status(not below)} |")
            else:
                rows.append(f"| {target} | not measured | n/a |")

    # 2. Steward search p95 <= 50 ms at 20k versions: every search run at the largest size,
    # one row per client count (the target does not say which; both are shown).
    big = plan["sizes"][-1]
    big_versions = big["models"] * big["versions_per_model"]
    s_runs = _runs(st, big["label"])
    for conc in plan["concurrencies"]:
        searches = [
            (s_runs[key]["p95_ms"], f"{label.removeprefix('search versions ')}, {conn}")
            for conn in connections
            for op, label in OPERATIONS
            if op in SEARCH_OPS
            if (key := (conn, op, conc)) in s_runs and s_runs[key].get("p95_ms") is not None
        ]
        target = f"Steward search p95 <= 50 ms at 20k versions, {_clients(conc)}"
        if big_versions < 20000:
            target += f" ({plan['mode']} run: measured at ~{big_versions:,})"
        if searches:
            measured = "; ".join(f"{what}: {p95:.1f} ms" for p95, what in searches)
            ok = all(p95 <= TARGET_SEARCH_P95_MS for p95, _ in searches)
            status = _status(ok if big_versions >= 20000 else None)
            rows.append(f"| {target} | {measured} | {status} |")
        else:
            rows.append(f"| {target} | not measured | n/a |")

    # 3. Server ready, 4. --help.
    if st and "ready" in st:
        r = st["ready"]["median_s"]
        rows.append(
            f"| Steward server ready <= 2 s | {r:.2f} s median, "
            f"{max(st['ready']['samples_s']):.2f} s worst of {len(st['ready']['samples_s'])} | "
            f"{_status(r <= TARGET_READY_S)} |"
        )
    else:
        rows.append("| Steward server ready <= 2 s | not measured | n/a |")
    if st and "help" in st:
        h = st["help"]["median_s"]
        rows.append(f"| `steward --help` <= 0.5 s | {h:.3f} s | {_status(h <= TARGET_HELP_S)} |")
    else:
        rows.append("| `steward --help` <= 0.5 s | not measured | n/a |")
    return rows


def update_benchmarks_md(section: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace the registry section of BENCHMARKS.md (or append it), keeping the rest."""
    replace_section(SECTION_TITLE, section, path)


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: ~200 versions, one 0.3 s run per measurement (figures meaningless)",
    )
    parser.add_argument(
        "--short",
        action="store_true",
        help="headline only: ~2k versions, new connection per request, one 2 s run each",
    )
    parser.add_argument(
        "--engines",
        default="steward,mlflow,floor",
        help="comma-separated engines to run (default: steward,mlflow,floor)",
    )
    parser.add_argument(
        "--write-md",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="update BENCHMARKS.md (default: yes for full runs, no for --quick)",
    )
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="only print the Markdown report of an earlier results file "
        "(with --write-md, also put it into BENCHMARKS.md)",
    )
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(engines) - set(ENGINES)
    if unknown or not engines:
        parser.error(f"unknown engine(s): {', '.join(sorted(unknown)) or '(none)'}")
    args.engine_list = engines
    return args


def plan_dict(plan: Plan) -> dict[str, Any]:
    return {
        "mode": plan.mode,
        "sizes": [
            {"label": s.label, "models": s.models, "versions_per_model": s.versions_per_model}
            for s in plan.sizes
        ],
        "warmup_s": plan.warmup_s,
        "measure_s": plan.measure_s,
        "repeats": plan.repeats,
        "concurrencies": list(plan.concurrencies),
        "connections": list(plan.connections),
        "populate_threads": plan.populate_threads,
        "batch_size": BATCH_SIZE,
        "artifact_bytes": ARTIFACT_BYTES,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        section = render_markdown(json.loads(args.render.read_text()))
        print(section)
        if args.write_md:
            update_benchmarks_md(section)
            log(f"updated {BENCHMARKS_MD} ({SECTION_TITLE})")
        return 0
    plan = QUICK_PLAN if args.quick else SHORT_PLAN if args.short else FULL_PLAN
    write_md = (plan is FULL_PLAN) if args.write_md is None else args.write_md
    signal.signal(signal.SIGTERM, _terminate)
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    date = started.strftime("%Y-%m-%d")
    suffix = "" if plan is FULL_PLAN else f"-{plan.mode}"
    json_path = RESULTS_DIR / f"registry-{date}{suffix}.json"
    results: dict[str, Any] = {
        "benchmark": "registry",
        "started_utc": started.strftime("%Y-%m-%d %H:%M"),
        "plan": plan_dict(plan),
        "machine": machine_info(),
        "targets": {
            "ratio": TARGET_RATIO,
            "floor_ratio": TARGET_FLOOR_RATIO,
            "search_p95_ms_at_20k": TARGET_SEARCH_P95_MS,
            "ready_s": TARGET_READY_S,
            "help_s": TARGET_HELP_S,
        },
        "engines": {},
        "json_path": str(json_path.relative_to(REPO)),
    }
    engines = [ENGINES[name]() for name in args.engine_list]
    try:
        for engine in engines:
            engine.install()
        with tempfile.TemporaryDirectory(prefix="steward-bench-") as tmp:
            for engine in engines:
                results["engines"][engine.key] = bench_engine(engine, plan, Path(tmp))
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 1
    except (UnexpectedStatusError, httpx.HTTPError, KeyError, ValueError, TypeError) as exc:
        # An answer of the wrong shape or status outside the measured loops: most likely the
        # server does not follow the REST contract the script was written against.
        log(f"FAILED (unexpected answer; REST contract mismatch?): {type(exc).__name__}: {exc}")
        return 1
    finally:
        stop_all_servers()
    results["duration_s"] = round(time.perf_counter() - t0, 1)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    section = render_markdown(results)
    print(section)
    log(f"raw results: {json_path}")
    if write_md:
        update_benchmarks_md(section)
        log(f"updated {BENCHMARKS_MD} ({SECTION_TITLE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
