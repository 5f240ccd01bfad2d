"""The personal-data scan: each category's pattern as a DuckDB prefilter over a sample of
the rows, check digits validated vectorised with numpy (docs/datasets.md, "Personal data").

Why by hand: no maintained library validates these offline. Microsoft Presidio's pattern
recognizers run inside its analyzer, which loads a spaCy language model (a download), and
it has no recognizer for Taiwanese ID numbers or phones; python-stdnum validates one
string at a time in Python. The rules here are small, each tested with real-format
numbers (tests/validation/test_personal_data_validators.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from steward.domain.personal_data import (
    CHECKED,
    EXAMPLES,
    GUARDS,
    MIN_SHARE,
    PATTERNS,
    SAMPLE_ROWS,
    VALUE_WORDS,
    Category,
    ColumnScan,
    Detection,
    hinted,
    mask,
)
from steward.validation.data_rules import RELATION, _arrow, _connect, literal, quote

SAMPLE = "pii_sample"
SEED = 16  # a repeatable sample: the same rows give the same scan

# Letter → two-digit code of Taiwan's ID numbers (I, O, W, X, Y, Z out of sequence).
_AREA = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36), strict=True))
_AREA_CODE = np.zeros(256, dtype=np.int64)
for _letter, _code in _AREA.items():
    _AREA_CODE[ord(_letter)] = _code
_ID_WEIGHTS = np.array([7, 6, 5, 4, 3, 2, 1, 1], dtype=np.int64)


def _matrix(values: Sequence[str], width: int) -> np.ndarray:
    """Equal-length ASCII strings as an (n, width) byte matrix: one buffer, no row loop."""
    if not values:
        return np.zeros((0, width), dtype=np.uint8)
    joined = "".join(values).encode("ascii", "replace")
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(values), width)


def _ten(values: Sequence[str], second: str) -> tuple[np.ndarray, np.ndarray]:
    """Which values have the shape LETTER, one of ``second``, eight digits; and all of them
    as a byte matrix (misshapen ones replaced, so the arithmetic stays vectorised)."""
    upper = [str(v).strip().upper() for v in values]
    pattern = re.compile(f"[A-Z][{second}][0-9]{{8}}")
    ok = np.array([pattern.fullmatch(v) is not None for v in upper], dtype=bool)
    shaped = [v if good else "A000000000" for v, good in zip(upper, ok, strict=True)]
    return ok, _matrix(shaped, 10)


def _tw_checksum(chars: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The check shared by Taiwanese ID numbers: the letter's code as two digits weighted 1
    and 9, the second position weighted 8, the next seven digits 7..1, the check digit 1;
    the sum is a multiple of 10."""
    code = _AREA_CODE[chars[:, 0]]
    digits = chars[:, 2:].astype(np.int64) - 48
    total = code // 10 + (code % 10) * 9 + second * 8 + digits @ _ID_WEIGHTS
    ok: np.ndarray = (total % 10 == 0) & (code > 0)
    return ok


def tw_national_id(values: Sequence[str]) -> np.ndarray:
    """Taiwan national ID numbers (A123456789): area letter, sex digit 1 or 2, checksum."""
    ok, chars = _ten(values, "12")
    valid: np.ndarray = ok & _tw_checksum(chars, chars[:, 1].astype(np.int64) - 48)
    return valid


def tw_resident_id(values: Sequence[str]) -> np.ndarray:
    """Taiwan resident certificate (ARC / UI) numbers: the old format's second character is
    a letter A-D (the last digit of its code counts), the new format's (since 2021) 8 or 9;
    the checksum is the national ID's."""
    ok, chars = _ten(values, "ABCD89")
    raw = chars[:, 1].astype(np.int64)
    second = np.where(raw >= 65, _AREA_CODE[chars[:, 1]] % 10, raw - 48)
    valid: np.ndarray = ok & _tw_checksum(chars, second)
    return valid


