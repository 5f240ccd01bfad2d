"""What pages remember between requests gives what recomputing would: the navigation's
"my work" count (``my_work(...).total``, kept per person only while the journal's head and
the day stay the same) and the shipped validation suites (parsed once per file version)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ensure_user
from tests.services.test_compliance_coverage import setup_credit

from steward.domain.permissions import OPERATOR, Principal
from steward.services import findings, work
from steward.services.context import Context

OP = Principal("admin", roles=frozenset({OPERATOR}))
VAL = Principal("val", roles=frozenset({"validator"}))


def test_the_count_follows_the_journal(ctx: Context, tmp_path: Path) -> None:
    setup_credit(ctx, tmp_path)
    ensure_user(ctx, "val", "validator")
    before = work.count(ctx, VAL)
    assert before == work.my_work(ctx, VAL).total
    assert work.count(ctx, VAL) == before  # remembered
    findings.open_finding(ctx, OP, "credit", title="Drift", severity="low", owner="val")
    assert work.count(ctx, VAL) == before + 1 == work.my_work(ctx, VAL).total


def test_the_shipped_suites_are_listed_the_same_from_the_cache(ctx: Context) -> None:
    from steward.services import validation
    from steward.validation.suites import load_suite, shipped

    validation._SUITE_LIST.clear()
    first = validation.list_suites(ctx, OP)
    first[0]["checks"].append("changed by the caller")
    again = validation.list_suites(ctx, OP)
    assert [s["name"] for s in again] == shipped()
    assert again[0]["checks"] == [c.check for c in load_suite(shipped()[0]).checks]
