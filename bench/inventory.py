"""Inventory benchmark: listing and filtering 100 000 models in an embedded SQLite store.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/inventory.py                 # 100 000 models, updates BENCHMARKS.md
    .venv/bin/python bench/inventory.py --models 20000 --no-write-md   # a quicker look

Setup is NOT what is measured and does not go through the service layer: the models, their
labels and their versions are bulk-inserted with SQLAlchemy Core executemany in one transaction
(the audited ``create_model`` path would take minutes and is measured by bench/registry.py).
Everything measured goes through the service layer (``steward.services.models.list_models``),
exactly as the SDK, CLI and REST API call it: a read unit of work, the query, the tags of the
page, entity construction. Each query runs ``--repeat`` times after one warm-up run; the report
gives the median and the 95th percentile. A query slower than 50 ms (median) is reported with
SQLite's EXPLAIN QUERY PLAN of the statement the repository actually sent.

The result is printed as Markdown and replaces the "Inventory at 100 k models" section of
BENCHMARKS.md (other sections of that file are left as they are).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert

from steward import bootstrap
from steward.domain.entities import Model, Page
from steward.domain.permissions import OPERATOR, Principal
from steward.services import models as model_service
from steward.services.context import Context
from steward.settings import Settings
from steward.store import tables as t
from steward.store.models_repo import search_text

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS_MD = REPO / "BENCHMARKS.md"
SECTION_TITLE = "## Inventory at 100 k models (bench/inventory.py)"
SLOW_MS = 50.0
PAGE = 100

OWNERS = 1000  # ~100 models each
TEAMS = 40  # ~2 500 models each
TAGS = 300  # 1-3 labels per model
RISK = ["unassessed", "low", "medium", "high", "critical"]
RISK_WEIGHTS = [30, 30, 25, 12, 3]
CATEGORIES = ["unassessed", "minimal", "limited", "high", "prohibited"]
CATEGORY_WEIGHTS = [40, 30, 20, 9.9, 0.1]
STATUSES = ["active", "proposed", "retired"]
STATUS_WEIGHTS = [80, 10, 10]
# Every model has 1-3 versions; stages of the non-development ones:
STAGES = ["development", "validation", "approved", "production", "deprecated", "retired"]
STAGE_WEIGHTS = [55, 15, 5, 15, 5, 5]
DOMAINS = ["credit", "fraud", "churn", "pricing", "marketing", "risk", "ops", "claims", "kyc"]
COMMON_WORD = "forecast"  # in ~10 % of descriptions
RARE_WORD = "quasar"  # in ~0.1 % of descriptions
VOCABULARY_SIZE = 3000


# --------------------------------------------------------------------------------------------
# Setup (bulk insert, not measured)


def _words(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    found: set[str] = set()
    while len(found) < VOCABULARY_SIZE:
        found.add("".join(rng.choice(letters) for _ in range(rng.randint(4, 9))))
    found -= {COMMON_WORD, RARE_WORD}
    return sorted(found)


def populate(ctx: Context, count: int, seed: int = 42) -> dict[str, int]:
    """Bulk-insert ``count`` models with labels and versions in one transaction."""
    rng = random.Random(seed)
    words = _words(rng)
    now = dt.datetime.now(dt.UTC)
    order = list(range(count))
    rng.shuffle(order)  # insertion (rowid) order is not name order
    model_rows: list[dict[str, Any]] = []
    for i in order:
        domain = rng.choice(DOMAINS)
        description = rng.sample(words, rng.randint(8, 20))
        if rng.random() < 0.10:
            description.insert(rng.randrange(len(description)), COMMON_WORD)
        if rng.random() < 0.001:
            description.insert(rng.randrange(len(description)), RARE_WORD)
        model_rows.append(
            {
                "name": f"{domain}-{rng.choice(words)}-{i:06d}",
                "title": f"{domain.title()} {rng.choice(words)} model {i}",
                "description": " ".join(description),
                "purpose": f"Supports {rng.choice(words)} decisions in {domain}",
                "business_unit": rng.choice(["Retail", "Corporate", "Insurance", "Treasury"]),
                "owner": f"user{rng.randrange(OWNERS):04d}",
                "team": f"team{rng.randrange(TEAMS):02d}",
                "risk_tier": rng.choices(RISK, RISK_WEIGHTS)[0],
                "regulatory_category": rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0],
                "status": rng.choices(STATUSES, STATUS_WEIGHTS)[0],
                "allow_multiple_production": False,
                "created_at": now,
                "created_by": "bench",
                "updated_at": now,
                "latest_version": rng.randint(1, 3),
            }
        )
    with ctx.uow.write() as uow:
        conn = uow.conn
        for row in model_rows:  # what the repository computes on every insert
            row["search_text"] = search_text(row)
        conn.execute(insert(t.models), model_rows)
        ids = dict(
            conn.execute(t.models.select().with_only_columns(t.models.c.name, t.models.c.id)).all()
        )
        tag_rows: list[dict[str, Any]] = []
        version_rows: list[dict[str, Any]] = []
        for row in model_rows:
            mid = ids[row["name"]]
            for tag in rng.sample(range(TAGS), rng.randint(1, 3)):
                tag_rows.append({"model_id": mid, "tag": f"label-{tag:03d}"})
            n_versions = row["latest_version"]
            for number in range(1, n_versions + 1):
                stage = (
                    rng.choices(STAGES, STAGE_WEIGHTS)[0] if number < n_versions else "development"
                )
                version_rows.append(
                    {
                        "model_id": mid,
                        "version": number,
                        "stage": stage,
                        "artifact_sha256": f"{mid:032x}{number:032x}",
                        "artifact_size": 1024,
                        "artifact_flavor": "other",
                        "artifact_filename": "model.bin",
                        "artifact_is_directory": False,
                        "description": "",
                        "params": {},
                        "metrics": {},
                        "created_at": now,
                        "created_by": "bench",
                        "stage_changed_at": now,
                    }
                )
        conn.execute(insert(t.model_tags), tag_rows)
        conn.execute(insert(t.model_versions), version_rows)
        conn.exec_driver_sql("ANALYZE")
        uow.commit()
    return {"models": count, "labels": len(tag_rows), "versions": len(version_rows)}


# --------------------------------------------------------------------------------------------
# Measurement (service layer)


@dataclass
class Result:
    name: str
    filters: dict[str, Any]
    rows: int
    samples_ms: list[float] = field(default_factory=list)
    statement: tuple[str, Any] | None = None
    plan: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@contextmanager
def capture_search_sql(ctx: Context) -> Iterator[list[tuple[str, Any]]]:
    """Record the statements sent while the block runs (to EXPLAIN the slow ones)."""
    seen: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    event.listen(ctx.uow.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(ctx.uow.engine, "before_cursor_execute", before)


def explain(db_path: Path, statement: tuple[str, Any]) -> list[str]:
    sql, params = statement
    with closing(sqlite3.connect(db_path)) as conn:
        rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    depth: dict[int, int] = {0: -1}
    out = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        out.append("  " * depth[node] + detail)
    return out


def measure(
    ctx: Context,
    principal: Principal,
    name: str,
    filters: dict[str, Any],
    repeat: int,
) -> Result:
    def call() -> Page[Model]:
        return model_service.list_models(ctx, principal, limit=PAGE, **filters)

    with capture_search_sql(ctx) as seen:
        page = call()  # warm-up, and the statement to explain
    statement = next((s for s in seen if "FROM models" in s[0] and "LIMIT" in s[0]), None)
    result = Result(name, filters, len(page.items), statement=statement)
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        result.samples_ms.append((time.perf_counter() - start) * 1000)
    return result


def cursor_for_page(ctx: Context, principal: Principal, number: int) -> str:
    """Walk the keyset pages once to get the cursor that opens page ``number``."""
    cursor: str | None = None
    for _ in range(number - 1):
        page = model_service.list_models(ctx, principal, limit=PAGE, cursor=cursor)
        assert page.next_cursor is not None, "not enough models for that page"
        cursor = page.next_cursor
    assert cursor is not None
    return cursor


def scenarios(ctx: Context, principal: Principal, models: int) -> list[tuple[str, dict[str, Any]]]:
    deep = min(500, max(2, models // PAGE // 2))  # page 500 of 1 000 at 100 k models
    return [
        ("first page, no filter", {}),
        (f"page {deep} (keyset cursor)", {"cursor": cursor_for_page(ctx, principal, deep)}),
        ("owner (~100 matches)", {"owner": "user0420"}),
        ("team (~2 500 matches)", {"team": "team07"}),
        ("risk_tier=critical (~3 %)", {"risk_tier": "critical"}),
        ("risk_tier=medium (~25 %)", {"risk_tier": "medium"}),
        ("regulatory_category=prohibited (~0.1 %)", {"regulatory_category": "prohibited"}),
        ("status=retired (~10 %)", {"status": "retired"}),
        ("tag (~0.7 %)", {"tag": "label-123"}),
        ("tag that no model has", {"tag": "label-none"}),
        ("stage=production (any version)", {"stage": "production"}),
        ("stage=approved (any version)", {"stage": "approved"}),
        ("stage=under_review (no version)", {"stage": "under_review"}),
        (f"q={COMMON_WORD!r} (~10 %)", {"q": COMMON_WORD}),
        (f"q={RARE_WORD!r} (~0.1 %)", {"q": RARE_WORD}),
        ("team + risk_tier=high", {"team": "team07", "risk_tier": "high"}),
        ("owner + stage=production", {"owner": "user0420", "stage": "production"}),
    ]


# --------------------------------------------------------------------------------------------
# Report


def render(results: list[Result], meta: dict[str, Any]) -> str:
    out = [SECTION_TITLE, ""]
    out.append(
        f"_Generated by `bench/inventory.py` on {meta['when']} UTC: {meta['models']:,} models, "
        f"{meta['labels']:,} labels, {meta['versions']:,} versions in an embedded SQLite store "
        f"(setup by bulk insert in {meta['setup_s']:.1f} s, not measured). Each query is "
        f"`steward.services.models.list_models(limit={PAGE})` through the service layer, "
        f"{meta['repeat']} runs after one warm-up. {meta['machine']}._"
    )
    out += ["", "| Query | Rows | Median (ms) | p95 (ms) | ≤ 50 ms |", "|---|---:|---:|---:|---|"]
    for r in results:
        ok = "yes" if r.median <= SLOW_MS else "**no**"
        out.append(f"| {r.name} | {r.rows} | {r.median:.2f} | {r.p95:.2f} | {ok} |")
    slow = [r for r in results if r.median > SLOW_MS]
    if slow:
        out += [
            "",
            "Queries slower than 50 ms (median), with SQLite's plan for the statement sent:",
        ]
        for r in slow:
            out += ["", f"* {r.name}: {r.median:.1f} ms", "", "  ```"]
            out += [f"  {line}" for line in r.plan] + ["  ```"]
    else:
        out += ["", "Every query's median is under 50 ms."]
    return "\n".join(out) + "\n"


def update_benchmarks_md(section: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace this benchmark's section (or append it); re-read the file just before writing."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == SECTION_TITLE), None)
    if start is None:
        new_text = text.rstrip("\n") + "\n\n" + section
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        rest = "".join(lines[end:])
        new_text = "".join(lines[:start]) + section + ("\n" + rest if rest else "")
    path.write_text(new_text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--no-write-md", action="store_true", help="do not touch BENCHMARKS.md")
    parser.add_argument(
        "--explain-all", action="store_true", help="print every query's plan to stderr"
    )
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="steward-bench-inventory-"))
    try:
        settings = Settings(
            home=home,
            database_url=f"sqlite:///{home / 'steward.db'}",
            artifacts_url=str(home / "artifacts"),
        )
        ctx = bootstrap.build(settings, migrate=True)
        principal = Principal(name="bench", roles=frozenset({OPERATOR}))
        start = time.perf_counter()
        counts = populate(ctx, args.models)
        setup_s = time.perf_counter() - start
        print(
            f"setup: {counts['models']:,} models, {counts['labels']:,} labels, "
            f"{counts['versions']:,} versions in {setup_s:.1f} s (bulk insert, not measured)",
            file=sys.stderr,
        )
        results = []
        for name, filters in scenarios(ctx, principal, args.models):
            result = measure(ctx, principal, name, filters, args.repeat)
            if result.statement is not None and (result.median > SLOW_MS or args.explain_all):
                result.plan = explain(home / "steward.db", result.statement)
            results.append(result)
            print(f"  {name}: {result.median:.2f} ms ({result.rows} rows)", file=sys.stderr)
            if args.explain_all:
                print("\n".join(f"      {line}" for line in result.plan), file=sys.stderr)
        ctx.uow.engine.dispose()
        meta = {
            **counts,
            "setup_s": setup_s,
            "repeat": args.repeat,
            "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
            "machine": (
                f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
                f"{platform.system()} {platform.machine()}"
            ),
        }
        section = render(results, meta)
        print(section)
        if not args.no_write_md:
            update_benchmarks_md(section)
            print(f"updated {BENCHMARKS_MD} ({SECTION_TITLE})", file=sys.stderr)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
