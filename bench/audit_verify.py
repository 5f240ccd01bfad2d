"""Benchmark: `steward audit verify` over journals of 1 M and 10 M events, against the
same verification written the straightforward way (a naive recursive RFC 9162 tree, and
pymerkle in its own virtualenv).

Setup writes each journal directly with the domain's own ``seal()`` and MACs in bulk
(payloads shaped like version.created / version.transitioned events) with its Merkle
tree (table audit_tree), so it is exactly what Steward itself would have written, then
signs a checkpoint; only the verification is timed, end to end as a user runs it: a
fresh ``steward audit verify`` process (median of several runs at 1 M, one run above),
with its CPU time and peak memory (VmHWM via wait4). Inclusion and consistency proofs
are timed in process (median over random events).

    .venv/bin/python bench/audit_verify.py [--events 1000000 --events 10000000]
        [--runs 3] [--peers naive,pymerkle] [--keep DIR] [--write-md]

``--keep DIR`` keeps the journals (10 M events take ~8 GB and ~20 min to write) and
reuses them on the next run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from steward import bootstrap
from steward.domain import audit, merkle
from steward.domain.checkpoint import journal_leaf
from steward.domain.permissions import OPERATOR, Principal
from steward.services import transparency
from steward.settings import Settings
from steward.store import database
from steward.store.tables import audit_events, audit_tree
from steward.trust import auditkey

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, replace_section

ROOT = Path(__file__).resolve().parent.parent
SECTION_TITLE = "## Audit verify (bench/audit_verify.py)"
TARGET_S = 5.0
TARGET_10M_S = 50.0
TIMES = "\u00d7"  # the multiplication sign, for the Markdown report


def build_journal(home: Path, count: int) -> None:
    settings = Settings.from_env(home=home)
    engine = database.make_engine(settings.database_url)
    database.migrate(engine)
    # Events carry MACs as Steward writes them, so verify runs its authentication pass too.
    ring = auditkey.create(settings.audit_key_path, 1)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    prev = audit.GENESIS
    batch: list[dict[str, object]] = []
    compact = merkle.CompactRange()
    nodes: list[dict[str, object]] = []
    with engine.begin() as conn:
        for seq in range(1, count + 1):
            model = f"model-{seq % 5000:04d}"
            version = seq // 5000 + 1
            if seq % 3:
                action, payload = (
                    "version.transitioned",
                    {
                        "model": model,
                        "version": version,
                        "from": "development",
                        "to": "validation",
                        "justification": "ready for independent review",
                        "caused_by": None,
                    },
                )
            else:
                action, payload = (
                    "version.created",
                    {
                        "model": model,
                        "version": version,
                        "stage": "development",
                        "artifact": {
                            "sha256": f"{seq:064x}",
                            "size": 1024 + seq,
                            "flavor": "sklearn",
                            "filename": "model.skops",
                        },
                        "tags": {"team": "risk"},
                        "params": {"C": 1.0},
                        "metrics": {"auc": 0.81},
                    },
                )
            event = audit.seal(
                seq=seq,
                time=audit.format_time(start + timedelta(milliseconds=seq)),
                actor="alice",
                action=action,
                subject_type="version",
                subject_id=f"{model}/{version}",
                payload=payload,
                prev_hash=prev,
            )
            prev = event.hash
            leaf = journal_leaf(event.hash)
            nodes.extend(
                {"level": lv, "idx": ix, "hash": h.hex()} for lv, ix, h in compact.append(leaf)
            )
            batch.append(
                (
                    event.__dict__
                    if hasattr(event, "__dict__")
                    else {f: getattr(event, f) for f in event.__slots__}
                )
                | {"mac": ring.mac(event.hash)}
            )
            if len(batch) == 20_000:
                conn.execute(insert(audit_events), batch)
                conn.execute(insert(audit_tree), nodes)
                batch.clear()
                nodes.clear()
        if batch:
            conn.execute(insert(audit_events), batch)
            conn.execute(insert(audit_tree), nodes)
    engine.dispose()


def time_proofs(home: Path, count: int, samples: int = 200) -> dict[str, float]:
    """Make a checkpoint, then median milliseconds of inclusion and consistency proofs."""
    import random

    ctx = bootstrap.build(Settings.from_env(home=home))
    who = Principal("bench", roles=frozenset({OPERATOR}))
    try:
        made = transparency.create_checkpoint(ctx, who)
        rng = random.Random(7)
        inclusion, computed, consistency = [], [], []
        for _ in range(samples):
            seq = rng.randint(1, count)
            t0 = time.perf_counter()
            proof = transparency.inclusion_proof(ctx, who, seq)
            inclusion.append((time.perf_counter() - t0) * 1000)
            assert proof.verify()
            old = rng.randint(1, made.tree_size)
            with ctx.uow.read() as uow:
                t0 = time.perf_counter()
                uow.audit_tree.inclusion_proof(seq - 1, made.tree_size)
                computed.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                uow.audit_tree.consistency_proof(old, made.tree_size)
                consistency.append((time.perf_counter() - t0) * 1000)
        return {
            "inclusion_ms": statistics.median(computed),
            "inclusion_service_ms": statistics.median(inclusion),
            "consistency_ms": statistics.median(consistency),
        }
    finally:
        ctx.uow.engine.dispose()


PEER_VENV = ROOT / "bench" / ".venv-pymerkle"
NAIVE = Path(__file__).resolve().parent / "audit_verify_naive.py"
# pymerkle appends ~5,000 leaves a second here when the machine is quiet, several times
# fewer when it is shared: above this size its run would outlast the others by far.
PYMERKLE_MAX_EVENTS = int(os.environ.get("BENCH_PYMERKLE_MAX_EVENTS", "100000"))


def log(message: str) -> None:
    print(f"[audit-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_measured(
    cmd: list[str], env: dict[str, str] | None = None
) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds, peak resident KiB, stdout) of one command.

    CPU seconds (user + system, with the workers it reaped) say more than wall time
    when other work shares the machine.

    The peak is from wait4's rusage: the largest VmHWM of the process and of the children
    it reaped (Steward's verify workers), for this command alone.
    """
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{cmd[:3]} failed ({proc.returncode}): {err.read()[-2000:]!r}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, int(usage.ru_maxrss), out.decode()


