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
import hashlib
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

from steward import bootstrap
from steward.domain import audit, merkle
from steward.domain.checkpoint import journal_leaf
from steward.domain.permissions import OPERATOR, Principal
from steward.services import transparency
from steward.settings import Settings
from steward.store import database
from steward.store.audit_tree_repo import AuditTreeRepository
from steward.store.tables import audit_events
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
    compact = merkle.CompactRange()
    events: list[tuple[object, ...]] = []
    nodes: list[tuple[int, int, str]] = []
    # Plain DBAPI executemany of tuples, committed every BATCH events: building the 10 M
    # journal through SQLAlchemy dicts in one transaction took over an hour on a shared
    # machine (and an 8 GB write-ahead log).
    insert_event = (
        "INSERT INTO audit_events (seq, time, actor, action, subject_type, subject_id, "
        "payload, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    insert_node = "INSERT INTO audit_tree (level, idx, hash) VALUES (?, ?, ?)"
    # The journal's secondary indexes are built once at the end (random inserts into them
    # dominated the build above a few million events), with a large page cache meanwhile.
    indexes = list(audit_events.indexes)
    for index in indexes:
        index.drop(engine)
    with engine.connect() as sa_conn:
        raw: Any = sa_conn.connection.dbapi_connection
        raw.execute("PRAGMA cache_size=-262144")
        for seq in range(1, count + 1):
            time_text, subject, payload_text = _fields(seq, start)
            action = "version.transitioned" if seq % 3 else "version.created"
            digest = audit.chain_hash(
                prev,
                audit.event_message(
                    seq, time_text, "alice", action, "version", subject, payload_text
                ),
            )
            if seq <= CROSS_CHECK:  # the templates are exactly what seal() writes
                assert audit.seal(
                    seq=seq,
                    time=time_text,
                    actor="alice",
                    action=action,
                    subject_type="version",
                    subject_id=subject,
                    payload=json.loads(payload_text),
                    prev_hash=prev,
                ) == audit.AuditEvent(
                    seq, time_text, "alice", action, "version", subject, payload_text, prev, digest
                )
            nodes.extend((lv, ix, h.hex()) for lv, ix, h in compact.append(journal_leaf(digest)))
            events.append(
                (
                    seq,
                    time_text,
                    "alice",
                    action,
                    "version",
                    subject,
                    payload_text,
                    prev,
                    digest,
                    ring.mac(digest),
                )
            )
            prev = digest
            if len(events) == BATCH or seq == count:
                raw.executemany(insert_event, events)
                raw.executemany(insert_node, nodes)
                raw.commit()
                events.clear()
                nodes.clear()
    for index in indexes:
        index.create(engine)
    engine.dispose()


BATCH = 100_000
CROSS_CHECK = 3000


def _fields(seq: int, start: datetime) -> tuple[str, str, str]:
    """(time, subject, canonical payload text) of bench event ``seq``: payloads shaped like
    version.transitioned (two in three) and version.created, formatted from templates
    (json.dumps per event was most of the 10 M build); the first CROSS_CHECK are compared
    with ``audit.seal`` to prove the templates canonical."""
    model = f"model-{seq % 5000:04d}"
    version = seq // 5000 + 1
    moment = start + timedelta(milliseconds=seq)
    time_text = f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond:06d}Z"
    if seq % 3:
        payload = (
            '{"caused_by":null,"from":"development","justification":"ready for independent '
            f'review","model":"{model}","to":"validation","version":{version}}}'
        )
    else:
        payload = (
            f'{{"artifact":{{"filename":"model.skops","flavor":"sklearn","sha256":"{seq:064x}",'
            f'"size":{1024 + seq}}},"metrics":{{"auc":0.81}},"model":"{model}",'
            f'"params":{{"C":1.0}},"stage":"development","tags":{{"team":"risk"}},'
            f'"version":{version}}}'
        )
    return time_text, f"{model}/{version}", payload


