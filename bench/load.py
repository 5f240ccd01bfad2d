"""Load and faults: mixed traffic, kill -9 and a PostgreSQL restart against a real deployment.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/load.py --quick          # smoke run, under a minute
    .venv/bin/python bench/load.py --write-md       # 10 minutes, 32 clients, 100 kills

The script starts a throwaway PostgreSQL cluster (initdb in a temporary folder, its own port:
it can be restarted without disturbing anything else; ``--postgres-url`` uses an existing
server instead, in a fresh database, and then skips the restart phase), runs ``steward init``,
creates teams, users, roles, tokens and a policy pack with the CLI, starts ``steward server
--workers 4`` and one ``steward worker`` (``STEWARD_WORKER=external``) and a loopback webhook
receiver, then drives N client threads through three phases:

1. mixed load: reads, version creation, transitions, transition requests, approvals (by
   validators, never the requester) and check-run records;
2. kill -9: the same load while one API worker process or the worker is SIGKILLed every few
   seconds (uvicorn restarts API workers; the script restarts the worker, as systemd would);
3. PostgreSQL restart (``pg_ctl restart -m fast``) under the same load.

Every write the server acknowledged (2xx) is recorded with what it claims it created, and
checked afterwards through the API; the journal is checked with ``steward audit verify``,
``steward audit reconcile`` and a seq/prev-hash walk; every webhook delivery the outbox holds
must have reached the receiver with the same id. Results go to stdout,
bench/results/load-<date>.json and, with --write-md, the "Load and faults" section of
BENCHMARKS.md. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.server
import importlib.metadata
import itertools
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, replace_section  # bench/report.py, shared by the benchmarks

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench" / "results"
SECTION_TITLE = "## Load and faults (bench/load.py)"
BIN = Path(sys.executable).parent
STEWARD = str(BIN / "steward")
PG_BIN_CANDIDATES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
API_WORKERS = 4
MODELS_PER_CLIENT = 2
ARTIFACT_BYTES = 1024

# The mix each client draws from (weights); reads are half of all requests.
MIX: dict[str, int] = {
    "list_models": 12,
    "get_model": 12,
    "list_versions": 12,
    "get_version": 14,
    "create_version": 14,
    "transition": 9,
    "request": 9,
    "approve": 9,
    "check_run": 9,
}
WRITES = ("create_version", "transition", "request", "approve", "check_run")

PACK = """\
pack: load-bench
version: "1"
description: One independent validator approves every move to approved.
requirements:
  - id: approvals.validation
    kind: approvals
    description: A validator who neither created the version nor asked for the move.
    roles: [validator]
    count: 1
    independence: [not_version_creator, not_requester]
    to: [approved]
    tiers: any
    controls: ["sr-26-2:SR26-2.independence"]
"""


def log(message: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    """The campaign could not be set up or run (not a finding about the server)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------------------------
# PostgreSQL: a private cluster (restartable) or a fresh database on an existing server


class Postgres:
    """A throwaway cluster owned by this script: restarting it disturbs nobody else."""

    def __init__(self, root: Path) -> None:
        bins = [b for b in PG_BIN_CANDIDATES if (b / "initdb").exists()]
        if not bins:
            raise BenchError("PostgreSQL server binaries (initdb, pg_ctl) not found")
        self.bin = bins[0]
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/steward"
        self.version = ""

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
            # the temporary folder's parents must be traversable by the postgres user
            os.chmod(self.root.parent, 0o755)
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        self.version = self._run(str(self.bin / "postgres"), "--version").stdout.strip()
        self._ctl("start")
        self._run(
            str(self.bin / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-c",
            "CREATE DATABASE steward",
        )

    def _ctl(self, action: str) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "pg.log"),
            "-o",
            opts,
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
            action,
        )

    def restart(self) -> None:
        self._ctl("restart")

    def ensure_running(self) -> bool:
        ok = (
            subprocess.run(
                ["pg_isready", "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True
            ).returncode
            == 0
        )
        if not ok:
            with suppress(subprocess.SubprocessError):
                self._ctl("start")
        return ok

    def stop(self) -> None:
        if self.data.exists():
            self._run(
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "-w",
                "stop",
                check=False,
            )


class SharedPostgres:
    """A fresh database on a server someone else runs; never restarted."""

    def __init__(self, url: str) -> None:
        self.base = url.rstrip("/")
        self.name = f"steward_load_{os.getpid()}_{int(time.time())}"
        self.url = f"{self.base}/{self.name}"
        self.version = ""

    def _psql(self, sql: str) -> str:
        out = subprocess.run(
            ["psql", f"{self.base}/postgres", "-At", "-c", sql],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return out.stdout.strip()

    def start(self) -> None:
        self._psql(f'CREATE DATABASE "{self.name}"')
        self.version = self._psql("SELECT version()").split(",")[0]

    def stop(self) -> None:
        with suppress(subprocess.SubprocessError):
            self._psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# --------------------------------------------------------------------------------------------
# Processes: server (own process group), worker, webhook receiver


class Processes:
    def __init__(self, env: dict[str, str], port: int, home: Path) -> None:
        self.env = env
        self.port = port
        self.home = home
        self.server: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.server_restarts = 0
        self.worker_restarts = 0
        self.worker_deaths: list[dict[str, Any]] = []  # exits nobody caused

    def start_server(self) -> None:
        log_file = open(self.home / "server.log", "ab")  # noqa: SIM115 - owned by the process
        self.server = subprocess.Popen(
            [
                STEWARD,
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(API_WORKERS),
            ],
            env=self.env,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise BenchError(f"steward server exited; see {self.home / 'server.log'}")
            with suppress(httpx.HTTPError):
                ready = httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2)
                if ready.status_code == 200 and len(self.api_workers()) >= API_WORKERS:
                    return
            time.sleep(0.1)
        raise BenchError("steward server not ready within 60 s")

    def start_worker(self) -> None:
        log_file = open(self.home / "worker.log", "ab")  # noqa: SIM115
        self.worker = subprocess.Popen(
            [STEWARD, "worker", "--interval", "0.5"],
            env=self.env,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
        )

    def ensure_worker(self, phase: str) -> None:
        """A worker that exited by itself is recorded, then restarted (as systemd would)."""
        if self.worker is not None and self.worker.poll() is not None:
            self.worker_deaths.append({"phase": phase, "exit_code": self.worker.returncode})
            log(
                f"steward worker exited by itself (code {self.worker.returncode}) in phase "
                f"{phase}: restarting it"
            )
            self.start_worker()

    def api_workers(self) -> list[int]:
        """uvicorn's worker processes: the master's children, without multiprocessing helpers."""
        if self.server is None:
            return []
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) != self.server.pid:
                    continue
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
                if b"resource_tracker" in cmdline:
                    continue
                found.append(int(stat.parent.name))
        return sorted(found)

    def ensure_server(self) -> None:
        if self.server is not None and self.server.poll() is not None:
            self.server_restarts += 1
            log("steward server died: restarting it")
            self.start_server()

    def stop(self) -> None:
        for proc in (self.worker, self.server):
            if proc is not None and proc.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in (self.worker, self.server):
            if proc is not None:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    with suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)


