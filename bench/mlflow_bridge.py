"""MLflow bridge benchmark, one command (run from the repository root):

    .venv/bin/python bench/mlflow_bridge.py                      # 20 models x 5 versions
    .venv/bin/python bench/mlflow_bridge.py --models 200 --versions 10 --write-md

Starts a real MLflow server (``.venv-mlflow``, made by ``scripts/venv.sh test``) and fills
it with N registered models x M versions of a small model folder (an MLmodel file and a
few kB of weights, logged with ``mlflow.log_artifacts``, registered from the run). Then:

1. **Import.** `steward mlflow import`'s service into a fresh SQLite store, against the
   *same reads done by a plain MLflow client script* (what a competent user would write to
   copy the registry: search models and versions, get each run, download each version's
   files), which is also the floor of any importer. Steward's own share is the import's
   "storing" time (hash, tar, database) against its "downloading" time (MLflow serving).
2. **/mlflow.** ``register_model`` and ``get_model_version_by_alias`` through the real
   ``mlflow`` client, against Steward's ``/mlflow`` (a ``steward server`` process) and
   against MLflow's own registry, in the same run, same machine, medians of K calls.

Results go to stdout and, with ``--write-md``, the "MLflow bridge" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mlflow_server  # bench/mlflow_server.py, shared with tests/mlflow_bridge
from report import machine, replace_section  # bench/report.py, shared by the benchmarks

REPO = Path(__file__).resolve().parent.parent
SECTION_TITLE = "## MLflow bridge (bench/mlflow_bridge.py)"
STEWARD = Path(sys.executable).parent / "steward"


def log(message: str) -> None:
    print(f"[mlflow-bridge] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_mlflow(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = mlflow_server.server_binary()
    if binary is None:
        raise SystemExit("No MLflow server: run `scripts/venv.sh test` (creates .venv-mlflow).")
    return mlflow_server.start(binary, home, free_port())


def start_steward(home: Path, tracking: str) -> tuple[subprocess.Popen[bytes], str, str]:
    env = {**os.environ, "STEWARD_HOME": str(home), "STEWARD_MLFLOW_TRACKING_URI": tracking}
    env.pop("STEWARD_URL", None)
    subprocess.run([str(STEWARD), "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [str(STEWARD), "--as", "admin", "user", "create", "bench", "--role", "admin"],
        env=env,
        check=True,
        capture_output=True,
    )
    made = subprocess.run(
        [
            str(STEWARD),
            "--as",
            "admin",
            "token",
            "create",
            "--user",
            "bench",
            "--name",
            "b",
            "--json",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    token = json.loads(made.stdout)["token"]
    port = free_port()
    process = subprocess.Popen(
        [str(STEWARD), "server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    mlflow_server.wait_until_up(f"{url}/healthz", process, "steward server")
    return process, url, token


stop = mlflow_server.stop


def model_folder(root: Path) -> Path:
    folder = root / "model"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "MLmodel").write_text("artifact_path: model\nflavors: {}\n")
    (folder / "weights.bin").write_bytes(os.urandom(4096))
    return folder


def populate(url: str, models: int, versions: int, scratch: Path) -> None:
    import mlflow

    mlflow.set_tracking_uri(url)
    mlflow.set_registry_uri(url)
    mlflow.set_experiment("bridge-bench")
    client = mlflow.MlflowClient()
    for m in range(models):
        name = f"bench-model-{m:04d}"
        client.create_registered_model(name)
        for v in range(versions):
            with mlflow.start_run() as run:
                mlflow.log_params({"i": m, "v": v})
                mlflow.log_metric("auc", 0.5 + v / 100)
                mlflow.log_artifacts(str(model_folder(scratch / f"{m}-{v}")), "model")
            client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id)
        if m % 10 == 0:
            log(f"populated {m + 1}/{models} models")


def plain_client_reads(url: str, scratch: Path) -> float:
    """What a user's own copy script reads: every model, version, run and version files."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=url, registry_uri=url)
    started = time.perf_counter()
    for rm in client.search_registered_models(max_results=1000):
        for mv in client.search_model_versions(f"name='{rm.name}'"):
            client.get_run(mv.run_id)
            uri = client.get_model_version_download_uri(mv.name, mv.version)
            mlflow.artifacts.download_artifacts(
                artifact_uri=uri,
                dst_path=str(scratch / f"{mv.name}-{mv.version}"),
                tracking_uri=url,
            )
    return time.perf_counter() - started


def steward_import(url: str, home: Path) -> dict[str, float]:
    from steward import bootstrap
    from steward.bridge.mlflow_source import MlflowSource
    from steward.domain.permissions import OPERATOR, Principal
    from steward.services import mlflow_bridge
    from steward.settings import Settings

    ctx = bootstrap.build(
        Settings(
            home=home,
            database_url=f"sqlite:///{home / 's.db'}",
            artifacts_url=str(home / "artifacts"),
        ),
        migrate=True,
    )
    who = Principal(name="bench", roles=frozenset({OPERATOR}))
    started = time.perf_counter()
    summary = mlflow_bridge.import_registry(ctx, who, MlflowSource(url))
    total = time.perf_counter() - started
    again = time.perf_counter()
    rerun = mlflow_bridge.import_registry(ctx, who, MlflowSource(url))
    rerun_s = time.perf_counter() - again
    assert rerun.versions_imported == [], "the re-run imported again"
    ctx.uow.engine.dispose()
    return {
        "seconds": total,
        "versions": len(summary.versions_imported),
        "download_seconds": summary.seconds_download,
        "store_seconds": summary.seconds_store,
        "rerun_seconds": rerun_s,
    }


