"""Personal-data scan benchmark (run through ``bench/data.py --pii``): the scan of a
Parquet file of N rows x 30 columns, time and peak memory (VmHWM), each measurement in a
fresh process so the peak is that scan's alone.

Modes, each a warm-up and ``--repeat`` timed scans in one child process:

- ``steward``: ``steward.validation.personal_data.scan`` on the file opened as an Arrow
  dataset (DuckDB reads it; only the random sample of 100 000 rows stays in memory).
- ``steward-pandas``: the same scan on the file read into pandas first (what
  ``dataset snapshot`` holds in memory anyway), 1 M rows only.
- ``python``: the baseline a hand-written scan would be — the same random
  sample, then each pattern checked with ``re.fullmatch`` value by value in Python (the
  check digits with the same numpy validators), 1 M rows only.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NOW = datetime(2026, 12, 7, tzinfo=UTC)
CHUNK = 1_000_000


def _pools() -> dict[str, list[str]]:
    """A thousand valid values per personal-data column (check digits computed)."""
    import random

    from steward.validation import personal_data as pii

    rng = random.Random(16)
    letters = "ABCDEFGHJKLMNPQRSTUVXYWZIO"

    def with_check(prefix_fn: Any, validator: Any, digits: int = 10) -> list[str]:
        out: list[str] = []
        while len(out) < 1000:
            stem = prefix_fn()
            candidates = [stem + str(d) for d in range(digits)]
            ok = validator(candidates)
            out.extend(c for c, good in zip(candidates, ok, strict=True) if good)
        return out[:1000]

    def card_stem() -> str:
        return "4" + "".join(rng.choice("0123456789") for _ in range(14))

    ids = with_check(
        lambda: rng.choice(letters) + rng.choice("12") + "".join(rng.choices("0123456789", k=7)),
        pii.tw_national_id,
    )
    arcs = with_check(
        lambda: (
            rng.choice(letters) + rng.choice("ABCD89") + "".join(rng.choices("0123456789", k=7))
        ),
        pii.tw_resident_id,
    )
    cards = with_check(card_stem, pii.luhn)
    ibans = []
    for i in range(1000):
        account = f"37040044{i:010d}"
        check = 98 - int("".join(str(int(c, 36)) for c in account + "DE00")) % 97
        ibans.append(f"DE{check:02d}{account}")
    return {
        "email": [f"user{i}@example.com" for i in range(1000)],
        "mobile": [
            f"09{rng.randint(10, 99)}-{rng.randint(100, 999)}-{rng.randint(100, 999)}"
            for _ in range(1000)
        ],
        "landline": [
            f"(02){rng.randint(2000, 2999)}-{rng.randint(1000, 9999)}" for _ in range(1000)
        ],
        "national_id": ids,
        "arc_no": arcs,
        "card_number": cards,
        "iban": ibans,
        "ipv4": [f"10.{i // 256 % 256}.{i % 256}.{rng.randint(1, 254)}" for i in range(1000)],
        "ipv6": [f"fe80::{i:x}:{rng.randint(1, 65535):x}" for i in range(1000)],
        "date_of_birth": [
            f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            for _ in range(1000)
        ],
        "full_name": [f"Person {i}" for i in range(1000)],
        "home_address": [f"{i} Zhongshan Rd, Taipei" for i in range(1000)],
        "diagnosis": [f"J{i % 100:02d}" for i in range(1000)],
        "religion": ["佛教", "道教", "christian", "none"] * 250,
    }


def make_parquet(path: Path, rows: int) -> None:
    """rows x 30 columns: 14 personal-data columns (valid values), 16 others."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    pools = {k: pa.array(v) for k, v in _pools().items()}
    rng = np.random.default_rng(16)
    writer = None
    done = 0
    while done < rows:
        n = min(CHUNK, rows - done)
        columns: dict[str, Any] = {
            k: pool.take(pa.array(rng.integers(0, 1000, n))) for k, pool in pools.items()
        }
        for i in range(8):
            columns[f"feature_{i}"] = pa.array(rng.normal(size=n))
        for i in range(4):
            columns[f"count_{i}"] = pa.array(rng.integers(0, 1000, n))
        for i in range(4):
            columns[f"segment_{i}"] = pa.array(
                np.array(["a", "b", "c", "d"])[rng.integers(0, 4, n)]
            )
        table = pa.table(columns)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        done += n
    assert writer is not None
    writer.close()