class Receiver:
    """A loopback webhook receiver recording each Steward-Delivery id it is sent."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                delivery = self.headers.get("Steward-Delivery", "")
                with receiver.lock:
                    receiver.received[delivery] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the receiver\'s per-request lines would drown the report."""

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


# --------------------------------------------------------------------------------------------
# Clients


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    server_errors: list[dict[str, Any]] = field(default_factory=list)
    client_errors: list[dict[str, Any]] = field(default_factory=list)
    retry_after: Counter[str] = field(default_factory=Counter)


@dataclass
class World:
    """What the clients were told: the acknowledged writes and the stages they imply."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: list[dict[str, Any]] = field(default_factory=list)
    in_doubt: list[dict[str, Any]] = field(default_factory=list)
    # writes answered 5xx ("Nothing was changed"): checked afterwards that nothing was
    refused: list[dict[str, Any]] = field(default_factory=list)
    # model -> version -> stage as last acknowledged (indexed by model: each client only
    # scans its own models, however many versions a long run creates)
    stages: dict[str, dict[int, str]] = field(default_factory=lambda: defaultdict(dict))
    open_requests: list[tuple[str, str, int]] = field(default_factory=list)
    phase: str = "setup"
    stats: dict[str, Stats] = field(default_factory=lambda: defaultdict(Stats))


class Client:
    def __init__(
        self,
        index: int,
        base: str,
        owner: tuple[str, str],
        validator: tuple[str, str],
        models: list[str],
        world: World,
        seed: int,
    ) -> None:
        self.index = index
        self.base = base
        self.owner, self.owner_token = owner
        self.validator, self.validator_token = validator
        self.models = models
        self.world = world
        self.rng = random.Random(seed)
        # A new connection per request (no keep-alive): what scripts and most HTTP clients do,
        # and it avoids uvicorn's multi-worker delayed-ACK stall (see bench/README.md).
        self.http = httpx.Client(
            base_url=base, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)
        )

    def call(
        self, op: str, method: str, path: str, token: str, **kwargs: Any
    ) -> httpx.Response | None:
        stats = self.world.stats[self.world.phase]
        started = time.perf_counter()
        try:
            response = self.http.request(
                method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs
            )
        except httpx.HTTPError as exc:
            stats.statuses[op][type(exc).__name__] += 1
            if method != "GET":
                with self.world.lock:
                    self.world.in_doubt.append(
                        {
                            "op": op,
                            "path": path,
                            "error": type(exc).__name__,
                            "phase": self.world.phase,
                        }
                    )
            return None
        elapsed = (time.perf_counter() - started) * 1000
        code = response.status_code
        stats.statuses[op][str(code)] += 1
        if 200 <= code < 300:
            stats.latencies[op].append(elapsed)
        elif code < 500 and len(stats.client_errors) < 10:
            stats.client_errors.append(
                {
                    "op": op,
                    "method": method,
                    "path": path,
                    "status": code,
                    "body": response.text[:300],
                }
            )
        elif code >= 500:
            stats.retry_after["with" if "retry-after" in response.headers else "without"] += 1
            if len(stats.server_errors) < 20:
                stats.server_errors.append(
                    {
                        "op": op,
                        "method": method,
                        "path": path,
                        "status": code,
                        "retry_after": response.headers.get("retry-after"),
                        "body": response.text[:300],
                    }
                )
        return response

    def run(self, stop: threading.Event) -> None:
        ops = list(MIX)
        weights = [MIX[o] for o in ops]
        while not stop.is_set():
            op = self.rng.choices(ops, weights)[0]
            getattr(self, op)()

    # ---- reads

    def list_models(self) -> None:
        self.call("list_models", "GET", "/api/v1/models", self.owner_token, params={"limit": 50})

    def get_model(self) -> None:
        self.call(
            "get_model", "GET", f"/api/v1/models/{self.rng.choice(self.models)}", self.owner_token
        )

    def list_versions(self) -> None:
        model = self.rng.choice(self.models)
        self.call(
            "list_versions",
            "GET",
            f"/api/v1/models/{model}/versions",
            self.owner_token,
            params={"limit": 20},
        )

    def _mine(self, stage: str | None = None) -> list[tuple[str, int]]:
        with self.world.lock:
            return [
                (model, version)
                for model in self.models
                for version, s in self.world.stages[model].items()
                if stage is None or s == stage
            ]

    def get_version(self) -> None:
        mine = self._mine()
        if not mine:
            return self.list_versions()
        model, version = self.rng.choice(mine)
        self.call(
            "get_version", "GET", f"/api/v1/models/{model}/versions/{version}", self.owner_token
        )

    # ---- writes

    def _ack(self, record: dict[str, Any], stage: tuple[tuple[str, int], str] | None) -> None:
        record["phase"] = self.world.phase
        with self.world.lock:
            self.world.acked.append(record)
            if stage is not None:
                self.world.stages[stage[0][0]][stage[0][1]] = stage[1]

    def _failed(
        self, response: httpx.Response | None, record: dict[str, Any], key: tuple[str, int] | None
    ) -> bool:
        """No 2xx: a 5xx is remembered; a version whose move may or may not have happened is
        not used again (its stage is unknown)."""
        if response is not None and response.status_code < 300:
            return False
        with self.world.lock:
            if response is not None and response.status_code >= 500:
                self.world.refused.append({**record, "phase": self.world.phase})
            if key is not None and (response is None or response.status_code >= 500):
                self.world.stages[key[0]][key[1]] = "unknown"
        return True

    def create_version(self) -> None:
        model = self.rng.choice(self.models)
        artifact = self.rng.randbytes(ARTIFACT_BYTES)
        sha = hashlib.sha256(artifact).hexdigest()
        response = self.call(
            "create_version",
            "POST",
            f"/api/v1/models/{model}/versions",
            self.owner_token,
            files={"artifact": ("model.bin", artifact, "application/octet-stream")},
            data={
                "metadata": json.dumps({"description": "load", "params": {"c": self.index}}),
                "sha256": sha,
            },
        )
        if not self._failed(response, {"op": "create_version", "sha256": sha}, None):
            assert response is not None
            version = int(response.json()["version"])
            self._ack(
                {"op": "create_version", "model": model, "version": version, "sha256": sha},
                ((model, version), "development"),
            )

    def transition(self) -> None:
        mine = self._mine("development")
        if not mine:
            return self.create_version()
        model, version = self.rng.choice(mine)
        response = self.call(
            "transition",
            "POST",
            f"/api/v1/models/{model}/versions/{version}/transitions",
            self.owner_token,
            json={"to": "validation", "justification": "load bench"},
        )
        record = {"op": "transition", "model": model, "version": version, "to": "validation"}
        if not self._failed(response, record, (model, version)):
            self._ack(
                {"op": "transition", "model": model, "version": version, "to": "validation"},
                ((model, version), "validation"),
            )

    def request(self) -> None:
        validation = self._mine("validation")
        approved = self._mine("approved")
        if not validation and not approved:
            return self.transition()
        if validation and (not approved or self.rng.random() < 0.7):
            (model, version), target = self.rng.choice(validation), "approved"
        else:
            (model, version), target = self.rng.choice(approved), "production"
        response = self.call(
            "request",
            "POST",
            f"/api/v1/models/{model}/versions/{version}/requests",
            self.owner_token,
            json={"to": target, "justification": "load bench"},
        )
        record = {"op": "request", "model": model, "version": version, "to": target}
        if self._failed(response, record, (model, version)) or response is None:
            return
        body = response.json()
        req = body.get("request", body)
        status = req["status"]
        stage = target if status == "applied" else f"requested:{target}"
        self._ack(
            {
                "op": "request",
                "model": model,
                "version": version,
                "to": target,
                "id": req["id"],
                "status": status,
            },
            ((model, version), stage),
        )
        if status == "open":
            with self.world.lock:
                self.world.open_requests.append((req["id"], model, version))

    def approve(self) -> None:
        with self.world.lock:
            pending = self.world.open_requests.pop(0) if self.world.open_requests else None
        if pending is None:
            return self.request()
        request_id, model, version = pending
        response = self.call(
            "approve",
            "POST",
            f"/api/v1/requests/{request_id}/approve",
            self.validator_token,
            json={"comment": "ok"},
        )
        record = {"op": "approve", "id": request_id, "approver": self.validator}
        if not self._failed(response, record, (model, version)) and response is not None:
            body = response.json()
            req = body.get("request", body)
            applied = req["status"] == "applied"
            self._ack(
                {
                    "op": "approve",
                    "id": request_id,
                    "approver": self.validator,
                    "model": model,
                    "version": version,
                    "status": req["status"],
                },
                ((model, version), "approved") if applied else None,
            )

    def check_run(self) -> None:
        mine = self._mine()
        if not mine:
            return self.create_version()
        model, version = self.rng.choice(mine)
        now = dt.datetime.now(dt.UTC).isoformat()
        response = self.call(
            "check_run",
            "POST",
            f"/api/v1/models/{model}/versions/{version}/check-runs",
            self.owner_token,
            json={
                "suite": "load-bench",
                "suite_version": "1",
                "source": "external",
                "data_fingerprint": hashlib.sha256(f"{model}{version}".encode()).hexdigest(),
                "results": [
                    {
                        "name": "performance.accuracy",
                        "family": "performance",
                        "passed": True,
                        "value": 0.9,
                        "threshold": {"op": ">=", "limit": 0.5},
                    }
                ],
                "started_at": now,
                "finished_at": now,
            },
        )
        if response is not None and response.status_code == 201:
            self._ack(
                {
                    "op": "check_run",
                    "model": model,
                    "version": version,
                    "id": response.json()["id"],
                },
                None,
            )


# --------------------------------------------------------------------------------------------
# Setup through the CLI


def cli(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([STEWARD, *args], env=env, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise BenchError(f"steward {' '.join(args)} failed: {out.stderr.strip()[-500:]}")
    return out.stdout


def token(env: dict[str, str], user: str) -> str:
    return str(json.loads(cli(env, "token", "create", "--user", user, "--json"))["token"])


def setup_store(env: dict[str, str], home: Path, clients: int) -> dict[str, Any]:
    cli(env, "init")
    owners = [f"owner{i}" for i in range(max(1, min(clients // 2, 4)))]
    validators = [f"validator{i}" for i in range(1 if clients <= 4 else 2)]
    pack = home / "pack.yaml"
    pack.write_text(PACK)
    users = ["admin", *owners, *validators]
    roles = {
        "admin": "admin",
        **dict.fromkeys(owners, "owner"),
        **dict.fromkeys(validators, "validator"),
    }
    # Independent CLI calls run side by side in two waves (users, then teams and tokens): each
    # is a fresh process, about 2 s on a busy machine.
    with ThreadPoolExecutor(6) as pool:
        list(
            pool.map(
                lambda a: cli(env, *a),
                [
                    *(("user", "create", n, "--role", roles[n]) for n in users),
                    ("policy", "load", str(pack), "--activate"),
                ],
            )
        )
        teams = pool.map(
            lambda a: cli(env, *a),
            [
                (
                    "team",
                    "create",
                    "builders",
                    "--line",
                    "first",
                    *(x for n in owners for x in ("--member", n)),
                ),
                (
                    "team",
                    "create",
                    "validation",
                    "--line",
                    "second",
                    *(x for n in validators for x in ("--member", n)),
                ),
            ],
        )
        tokens = dict(zip(users, pool.map(lambda n: token(env, n), users), strict=True))
        list(teams)
    return {
        "admin": tokens["admin"],
        "owners": [(n, tokens[n]) for n in owners],
        "validators": [(n, tokens[n]) for n in validators],
    }


# --------------------------------------------------------------------------------------------
# Faults


@dataclass
class KillLog:
    api_workers: int = 0
    worker: int = 0
    api_restart_s: list[float] = field(default_factory=list)
    not_restarted: int = 0


def kill_campaign(procs: Processes, kills: int, interval: float, rng: random.Random) -> KillLog:
    result = KillLog()
    for i in range(kills):
        time.sleep(interval)
        procs.ensure_server()
        procs.ensure_worker("kill-9")
        # three API workers for one worker: the API processes take most of the writes
        if i % 4 == 3 and procs.worker is not None:
            with suppress(ProcessLookupError):
                os.kill(procs.worker.pid, signal.SIGKILL)
            procs.worker.wait()
            result.worker += 1
            procs.worker_restarts += 1
            procs.start_worker()  # what systemd's Restart=on-failure does
            continue
        workers = procs.api_workers()
        if not workers:
            continue
        victim = rng.choice(workers)
        with suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
        result.api_workers += 1
        started = time.monotonic()
        while time.monotonic() - started < 30:
            current = procs.api_workers()
            if victim not in current and len(current) >= API_WORKERS:
                result.api_restart_s.append(time.monotonic() - started)
                break
            time.sleep(0.05)
        else:
            result.not_restarted += 1
    return result


def pg_restarts(
    pg: Postgres, base: str, admin: str, count: int, gap: float
) -> list[dict[str, Any]]:
    """Restart PostgreSQL under load; time until a write and /readyz succeed again."""
    out = []
    for _ in range(count):
        time.sleep(gap)
        started = time.monotonic()
        done: list[float] = []
        errors: list[str] = []

        def restart(done: list[float], errors: list[str], started: float) -> None:
            try:
                pg.restart()
            except subprocess.SubprocessError as exc:
                errors.append(str(exc))
            done.append(time.monotonic() - started)

        restarter = threading.Thread(target=restart, args=(done, errors, started))
        restarter.start()
        recovered = None
        ready_codes: Counter[str] = Counter()
        probe_codes: Counter[str] = Counter()
        while time.monotonic() - started < 120:
            try:
                ready = httpx.get(f"{base}/readyz", timeout=5)
                key = str(ready.status_code)
                if ready.status_code == 503:
                    key += " with Retry-After" if "retry-after" in ready.headers else " without"
                ready_codes[key] += 1
                probe = httpx.get(
                    f"{base}/api/v1/models",
                    params={"limit": 1},
                    headers={"Authorization": f"Bearer {admin}"},
                    timeout=5,
                )
                probe_codes[str(probe.status_code)] += 1
                if done and ready.status_code == 200 and probe.status_code == 200:
                    recovered = time.monotonic() - started
                    break
            except httpx.HTTPError as exc:
                ready_codes[type(exc).__name__] += 1
            time.sleep(0.1)
        restarter.join()
        out.append(
            {
                "restart_s": round(done[0], 2) if done else None,
                "recovered_s": None if recovered is None else round(recovered, 2),
                "readyz": dict(ready_codes),
                "probe_reads": dict(probe_codes),
                "restart_errors": errors,
            }
        )
    return out


# --------------------------------------------------------------------------------------------
# Checks


def drain_outbox(base: str, admin: str, webhook_id: str, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    pending = -1
    while time.monotonic() < deadline:
        with suppress(httpx.HTTPError):
            response = httpx.get(
                f"{base}/api/v1/webhooks/{webhook_id}/deliveries",
                params={"status": "pending", "limit": 1000},
                headers={"Authorization": f"Bearer {admin}"},
                timeout=30,
            )
            if response.status_code == 200:
                pending = len(response.json())
                if pending == 0:
                    return 0
        time.sleep(1)
    return pending


def psql_rows(url: str, sql: str) -> list[list[str]]:
    out = subprocess.run(
        ["psql", url, "-At", "-F", "\t", "-c", sql],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def check_acked(base: str, admin: str, url: str, world: World) -> dict[str, Any]:
    """Every acknowledged write must be readable through the API as the client was told
    (approvals: the request through the API, the approval row in the database, since the
    API shows a request's gate rather than its decisions)."""
    approvals = {(r[0], r[1]) for r in psql_rows(url, "SELECT request_id, approver FROM approvals")}
    transitions: dict[tuple[str, int], list[str]] = {}
    local = threading.local()

    def http() -> httpx.Client:
        if not hasattr(local, "client"):
            # a new connection per request, as the load clients (no delayed-ACK stalls)
            local.client = httpx.Client(
                base_url=base,
                headers={"Authorization": f"Bearer {admin}"},
                timeout=30,
                limits=httpx.Limits(max_keepalive_connections=0),
            )
        client: httpx.Client = local.client
        return client

    def present(record: dict[str, Any]) -> bool:
        op = record["op"]
        model, version = record.get("model"), record.get("version")
        if op == "create_version":
            r = http().get(f"/api/v1/models/{model}/versions/{version}")
            return r.status_code == 200 and record["sha256"] in r.text
        if op == "transition":
            key = (str(model), int(str(version)))
            if key not in transitions:
                r = http().get(f"/api/v1/models/{model}/versions/{version}/transitions")
                transitions[key] = [t.get("to_stage") or t.get("to") for t in r.json()]
            return record["to"] in transitions[key]
        if op in ("request", "approve"):
            r = http().get(f"/api/v1/requests/{record['id']}")
            if op == "approve":
                return r.status_code == 200 and (record["id"], record["approver"]) in approvals
            return r.status_code == 200
        if op == "check_run":
            return http().get(f"/api/v1/check-runs/{record['id']}").status_code == 200
        raise BenchError(f"unknown operation {op}")

    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(present, world.acked))
    missing = [record for record, ok in zip(world.acked, found, strict=True) if not ok]
    checked = Counter(record["op"] for record in world.acked)
    return {"checked": dict(checked), "missing": missing[:50], "lost": len(missing)}