def registry_calls(
    tracking: str, registry: str, token: str | None, calls: int, scratch: Path
) -> dict[str, float]:
    """Median seconds of register_model and get_model_version_by_alias via the real client."""
    import mlflow

    if token:
        os.environ["MLFLOW_TRACKING_TOKEN"] = token
    else:
        os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
    mlflow.set_tracking_uri(tracking)
    mlflow.set_registry_uri(registry)
    client = mlflow.MlflowClient()
    name = f"bench-calls-{free_port()}"
    registering: list[float] = []
    for i in range(calls):
        with mlflow.start_run() as run:
            mlflow.log_artifacts(str(model_folder(scratch / f"call-{i}")), "model")
        started = time.perf_counter()
        mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
        registering.append(time.perf_counter() - started)
    client.set_registered_model_alias(name, "challenger", "1")
    reading = []
    for _ in range(calls * 5):
        started = time.perf_counter()
        client.get_model_version_by_alias(name, "challenger")
        reading.append(time.perf_counter() - started)
    return {
        "register_model": statistics.median(registering),
        "get_model_version_by_alias": statistics.median(reading),
    }


def render(res: dict[str, Any]) -> str:
    imp = res["import"]
    per = imp["versions"] / imp["seconds"]
    lines = [
        SECTION_TITLE,
        "",
        f"_{res['date']}; {res['machine']}; load average {res['load']:.1f} at the start "
        f"(other helpers share the machine); MLflow {res['mlflow']} server (SQLite, local "
        "artifacts, 1 worker) and client; Steward on SQLite._",
        "",
        f"**Import** of {res['models']} models x {res['versions']} versions (a 4 kB model "
        "folder each):",
        "",
        "| what | time | rate |",
        "| --- | --- | --- |",
        f"| `steward mlflow import` (everything: reads, downloads, hashing, storing, journal) "
        f"| {imp['seconds']:.1f} s | {per:.1f} versions/s |",
        f"| of which waiting for MLflow (reads and downloads) | {imp['download_seconds']:.1f} s |"
        " |",
        f"| of which Steward (tar, sha256, store, one transaction per version) | "
        f"{imp['store_seconds']:.1f} s | {imp['download_seconds'] / imp['store_seconds']:.1f}x "
        "faster than MLflow serves the reads |",
        f"| a plain MLflow client script doing the same reads (no storing) | "
        f"{res['plain_reads']:.1f} s | {imp['versions'] / res['plain_reads']:.1f} versions/s |",
        f"| re-run (all linked: nothing imported) | {imp['rerun_seconds']:.1f} s | |",
        "",
        f"**Registry calls** through the real `mlflow` client, medians of {res['calls']} "
        f"`register_model` and {res['calls'] * 5} `get_model_version_by_alias`, same run:",
        "",
        "| call | MLflow's own registry | Steward `/mlflow` | ratio |",
        "| --- | --- | --- | --- |",
    ]
    for call in ("register_model", "get_model_version_by_alias"):
        ml, st = res["mlflow_calls"][call], res["steward_calls"][call]
        lines.append(f"| `{call}` | {ml * 1000:.1f} ms | {st * 1000:.1f} ms | {ml / st:.2f}x |")
    share = imp["download_seconds"] / imp["store_seconds"]
    calls = {c: res["mlflow_calls"][c] / res["steward_calls"][c] for c in res["mlflow_calls"]}

    def verdict(ok: bool) -> str:
        return "met" if ok else "**unmet**"

    lines += [
        "",
        f"Targets (issue #17): Steward never the bottleneck of the import, at least 3x faster "
        f"than MLflow serves the reads: {verdict(share >= 3)} ({share:.1f}x); `/mlflow` at "
        f"least as fast as MLflow's own registry: `register_model` "
        f"{verdict(calls['register_model'] >= 1)}, `get_model_version_by_alias` "
        f"{verdict(calls['get_model_version_by_alias'] >= 1)}."
        + (
            ""
            if (res["models"], res["versions"]) == (200, 10)
            else f" Measured at {res['models']} x {res['versions']}, not the issue's 200 x 10 "
            "(`make bench` runs that size)."
        ),
        "",
        "Steward's `register_model` does more than MLflow's: it downloads the model folder "
        "from MLflow, tars and hashes it, stores it content-addressed and journals the version "
        "(MLflow records a source URI). Ratio above 1 means Steward is faster.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--write-md", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="steward-bench-mlflow-") as tmp:
        root = Path(tmp)
        (root / "mlflow").mkdir()
        mlflow_process, url = start_mlflow(root / "mlflow")
        try:
            log(f"populating {args.models} x {args.versions}")
            populate(url, args.models, args.versions, root / "scratch")
            log("plain MLflow client reads")
            plain = plain_client_reads(url, root / "plain")
            log("steward import")
            (root / "steward").mkdir()
            imported = steward_import(url, root / "steward")
            log(f"import: {imported}")
            (root / "server").mkdir()
            steward_process, steward_url, token = start_steward(root / "server", url)
            try:
                log("registry calls: MLflow")
                ml_calls = registry_calls(url, url, None, args.calls, root / "c1")
                log("registry calls: Steward /mlflow")
                st_calls = registry_calls(
                    url, f"{steward_url}/mlflow", token, args.calls, root / "c2"
                )
            finally:
                stop(steward_process)
        finally:
            stop(mlflow_process)
    res = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "load": load,
        "mlflow": importlib.metadata.version("mlflow-skinny"),
        "models": args.models,
        "versions": args.versions,
        "calls": args.calls,
        "import": imported,
        "plain_reads": plain,
        "mlflow_calls": ml_calls,
        "steward_calls": st_calls,
    }
    print(json.dumps(res, indent=2))
    section = render(res)
    print(section)
    if args.write_md:
        replace_section(SECTION_TITLE, section)


if __name__ == "__main__":
    main()
