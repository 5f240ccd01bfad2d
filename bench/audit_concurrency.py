"""Campaign: many writers appending to the audit journal at once on PostgreSQL.

Creates a fresh PostgreSQL database (127.0.0.1:5432, user postgres, trust; dropped at the
end), then starts ``--writers`` processes, each with its own context and connection pool,
that each create ``--events-each`` models through the service layer (one audited
``model.created`` event per call) as fast as they can, all released by one barrier. Two
checkpointer threads in the parent sign checkpoints while they run. Then it checks:

* the journal holds exactly the expected events (writers x events + one per checkpoint),
  with sequence numbers 1..N and no gap;
* ``audit.verify`` (what `steward audit verify` runs: chain, MACs, time order, tree,
  every stored and published checkpoint) is OK;
* one tree: the stored tree size equals the event count, and every stored node equals the
  node of the tree rebuilt in memory from the journal's event hashes;
* no fork: checkpoints of the same size have the same root, and every checkpoint's root is
  the rebuilt tree's root at its size; its signature is the log key's;
* an inclusion proof (the service's ``inclusion_proof``, checked with the domain's
  ``InclusionProof.verify``) holds for every event the final signed checkpoint covers;
* a consistency proof holds from an early mid-run checkpoint to the final one (and between
  every pair of consecutive checkpoints).

Reports appends/s over the writers' wall time and p50/p99 latency of one append (the whole
``create_model`` use case, as a client sees it).

    .venv/bin/python bench/audit_concurrency.py [--writers 32 --events-each 1000] [--write-md]
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from steward import bootstrap
from steward.domain import merkle
from steward.domain.audit import AuditFilter
from steward.domain.checkpoint import (
    ConsistencyProof,
    InclusionProof,
    StoredCheckpoint,
    journal_leaf,
    leaf_index,
)
from steward.domain.permissions import OPERATOR, Principal
from steward.services import audit, models, transparency
from steward.settings import Settings
from steward.trust import log_key

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, replace_section

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SECTION_TITLE = "## Audit journal: concurrent appenders on PostgreSQL (bench/audit_concurrency.py)"
TIMES = "\u00d7"


def _pg_admin(statement: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _writer(settings: Settings, worker: int, count: int, barrier: Any, results: Any) -> None:
    """One writer process: its own context (engine, pool, connection), ``count`` appends."""
    ctx = bootstrap.build(settings)
    who = Principal(name=f"writer-{worker}", roles=frozenset({OPERATOR}))
    latencies: list[float] = []
    try:
        barrier.wait()
        for i in range(count):
            started = time.perf_counter()
            models.create_model(ctx, who, f"w{worker}-{i}", purpose="concurrency campaign")
            latencies.append(time.perf_counter() - started)
        results.put((worker, latencies, None))
    except Exception as exc:  # reported by the parent, which fails the campaign
        results.put((worker, latencies, repr(exc)))
    finally:
        ctx.uow.engine.dispose()


def run(writers: int, each: int, home: Path, url: str) -> dict[str, Any]:
    settings = Settings(home=home, database_url=url, artifacts_url=str(home / "artifacts"))
    ctx = bootstrap.build(settings, migrate=True)
    with ctx.uow.engine.connect() as conn:
        server = str(conn.execute(text("SHOW server_version")).scalar_one())
    admin = Principal(name="auditor", roles=frozenset({OPERATOR}))
    transparency.verifier_key(ctx, admin)  # the log key exists before anyone signs
    ctx.uow.engine.dispose()  # no pooled connection crosses the fork

    fork = mp.get_context("fork")
    barrier = fork.Barrier(writers + 1)
    results = fork.Queue()
    procs = [
        fork.Process(target=_writer, args=(settings, w, each, barrier, results))
        for w in range(writers)
    ]
    for proc in procs:
        proc.start()

    ctx = bootstrap.build(settings)
    stop = threading.Event()
    taken: list[StoredCheckpoint] = []
    taken_lock = threading.Lock()
    checkpoint_errors: list[str] = []

    def checkpointer(pause: float) -> None:
        # Two of these at once: concurrent signers may take the same tree size, which
        # must then have the same root (a fork would show here).
        while not stop.wait(pause):
            try:
                made = transparency.create_checkpoint(ctx, admin, publish_to=())
            except Exception as exc:
                checkpoint_errors.append(repr(exc))
                continue
            with taken_lock:
                taken.append(made)

    signers = [threading.Thread(target=checkpointer, args=(p,)) for p in (2.0, 3.0)]
    barrier.wait()
    load_start = _loadavg()
    started = time.perf_counter()
    for signer in signers:
        signer.start()
    outcomes = []
    for _ in procs:
        outcomes.append(results.get())
        print(
            f"writer {outcomes[-1][0]} done after {time.perf_counter() - started:.0f} s "
            f"(load {_loadavg()})",
            file=sys.stderr,
            flush=True,
        )
    wall = time.perf_counter() - started
    load_end = _loadavg()
    stop.set()
    for signer in signers:
        signer.join()
    for proc in procs:
        proc.join()
    errors = [f"writer {w}: {e}" for w, _, e in outcomes if e] + checkpoint_errors
    if errors:
        raise SystemExit("writers failed: " + "; ".join(errors))
    latencies = sorted(x for _, lat, _ in outcomes for x in lat)
    assert len(latencies) == writers * each

    mid = [c for c in taken if c.tree_size > 0]  # all signed while the writers ran
    if not mid:
        raise SystemExit("no checkpoint was taken mid-run: run more events per writer")
    early = min(mid, key=lambda c: c.tree_size)
    final = transparency.create_checkpoint(ctx, admin)  # published to the folder too

    print(f"writers done in {wall:.0f} s; checking", file=sys.stderr, flush=True)
    check_started = time.perf_counter()
    checks = check(ctx, admin, writers * each, early, final)
    checks["check_s"] = round(time.perf_counter() - check_started, 1)
    ctx.uow.engine.dispose()
    return {
        "postgresql": server,
        "writers": writers,
        "events_each": each,
        "appends": len(latencies),
        "wall_s": round(wall, 2),
        "appends_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
        "loadavg_start": load_start,
        "loadavg_end": load_end,
        **checks,
    }


def check(
    ctx: Any, admin: Principal, appended: int, early: StoredCheckpoint, final: StoredCheckpoint
) -> dict[str, Any]:
    with ctx.uow.engine.connect() as conn:
        seqs = [int(s) for (s,) in conn.execute(text("SELECT seq FROM audit_events ORDER BY seq"))]
        hashes = [
            str(h) for (h,) in conn.execute(text("SELECT hash FROM audit_events ORDER BY seq"))
        ]
        created = conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action = 'model.created'")
        ).scalar_one()
        stored_nodes = {
            (int(lv), int(ix)): bytes.fromhex(h)
            for lv, ix, h in conn.execute(text("SELECT level, idx, hash FROM audit_tree"))
        }
    checkpoints = transparency.list_checkpoints(ctx, admin, 10_000)
    total = len(seqs)
    # Every writer event, plus one audit.checkpointed event per checkpoint; nothing else.
    assert created == appended, (created, appended)
    assert total == appended + len(checkpoints), (total, appended, len(checkpoints))
    assert seqs == list(range(1, total + 1)), "sequence numbers have a gap or a duplicate"

    result = audit.verify(ctx, admin)
    assert result.ok, result
    assert result.checked == total, (result.checked, total)

    # One tree: the stored nodes are exactly those of the tree rebuilt from the journal.
    rebuilt = merkle.MemoryNodes(journal_leaf(h) for h in hashes)
    with ctx.uow.read() as uow:
        assert uow.audit_tree.size() == total
    assert stored_nodes == rebuilt.nodes, "the stored tree is not the journal's tree"

    # No fork: same size, same root; every root is the journal's root at that size.
    key = transparency._key(ctx)
    roots: dict[int, set[str]] = defaultdict(set)
    for c in checkpoints:
        roots[c.tree_size].add(c.root_hash)
        assert c.root_hash == merkle.root(rebuilt, c.tree_size).hex(), c
        assert log_key.signature_valid(c.note, key.name, key.public_bytes), c
    assert all(len(r) == 1 for r in roots.values()), "two checkpoints of one size differ"
    same_size = sum(1 for c in checkpoints) - len(roots)

    # Consistency: early mid-run checkpoint -> final, and every consecutive pair.
    by_size = sorted(checkpoints, key=lambda c: (c.tree_size, c.id))
    assert transparency.consistency_proof(ctx, admin, early.id, final.id).verify()
    for old, new in itertools.pairwise(by_size):
        assert transparency.consistency_proof(ctx, admin, old.id, new.id).verify(), (old, new)
        # and the same proof from the rebuilt tree, so a stored-tree quirk cannot hide
        path = merkle.consistency_proof(rebuilt, old.tree_size, new.tree_size)
        assert ConsistencyProof(old, new, tuple(p.hex() for p in path)).verify()

    # An inclusion proof for every event the final checkpoint covers (all but its own).
    assert final.tree_size == total - 1
    proof_started = time.perf_counter()
    with ctx.uow.read() as uow:  # one read transaction: the stored tree's proof per event
        events = uow.audit.search(AuditFilter(), final.tree_size)
        assert [e.seq for e in events] == list(range(1, final.tree_size + 1))
        for event in events:
            path = uow.audit_tree.inclusion_proof(event.seq - 1, final.tree_size)
            proof = InclusionProof(
                seq=event.seq,
                leaf_index=leaf_index(event.seq),
                leaf_hash=journal_leaf(event.hash).hex(),
                tree_size=final.tree_size,
                root_hash=final.root_hash,
                proof=tuple(p.hex() for p in path),
                checkpoint_id=final.id,
                checkpoint=final.note,
                event=event.to_export(),
            )
            assert proof.verify(), event.seq
    # and the whole use case (as `steward audit prove SEQ` runs it) for a sample
    for seq in range(1, final.tree_size + 1, 97):
        assert transparency.inclusion_proof(ctx, admin, seq, final.id).verify(), seq
    proofs_s = time.perf_counter() - proof_started
    return {
        "events": total,
        "checkpoints": len(checkpoints),
        "checkpoints_sharing_a_size": same_size,
        "early_checkpoint_size": early.tree_size,
        "final_checkpoint_size": final.tree_size,
        "inclusion_proofs_verified": final.tree_size,
        "inclusion_proofs_s": round(proofs_s, 1),
        "verify_ok": result.ok,
    }


def _markdown(r: dict[str, Any], when: str) -> str:
    return (
        f"{SECTION_TITLE}\n\n"
        f"_Generated by `bench/audit_concurrency.py --writers {r['writers']} --events-each "
        f"{r['events_each']}` on {when}; {machine()}; PostgreSQL {r['postgresql']} at "
        "127.0.0.1 on the same machine._\n\n"
        f"{r['writers']} writer processes (each its own context and connection pool) created "
        f"{r['events_each']:,} models each through the service layer at once (one audited "
        "`model.created` event per call, serialised by the journal's advisory lock), while two "
        "threads signed checkpoints every 2 s and 3 s. **Measured under load, 2 cores shared "
        f"by 8 people**: load average {r['loadavg_start']} at the start, {r['loadavg_end']} at "
        "the end (`/proc/loadavg`); the writers and PostgreSQL share those 2 cores, so the "
        "throughput is this machine's, not PostgreSQL's.\n\n"
        "| writers | appends | wall | appends/s | p50 append | p99 append | max |\n"
        "|---:|---:|---:|---:|---:|---:|---:|\n"
        f"| {r['writers']} | {r['appends']:,} | {r['wall_s']} s | {r['appends_per_s']} | "
        f"{r['p50_ms']} ms | {r['p99_ms']} ms | {r['max_ms']} ms |\n\n"
        f"Checked afterwards ({r['check_s']} s), all held: {r['events']:,} events "
        f"({r['appends']:,} + {r['checkpoints']} `audit.checkpointed`), seq 1..{r['events']:,} "
        "without a gap; `audit verify` OK (chain, MACs, time order, tree, every checkpoint); "
        "the stored tree has the journal's size and exactly the nodes of the tree rebuilt from "
        f"the event hashes; {r['checkpoints']} checkpoints ({r['checkpoints_sharing_a_size']} "
        "sharing a size with another), all signed by the log key, one root per size, each the "
        "rebuilt tree's root at its size; consistency proofs verify from the earliest mid-run "
        f"checkpoint (size {r['early_checkpoint_size']:,}) to the final one (size "
        f"{r['final_checkpoint_size']:,}) and between every consecutive pair; an inclusion "
        f"proof verifies (`InclusionProof.verify`) for every one of the "
        f"{r['inclusion_proofs_verified']:,} events the final checkpoint covers (all but its "
        f"own event; each proof read from the stored tree, {r['inclusion_proofs_s']} s for all, "
        "plus the whole `inclusion_proof` use case for every 97th event). "
        "No speed target is set for this campaign; it is a correctness check under "
        "contention.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=32)
    parser.add_argument("--events-each", type=int, default=1000)
    parser.add_argument("--write-md", action="store_true", help="record in BENCHMARKS.md")
    args = parser.parse_args()
    name = f"steward_bench_conc_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="steward-conc-") as tmp:
            url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
            result = run(args.writers, args.events_each, Path(tmp), url)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    now = datetime.now(UTC)
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / f"audit-concurrency-{now:%Y-%m-%d-%H%M}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    if args.write_md:
        replace_section(SECTION_TITLE, _markdown(result, f"{now:%Y-%m-%d %H:%M} UTC"))


if __name__ == "__main__":
    main()