def _vmhwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _python_scan(path: Path) -> int:
    """The baseline: the same sample (every column), then ``re.fullmatch`` value by value."""
    import pyarrow.dataset as ds

    from steward.domain.personal_data import CHECKED, PATTERNS, SAMPLE_ROWS
    from steward.validation import personal_data as pii
    from steward.validation.data_rules import _connect

    dataset = ds.dataset(str(path))
    con = _connect(dataset)
    table = pii._draw(con, dataset, dataset.schema.names, dataset.count_rows(), SAMPLE_ROWS)
    con.close()
    compiled = {c: re.compile(p) for c, p in PATTERNS.items()}
    found = 0
    for name in table.column_names:
        values = [str(v).strip() for v in table.column(name).to_pylist() if v is not None]
        for category, pattern in compiled.items():
            matched = [v for v in values if pattern.fullmatch(v)]
            if category in CHECKED and matched:
                found += int(pii.VALIDATORS[category](matched).sum())
            else:
                found += len(matched)
    return found


def child(mode: str, path: Path, repeat: int) -> None:
    import pyarrow.dataset as ds

    from steward.validation import personal_data as pii

    def once() -> Any:
        if mode == "steward":
            return pii.scan(ds.dataset(str(path)), NOW)
        if mode == "steward-pandas":
            import pandas as pd

            return pii.scan(pd.read_parquet(path), NOW)
        return _python_scan(path)

    result = once()  # warm-up
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = once()
        runs.append(time.perf_counter() - start)
    personal = sum(1 for s in result if s.detections) if isinstance(result, list) else int(result)
    print(json.dumps({"s": statistics.median(runs), "vmhwm_mib": _vmhwm_mib(), "found": personal}))


def measure(mode: str, path: Path, repeat: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), str(repeat)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    child(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))


SECTION_TITLE = "## Personal-data scan (pii)"


def run(sizes: list[int], repeat: int, write_md: bool) -> str:
    """Generate the files, measure each mode in its own process, write the section."""
    import datetime as dt
    import os
    import platform
    import tempfile

    import duckdb
    import numpy
    from bench.report import cpu_model, replace_section

    rows_out = []
    with tempfile.TemporaryDirectory(prefix="steward-bench-pii-") as tmp:
        for rows in sizes:
            path = Path(tmp) / f"pii-{rows}.parquet"
            started = time.perf_counter()
            make_parquet(path, rows)
            made = time.perf_counter() - started
            modes = ["steward"] + (["steward-pandas", "python"] if rows <= 1_000_000 else [])
            for mode in modes:
                got = measure(mode, path, repeat)
                rows_out.append((rows, mode, got, made, path.stat().st_size))
                print(rows, mode, got, flush=True)
    load = os.getloadavg()
    lines = [
        SECTION_TITLE,
        "",
        f"_Generated by `bench/data.py --pii` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC "
        f"on {cpu_model()}, 2 cores, load average {load[0]:.2f} / {load[1]:.2f}: measured "
        f"under load (7 other jobs share the machine). Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}, numpy {numpy.__version__}. Each figure: one child "
        f"process, a warm-up scan, then the median of {repeat} timed scans; peak memory is "
        "the process's VmHWM (warm-up included)._",
        "",
        "Data: a Parquet file of N rows x 30 columns — 14 personal-data columns (e-mail, "
        "Taiwanese mobile and landline numbers, national IDs and resident certificate numbers "
        "with valid check digits, Luhn-valid cards, IBANs, IPv4, IPv6, dates of birth, names, "
        "addresses, a diagnosis code, religion) and 16 others (8 float, 4 integer, 4 "
        "categorical). The scan reads a simple random sample of 100 000 rows "
        "([docs/datasets.md](docs/datasets.md#personal-data)), so beyond that size the cost "
        "is reading the file once.",
        "",
        "| Rows | Scan | Time (s) | Peak memory (MiB) | Columns with personal data found |",
        "|---:|---|---:|---:|---:|",
    ]
    names = {
        "steward": "Steward, file opened as an Arrow dataset (streamed)",
        "steward-pandas": "Steward, file read into pandas first (as `dataset snapshot` holds it)",
        "python": "baseline: same sample, `re.fullmatch` per value in Python",
    }
    base = {r: g["s"] for r, m, g, _, _ in rows_out if m == "python"}
    for rows, mode, got, _, _ in rows_out:
        ratio = (
            f" ({base[rows] / got['s']:.1f}x faster than the baseline)"
            if (mode == "steward" and rows in base)
            else ""
        )
        lines.append(
            f"| {rows:,} | {names[mode]}{ratio} | {got['s']:.1f} | {got['vmhwm_mib']:.0f} | "
            f"{got['found'] if mode != 'python' else '—'} |"
        )
    lines += [
        "",
        "The baseline counts the same patterns on the same sample (its check digits use the "
        "same numpy validators), so the ratio is DuckDB's guarded, vectorised pattern "
        "counting against a Python loop. On this loaded machine a scan of the 100 000-row "
        "sample is dominated by the regular expressions (about 1 µs per value and pattern "
        "measured under load). Compare the 10 M-row line with the issue's budget (snapshot + "
        "scan + 20 rules of 10 M rows ≤ 15 s and ≤ 1.5 GiB).",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    if write_md:
        replace_section(SECTION_TITLE, section)
    return section
