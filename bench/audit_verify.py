"""Benchmark: `steward audit verify` over a journal of N events (default 1 000 000).

Setup writes the journal directly with the domain's own ``seal()`` in bulk
(realistic payloads shaped like version.created / version.transitioned events)
so the chain is exactly what Steward itself would have written; only the
verification is timed, end to end as a user runs it: a fresh
``steward audit verify`` process (median of several runs).

    .venv/bin/python bench/audit_verify.py [--events 1000000] [--runs 3]

The journal's Merkle tree (table audit_tree) is written beside it, as appends do, and a
signed checkpoint is made, so verify also checks the tree and the checkpoint. Then
inclusion and consistency proofs are timed in process (median over random events).
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
STEWARD = ROOT / ".venv" / "bin" / "steward"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--write-md", action="store_true", help="replace this section of BENCHMARKS.md"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="steward-bench-audit-") as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        build_journal(home, args.events)
        setup = time.perf_counter() - t0
        proofs = time_proofs(home, args.events)
        env = {**os.environ, "STEWARD_HOME": str(home)}
        timings = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            out = subprocess.run(
                [str(STEWARD), "audit", "verify", "--json"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            timings.append(time.perf_counter() - t0)
            result = json.loads(out.stdout)
            # + 1: the checkpoint's own audit.checkpointed event
            assert result["ok"] and result["checked"] == args.events + 1, result
    median = statistics.median(timings)
    report = {
        "events": args.events,
        "runs": timings,
        "median_s": median,
        "setup_s": setup,
        "target_s": TARGET_S,
        **proofs,
        "met": median <= TARGET_S,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    json.dump(report, sys.stdout, indent=2)
    print()
    if args.write_md:
        replace_section(SECTION_TITLE, render(report))


def render(report: dict[str, Any]) -> str:
    runs = ", ".join(f"{t:.2f}" for t in report["runs"])
    status = "met" if report["met"] else "**unmet**"
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return (
        f"{SECTION_TITLE}\n\n"
        f"_Generated by `bench/audit_verify.py` on {when}; {machine()}._\n\n"
        f"A journal of {report['events']:,} events (shaped like `version.created` and "
        "`version.transitioned` events, sealed with Steward's own `seal()`; written in bulk, "
        f"not measured: {report['setup_s']:.0f} s) in an embedded SQLite store. Timed: a "
        "fresh `steward audit verify` process, end to end, as a user runs it (it checks "
        "segments in one process per CPU). No peer offers a verifiable journal to compare "
        "with.\n\n"
        "| events | median wall time | runs (s) | target | status |\n"
        "|---:|---:|---|---:|---|\n"
        f"| {report['events']:,} | {report['median_s']:.2f} s | {runs} | "
        f"<= {TARGET_S:.0f} s | {status} |\n\n"
        f"Proofs against the signed checkpoint (median of 200 random events, in process, "
        f"with their database reads): inclusion {report['inclusion_ms']:.2f} ms, "
        f"consistency {report['consistency_ms']:.2f} ms (target <= 1 ms); the whole "
        f"`inclusion_proof` use case (its own transaction, checkpoint and event lookup): "
        f"{report['inclusion_service_ms']:.2f} ms.\n"
    )


if __name__ == "__main__":
    main()
