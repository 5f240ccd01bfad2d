"""The trust_pickle attack: a remote caller must never make the server unpickle a file.

An owner uploads a pickle whose ``__reduce__`` runs code (it writes a marker file), then asks
the server to validate it with ``trust_pickle``. The server refuses (403 problem+json), the code
never runs, and the refusal is journalled although the request fails. When the administrator
allows untrusted formats, the pickle runs — but in a sandboxed child process with its own pid,
resource limits, a stripped environment and no network.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import socket
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from tests.conftest import LiveServer, ensure_user

from steward.domain.permissions import OPERATOR, Principal
from steward.services import tokens
from steward.services.context import Context

TINY_SUITE = """
suite: tiny
version: "1"
task: classification
checks:
  - check: performance.accuracy
"""
CSV = "x1,x2,y\n" + "".join(f"{i % 7},{(i * 3) % 5},{i % 2}\n" for i in range(60))


class _Payload:
    """Unpickles by evaluating ``code``: what an attacker's pickle does."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __reduce__(self) -> tuple[Any, ...]:
        return (eval, (self.code,))


def _evil_pickle(folder: Path, marker: Path, port: int) -> Path:
    """A pickle that records where it ran (pid, limits, environment, network) into
    ``marker``, then yields a working classifier so the run can complete."""
    x = np.array([[i % 7, (i * 3) % 5] for i in range(60)], dtype=float)
    y = np.array([i % 2 for i in range(60)])
    inner = pickle.dumps(LogisticRegression().fit(x, y))
    script = f"""
import json, os, resource, socket, pickle
try:
    s = socket.socket()
    s.settimeout(2)
    s.connect(("127.0.0.1", {port}))
    net = "connected"
except OSError as exc:
    net = type(exc).__name__
with open({str(marker)!r}, "w") as out:
    json.dump({{
        "pid": os.getpid(),
        "as": resource.getrlimit(resource.RLIMIT_AS)[0],
        "cpu": resource.getrlimit(resource.RLIMIT_CPU)[0],
        "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "env": sorted(os.environ),
        "net": net,
    }}, out)
RESULT = pickle.loads({inner!r})
"""
    expression = "(lambda ns: (exec(" + repr(script) + ", ns), ns['RESULT'])[1])({})"
    path = folder / "model.pkl"
    path.write_bytes(pickle.dumps(_Payload(expression)))
    return path


def _user_token(ctx: Context, name: str, role: str) -> str:
    ensure_user(ctx, name, role)
    operator = Principal(name="admin", roles=frozenset({OPERATOR}))
    return tokens.create_token(ctx, operator, user=name, name="tests").token


def _serve_and_upload(ctx: Context, tmp_path: Path) -> tuple[LiveServer, dict[str, str]]:
    server = LiveServer(ctx).__enter__()
    owner = _user_token(ctx, "olivia", "owner")
    validator = _user_token(ctx, "victor", "validator")
    artifact = _evil_pickle(tmp_path, tmp_path / "marker.json", server.port)
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {owner}"}) as http:
        http.post("/api/v1/models", json={"name": "credit"}).raise_for_status()
        with artifact.open("rb") as fh:
            http.post(
                "/api/v1/models/credit/versions",
                files={"artifact": ("model.pkl", fh)},
            ).raise_for_status()
    return server, {"owner": owner, "validator": validator}


def _validate(server: LiveServer, token: str, options: dict[str, Any]) -> httpx.Response:
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as http:
        return http.post(
            "/api/v1/models/credit/versions/1/validate",
            data={"options": json.dumps({"target": "y", "suite_yaml": TINY_SUITE, **options})},
            files={"data": ("eval.csv", CSV.encode())},
        )


def test_a_remote_caller_cannot_make_the_server_unpickle(ctx: Context, tmp_path: Path) -> None:
    server, people = _serve_and_upload(ctx, tmp_path)
    try:
        for who in ("owner", "validator"):
            for options in ({"trust_pickle": True}, {"trusted_types": ["posix.system"]}):
                response = _validate(server, people[who], options)
                assert response.status_code == 403, response.text
                assert response.headers["content-type"].startswith("application/problem+json")
                body = response.json()
                assert "STEWARD_ALLOW_UNTRUSTED_FORMATS" in body["detail"]
                assert body["setting"] == "STEWARD_ALLOW_UNTRUSTED_FORMATS"
                assert not (tmp_path / "marker.json").exists()
    finally:
        server.__exit__()
    with ctx.uow.read() as uow:
        events = [e for e in uow.audit.stream() if e.action == "validation.refused"]
    assert [(e.actor, e.subject_id) for e in events] == [
        ("olivia", "credit/1"),
        ("olivia", "credit/1"),
        ("victor", "credit/1"),
        ("victor", "credit/1"),
    ]
    assert json.loads(events[0].payload)["asked"] == ["trust_pickle"]
    assert json.loads(events[1].payload)["trusted_types"] == ["posix.system"]


def test_allowed_untrusted_formats_run_only_in_the_sandbox(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_CANARY_SECRET", "must not reach the sandbox")
    allowed = dataclasses.replace(
        ctx,
        settings=ctx.settings.with_(
            allow_untrusted_formats=True,
            sandbox_memory_bytes=3 * 1024**3,
            sandbox_cpu_seconds=120,
        ),
    )
    server, people = _serve_and_upload(allowed, tmp_path)
    try:
        response = _validate(server, people["validator"], {"trust_pickle": True})
    finally:
        server.__exit__()
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["summary"]["sandboxed"] is True
    assert run["results"][0]["name"] == "performance.accuracy"
    seen = json.loads((tmp_path / "marker.json").read_text())
    assert seen["pid"] != os.getpid()  # the pickle ran, but not in the server process
    assert seen["as"] == 3 * 1024**3
    assert seen["cpu"] == 120
    assert seen["nofile"] == 256
    assert "STEWARD_CANARY_SECRET" not in seen["env"]
    assert not any(name.startswith("STEWARD_") for name in seen["env"])
    assert seen["net"] != "connected"


def test_the_local_user_may_still_trust_their_own_pickle(ctx: Context, tmp_path: Path) -> None:
    """Embedded: the caller's own machine, their decision; the model loads in-process."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    artifact = _evil_pickle(tmp_path, tmp_path / "marker.json", port)
    from steward.sdk.client import Steward
    from steward.sdk.local import LocalBackend

    ensure_user(ctx, "olivia", "owner")
    local = Steward(LocalBackend(ctx, "olivia"))
    local.create_model("credit")
    local.log_version("credit", artifact=artifact, capture_git=False)
    data = tmp_path / "eval.csv"
    data.write_text(CSV)
    suite = tmp_path / "tiny.yaml"
    suite.write_text(TINY_SUITE)
    run = local.validate("credit", 1, data=data, target="y", suite=str(suite), trust=True)
    assert "sandboxed" not in run.summary
    assert json.loads((tmp_path / "marker.json").read_text())["pid"] == os.getpid()
