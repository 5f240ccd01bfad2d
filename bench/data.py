"""Data governance benchmark: `dataset impact` over 100 000 model versions, and quality rules
on a million rows.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/data.py                   # updates BENCHMARKS.md
    .venv/bin/python bench/data.py --versions 20000 --rows 200000 --no-write-md
    .venv/bin/python bench/data.py --pii             # the personal-data scan (pii_scan.py)

Setup is not measured and does not go through the service layer: models, model versions,
dataset versions (content rows), datasets, their snapshots and deployments are bulk-inserted
with SQLAlchemy Core in one transaction. What is measured goes through the service layer
(``steward.services.datasets.impact``), as the SDK, CLI and REST call it. Beside it, the
same answer by hand-written SQL on a plain ``sqlite3`` connection (what a competent user
with the database file would write), so the ratio shows what the service layer costs.

Quality rules: ``steward.validation.data_rules.run`` (DuckDB, one scan for every rule's
count) against the same seven rules written in pandas, on the same frame; the counts must
agree, and the timing of each is the median of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import cpu_model, replace_section

from steward import bootstrap
from steward.domain.permissions import OPERATOR, Principal
from steward.services import datasets
from steward.settings import Settings
from steward.store import tables as t

SECTION_TITLE = "## Data governance (bench/data.py)"
TARGET_MS = 50.0
OPERATOR_P = Principal(name="bench", roles=frozenset({OPERATOR}))


def populate(ctx: Any, versions: int, contents: int, seed: int = 7) -> dict[str, int]:
    """Models with 10 versions each; each version trained and evaluated on random content
    rows; 1 content row in 20 is registered as a dataset version; production versions are
    deployed. One "hot" content row trains 2 % of all versions (a shared warehouse table)."""
    rng = random.Random(seed)
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with ctx.uow.engine.begin() as conn:
        conn.execute(
            insert(t.dataset_versions),
            [
                {
                    "fingerprint": f"{i:064x}",
                    "name": f"content-{i}",
                    "uri": None,
                    "rows": 1000,
                    "columns": 3,
                    "schema": [],
                    "profile": {},
                    "created_at": now,
                }
                for i in range(contents)
            ],
        )
        models = versions // 10
        conn.execute(
            insert(t.models),
            [
                {
                    "name": f"model-{m}",
                    "title": "",
                    "description": "",
                    "purpose": "",
                    "business_unit": "",
                    "owner": "o",
                    "team": "",
                    "risk_tier": "high",
                    "regulatory_category": "high",
                    "status": "active",
                    "allow_multiple_production": False,
                    "positive_means": "unstated",
                    "latest_version": 10,
                    "created_at": now,
                    "created_by": "bench",
                    "updated_at": now,
                    "search_text": "",
                }
                for m in range(models)
            ],
        )
        hot = 1
        rows = []
        for m in range(models):
            for v in range(1, 11):
                stage = "production" if v == 10 else rng.choice(["development", "retired"])
                training = hot if rng.random() < 0.02 else rng.randrange(2, contents + 1)
                rows.append(
                    {
                        "model_id": m + 1,
                        "version": v,
                        "stage": stage,
                        "artifact_sha256": f"{m * 10 + v:064x}",
                        "artifact_size": 1,
                        "artifact_flavor": "other",
                        "artifact_filename": "m.bin",
                        "artifact_is_directory": False,
                        "description": "",
                        "params": {},
                        "metrics": {},
                        "training_dataset_id": training,
                        "evaluation_dataset_id": rng.randrange(2, contents + 1),
                        "created_at": now,
                        "created_by": "bench",
                        "stage_changed_at": now,
                    }
                )
        conn.execute(insert(t.model_versions), rows)
        conn.execute(
            insert(t.deployments),
            [
                {
                    "model_id": m + 1,
                    "version_id": m * 10 + 10,
                    "environment": "prod",
                    "artifact_sha256": f"{m * 10 + 10:064x}",
                    "status": "verified",
                    "reason": "",
                    "signed": False,
                    "details": {},
                    "reported_by": "bench",
                    "reported_at": now,
                    "audit_seq": 0,
                }
                for m in range(models)
            ],
        )
        registered = list(range(1, contents + 1, 20))
        conn.execute(
            insert(t.datasets),
            [
                {
                    "name": f"ds-{i}",
                    "title": "",
                    "description": "",
                    "owner": "dana",
                    "steward_team": "",
                    "source": "",
                    "classification": "internal",
                    "legal_basis": "",
                    "consent_ref": "",
                    "retention": "",
                    "licence": "",
                    "status": "active",
                    "latest_version": 1,
                    "created_at": now,
                    "created_by": "bench",
                    "updated_at": now,
                }
                for i in registered
            ],
        )
        conn.execute(
            insert(t.dataset_snapshots),
            [
                {
                    "dataset_id": n + 1,
                    "version": 1,
                    "dataset_version_id": content,
                    "source": "",
                    "quality": "unchecked",
                    "rules_revision": None,
                    "created_at": now,
                    "created_by": "bench",
                }
                for n, content in enumerate(registered)
            ],
        )
    return {
        "models": models,
        "versions": versions,
        "contents": contents,
        "datasets": len(registered),
    }


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    fn()  # warm-up
    runs = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs), result


HAND_SQL = """
SELECT m.name, v.version, v.stage,
       CASE WHEN v.training_dataset_id = :c THEN 'training' ELSE 'evaluation' END,
       (SELECT group_concat(d.environment || ' (' || d.status || ')')
          FROM deployments d WHERE d.version_id = v.id)
