"""Monitoring from a PostgreSQL table: Steward's streamed aggregate against loading the
table into pandas first (what a user of a DataFrame-only drift tool has to do).

    .venv/bin/python bench/pg_source.py              # 1 M rows; writes BENCHMARKS.md
    .venv/bin/python bench/pg_source.py --rows 100000 --no-write-md

Needs the PostgreSQL server of the build machines (127.0.0.1:5432, user postgres, trust;
``STEWARD_BENCH_PG`` overrides the URL). A temporary database gets a table of 20 normal
numeric and 5 categorical columns (bench/drift.py's generator, shifted batch); the load is
not timed, and the database is dropped afterwards. Each measurement runs in a fresh process
and reports wall time and peak RSS above the process's RSS once its libraries are
imported:

- Steward: ``aggregate(PostgresSource(url, table=...))`` — a read-only server-side cursor,
  100 000-row chunks, each reduced (DuckDB) on the reference profile and merged — then
  ``compare`` with the profile: the full drift result.
- peer: ``pandas.read_sql_table`` of the same table into one DataFrame (SQLAlchemy +
  psycopg), the step before any in-memory drift tool can start; no drift is computed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from drift import CATEGORICAL, NUMERIC, write_data
from report import machine, replace_section

TITLE = "## Monitoring from PostgreSQL (bench/pg_source.py)"
ADMIN_URL = os.environ.get("STEWARD_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak_mib() -> float:
    # VmHWM belongs to this process image; ru_maxrss would also count the parent's peak
    # (it survives fork + exec), and the parent held the generated data.
    return _status_mib("VmHWM")


def _rss_mib() -> float:
    return _status_mib("VmRSS")


def worker(kind: str, url: str, profile_path: str) -> dict[str, Any]:
    """One measurement; libraries are imported before the baseline RSS is taken."""
    if kind == "steward":
        from steward.monitoring import PostgresSource, ReferenceProfile, aggregate, compare

        profile = ReferenceProfile.from_json(Path(profile_path).read_text())
        base, start = _rss_mib(), time.perf_counter()
        batch = aggregate(PostgresSource(url, table="batch"), profile, engine="duckdb")
        drift = compare(profile, batch)
        rows = batch.rows
        drifted = sorted(c.column for c in drift.columns.values() if c.drifted)
    else:
        import pandas as pd
        from sqlalchemy import create_engine

        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        base, start = _rss_mib(), time.perf_counter()
        frame = pd.read_sql_table("batch", engine)
        rows, drifted = len(frame), []
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mib": _peak_mib() - base, "rows": rows, "drifted": drifted}


def _run_worker(kind: str, url: str, profile_path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--url", url, "--profile", str(profile_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _psql(sql: str, url: str = ADMIN_URL) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type,unused-ignore]


def measure(rows: int) -> dict[str, Any]:
    import duckdb
    import psycopg

    from steward.monitoring import ColumnSpec, build_profile

    name = f"steward_bench_{uuid.uuid4().hex[:10]}"
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with tempfile.TemporaryDirectory() as tmp:
        ref, cur = Path(tmp) / "ref.parquet", Path(tmp) / "cur.parquet"
        write_data(rows, ref, seed=1, shifted=False)
        write_data(rows, cur, seed=2, shifted=True)
        specs = [ColumnSpec(c) for c in NUMERIC] + [
            ColumnSpec(c, "categorical") for c in CATEGORICAL
        ]
        profile_path = Path(tmp) / "profile.json"
        profile_path.write_text(build_profile(str(ref), specs).to_json())
        _psql(f'CREATE DATABASE "{name}"')
        try:
            csv = Path(tmp) / "cur.csv"
            duckdb.sql(f"COPY (SELECT * FROM '{cur}') TO '{csv}' (HEADER)")
            columns = ", ".join(
                [f"{c} double precision" for c in NUMERIC] + [f"{c} text" for c in CATEGORICAL]
            )
            load_start = time.perf_counter()
            with psycopg.connect(url) as conn:
                conn.execute(f"CREATE TABLE batch ({columns})")  # type: ignore[arg-type,unused-ignore]
                copy = "COPY batch FROM STDIN WITH (FORMAT csv, HEADER)"
                with conn.cursor().copy(copy) as cp, csv.open("rb") as fh:
                    while block := fh.read(1 << 20):
                        cp.write(block)
                conn.execute("ANALYZE batch")
            load_s = time.perf_counter() - load_start
            steward = _run_worker("steward", url, profile_path)
            pandas = _run_worker("pandas", url, profile_path)
        finally:
            _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return {"rows": rows, "load_s": load_s, "steward": steward, "pandas": pandas}


def render(res: dict[str, Any]) -> str:
    s, p = res["steward"], res["pandas"]
    ratio = p["seconds"] / s["seconds"] if s["seconds"] else float("nan")
    return "\n".join(
        [
            TITLE,
            "",
            f"_`python bench/pg_source.py` on {machine()}; PostgreSQL at 127.0.0.1:5432 on "
            f"the same machine. A table of {res['rows']:,} rows, 20 numeric + 5 categorical "
            f"columns (bench/drift.py's shifted batch), loaded with COPY in "
            f"{res['load_s']:.1f} s (not measured). Each row below is one fresh process; "
            "memory is peak RSS above the process's RSS once its libraries are imported._",
            "",
            "| what | time | peak memory | result |",
            "|---|---:|---:|---|",
            f"| Steward: `PostgresSource` table → 100k-row chunks → aggregates (DuckDB) → "
            f"drift | {s['seconds']:.2f} s | {s['peak_mib']:.0f} MiB | {s['rows']:,} rows, "
            f"drifted: {', '.join(s['drifted']) or 'none'} |",
            f"| peer: `pandas.read_sql_table` into one DataFrame (before any drift) | "
            f"{p['seconds']:.2f} s | {p['peak_mib']:.0f} MiB | {p['rows']:,} rows loaded |",
            "",
            f"Steward computes the whole drift result {ratio:.1f}x faster than pandas only "
            "loads the table, in bounded memory (one chunk at a time).",
            "",
        ]
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--write-md", dest="write_md", action="store_true", default=True)
    ap.add_argument("--no-write-md", dest="write_md", action="store_false")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--profile", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.url, args.profile)))
        return 0
    section = render(measure(args.rows))
    print(section)
    if args.write_md:
        replace_section(TITLE, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