def luhn(values: Sequence[str]) -> np.ndarray:
    """Payment card numbers (12-19 digits; spaces or dashes allowed): the Luhn check,
    one matrix per length."""
    digits = [re.sub(r"[ \-]", "", str(v)) for v in values]
    out = np.zeros(len(digits), dtype=bool)
    lengths = np.array([len(d) if d.isascii() and d.isdigit() else 0 for d in digits])
    for length in range(12, 20):
        rows = np.flatnonzero(lengths == length)
        if not rows.size:
            continue
        m = _matrix([digits[i] for i in rows], length).astype(np.int64) - 48
        # Every second digit from the right doubled; a doubled digit above 9 loses 9.
        doubled = (np.arange(length)[::-1] % 2) == 1
        m[:, doubled] *= 2
        m[m > 9] -= 9
        out[rows] = m.sum(axis=1) % 10 == 0
    return out


def iban(values: Sequence[str]) -> np.ndarray:
    """IBANs (ISO 13616): the first four characters moved to the end, letters read as
    10..35, the number is 1 mod 97 — reduced column by column, one matrix per length."""
    compact = [re.sub(r"\s", "", str(v)).upper() for v in values]
    out = np.zeros(len(compact), dtype=bool)
    lengths = np.array(
        [
            len(c) if c.isascii() and c.isalnum() and c[:2].isalpha() and c[2:4].isdigit() else 0
            for c in compact
        ]
    )
    for length in range(15, 35):
        rows = np.flatnonzero(lengths == length)
        if not rows.size:
            continue
        m = _matrix([compact[i][4:] + compact[i][:4] for i in rows], length).astype(np.int64)
        value = np.where(m >= 65, m - 55, m - 48)
        rem = np.zeros(rows.size, dtype=np.int64)
        for col in range(length):
            v = value[:, col]
            rem = np.where(v >= 10, (rem * 100 + v) % 97, (rem * 10 + v) % 97)
        out[rows] = rem == 1
    return out


VALIDATORS = {
    Category.TW_NATIONAL_ID: tw_national_id,
    Category.TW_RESIDENT_ID: tw_resident_id,
    Category.PAYMENT_CARD: luhn,
    Category.IBAN: iban,
}


def _kind(type_name: str) -> str:
    upper = type_name.upper()
    if upper.startswith(("VARCHAR", "STRING", "TEXT")):
        return "text"
    if upper in ("BIGINT", "HUGEINT", "UBIGINT", "INTEGER", "UINTEGER", "DECIMAL(38,0)"):
        return "integer"
    if upper.startswith(("DATE", "TIMESTAMP")):
        return "date"
    return "other"


def scan(frame: Any, now: datetime, *, sample_rows: int = SAMPLE_ROWS) -> list[ColumnScan]:
    """One :class:`ColumnScan` per column of ``frame`` (pandas, Arrow table or dataset).

    One query draws the sample (only the columns that can show anything: text, integers,
    dates, and any column whose name is a hint), one query counts every pattern of every
    column on it; each pattern is guarded by a cheap test (length, a character), so the
    regular expression only runs on values that can match."""
    frame = _arrow(frame)
    con = _connect(frame)
    try:
        rows = _row_count(con, frame)
        described = con.execute(f"DESCRIBE SELECT * FROM {RELATION}").fetchall()
        kinds = {str(name): _kind(str(type_name)) for name, type_name, *_ in described}
        hints = {c: hinted(c) for c in kinds}
        wanted = [c for c, k in kinds.items() if k != "other" or hints[c]]
        plans = {c: _plan(c, kinds[c], hints[c], now) for c in wanted}
        counts: dict[str, list[int]] = {}
        if wanted:
            con.register(SAMPLE, _draw(con, frame, wanted, rows, sample_rows))
            listed = [expr for c in wanted for _, expr in plans[c]]
            got = con.execute(f"SELECT {', '.join(listed)} FROM {SAMPLE}").fetchone()
            flat = [int(x or 0) for x in got] if got else [0] * len(listed)
            at = 0
            for c in wanted:
                counts[c] = flat[at : at + len(plans[c])]
                at += len(plans[c])
        return [_column(con, c, hints[c], plans.get(c, []), counts.get(c), rows) for c in kinds]
    finally:
        con.close()