FROM model_versions v JOIN models m ON m.id = v.model_id
WHERE v.training_dataset_id = :c OR v.evaluation_dataset_id = :c
ORDER BY m.name, v.version
"""


PANDERA_VENV = Path(__file__).resolve().parent / ".venv-pandera"
PANDERA_SPEC = ["pandera==0.35.0"]


def install_pandera() -> Path:
    """bench/.venv-pandera (git-ignored) with pandera and this environment's pandas, so the
    peer validates the same frame with the same pandas."""
    import subprocess

    import pandas as pd
    import pyarrow

    py = PANDERA_VENV / "bin" / "python"
    if not py.exists():
        print("creating bench/.venv-pandera", flush=True)
        subprocess.run(["python3.11", "-m", "venv", str(PANDERA_VENV)], check=True)
        subprocess.run(
            [
                str(py),
                "-m",
                "pip",
                "install",
                "-q",
                *PANDERA_SPEC,
                f"pandas=={pd.__version__}",
                f"pyarrow=={pyarrow.__version__}",
            ],
            check=True,
        )
    return py


def pandera_run(frame: Any, repeat: int, cutoff: dt.datetime) -> dict[str, Any]:
    """The same rules as a pandera schema, in its own process (bench/pandera_rules.py)."""
    import json
    import subprocess

    py = install_pandera()
    with tempfile.TemporaryDirectory(prefix="steward-bench-pandera-") as tmp:
        pickled = Path(tmp) / "frame.pkl"
        frame.to_pickle(pickled)
        done = subprocess.run(
            [
                str(py),
                str(Path(__file__).resolve().parent / "pandera_rules.py"),
                str(pickled),
                str(repeat),
                cutoff.isoformat(),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def rules_bench(rows: int, repeat: int) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.datasets.test_quality_rules import NOW, RULES, messy, pandas_counts

    from steward.domain import data_rules
    from steward.validation import data_rules as engine

    frame = messy(rows)
    parsed = data_rules.parse_rules(RULES, "rules.yaml")
    duck_ms, results = timed(lambda: engine.run(frame, parsed, source="r", now=NOW), repeat)
    pandas_ms, counts = timed(lambda: pandas_counts(frame), repeat)
    steward_counts = {r.rule: r.failing_rows for r in results}
    peer = pandera_run(frame, repeat, (NOW - dt.timedelta(days=30)).replace(tzinfo=None))
    return {
        "rows": rows,
        "duckdb_ms": duck_ms,
        "pandas_ms": pandas_ms,
        "same": steward_counts == counts,
        "pandera_ms": peer["ms"],
        "pandera_same": steward_counts == peer["counts"],
        "pandera_version": peer["pandera"],
        "counts": steward_counts,
        "pandera_counts": peer["counts"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--versions", type=int, default=100_000)
    parser.add_argument("--contents", type=int, default=20_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--no-write-md", action="store_true")
    parser.add_argument(
        "--pii",
        action="store_true",
        help="Only the personal-data scan (bench/pii_scan.py) on --pii-rows rows.",
    )
    parser.add_argument("--pii-rows", default="1000000,10000000")
    args = parser.parse_args()
    if args.pii:
        from bench.pii_scan import run

        sizes = [int(n) for n in args.pii_rows.split(",")]
        run(sizes, max(1, min(args.repeat, 3)), not args.no_write_md)
        return
    with tempfile.TemporaryDirectory(prefix="steward-bench-data-") as tmp:
        home = Path(tmp)
        ctx = bootstrap.build(
            Settings(
                home=home,
                database_url=f"sqlite:///{home / 'steward.db'}",
                artifacts_url=str(home / "artifacts"),
            ),
            migrate=True,
        )
        started = time.perf_counter()
        shape = populate(ctx, args.versions, args.contents)
        setup_s = time.perf_counter() - started
        cases = [("typical dataset version (ds-21@1)", "ds-21@1", 21)]
        cases.append(("hot dataset version, 2 % of versions (ds-1@1)", "ds-1@1", 1))
        measured = []
        raw = sqlite3.connect(home / "steward.db")
        for label, ref, content in cases:
            service_ms, impact = timed(
                lambda ref=ref: datasets.impact(ctx, OPERATOR_P, ref), args.repeat
            )
            hand_ms, hand = timed(
                lambda content=content: raw.execute(HAND_SQL, {"c": content}).fetchall(),
                args.repeat,
            )
            assert len(hand) == len(impact.models), (len(hand), len(impact.models))
            measured.append((label, len(impact.models), service_ms, hand_ms))
        raw.close()
        ctx.uow.engine.dispose()
    quality = rules_bench(args.rows, max(3, args.repeat // 5))
    load = os.getloadavg()
    met = quality["pandera_ms"] >= 10 * quality["duckdb_ms"]
    lines = [
        SECTION_TITLE,
        "",
        f"_Generated by `bench/data.py` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on "
        f"{cpu_model()}, load average {load[0]:.2f} / {load[1]:.2f} (other helpers share the "
        f"machine); Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}. "
        f"Store: {shape['models']:,} models, {shape['versions']:,} model versions, "
        f"{shape['contents']:,} dataset content rows, {shape['datasets']:,} registered "
        f"datasets (bulk-inserted in {setup_s:.1f} s, not measured). Medians of "
        f"{args.repeat} runs after a warm-up._",
        "",
        "`dataset impact` (target ≤ 50 ms) through `services.datasets.impact`, against the "
        "same answer by hand-written SQL on a raw `sqlite3` connection (the competent user "
        "with the database file). No peer tool answers this question, so no peer figure.",
        "",
        "| Query | Model versions found | Steward (ms) | Hand-written SQL (ms) | Ratio | ≤ 50 ms |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for label, found, service_ms, hand_ms in measured:
        lines.append(
            f"| {label} | {found:,} | {service_ms:.2f} | {hand_ms:.2f} | "
            f"{service_ms / hand_ms:.1f}x | {'yes' if service_ms <= TARGET_MS else 'no'} |"
        )
    lines += [
        "",
        f"Quality rules (7 rules: not_null, unique, range, allowed_values, regex, freshness, "
        f"row_count) on {quality['rows']:,} rows x 5 columns, medians of "
        f"{max(3, args.repeat // 5)} runs after a warm-up each: DuckDB "
        f"`validation.data_rules.run` {quality['duckdb_ms']:.0f} ms (counts, plus up to 5 "
        f"sample rows per failing rule); pandera {quality['pandera_version']} "
        f"(`DataFrameSchema.validate(lazy=True)`, bench/pandera_rules.py, in "
        f"bench/.venv-pandera with the same pandas) {quality['pandera_ms']:.0f} ms — Steward "
        f"{quality['pandera_ms'] / quality['duckdb_ms']:.1f}x faster than pandera "
        f"(target ≥ 10x: {'met' if met else 'NOT met'}); "
        f"the same rules hand-written in pandas {quality['pandas_ms']:.0f} ms (counts only) — "
        f"{quality['pandas_ms'] / quality['duckdb_ms']:.1f}x. Failing-row counts: pandas "
        f"{'identical' if quality['same'] else 'DIFFERENT'}, pandera "
        f"{'identical' if quality['pandera_same'] else 'DIFFERENT'} "
        f"({', '.join(f'{k} {v:,}' for k, v in quality['counts'].items())}). The machine is "
        "shared by 8 people (2 cores): figures measured under that load.",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write_md:
        replace_section(SECTION_TITLE, section)


if __name__ == "__main__":
    main()