def time_proofs(home: Path, count: int, samples: int = 200) -> dict[str, float]:
    """Make a checkpoint, then median milliseconds of inclusion and consistency proofs.

    Wall and CPU (this thread's) time of each: on a shared machine a call that loses its
    time slice waits several milliseconds for the CPU, which the wall median shows and
    the CPU median does not.
    """
    import random

    ctx = bootstrap.build(Settings.from_env(home=home))
    who = Principal("bench", roles=frozenset({OPERATOR}))
    walls: dict[str, list[float]] = {"service": [], "inclusion": [], "consistency": []}
    cpus: dict[str, list[float]] = {"service": [], "inclusion": [], "consistency": []}

    def timed(name: str, call: Any, *args: Any) -> Any:
        w0, c0 = time.perf_counter(), time.thread_time()
        out = call(*args)
        cpus[name].append((time.thread_time() - c0) * 1000)
        walls[name].append((time.perf_counter() - w0) * 1000)
        return out

    try:
        made = transparency.create_checkpoint(ctx, who)
        rng = random.Random(7)
        for _ in range(samples):
            seq = rng.randint(1, count)
            proof = timed("service", transparency.inclusion_proof, ctx, who, seq)
            assert proof.verify()
            old = rng.randint(1, made.tree_size)
            with ctx.uow.read() as uow:
                tree = uow.audit_tree
                timed("inclusion", tree.inclusion_proof, seq - 1, made.tree_size)
                timed("consistency", tree.consistency_proof, old, made.tree_size)
        return {
            "inclusion_ms": statistics.median(walls["inclusion"]),
            "inclusion_service_ms": statistics.median(walls["service"]),
            "consistency_ms": statistics.median(walls["consistency"]),
            "inclusion_cpu_ms": statistics.median(cpus["inclusion"]),
            "inclusion_service_cpu_ms": statistics.median(cpus["service"]),
            "consistency_cpu_ms": statistics.median(cpus["consistency"]),
        }
    finally:
        ctx.uow.engine.dispose()


def time_append(home: Path, samples: int = 200) -> dict[str, float]:
    """What the tree update costs in a version-create use case, on this journal.

    Creates ``samples`` versions through ``services.versions.create_version`` (the use case a
    version-create request runs: permission checks, artifact stored and hashed, version row,
    journal event with its chain hash and MAC, Merkle nodes, outbox) and times, per call, the
    whole use case and the part spent in ``AuditTreeRepository.append`` (the tree update:
    tree size, the sibling nodes, the node insert). The events are real Steward writes, so
    the journal stays valid. In process: an HTTP request adds its own framework time on top,
    so the share below is an upper bound of the share in a request.
    """
    from steward.domain.specs import VersionSpec
    from steward.services import identity, models, versions
    from steward.store import audit_tree_repo

    ctx = bootstrap.build(Settings.from_env(home=home))
    admin = Principal("bench", roles=frozenset({OPERATOR}))
    original = audit_tree_repo.AuditTreeRepository.append
    spent: list[float] = []

    def timed(self: audit_tree_repo.AuditTreeRepository, event: audit.AuditEvent) -> int:
        t0 = time.perf_counter()
        try:
            return original(self, event)
        finally:
            spent.append(time.perf_counter() - t0)

    try:
        with ctx.uow.read() as uow:
            known = uow.users.get("bench-owner") is not None
        if not known:
            identity.create_user(ctx, admin, "bench-owner", roles=("owner",))
        name = f"bench-append-{int(time.time())}"
        models.create_model(ctx, admin, name, owner="bench-owner")
        owner = identity.principal_for(ctx, "bench-owner")
        totals: list[float] = []
        shares: list[float] = []
        audit_tree_repo.AuditTreeRepository.append = timed  # type: ignore[method-assign]
        with tempfile.TemporaryDirectory(prefix="tlog-append-") as scratch:
            for i in range(samples + 10):
                artifact = Path(scratch) / f"w{i}.bin"
                artifact.write_bytes(f"weights {i} {name}".encode() * 64)
                spent.clear()
                t0 = time.perf_counter()
                versions.create_version(ctx, owner, name, VersionSpec(), artifact)
                total = time.perf_counter() - t0
                if i >= 10:  # the first calls warm caches and statement compilation
                    totals.append(total * 1000)
                    shares.append(sum(spent) / total)
        return {
            "create_version_ms": statistics.median(totals),
            "tree_append_ms": statistics.median(totals) * statistics.median(shares),
            "tree_append_share": statistics.median(shares),
        }
    finally:
        audit_tree_repo.AuditTreeRepository.append = original  # type: ignore[method-assign]
        ctx.uow.engine.dispose()


