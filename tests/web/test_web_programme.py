"""The compliance programme page in-process on SQLite and PostgreSQL: the readiness table
and ranked actions are the service's, the plan downloads as CSV and Markdown, a bad week
count is refused inline, and someone without governance:read is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import ensure_user
from tests.services.test_compliance_coverage import setup_credit
from tests.web.test_web_pages import PASSWORD, sign_in

from steward.api.app import create_app
from steward.compliance import programme
from steward.domain.permissions import OPERATOR, Principal
from steward.services import compliance, identity
from steward.services.context import Context

OP = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.fixture
def web(ctx: Context, tmp_path: Path) -> Iterator[TestClient]:
    setup_credit(ctx, tmp_path)
    ensure_user(ctx, "rita", "risk_officer")
    ensure_user(ctx, "nobody")
    for name in ("rita", "nobody"):
        identity.set_password(ctx, OP, name, PASSWORD)
    with TestClient(create_app(ctx)) as client:
        yield client


def test_a_risk_officer_reads_the_programme_and_downloads_the_plan(
    web: TestClient, ctx: Context
) -> None:
    sign_in(web, "rita")
    page = web.get("/compliance/programme?weeks=4")
    assert page.status_code == 200
    assert page.text.count('<th scope="row">') >= 5  # four past weeks and now
    expected = compliance.compliance_programme(ctx, OP, weeks=4)
    top = expected.actions[0]
    assert f'<td class="num">{top.controls}</td>' in page.text
    assert 'data-chart-for="chart-readiness"' in page.text
    csv = web.get("/compliance/programme/plan.csv?weeks=4")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text == programme.plan_csv(expected)
    md = web.get("/compliance/programme/plan.md")
    assert md.status_code == 200 and md.text.startswith("# Compliance programme plan")
    assert web.get("/compliance/programme/plan.exe").status_code == 404


def test_a_bad_week_count_is_refused_inline(web: TestClient) -> None:
    sign_in(web, "rita")
    bad = web.get("/compliance/programme?weeks=99")
    assert bad.status_code == 422
    assert "between 1 and 52" in bad.text and 'aria-invalid="true"' in bad.text


def test_someone_without_a_role_is_refused(web: TestClient) -> None:
    sign_in(web, "nobody")
    assert web.get("/compliance/programme").status_code == 403
    assert web.get("/compliance/programme/plan.csv").status_code == 403


def test_a_large_organisation_sees_what_the_worker_stored_and_when(
    web: TestClient, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compliance, "LIVE_MODELS", 0)  # one model is "too many" here
    sign_in(web, "rita")
    pending = web.get("/compliance/programme")
    assert pending.status_code == 200 and 'id="programme-pending"' in pending.text
    assert 'id="actions-table"' not in pending.text
    assert web.get("/compliance/programme/plan.csv").status_code == 503
    compliance.refresh_programmes(ctx, OP)  # what the worker's pass does
    page = web.get("/compliance/programme")
    assert 'id="programme-computed"' in page.text and "journal events" in page.text
    expected = compliance.compliance_programme(ctx, OP)
    assert web.get("/compliance/programme/plan.csv").text == programme.plan_csv(expected)
    web.get("/lang/zh-TW?next=/")
    translated = web.get("/compliance/programme")
    assert "稽核日誌" in translated.text
