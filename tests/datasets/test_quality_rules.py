"""Quality rules: DuckDB's failing-row counts equal pandas' on the same rules and data;
bad rules files are refused naming file and line; failures open findings on the dataset
and a later passing version resolves them (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from steward.domain import data_rules
from steward.domain.audit import Action, AuditFilter
from steward.domain.datasets import Quality
from steward.domain.errors import InvalidInput
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.yamldoc import DocumentError
from steward.services import audit, data_quality, datasets
from steward.services.context import Context
from steward.validation import data_rules as engine

ADMIN = Principal(name="root", roles=frozenset({OPERATOR}))
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
RULES = """\
rules:
  - kind: not_null
    column: id
  - kind: unique
    column: id
  - kind: range
    column: amount
    min: 0
    max: 5000
  - kind: allowed_values
    column: purpose
    values: [car, education, business]
  - kind: regex
    column: email
    pattern: '[a-z]+@[a-z]+\\.tw'
  - kind: freshness
    column: updated_at
    max_age: 30d
  - kind: row_count
    min: 10
    max: 100000
    severity: low
"""


def messy(rows: int = 5000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, rows * 2, rows).astype("float64")
    ids[rng.random(rows) < 0.02] = np.nan
    amount = rng.normal(2500, 1500, rows)
    amount[rng.random(rows) < 0.05] = np.nan
    purpose = rng.choice(["car", "education", "business", "holiday", None], rows)
    emails = np.where(
        rng.random(rows) < 0.9,
        [f"user{i % 7}@mail.tw" for i in range(rows)],
        [f"User{i}@Mail.com" for i in range(rows)],
    )
    email = pd.Series(emails, dtype="object")
    email[rng.random(rows) < 0.03] = None
    ages = rng.integers(0, 60, rows)
    updated = pd.Series([NOW - timedelta(days=int(a)) for a in ages]).dt.tz_convert(None)
    return pd.DataFrame(
        {"id": ids, "amount": amount, "purpose": purpose, "email": email, "updated_at": updated}
    )


def pandas_counts(frame: pd.DataFrame) -> dict[str, int]:
    """The same rules written the way a pandas user would, with the documented nulls."""
    ids, amount, purpose, email = frame["id"], frame["amount"], frame["purpose"], frame["email"]
    cutoff = (NOW - timedelta(days=30)).replace(tzinfo=None)
    return {
        "not_null:id": int(ids.isna().sum()),
        "unique:id": int((ids.duplicated(keep=False) & ids.notna()).sum()),
        "range:amount": int(((amount < 0) | (amount > 5000)).sum()),
        "allowed_values:purpose": int(
            (purpose.notna() & ~purpose.isin(["car", "education", "business"])).sum()
        ),
        "regex:email": int(
            (email.notna() & ~email.astype(str).str.fullmatch(r"[a-z]+@[a-z]+\.tw")).sum()
        ),
        "freshness:updated_at": int(
            (frame["updated_at"].isna() | (frame["updated_at"] < cutoff)).sum()
        ),
        "row_count": 0,
    }


def test_failing_row_counts_equal_pandas() -> None:
    frame = messy()
    rules = data_rules.parse_rules(RULES, "rules.yaml")
    results = engine.run(frame, rules, source="rules.yaml", now=NOW)
    assert {r.rule: r.failing_rows for r in results} == pandas_counts(frame)
    by_rule = {r.rule: r for r in results}
    assert not by_rule["range:amount"].passed
    assert by_rule["freshness:updated_at"].passed  # the newest row is from today
    assert by_rule["row_count"].passed and by_rule["row_count"].rows == len(frame)
    # samples are failing rows, at most five
    samples = by_rule["allowed_values:purpose"].samples
    assert 0 < len(samples) <= engine.SAMPLES
    assert all(s["purpose"] == "holiday" for s in samples)
    assert [r.line for r in results] == [2, 4, 6, 10, 13, 16, 19]


def test_confidential_samples_show_only_the_rule_column() -> None:
    frame = messy(200)
    rules = data_rules.parse_rules(RULES, "rules.yaml")
    results = engine.run(frame, rules, source="rules.yaml", now=NOW, sample_columns=[])
    shown = {k for r in results for s in r.samples for k in s}
    assert shown <= {"id", "amount", "purpose", "email", "updated_at"}
    assert all(set(s) == {r.column} for r in results for s in r.samples)


def test_a_value_that_cannot_be_compared_fails_that_rule_with_the_reason() -> None:
    frame = pd.DataFrame({"n": [1, 2, 3]})
    rules = data_rules.parse_rules(
        "rules:\n  - kind: allowed_values\n    column: n\n    values: [one]\n"
        "  - kind: not_null\n    column: n\n",
        "r.yaml",
    )
    first, second = engine.run(frame, rules, source="r.yaml", now=NOW)
    assert not first.passed and "cannot run" in first.detail and "r.yaml line 2" in first.detail
    assert second.passed


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("rules:\n  - kind: not_null\n    column: [a\n", "rules.yaml line 4: expected"),
        ("rules:\n  - kind: nope\n    column: a\n", "rules.yaml line 2: unknown kind 'nope'"),
        ("rules:\n  - kind: range\n    column: a\n", "rules.yaml line 2: a range rule needs"),
        (
            "rules:\n  - kind: regex\n    column: a\n    pattern: '('\n",
            "rules.yaml line 4: pattern does not compile",
        ),
        (
            "rules:\n  - kind: not_null\n    column: a\n    colour: red\n",
            "rules.yaml line 4: unknown key 'colour'",
        ),
        ("rules:\n  - kind: freshness\n    column: a\n    max_age: soon\n", "line 4: max_age"),
        ("rules: []\n", "'rules' must be a non-empty list"),
        ("nothing: here\n", "write a mapping with a 'rules' list"),
    ],
)
def test_bad_rules_name_the_file_and_line(text: str, needle: str) -> None:
    with pytest.raises(DocumentError) as raised:
        data_rules.parse_rules(text, "rules.yaml")
    assert needle in str(raised.value)


def test_rules_are_versioned_and_checked_against_the_latest_columns(ctx: Context) -> None:
    datasets.create_dataset(ctx, ADMIN, "loans", owner="dana")
    first = data_quality.set_rules(ctx, ADMIN, "loans", "rules:\n  - kind: row_count\n    min: 1\n")
    assert first.revision == 1
    data_quality.snapshot(ctx, ADMIN, "loans", pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(DocumentError, match=r"mine\.yaml line 4: rule 'not_null:b' names column"):
        data_quality.set_rules(
            ctx,
            ADMIN,
            "loans",
            "rules:\n  - kind: row_count\n    min: 1\n  - kind: not_null\n    column: b\n",
            "mine.yaml",
        )
    assert [r.revision for r in datasets.rule_sets(ctx, ADMIN, "loans")] == [1]
    with pytest.raises(InvalidInput, match="line 2"):
        data_quality.set_rules(ctx, ADMIN, "loans", "rules:\n  - kind: what\n")
    assert [r.revision for r in datasets.rule_sets(ctx, ADMIN, "loans")] == [1]


def test_a_failing_rule_opens_a_finding_and_a_passing_version_resolves_it(ctx: Context) -> None:
    datasets.create_dataset(ctx, ADMIN, "loans", owner="dana", classification="restricted")
    data_quality.set_rules(
        ctx,
        ADMIN,
        "loans",
        "rules:\n  - kind: not_null\n    column: id\n    severity: critical\n"
        "  - kind: range\n    column: amount\n    min: 0\n",
    )
    bad = pd.DataFrame({"id": [1, None, 3], "amount": [1.0, -2.0, 3.0], "name": ["a", "b", "c"]})
    first = data_quality.snapshot(ctx, ADMIN, "loans", bad)
    assert first.quality is Quality.FAILED and first.rules_revision == 1
    assert {r.rule: r.failing_rows for r in first.results} == {"not_null:id": 1, "range:amount": 1}
    # restricted data: samples hold only the rule's own column, never the others
    assert first.results[1].samples == [{"amount": -2.0}]
    opened = datasets.findings(ctx, ADMIN, "loans")
    assert sorted((f.rule, f.severity, f.status) for f in opened) == [
        ("not_null:id", "critical", "open"),
        ("range:amount", "high", "open"),
    ]
    # each carries its message key, so pages and e-mails word it in the reader's language
    from steward.domain import finding_messages as fm

    for f in opened:
        assert f.message_key == fm.DATASET_RULE_FAILED
        assert fm.title(f.message_key, f.message_params, "en") == f.title
        assert (fm.title(f.message_key, f.message_params, "zh-TW") or "").startswith(
            f"loans@1 未通過規則 {f.rule}"
        )
    again = data_quality.snapshot(ctx, ADMIN, "loans", bad.head(2))  # still failing
    assert again.quality is Quality.FAILED
    assert len(datasets.findings(ctx, ADMIN, "loans")) == 2  # no duplicates while open
    fixed = data_quality.snapshot(ctx, ADMIN, "loans", bad.dropna().query("amount >= 0"))
    assert fixed.quality is Quality.PASSED
    states = {
        f.rule: (f.status, f.resolved_by_version) for f in datasets.findings(ctx, ADMIN, "loans")
    }
    assert states == {"not_null:id": ("resolved", 3), "range:amount": ("resolved", 3)}
    journal = audit.list_events(ctx, ADMIN, AuditFilter(subject_type="dataset"), limit=100)
    actions = [e.action for e in journal]
    assert actions.count(Action.DATASET_FINDING_OPENED.value) == 2
    assert actions.count(Action.DATASET_FINDING_RESOLVED.value) == 1
    snap = next(e for e in journal if e.subject_id == "loans@1")
    assert json.loads(snap.payload)["failed"] == ["not_null:id", "range:amount"]