def check_refused(base: str, admin: str, url: str, world: World) -> dict[str, Any]:
    """A write answered 5xx says "Nothing was changed": look for it in the store anyway."""
    http = httpx.Client(
        base_url=base,
        headers={"Authorization": f"Bearer {admin}"},
        timeout=30,
        limits=httpx.Limits(max_keepalive_connections=0),
    )
    stored: list[dict[str, Any]] = []
    checked: Counter[str] = Counter()
    acked_moves = Counter(
        (r["model"], r["version"], r["to"]) for r in world.acked if r["op"] == "transition"
    )
    for record in world.refused:
        op = record["op"]
        found = False
        if op == "create_version":
            checked[op] += 1
            rows = psql_rows(
                url,
                f"SELECT count(*) FROM model_versions WHERE artifact_sha256 = '{record['sha256']}'",
            )
            found = int(rows[0][0]) > 0
        elif op == "transition":
            checked[op] += 1
            r = http.get(
                f"/api/v1/models/{record['model']}/versions/{record['version']}/transitions"
            )
            moves = [t.get("to_stage") or t.get("to") for t in r.json()]
            key = (record["model"], record["version"], record["to"])
            found = moves.count(record["to"]) > acked_moves[key]
        elif op == "approve":
            checked[op] += 1
            rows = psql_rows(
                url,
                "SELECT count(*) FROM approvals WHERE request_id = "
                f"'{record['id']}' AND approver = '{record['approver']}'",
            )
            found = int(rows[0][0]) > 0
        if found:
            stored.append(record)
    http.close()
    return {
        "answered_5xx": len(world.refused),
        "checked": dict(checked),
        "stored_anyway": len(stored),
        "examples": stored[:10],
    }


