"""The navigation's "my work" count is ``my_work(...).total``, remembered per person only
while the journal's head and the day stay the same: a change shows on the next page."""

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