def _row_count(con: Any, frame: Any) -> int:
    """The rows of ``frame``: a Parquet dataset's from its footers (DuckDB's count over a
    registered Arrow dataset reads every batch), anything else by DuckDB."""
    import pyarrow.dataset as ds

    if isinstance(frame, ds.Dataset):
        return int(frame.count_rows())
    counted = con.execute(f"SELECT count(*) FROM {RELATION}").fetchone()
    return int(counted[0]) if counted else 0


def positions(rows: int, sample_rows: int) -> np.ndarray:
    """The sampled row positions: a simple random sample without replacement, seeded (the
    same rows give the same sample), in file order."""
    chosen = np.random.default_rng(SEED).choice(rows, size=sample_rows, replace=False)
    return np.sort(chosen)


def _local_parquet(frame: Any) -> list[str] | None:
    """The files of an unpartitioned Parquet dataset on the local disk, else None."""
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

    if not isinstance(frame, ds.FileSystemDataset):
        return None
    if not isinstance(frame.format, ds.ParquetFileFormat):
        return None
    if not isinstance(frame.filesystem, pafs.LocalFileSystem):
        return None
    fragments = list(frame.get_fragments())
    if any(str(f.partition_expression) != "true" for f in fragments):
        return None
    return [str(f.path) for f in fragments]


def _draw(con: Any, frame: Any, wanted: list[str], rows: int, sample_rows: int) -> Any:
    """The sample of ``wanted`` as an Arrow table: every row when there are at most
    ``sample_rows``; else the rows at :func:`positions` — taken by position from an
    in-memory table, read by ``file_row_number`` from local Parquet files (DuckDB decodes
    the pages but keeps only the sampled rows; no reservoir of wide rows), and for other
    sources DuckDB's seeded reservoir sample."""
    import pyarrow as pa

    listed = ", ".join(quote(c) for c in wanted)
    if rows <= sample_rows:
        return con.sql(f"SELECT {listed} FROM {RELATION}").to_arrow_table()
    chosen = positions(rows, sample_rows)
    if isinstance(frame, pa.Table):
        return frame.select(wanted).take(pa.array(chosen))
    files = _local_parquet(frame)
    if files is None:
        return con.sql(
            f"SELECT {listed} FROM {RELATION} "
            f"USING SAMPLE reservoir({int(sample_rows)} ROWS) REPEATABLE ({SEED})"
        ).to_arrow_table()
    from steward.monitoring._duckdb import new_connection

    reader = new_connection()
    try:
        reader.execute("SET enable_progress_bar = false")
        parts = []
        start = 0
        for path, fragment in zip(files, frame.get_fragments(), strict=True):
            count = int(fragment.count_rows())
            local = chosen[(chosen >= start) & (chosen < start + count)] - start
            start += count
            if not local.size:
                continue
            reader.register("sampled_rows", pa.table({"position": local}))
            parts.append(
                reader.sql(
                    f"SELECT {listed} FROM read_parquet({literal(path)}, file_row_number = true) "
                    "WHERE file_row_number IN (SELECT position FROM sampled_rows)"
                ).to_arrow_table()
            )
            reader.unregister("sampled_rows")
        return pa.concat_tables(parts)
    finally:
        reader.close()


def _value(column: str) -> str:
    return f"trim(CAST({quote(column)} AS VARCHAR))"