def check_journal(env: dict[str, str], url: str) -> dict[str, Any]:
    with ThreadPoolExecutor(2) as pool:
        verify, reconcile = pool.map(
            lambda what: subprocess.run(
                [STEWARD, "audit", what, "--json"],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            ),
            ["verify", "reconcile"],
        )
    rows = psql_rows(url, "SELECT seq, prev_hash, hash FROM audit_events ORDER BY seq")
    seqs = [int(r[0]) for r in rows]
    breaks = sum(1 for a, b in itertools.pairwise(rows) if b[1] != a[2])
    contiguous = seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True
    discrepancies: Any = None
    with suppress(json.JSONDecodeError):
        discrepancies = json.loads(reconcile.stdout).get("discrepancies", [])[:10]
    return {
        "events": len(rows),
        "verify_exit": verify.returncode,
        "verify_tail": (verify.stdout + verify.stderr).strip()[-400:] if verify.returncode else "",
        "reconcile_exit": reconcile.returncode,
        "reconcile_discrepancies": discrepancies if reconcile.returncode else [],
        "contiguous_seqs": contiguous,
        "prev_hash_breaks": breaks,
        "unforked": contiguous and breaks == 0 and verify.returncode == 0,
    }


def check_webhooks(url: str, receiver: Receiver, webhook_id: str) -> dict[str, Any]:
    rows = psql_rows(
        url,
        f"SELECT id, status, audit_seq FROM webhook_deliveries WHERE webhook_id = '{webhook_id}'",
    )
    statuses = Counter(r[1] for r in rows)
    with receiver.lock:
        received = dict(receiver.received)
    stored = {r[0] for r in rows}
    delivered = {r[0] for r in rows if r[1] == "delivered"}
    from steward.domain.webhooks import EVENT_FOR_ACTION  # the actions that make a delivery

    actions = ",".join(f"'{a}'" for a in EVENT_FOR_ACTION)
    first = psql_rows(
        url, "SELECT seq FROM audit_events WHERE action = 'webhook.created' ORDER BY seq LIMIT 1"
    )
    events = (
        psql_rows(
            url,
            f"SELECT seq FROM audit_events WHERE action IN ({actions}) AND seq > {first[0][0]}",
        )
        if first
        else []
    )
    with_delivery = {int(r[2]) for r in rows}
    # Pending rows: attempts 0 and next_attempt_at ahead = claimed by a process that died
    # (they wait out the 5-minute lease); attempts > 0 = failed attempts waiting to retry.
    pending = psql_rows(
        url,
        "SELECT attempts, extract(epoch FROM (next_attempt_at - now()))::int, "
        "coalesce(last_error, '') FROM "
        f"webhook_deliveries WHERE webhook_id = '{webhook_id}' AND status = 'pending'",
    )
    leased = [int(w) for a, w, _ in pending if a == "0" and w and int(w) > 0]
    return {
        "deliveries": len(rows),
        "statuses": dict(statuses),
        "received_ids": len(received),
        "received_posts": sum(received.values()),
        "duplicates": sum(n - 1 for n in received.values() if n > 1),
        "delivered_not_received": len(delivered - set(received)),
        "received_unknown": len(set(received) - stored),
        "not_delivered": len(stored - set(received)),
        "events_without_delivery": sum(1 for (s,) in events if int(s) not in with_delivery),
        "pending_claimed_by_dead_process": len(leased),
        "pending_lease_left_s": max(leased) if leased else None,
        "pending_retrying": sum(1 for a, _, _ in pending if a != "0"),
        "pending_retry_in_s": sorted(int(w) for a, w, _ in pending if a != "0" and w),
        "pending_errors": dict(Counter(e[:200] for a, _, e in pending if a != "0")),
    }