def tree_only_proofs(home: Path, count: int, samples: int = 200) -> dict[str, Any]:
    """Inclusion and consistency proofs over a tree of ``count`` leaves, without events.

    For sizes whose full journal takes too long to write on a shared machine: the table
    audit_tree (Steward's schema, every complete subtree of ``count`` leaves) is what a
    proof reads, so its cost does not depend on the events. Each proof is checked against
    the root computed independently while building.
    """
    import random

    settings = Settings.from_env(home=home)
    engine = database.make_engine(settings.database_url)
    marker = home / f"tree-built-{count}"
    compact = merkle.CompactRange()
    if not marker.exists():
        database.migrate(engine)
        nodes: list[tuple[int, int, str]] = []
        with engine.connect() as sa_conn:
            raw: Any = sa_conn.connection.dbapi_connection
            raw.execute("PRAGMA cache_size=-262144")
            for i in range(count):
                leaf = journal_leaf(hashlib.sha256(i.to_bytes(8, "big")).hexdigest())
                nodes.extend((lv, ix, h.hex()) for lv, ix, h in compact.append(leaf))
                if len(nodes) >= 2 * BATCH or i == count - 1:
                    raw.executemany(
                        "INSERT INTO audit_tree (level, idx, hash) VALUES (?, ?, ?)", nodes
                    )
                    raw.commit()
                    nodes.clear()
        marker.write_text(compact.root().hex())
    root = bytes.fromhex(marker.read_text().strip())
    rng = random.Random(7)
    inclusion, consistency, inclusion_cpu, consistency_cpu = [], [], [], []
    with engine.connect() as conn:
        repo = AuditTreeRepository(conn)
        for _ in range(samples):
            index = rng.randint(0, count - 1)
            t0, c0 = time.perf_counter(), time.thread_time()
            path = repo.inclusion_proof(index, count)
            inclusion.append((time.perf_counter() - t0) * 1000)
            inclusion_cpu.append((time.thread_time() - c0) * 1000)
            leaf = journal_leaf(hashlib.sha256(index.to_bytes(8, "big")).hexdigest())
            assert merkle.verify_inclusion(index, count, leaf, path, root)
            old = rng.randint(1, count)
            t0, c0 = time.perf_counter(), time.thread_time()
            proof = repo.consistency_proof(old, count)
            consistency.append((time.perf_counter() - t0) * 1000)
            consistency_cpu.append((time.thread_time() - c0) * 1000)
            assert merkle.verify_consistency(old, count, repo.root(old), root, proof)
    engine.dispose()
    return {
        "events": count,
        "inclusion_ms": statistics.median(inclusion),
        "consistency_ms": statistics.median(consistency),
        "inclusion_cpu_ms": statistics.median(inclusion_cpu),
        "consistency_cpu_ms": statistics.median(consistency_cpu),
        "inclusion_max_ms": max(inclusion),
        "consistency_max_ms": max(consistency),
        "load": load(),
    }


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
    after = load()
    # Last: it appends real version events to this journal (the runs above saw it unchanged).
    appends = time_append(home)
    log(f"append {count:,}: {appends}, {load()}")
    return {"events": count, "rows": rows, "load": after, **proofs, **appends}


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
    parser.add_argument(
        "--tree-only",
        type=int,
        metavar="N",
        help="only time proofs over a tree of N leaves (no events; built under --keep)",
    )
    args = parser.parse_args()
    if args.tree_only:
        base = args.keep or Path(tempfile.mkdtemp(prefix="steward-bench-tree-"))
        found = tree_only_proofs(base / f"tree-{args.tree_only}", args.tree_only)
        json.dump(found, sys.stdout, indent=2)
        print()
        return
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
        if "tree_append_share" in result:
            share = result["tree_append_share"]
            lines.append(
                f"- Version create on this journal (`services.versions.create_version` in "
                f"process, median of 200): {result['create_version_ms']:.2f} ms, of which the "
                f"tree update (`AuditTreeRepository.append`) {result['tree_append_ms']:.2f} ms "
                f"= {share:.1%} (target <= 10 %: "
                + ("met" if share <= 0.10 else "**unmet**")
                + "; an HTTP request adds framework time, so its share there is lower).\n"
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
