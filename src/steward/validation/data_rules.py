"""Quality rules compiled to SQL and run by DuckDB on a dataset version's rows.

Each rule becomes one predicate over the relation ``data`` that is true for a *failing*
row; one scan counts every rule's failing rows at once (``count(*) FILTER (WHERE …)``), and
one small query per failing rule fetches a few sample rows. Identifiers are quoted and
values rendered as SQL literals here (a rules file is text from a person, possibly over
REST): DuckDB runs on an in-memory connection that holds only the registered frame, with
external access disabled and its configuration locked.

Null semantics (documented, and what the pandas comparison tests use): a null fails only
``not_null``; ``range``, ``allowed_values`` and ``regex`` judge non-null values; ``unique``
fails every non-null value that occurs more than once; ``freshness`` fails rows older than
``max_age`` before the snapshot time and passes when the newest value is within it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from steward.domain.data_rules import Rule, parse_age
from steward.domain.datasets import RuleResult

SAMPLES = 5
RELATION = "data"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("non-finite number in a rule")
        return repr(float(value))
    return "'" + str(value).replace("'", "''") + "'"


def predicate(rule: Rule, now: datetime, duplicates: str | None = None) -> str | None:
    """The SQL condition a failing row meets (None: the rule judges the whole table).

    ``duplicates``: a relation of a ``unique`` column's repeated values computed once
    beforehand (one GROUP BY; probing it is a hash semi-join), else the subquery inline."""
    if rule.column is None:
        return None
    col = quote(rule.column)
    p = rule.params
    if rule.kind == "not_null":
        return f"{col} IS NULL"
    if rule.kind == "unique":
        return f"{col} IN (SELECT {col} FROM {duplicates or _repeated(col)})"
    if rule.kind == "range":
        parts = []
        if "min" in p:
            parts.append(f"{col} < {literal(p['min'])}")
        if "max" in p:
            parts.append(f"{col} > {literal(p['max'])}")
        return f"{col} IS NOT NULL AND ({' OR '.join(parts)})"
    if rule.kind == "allowed_values":
        listed = ", ".join(literal(v) for v in p["values"])
        return f"{col} IS NOT NULL AND {col} NOT IN ({listed})"
    if rule.kind == "regex":
        return (
            f"{col} IS NOT NULL AND NOT regexp_full_match(CAST({col} AS VARCHAR), "
            f"{literal(p['pattern'])})"
        )
    if rule.kind == "freshness":
        age = parse_age(str(p["max_age"]))
        assert age is not None
        cutoff = (now - age).astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        return f"{col} IS NULL OR CAST({col} AS TIMESTAMP) < TIMESTAMP {literal(cutoff)}"
    raise ValueError(f"unknown rule kind {rule.kind}")


def _repeated(col: str) -> str:
    return (
        f"(SELECT {col} FROM {RELATION} WHERE {col} IS NOT NULL GROUP BY {col} HAVING count(*) > 1)"
    )


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def _arrow(frame: Any) -> Any:
    """pandas → Arrow once: DuckDB scans Arrow columns in place, while pandas object
    (string) columns are converted value by value on every scan — 17x slower on a million
    rows. A frame Arrow cannot type (mixed objects in a column) is scanned as it is."""
    import pyarrow as pa

    if isinstance(frame, pa.Table) or not hasattr(frame, "to_numpy"):
        return frame
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return frame


def _connect(frame: Any) -> Any:
    from steward.monitoring._duckdb import new_connection

    con = new_connection()
    # A query over 2 s would draw DuckDB's progress bar on stdout, into `--json` output.
    con.execute("SET enable_progress_bar = false")
    con.register(RELATION, _arrow(frame))
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def run(
    frame: Any,
    rules: Sequence[Rule],
    *,
    source: str,
    now: datetime,
    sample_columns: Sequence[str] | None = None,
) -> list[RuleResult]:
    """Run ``rules`` on ``frame`` (pandas or Arrow); one result per rule.

    ``sample_columns``: which columns sample rows show (None: all; for confidential data the
    caller passes only each rule's own column, see ``services.datasets``)."""
    table = _arrow(frame)
    names = getattr(table, "column_names", None)
    present = [str(c) for c in (names if names is not None else table.columns)]
    con = _connect(table)
    try:
        counted = con.execute(f"SELECT count(*) FROM {RELATION}").fetchone()
        total = int(counted[0]) if counted else 0
        checks: list[tuple[Rule, str]] = []
        results: dict[str, RuleResult] = {}
        for rule in rules:
            where = f"{source} line {rule.line}" if rule.line else source
            if rule.column is not None and rule.column not in present:
                results[rule.id] = RuleResult(
                    rule.id,
                    rule.kind,
                    rule.column,
                    False,
                    total,
                    total,
                    [],
                    "",
                    f"column {rule.column!r} is missing from the data ({where})",
                    rule.line,
                )
                continue
            duplicates = None
            if rule.kind == "unique":
                duplicates = f"repeated_{len(checks)}"
                try:
                    con.execute(
                        f"CREATE TEMP TABLE {duplicates} AS SELECT * FROM "
                        f"{_repeated(quote(str(rule.column)))}"
                    )
                except Exception:  # the inline subquery then names the problem per rule
                    duplicates = None
            condition = predicate(rule, now, duplicates)
            if condition is not None:
                checks.append((rule, condition))
        counts: list[Any] = []
        if checks:
            select = ", ".join(f"count(*) FILTER (WHERE {c})" for _, c in checks)
            try:
                counts = list(con.execute(f"SELECT {select} FROM {RELATION}").fetchone() or [])
            except Exception:  # one bad rule (a type clash): run them one by one to name it
                counts = []
                for _, condition in checks:
                    try:
                        row = con.execute(
                            f"SELECT count(*) FILTER (WHERE {condition}) FROM {RELATION}"
                        ).fetchone()
                        counts.append(int(row[0]) if row else 0)
                    except Exception as exc:  # duckdb's own message names the clash
                        counts.append(exc)
        for (rule, condition), count in zip(checks, counts, strict=True):
            # the evidence names the self-contained form (no temporary relation)
            sql = f"SELECT count(*) FROM {RELATION} WHERE {predicate(rule, now)}"
            where = f"{source} line {rule.line}" if rule.line else source
            if isinstance(count, Exception):
                detail = str(count).splitlines()[0][:300]
                results[rule.id] = RuleResult(
                    rule.id,
                    rule.kind,
                    rule.column,
                    False,
                    total,
                    total,
                    [],
                    sql,
                    f"the rule cannot run on this data ({where}): {detail}",
                    rule.line,
                )
                continue
            failing = int(count)
            passed = failing == 0
            detail = f"{failing} of {total} rows fail"
            if rule.kind == "freshness":
                newest = con.execute(
                    f"SELECT max(CAST({quote(str(rule.column))} AS TIMESTAMP)) FROM {RELATION}"
                ).fetchone()
                age = parse_age(str(rule.params["max_age"]))
                assert age is not None
                cutoff = now.astimezone(UTC).replace(tzinfo=None) - age
                passed = bool(newest and newest[0] is not None and newest[0] >= cutoff)
                detail = (
                    f"newest value {newest[0] if newest else None}; "
                    f"{failing} of {total} rows older than {rule.params['max_age']}"
                )
            samples: list[dict[str, Any]] = []
            if failing:
                shown = [rule.column] if sample_columns is not None and rule.column else present
                cols = ", ".join(quote(str(c)) for c in shown)
                cursor = con.execute(
                    f"SELECT {cols} FROM {RELATION} WHERE {condition} LIMIT {SAMPLES}"
                )
                samples = [
                    {str(c): _jsonable(v) for c, v in zip(shown, row, strict=True)}
                    for row in cursor.fetchall()
                ]
            results[rule.id] = RuleResult(
                rule.id,
                rule.kind,
                rule.column,
                passed,
                failing,
                total,
                samples,
                sql,
                detail,
                rule.line,
            )
        for rule in rules:
            if rule.kind == "row_count":
                low, high = rule.params.get("min"), rule.params.get("max")
                passed = (low is None or total >= low) and (high is None or total <= high)
                bounds = f"between {low if low is not None else '-inf'} and " + (
                    f"{high}" if high is not None else "inf"
                )
                results[rule.id] = RuleResult(
                    rule.id,
                    rule.kind,
                    None,
                    passed,
                    0,
                    total,
                    [],
                    f"SELECT count(*) FROM {RELATION}",
                    f"{total} rows; expected {bounds}",
                    rule.line,
                )
    finally:
        con.close()
    return [results[r.id] for r in rules]