# --------------------------------------------------------------------------------------------
# Report


def log_summary(path: Path) -> dict[str, Any]:
    """Tracebacks in a process log, by the exception line that ends each one."""
    if not path.exists():
        return {"tracebacks": 0, "exceptions": {}}
    lines = path.read_text(errors="replace").splitlines()
    ends: Counter[str] = Counter()
    inside = False
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            inside = True
        elif inside and line and not line.startswith((" ", "Traceback", "The above", "During")):
            ends[line[:200]] += 1
            inside = False
        del i
    return {"tracebacks": sum(ends.values()), "exceptions": dict(ends.most_common(8))}


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarise(stats: Stats, seconds: float) -> dict[str, Any]:
    ops = {}
    for op in MIX:
        lat = stats.latencies.get(op, [])
        ops[op] = {
            "ok": len(lat),
            "per_s": round(len(lat) / seconds, 1) if seconds else None,
            "p50_ms": None if not lat else round(statistics.median(lat), 1),
            "p99_ms": None if not lat else round(pct(lat, 0.99) or 0, 1),
            "statuses": dict(stats.statuses.get(op, {})),
        }
    all_codes: Counter[str] = Counter()
    for counter in stats.statuses.values():
        all_codes.update(counter)
    return {
        "seconds": round(seconds, 1),
        "operations": ops,
        "requests": sum(all_codes.values()),
        "server_errors": sum(n for c, n in all_codes.items() if c.isdigit() and int(c) >= 500),
        "transport_errors": sum(n for c, n in all_codes.items() if not c.isdigit()),
        "client_errors": sum(
            n for c, n in all_codes.items() if c.isdigit() and 400 <= int(c) < 500
        ),
        "retry_after_on_5xx": dict(stats.retry_after),
        "server_error_samples": stats.server_errors,
        "client_error_samples": stats.client_errors,
    }


