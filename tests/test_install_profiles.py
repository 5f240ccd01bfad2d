"""Each install profile installs from the package index and its commands work or name the
extra to install (#14.1): the core (remote SDK/CLI) and the server without validation,
monitoring, signing or Spark.

Each profile's virtualenv is built once per session with uv (pip when uv is missing), from
this checkout as a real wheel with its declared dependencies; downloads are cached under the
temporary folder so later runs only link files. Skipped, saying why, when the package index
cannot be reached.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[1]
INDEX = "https://pypi.org/simple/"
CORE_LIMIT_MB = 60

pytestmark = pytest.mark.profiles


def _index_reachable() -> bool:
    try:
        return httpx.head(INDEX + "pip/", timeout=5.0, follow_redirects=True).status_code < 500
    except httpx.HTTPError:
        return False


def _uv() -> list[str] | None:
    found = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    return [found] if Path(found).exists() else None


class Profile:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
        clean.pop("PYTHONPATH", None)  # the profile's own installed copy, not the checkout
        return subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**clean, **(env or {})},
            cwd=self.root,
            check=False,
        )

    def steward(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.bin / "steward"), *args, env=env)

    def python(
        self, code: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.bin / "python"), "-c", code, env=env)

    def site_packages_mb(self) -> float:
        site = next(self.root.glob("lib/python*/site-packages"))
        return sum(f.stat().st_size for f in site.rglob("*") if f.is_file()) / 1e6


@pytest.fixture(scope="session")
def profiles() -> Iterator[dict[str, Profile]]:
    """Build lazily: each profile is installed the first time a test asks for it."""
    if not _index_reachable():
        pytest.skip(f"the package index ({INDEX}) cannot be reached: profiles cannot install")
    base = Path(tempfile.gettempdir())
    cache = base / "steward-profile-cache"  # downloads only: every run builds fresh venvs
    work = Path(tempfile.mkdtemp(prefix="steward-profiles-"))

    class Builder(dict[str, Profile]):
        def __missing__(self, extra: str) -> Profile:
            target = work / (extra or "core")
            spec = f"{ROOT}[{extra}]" if extra else str(ROOT)
            uv = _uv()
            env = {
                **os.environ,
                "UV_CACHE_DIR": str(cache / "uv"),
                "PIP_CACHE_DIR": str(cache / "pip"),
            }
            env.pop("VIRTUAL_ENV", None)
            if uv:
                steps = [
                    [*uv, "venv", "-q", "--python", sys.executable, str(target)],
                    [
                        *uv,
                        "pip",
                        "install",
                        "-q",
                        "--compile-bytecode",
                        "--python",
                        str(target / "bin" / "python"),
                        spec,
                    ],
                ]
            else:
                steps = [
                    [sys.executable, "-m", "venv", str(target)],
                    [str(target / "bin" / "python"), "-m", "pip", "install", "-q", spec],
                ]
            for step in steps:
                done = subprocess.run(
                    step, capture_output=True, text=True, env=env, timeout=600, check=False
                )
                assert done.returncode == 0, f"{' '.join(step)} failed:\n{done.stderr[-3000:]}"
            profile = self[extra] = Profile(target)
            return profile

    yield Builder()
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def core(profiles: dict[str, Profile]) -> Profile:
    return profiles[""]


@pytest.fixture(scope="session")
def server_profile(profiles: dict[str, Profile]) -> Profile:
    return profiles["server"]


def _installed(profile: Profile, *modules: str) -> dict[str, bool]:
    code = (
        "import importlib.util, json, sys; "
        "print(json.dumps({m: importlib.util.find_spec(m) is not None for m in sys.argv[1:]}))"
    )
    done = profile.run(str(profile.bin / "python"), "-c", code, *modules)
    assert done.returncode == 0, done.stderr
    found: dict[str, bool] = json.loads(done.stdout)
    return found


# -- core: the remote SDK and CLI --------------------------------------------------------


def test_core_is_small_and_has_no_server_stack(core: Profile) -> None:
    assert core.site_packages_mb() <= CORE_LIMIT_MB
    heavy = _installed(core, "fastapi", "sqlalchemy", "numpy", "pandas", "pyarrow", "duckdb")
    assert not any(heavy.values()), heavy
    assert core.steward("--help").returncode == 0


def _best_cpu_seconds(profile: Profile, code: str, runs: int = 3) -> tuple[float, str]:
    """Least CPU time of ``runs`` fresh interpreters running ``code``, and its last output."""
    timed = f"import time; _t = time.process_time()\n{code}\nprint(time.process_time() - _t)"
    best, said = float("inf"), ""
    for _ in range(runs):
        done = profile.python(timed)
        assert done.returncode == 0, done.stderr
        *said_lines, took = done.stdout.strip().splitlines()
        best, said = min(best, float(took)), "\n".join(said_lines)
    return best, said


def test_core_connect_imports_no_server_code(core: Profile) -> None:
    # Only what is loaded is checked here; how long the import takes is a benchmark figure
    # (BENCHMARKS.md), not a timed unit test that fails on a busy machine.
    _, loaded = _best_cpu_seconds(
        core,
        "import sys, steward\n"
        "st = steward.connect('http://127.0.0.1:1')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'fastapi', 'numpy', 'pandas', 'prometheus_client') "
        "or m.startswith('steward.services')))",
    )
    assert loaded == "[]"


def test_core_embedded_commands_name_the_server_extra(core: Profile, tmp_path: Path) -> None:
    done = core.steward("init", env={"STEWARD_HOME": str(tmp_path)})
    assert done.returncode == 1
    assert "pip install 'steward[server]'" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


def test_core_cli_and_sdk_against_a_running_server(
    core: Profile, live_server: LiveServer, token: str, tmp_path: Path
) -> None:
    env = {"STEWARD_URL": live_server.url, "STEWARD_TOKEN": token}
    made = core.steward("model", "create", "remote-only", "--purpose", "scoring", env=env)
    assert made.returncode == 0, made.stderr
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights")
    logged = core.steward("version", "create", "remote-only", str(artifact), env=env)
    assert logged.returncode == 0, logged.stderr
    listed = core.steward("model", "list", "--json", env=env)
    assert listed.returncode == 0 and "remote-only" in listed.stdout
    sdk = core.python(
        "import steward; st = steward.connect(); "
        "print([m.name for m in st.list_models()], "
        "[v.version for v in st.iter_versions('remote-only')])",
        env=env,
    )
    assert sdk.returncode == 0, sdk.stderr
    assert sdk.stdout.strip() == "['remote-only'] [1]"
    verified = core.steward("audit", "verify", env=env)
    assert verified.returncode == 0, verified.stderr


# -- server without validation, monitoring, signing or Spark -----------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_server_profile_initialises_and_serves(server_profile: Profile, tmp_path: Path) -> None:
    absent = _installed(server_profile, "pyspark", "numpy", "model_signing", "playwright")
    assert not any(absent.values()), absent
    env = {"STEWARD_HOME": str(tmp_path / "home")}
    init = server_profile.steward("init", env=env)
    assert init.returncode == 0, init.stderr

    demo = server_profile.steward("--as", "demo", "demo", env=env)
    assert demo.returncode == 1 and "Traceback" not in demo.stderr
    assert "pip install 'steward[demo]'" in " ".join(demo.stderr.split())

    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    clean.pop("PYTHONPATH", None)
    proc = subprocess.Popen(
        [
            str(server_profile.bin / "steward"),
            "server",
            "--port",
            str(port),
            "--workers",
            "1",
            "--allow-anonymous-read",
        ],
        env={**clean, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        answer = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = httpx.get(f"{url}/api/v1/models", timeout=2.0)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert answer is not None, (
            f"the server never answered: {proc.stderr.read() if proc.stderr else ''}"
        )
        assert answer.status_code == 200 and answer.json()["items"] == []
        assert httpx.get(f"{url}/login", timeout=5.0).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