def _plan(column: str, kind: str, hints: set[Category], now: datetime) -> list[tuple[Any, str]]:
    """What to count in a column: (key, aggregate) — key "" is the non-empty values."""
    value = _value(column)
    if kind == "other":
        return [("", f"count({quote(column)})")]
    plan: list[tuple[Any, str]] = [("", f"count(*) FILTER (WHERE {value} <> '')")]
    patterns = (
        list(PATTERNS) if kind == "text" else [Category.PAYMENT_CARD] if kind == "integer" else []
    )
    plan += [(c, f"count(*) FILTER (WHERE {_match(c, value)})") for c in patterns]
    if kind == "text":
        plan += [
            (c, f"count(*) FILTER (WHERE lower({value}) IN ({', '.join(map(literal, words))}))")
            for c, words in VALUE_WORDS.items()
        ]
    if Category.DATE_OF_BIRTH in hints and kind in ("text", "date"):
        when = f"TRY_CAST({value} AS DATE)" if kind == "text" else f"CAST({quote(column)} AS DATE)"
        plan.append(
            (
                Category.DATE_OF_BIRTH,
                f"count(*) FILTER (WHERE year({when}) BETWEEN {now.year - 120} AND {now.year})",
            )
        )
    return plan


def _match(category: Category, value: str) -> str:
    """The category's pattern, behind its cheap necessary condition."""
    return (
        f"({GUARDS[category].format(v=value)}) "
        f"AND regexp_full_match({value}, {literal(PATTERNS[category])})"
    )


def _column(
    con: Any,
    column: str,
    hints: set[Category],
    plan: list[tuple[Any, str]],
    counts: list[int] | None,
    rows: int,
) -> ColumnScan:
    counts = counts or [0] * len(plan)
    sampled = counts[0] if counts else 0
    matched: dict[Category, int] = {
        key: count for (key, _), count in zip(plan[1:], counts[1:], strict=True)
    }
    value = _value(column)
    examples: dict[Category, list[str]] = {}
    for category in CHECKED:
        count = matched.get(category, 0)
        if count and (count >= MIN_SHARE * sampled or category in hints):
            found = con.execute(
                f"SELECT {value} FROM {SAMPLE} WHERE {_match(category, value)}"
            ).fetchall()
            candidates = [str(r[0]) for r in found]
            valid = VALIDATORS[category](candidates)
            matched[category] = int(valid.sum())
            examples[category] = [c for c, ok in zip(candidates, valid, strict=True) if ok]
        elif category not in hints:
            matched.pop(category, None)
    detections: list[Detection] = []
    for category in set(matched) | hints:
        if category not in matched:  # evidence by the column's name alone
            detections.append(Detection(category, 1.0 if sampled else 0.0, sampled, "name"))
            continue
        count = matched[category]
        share = round(count / sampled, 4) if sampled else 0.0
        if share >= MIN_SHARE:
            evidence = "name+values" if category in hints else "values"
            detections.append(Detection(category, share, count, evidence))
        elif category in hints:
            detections.append(Detection(category, share, count, "name"))
    detections.sort(key=lambda d: (-d.share, d.category.value))
    return ColumnScan(
        column=column,
        sampled=sampled,
        rows=rows,
        detections=detections,
        examples=_examples(con, column, value, detections, examples),
    )


def _examples(
    con: Any,
    column: str,
    value: str,
    detections: list[Detection],
    validated: dict[Category, list[str]],
) -> list[str]:
    """Up to three distinct values of the column's strongest category, masked."""
    if not detections:
        return []
    top = detections[0].category
    if top in validated:
        values = validated[top]
    elif top in PATTERNS:
        values = [
            str(r[0])
            for r in con.execute(
                f"SELECT DISTINCT {value} FROM {SAMPLE} WHERE {_match(top, value)} LIMIT {EXAMPLES}"
            ).fetchall()
        ]
    else:
        values = [
            str(r[0])
            for r in con.execute(
                f"SELECT DISTINCT {value} FROM {SAMPLE} WHERE {value} <> '' LIMIT {EXAMPLES}"
            ).fetchall()
        ]
    del column
    return [mask(v) for v in dict.fromkeys(values)][:EXAMPLES]