def _f(value: Any) -> str:
    return "n/a" if value is None else f"{value:,.1f}" if isinstance(value, float) else str(value)


def render_markdown(r: dict[str, Any]) -> str:
    out = [SECTION_TITLE, ""]
    out.append(
        f"Run {r['started_utc']} UTC, {r['mode']}"
        + (
            " (smoke run: figures meaningless, shown to prove the script works)"
            if r["mode"] == "quick"
            else ""
        )
        + "."
    )
    out += [
        "",
        f"- Machine: {r['machine']}",
        f"- Versions: Steward {r['versions']['steward']}, {r['versions']['postgres']}, "
        f"uvicorn {r['versions']['uvicorn']}, httpx {r['versions']['httpx']}",
        f"- Shape: `steward server --workers {API_WORKERS}` + one `steward worker` "
        f"(`STEWARD_WORKER=external`) on PostgreSQL ({r['postgres_mode']}), "
        f"{r['clients']} client threads in one process, a new connection per request; "
        f"mix (weights) {', '.join(f'{k} {v}' for k, v in MIX.items())}; "
        f"{MODELS_PER_CLIENT} models per client, 1 KiB artifacts; a policy pack asking one "
        "independent validator (not the creator, not the requester) for every move to approved.",
        "",
        "| phase | seconds | requests | 5xx | transport errors | 4xx |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, phase in r["phases"].items():
        out.append(
            f"| {name} | {phase['seconds']} | {phase['requests']:,} | {phase['server_errors']} "
            f"| {phase['transport_errors']} | {phase['client_errors']} |"
        )
    mixed = r["phases"].get("mixed")
    if mixed:
        out += [
            "",
            "Mixed load, per operation (2xx only):",
            "",
            "| operation | ok | ok/s | p50 ms | p99 ms | other answers |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for op, s in mixed["operations"].items():
            other = (
                ", ".join(
                    f"{c}: {n}" for c, n in sorted(s["statuses"].items()) if not c.startswith("2")
                )
                or "-"
            )
            out.append(
                f"| {op} | {s['ok']:,} | {_f(s['per_s'])} | {_f(s['p50_ms'])} | "
                f"{_f(s['p99_ms'])} | {other} |"
            )
    k, j, w, a = r["kills"], r["journal"], r["webhooks"], r["acked"]
    out += [
        "",
        "| check | result |",
        "|---|---|",
        f"| acknowledged writes checked through the API | {sum(a['checked'].values()):,} "
        f"({', '.join(f'{op} {n:,}' for op, n in a['checked'].items())}) |",
        f"| lost updates (acknowledged, not stored) | {a['lost']} |",
        f"| writes in doubt (connection cut, no answer) | {r['in_doubt']} |",
        f"| writes answered 5xx but stored anyway | {r['refused']['stored_anyway']} of "
        f"{r['refused']['answered_5xx']} ({r['refused']['checked']} checked) |",
        f"| journal | {j['events']:,} events; `audit verify` exit {j['verify_exit']}, "
        f"`audit reconcile` exit {j['reconcile_exit']}; seqs contiguous: "
        f"{j['contiguous_seqs']}, prev-hash breaks: {j['prev_hash_breaks']} |",
        f"| kill -9 | {k['api_workers']} API workers, {k['worker']} worker; API workers "
        f"restarted by uvicorn in median {_f(k['api_restart_median_s'])} s "
        f"({k['not_restarted']} not restarted within 30 s); server restarts needed: "
        f"{r['server_restarts']}; worker exits nobody caused: "
        f"{len(r.get('worker_deaths', []))} |",
        f"| webhooks | {w['deliveries']:,} deliveries {w['statuses']}; "
        f"{w['received_ids']:,} ids received in {w['received_posts']:,} posts "
        f"({w['duplicates']} repeats); delivered but never received: "
        f"{w['delivered_not_received']}; not received: {w['not_delivered']} "
        f"({w['pending_claimed_by_dead_process']} claimed by a killed worker, waiting out "
        f"the 5-minute lease; {w['pending_retrying']} retrying); "
        f"journal events without a delivery: {w['events_without_delivery']} |",
    ]
    for i, restart in enumerate(r["pg_restarts"], 1):
        out.append(
            f"| PostgreSQL restart {i} | pg_ctl restart took {restart['restart_s']} s; "
            f"reads and /readyz answered 200 again {_f(restart['recovered_s'])} s after the "
            f"restart began; meanwhile /readyz {restart['readyz']}, a read "
            f"{restart['probe_reads']} |"
        )
    pgp = r["phases"].get("pg-restart")
    if pgp:
        out.append(f"| 5xx during the restart phase: Retry-After | {pgp['retry_after_on_5xx']} |")
    for proc, summary in r.get("logs", {}).items():
        if proc != "kept_in" and summary["tracebacks"]:
            out.append(
                f"| {proc} log | {summary['tracebacks']} tracebacks: "
                + "; ".join(
                    f"`{e[:110]}{'...' if len(e) > 110 else ''}` x{n}"
                    for e, n in list(summary["exceptions"].items())[:4]
                )
                + " |"
            )
    if r.get("problems"):
        out += ["", "Problems seen:", ""] + [f"- {p}" for p in r["problems"]]
    out += ["", f"Raw results: `{r['json_path']}`.", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Main


def run_phase(world: World, name: str, clients: list[Client], body: Callable[[], None]) -> float:
    world.phase = name
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(stop,), daemon=True) for c in clients]
    started = time.monotonic()
    for t in threads:
        t.start()
    try:
        body()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    return time.monotonic() - started


def version_of(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 4 clients, 8 s of mixed load, 5 kills, 1 PostgreSQL restart",
    )
    parser.add_argument("--minutes", type=float, help="mixed-load minutes (default 10)")
    parser.add_argument("--clients", type=int, help="client threads (default 32)")
    parser.add_argument("--kills", type=int, help="kill -9 count (default 100)")
    parser.add_argument(
        "--kill-interval", type=float, default=3.0, help="seconds between kills (default 3)"
    )
    parser.add_argument("--pg-restarts", type=int, help="PostgreSQL restarts (default 3)")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        help="seconds to wait for the outbox to drain (default 330: a killed "
        "worker's claimed deliveries wait out their 5-minute lease)",
    )
    parser.add_argument(
        "--postgres-url",
        help="use this server (fresh database, dropped "
        "afterwards; no restart phase), e.g. postgresql://postgres@127.0.0.1:5432",
    )
    parser.add_argument("--write-md", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="only print the Markdown of an earlier results file (with --write-md, also put "
        "it into BENCHMARKS.md)",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.minutes = args.minutes if args.minutes is not None else (8 / 60 if quick else 10)
    args.clients = args.clients or (4 if quick else 32)
    args.kills = args.kills if args.kills is not None else (5 if quick else 100)
    if quick and args.kill_interval == 3.0:
        args.kill_interval = 1.0
    args.pg_restarts = args.pg_restarts if args.pg_restarts is not None else (1 if quick else 3)
    args.drain_timeout = (
        args.drain_timeout if args.drain_timeout is not None else (15 if quick else 330)
    )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        section = render_markdown(json.loads(args.render.read_text()))
        print(section)
        if args.write_md:
            replace_section(SECTION_TITLE, section)
        return 0
    started = dt.datetime.now(dt.UTC)
    date = started.strftime("%Y-%m-%d")
    json_path = RESULTS_DIR / f"load-{date}{'-quick' if args.quick else ''}.json"
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="steward-load-"))
    pg: Postgres | SharedPostgres = (
        SharedPostgres(args.postgres_url) if args.postgres_url else Postgres(tmp / "pg")
    )
    procs: Processes | None = None
    receiver = Receiver()
    world = World()
    problems: list[str] = []
    results: dict[str, Any] = {}
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        log(f"starting PostgreSQL ({'shared' if args.postgres_url else 'private cluster'})")
        pg.start()
        home = tmp / "home"
        home.mkdir()
        port = free_port()
        env = {
            **os.environ,
            "STEWARD_HOME": str(home),
            "STEWARD_DATABASE_URL": pg.url,
            "STEWARD_WORKER": "external",
            "STEWARD_OUTBOUND_ALLOW": "127.0.0.1",
            "STEWARD_USER": "admin",
        }
        log("steward init, users, roles, tokens, policy pack (CLI)")
        ids = setup_store(env, home, args.clients)
        receiver.start()
        procs = Processes(env, port, home)
        procs.start_server()
        procs.start_worker()
        base = f"http://127.0.0.1:{port}"
        admin_h = {"Authorization": f"Bearer {ids['admin']}"}
        hook = httpx.post(
            f"{base}/api/v1/webhooks",
            headers=admin_h,
            timeout=30,
            json={
                "url": f"http://127.0.0.1:{receiver.port}/hook",
                "events": ["*"],
                "description": "load bench receiver",
            },
        )
        if hook.status_code != 201:
            raise BenchError(f"webhook registration: {hook.status_code} {hook.text[:300]}")
        created = hook.json()
        webhook_id = created.get("webhook", created)["id"]
        clients = []
        for i in range(args.clients):
            owner = ids["owners"][i % len(ids["owners"])]
            models = [f"load-{i:03d}-{k}" for k in range(MODELS_PER_CLIENT)]
            for model in models:
                made = httpx.post(
                    f"{base}/api/v1/models",
                    json={"name": model},
                    timeout=30,
                    headers={"Authorization": f"Bearer {owner[1]}"},
                )
                if made.status_code != 201:
                    raise BenchError(f"create model: {made.status_code} {made.text[:300]}")
            clients.append(
                Client(
                    i,
                    base,
                    owner,
                    ids["validators"][i % len(ids["validators"])],
                    models,
                    world,
                    args.seed * 1000 + i,
                )
            )
        phases: dict[str, float] = {}
        log(f"mixed load: {args.clients} clients, {args.minutes * 60:.0f} s")
        phases["mixed"] = run_phase(world, "mixed", clients, lambda: time.sleep(args.minutes * 60))
        procs.ensure_worker("mixed")
        kills = KillLog()

        def do_kills() -> None:
            nonlocal kills
            assert procs is not None
            kills = kill_campaign(procs, args.kills, args.kill_interval, rng)
            time.sleep(1)

        if args.kills:
            log(f"kill -9 campaign: {args.kills} kills, one every {args.kill_interval} s")
            phases["kill-9"] = run_phase(world, "kill-9", clients, do_kills)
        restarts: list[dict[str, Any]] = []
        if isinstance(pg, Postgres) and args.pg_restarts:
            log(f"PostgreSQL restarts under load: {args.pg_restarts}")

            def do_restarts() -> None:
                restarts.extend(
                    pg_restarts(
                        pg, base, ids["admin"], args.pg_restarts, 1.0 if args.quick else 20.0
                    )
                )
                time.sleep(1 if args.quick else 5)

            try:
                phases["pg-restart"] = run_phase(world, "pg-restart", clients, do_restarts)
            finally:
                if not pg.ensure_running():
                    problems.append("PostgreSQL was not running after the restart phase")
        procs.ensure_server()
        procs.ensure_worker("pg-restart" if restarts else "kill-9")
        log(f"waiting for the webhook outbox to drain (at most {args.drain_timeout:.0f} s)")
        pending = drain_outbox(base, ids["admin"], webhook_id, args.drain_timeout)
        log("checking acknowledged writes, journal, webhooks")
        acked = check_acked(base, ids["admin"], pg.url, world)
        refused = check_refused(base, ids["admin"], pg.url, world)
        journal = check_journal(env, pg.url)
        hooks = check_webhooks(pg.url, receiver, webhook_id)
        hooks["pending_at_end"] = pending
        phase_out = {name: summarise(world.stats[name], secs) for name, secs in phases.items()}
        for name, phase in phase_out.items():
            # While PostgreSQL restarts, a 503 that says when to retry is the promised answer
            # (docs/deployment.md); only a 5xx without Retry-After is a problem there.
            expected = name == "pg-restart" and not phase["retry_after_on_5xx"].get("without")
            if phase["server_errors"] and not expected:
                problems.append(
                    f"{phase['server_errors']} server errors (5xx) in phase {name}; e.g. "
                    + "; ".join(
                        f"{e['method']} {e['path']} -> {e['status']} "
                        f"(Retry-After {e['retry_after']})"
                        for e in phase["server_error_samples"][:3]
                    )
                )
        for death in procs.worker_deaths:
            problems.append(
                f"steward worker exited by itself (exit code {death['exit_code']}) during "
                f"phase {death['phase']}; the script restarted it"
            )
        if refused["stored_anyway"]:
            problems.append(
                f'{refused["stored_anyway"]} writes answered 5xx ("Nothing was changed") '
                f"were stored anyway: {refused['examples'][:3]}"
            )
        if acked["lost"]:
            problems.append(f"{acked['lost']} acknowledged writes not found afterwards")
        if not journal["unforked"] or journal["reconcile_exit"]:
            problems.append(f"journal check failed: {journal}")
        if hooks["not_delivered"] or hooks["events_without_delivery"]:
            problems.append(
                f"webhooks: {hooks['not_delivered']} deliveries not received by the end "
                f"({pending} still pending after {args.drain_timeout:.0f} s: "
                f"{hooks['pending_claimed_by_dead_process']} claimed by a killed worker, "
                f"waiting out the 5-minute lease; {hooks['pending_retrying']} waiting to retry "
                f"after a failed attempt, errors {hooks['pending_errors']}), "
                f"{hooks['events_without_delivery']} journal events without a delivery"
            )
        results = {
            "benchmark": "load",
            "started_utc": started.strftime("%Y-%m-%d %H:%M"),
            "mode": "quick" if args.quick else "full",
            "machine": machine(),
            "versions": {
                "steward": version_of("steward"),
                "postgres": pg.version,
                "uvicorn": version_of("uvicorn"),
                "httpx": version_of("httpx"),
            },
            "postgres_mode": "existing server, fresh database"
            if args.postgres_url
            else "private cluster started by the script",
            "clients": args.clients,
            "connection": "new connection per request",
            "phases": phase_out,
            "kills": {
                "api_workers": kills.api_workers,
                "worker": kills.worker,
                "api_restart_median_s": round(statistics.median(kills.api_restart_s), 2)
                if kills.api_restart_s
                else None,
                "not_restarted": kills.not_restarted,
            },
            "server_restarts": procs.server_restarts,
            "worker_deaths": procs.worker_deaths,
            "pg_restarts": restarts,
            "acked": acked,
            "refused": refused,
            "in_doubt": len(world.in_doubt),
            "in_doubt_by_op": dict(Counter(d["op"] for d in world.in_doubt)),
            "journal": journal,
            "webhooks": hooks,
            "problems": problems,
            "json_path": str(json_path.relative_to(REPO)),
        }
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 1
    finally:
        if procs is not None:
            procs.stop()
        with suppress(Exception):
            receiver.stop()
        if isinstance(pg, Postgres):
            pg.stop()
        else:
            pg.stop()
        home = tmp / "home"
        if results and home.exists():
            kept = Path(tempfile.mkdtemp(prefix="steward-load-logs-"))
            for name in ("server.log", "worker.log"):
                if (home / name).exists():
                    shutil.copy(home / name, kept / name)
            results["logs"] = {
                "kept_in": str(kept),
                "server": log_summary(home / "server.log"),
                "worker": log_summary(home / "worker.log"),
            }
        shutil.rmtree(tmp, ignore_errors=True)
        # the machine's own server must be up whatever happened here
        ready = subprocess.run(
            ["pg_isready", "-h", "127.0.0.1", "-p", "5432"], capture_output=True, text=True
        )
        log(f"pg_isready 127.0.0.1:5432: {ready.stdout.strip()}")
        if results:
            results["pg_isready_5432_at_end"] = ready.stdout.strip()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    section = render_markdown(results)
    print(section)
    log(f"raw results: {json_path}")
    if args.write_md:
        replace_section(SECTION_TITLE, section)
        log(f"updated BENCHMARKS.md ({SECTION_TITLE})")
    return 0 if not problems else 2


if __name__ == "__main__":
    sys.exit(main())
