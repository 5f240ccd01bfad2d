"""`steward server` with several worker processes on one SQLite file.

The default is one worker per CPU, also on SQLite: workers read in parallel and
queue for SQLite's single writer on the store's cross-process lock. Concurrent
writers spread over the processes must still get distinct version numbers and
leave one intact audit chain.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

STEWARD = [str(Path(sys.executable).parent / "steward")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _steward(home: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env["STEWARD_HOME"] = str(home)
    done = subprocess.run(
        [*STEWARD, *args], env=env, cwd=home, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    home = tmp_path / "home"
    home.mkdir()
    _steward(home, "init")
    _steward(home, "user", "create", "ci", "--role", "owner")
    token = _steward(home, "token", "create", "--user", "ci", "--json")
    secret = json.loads(token)["token"]
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env["STEWARD_HOME"] = str(home)
    proc = subprocess.Popen(
        [*STEWARD, "server", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.1)
        yield url, secret, home
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def test_two_workers_share_one_sqlite_store(server: tuple[str, str, Path]) -> None:
    url, secret, home = server
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=url, headers=headers) as c:
        for name in ("alpha", "beta"):
            body = {"name": name, "owner": "ci", "purpose": "worker test"}
            assert c.post("/api/v1/models", json=body).status_code == 201

    created: list[tuple[str, int]] = []
    failures: list[str] = []
    lock = threading.Lock()

    def write(tid: int) -> None:
        # A fresh connection per request lands requests on both worker processes.
        for i in range(6):
            model = ("alpha", "beta")[(tid + i) % 2]
            meta = f'{{"tags": {{"thread": "{tid}", "i": "{i}"}}, "flavor": "other"}}'
            resp = httpx.post(
                f"{url}/api/v1/models/{model}/versions",
                headers=headers,
                data={"metadata": meta},
                files={"artifact": ("m.bin", f"{tid}/{i}".encode(), "application/octet-stream")},
                timeout=60,
            )
            with lock:
                if resp.status_code == 201:
                    created.append((model, int(resp.json()["version"])))
                else:
                    failures.append(resp.text)
            httpx.put(
                f"{url}/api/v1/models/{model}/aliases/latest",
                headers=headers,
                json={"version": int(resp.json()["version"])},
                timeout=60,
            )

    threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    for model in ("alpha", "beta"):
        numbers = sorted(v for m, v in created if m == model)
        assert numbers == list(range(1, len(numbers) + 1)), numbers
    with httpx.Client(base_url=url, headers=headers) as c:
        listed = c.get("/api/v1/versions", params={"limit": 100}).json()["items"]
    assert len(listed) == len(created) == 48
    # Both writers' events are on one unforked chain.
    _steward(home, "audit", "verify")


def test_a_server_worker_starts_without_the_heavy_libraries() -> None:
    # Each worker process imports the app; scipy, pandas, scikit-learn and model_signing
    # would add about a second to every start. They load with the first request that needs
    # them (validation, monitoring statistics, signing).
    probe = (
        "import sys; from steward.api.server import make_app; "
        "print(' '.join(m for m in ('pandas', 'scipy', 'sklearn', 'model_signing', 'duckdb') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == ""


def test_metrics_sum_every_worker_process(server: tuple[str, str, Path]) -> None:
    """Prometheus reaches one process per scrape; each scrape must count the whole server."""
    url, secret, _home = server
    headers = {"Authorization": f"Bearer {secret}"}
    asked = 24
    for _ in range(asked):
        # a fresh connection per request spreads them over both processes
        assert httpx.get(f"{url}/api/v1/models", headers=headers, timeout=30).status_code == 200
    pattern = re.compile(
        r'^steward_http_requests_total\{[^\n]*route="/api/v1/models"[^\n]*status="200"[^\n]*\}'
        r" ([0-9.e+]+)$",
        re.MULTILINE,
    )
    for _ in range(6):
        scrape = httpx.get(f"{url}/metrics", timeout=30)
        assert scrape.status_code == 200
        counted = sum(float(v) for v in pattern.findall(scrape.text))
        assert counted == asked, scrape.text