def install_pymerkle() -> str | None:
    """pymerkle (and cryptography) in bench/.venv-pymerkle; its version, or None if it fails."""
    python = PEER_VENV / "bin" / "python"
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "pymerkle>=6", "cryptography>=42"],
            check=True,
            capture_output=True,
        )
        out = subprocess.run(
            [str(python), "-c", "import importlib.metadata as m; print(m.version('pymerkle'))"],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        log(f"pymerkle could not be installed ({exc}); that comparison is skipped")
        return None


def journal_home(keep: Path | None, tmp: Path, count: int) -> tuple[Path, float | None]:
    """A home holding a journal of ``count`` events and a checkpoint over it (reused under
    ``keep``); returns it and the build seconds (None when reused)."""
    home = (keep or tmp) / f"journal-{count}"
    marker = home / "bench-built"
    if marker.exists():
        log(f"reusing the journal of {count:,} events in {home}")
        return home, None
    log(f"writing a journal of {count:,} events in {home}")
    t0 = time.perf_counter()
    build_journal(home, count)
    built = time.perf_counter() - t0
    marker.write_text(f"{built:.0f}\n")
    return home, built


def bench_size(
    home: Path, count: int, runs: int, peers: list[str], pymerkle: str | None
) -> dict[str, Any]:
    proofs = time_proofs(home, count, samples=200 if count <= 1_000_000 else 50)
    settings = Settings.from_env(home=home)
    env = {**os.environ, "STEWARD_HOME": str(home)}
    steward = [sys.executable, "-c", "from steward.cli.main import main; main()"]
    rows: dict[str, Any] = {}
    walls, cpus, peaks = [], [], []
    for _ in range(runs):
        wall, cpu, peak, out = run_measured([*steward, "audit", "verify", "--json"], env)
        result = json.loads(out)
        assert result["ok"] and result["checked"] >= count + 1, result
        walls.append(wall)
        cpus.append(cpu)
        peaks.append(peak)
        log(f"steward {count:,}: {wall:.2f} s wall, {cpu:.2f} s CPU, {load()}")
    rows["steward"] = {
        "runs": walls,
        "median_s": statistics.median(walls),
        "cpu_s": statistics.median(cpus),
        "peak_kib": max(peaks),
    }
    ctx = bootstrap.build(settings)
    try:
        vkey = transparency.verifier_key(ctx, Principal("bench", roles=frozenset({OPERATOR})))
    finally:
        ctx.uow.engine.dispose()
    db = settings.database_url.removeprefix("sqlite:///")
    for peer in peers:
        if peer == "pymerkle" and (pymerkle is None or count > PYMERKLE_MAX_EVENTS):
            continue
        python = str(PEER_VENV / "bin" / "python") if peer == "pymerkle" else sys.executable
        cmd = [python, str(NAIVE), db, str(settings.audit_key_path), vkey, "--tree", peer]
        wall, cpu, _, out = run_measured(cmd)
        result = json.loads(out)
        assert result["ok"], result
        rows[peer] = {
            "runs": [wall],
            "median_s": wall,
            "cpu_s": cpu,
            "peak_kib": result["vm_hwm_kib"],
        }
        log(f"{peer} {count:,}: {wall:.2f} s wall, {cpu:.2f} s CPU, {load()}")
    return {"events": count, "rows": rows, "load": load(), **proofs}


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}/{fifteen:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--events", type=int, action="append", help="journal size (repeatable; default 1 M)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of steward per size <= 1 M")
    parser.add_argument(
        "--peers", default="naive,pymerkle", help="comparisons to run (naive, pymerkle, none)"
    )
    parser.add_argument("--keep", type=Path, help="build journals here and reuse them")
    parser.add_argument(
        "--write-md", action="store_true", help="replace this section of BENCHMARKS.md"
    )
    args = parser.parse_args()
    sizes = args.events or [1_000_000]
    peers = [p for p in args.peers.split(",") if p in ("naive", "pymerkle")]
    pymerkle = install_pymerkle() if "pymerkle" in peers else None
    results = []
    with tempfile.TemporaryDirectory(prefix="steward-bench-audit-") as tmp:
        for count in sizes:
            home, built = journal_home(args.keep, Path(tmp), count)
            runs = args.runs if count <= 1_000_000 else 1
            result = bench_size(home, count, runs, peers, pymerkle)
            results.append(result | {"setup_s": built})
    report = {
        "results": results,
        "target_s": {1_000_000: TARGET_S, 10_000_000: TARGET_10M_S},
        "pymerkle": pymerkle,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    json.dump(report, sys.stdout, indent=2, default=str)
    print()
    if args.write_md:
        replace_section(SECTION_TITLE, render(report))


def _target(events: int) -> float | None:
    return {1_000_000: TARGET_S, 10_000_000: TARGET_10M_S}.get(events)


def render(report: dict[str, Any]) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    names = {
        "steward": "Steward `steward audit verify` (one pass, a process per CPU)",
        "naive": "naive: json.dumps + hmac.new + recursive RFC 9162 tree, plain Python",
        "pymerkle": f"pymerkle {report['pymerkle']} InmemoryTree (same chain and MAC checks)",
    }
    lines = [
        f"{SECTION_TITLE}\n\n"
        f"_Generated by `bench/audit_verify.py` on {when}; {machine()}._\n\n"
        "Journals shaped like `version.created` and `version.transitioned` events, sealed "
        "with Steward's own `seal()` and MACs, with the Merkle tree and one signed "
        "checkpoint, in an embedded SQLite store. Timed end to end as a user runs it (a "
        "fresh process): the chain, every event's MAC, time order, and the tree against "
        "every signed checkpoint and the stored tree. The comparison does the same "
        "verification the straightforward way (`bench/audit_verify_naive.py`, run with no "
        "Steward code; pymerkle in its own virtualenv). Peak memory is the largest "
        "process's VmHWM (Steward: the verify process and its workers). The machine is "
        "shared with other work: the load average is given per size.\n\n"
        "| events | implementation | median wall time | runs (s) | CPU time | peak memory | "
        "vs Steward (wall) | target |\n|---:|---|---:|---|---:|---:|---:|---|\n"
    ]
    for result in report["results"]:
        base = result["rows"]["steward"]["median_s"]
        target = _target(result["events"])
        for name, row in result["rows"].items():
            runs = ", ".join(f"{t:.2f}" for t in row["runs"])
            ratio = "1" if name == "steward" else f"{row['median_s'] / base:.1f}{TIMES} slower"
            status = ""
            if name == "steward" and target is not None:
                status = f"<= {target:.0f} s: " + ("met" if base <= target else "**unmet**")
            lines.append(
                f"| {result['events']:,} | {names[name]} | {row['median_s']:.2f} s | {runs} | "
                f"{row['cpu_s']:.2f} s | {row['peak_kib'] / 1024:.0f} MiB | {ratio} | {status} |\n"
            )
    lines.append("\n")
    for result in report["results"]:
        setup = f"{result['setup_s']:.0f} s" if result["setup_s"] else "reused"
        lines.append(
            f"- {result['events']:,} events ({result['load']} after the runs; journal "
            f"written in bulk, not measured: {setup}). Proofs against the signed "
            f"checkpoint, median of random events with their database reads: inclusion "
            f"{result['inclusion_ms']:.2f} ms, consistency {result['consistency_ms']:.2f} ms "
            f"(target <= 1 ms); the whole `inclusion_proof` use case "
            f"{result['inclusion_service_ms']:.2f} ms.\n"
        )
    if any(r["events"] > PYMERKLE_MAX_EVENTS for r in report["results"]):
        lines.append(
            f"- pymerkle is run up to {PYMERKLE_MAX_EVENTS:,} events "
            "(`BENCH_PYMERKLE_MAX_EVENTS` raises it): its in-memory tree is the slowest of "
            "the three and keeps every node.\n"
        )
    return "".join(lines)


if __name__ == "__main__":
    main()
