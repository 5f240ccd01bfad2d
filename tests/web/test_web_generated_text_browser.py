# ruff: noqa: RUF001  (Traditional Chinese uses full-width punctuation)
"""Chromium (Playwright): a model owner reading in Traditional Chinese sees the finding
Steward opened for a failed four-fifths check worded in Chinese (the finding she typed
stays as typed), then answers the risk questionnaire in Chinese and previews its result
with Chinese reasons; in English the same pages show the stored English. Any browser console
error fails; screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.risk_answers import CREDIT
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import OPERATOR_P, PASSWORD

from steward import bootstrap
from steward.domain.checks import CheckFamily, CheckResult, RunRecord, RunSource, Threshold
from steward.domain.permissions import Principal
from steward.domain.specs import VersionSpec
from steward.services import checks, findings, identity, versions
from steward.services import models as model_service
from steward.services.context import Context
from steward.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("generated-text")
    settings = Settings(
        home=home, database_url=f"sqlite:///{home / 'steward.db'}", artifacts_url=str(home / "a")
    )
    ctx = bootstrap.build(settings, migrate=True)
    identity.create_user(ctx, OPERATOR_P, "olive", roles=("owner",))
    identity.set_password(ctx, OPERATOR_P, "olive", PASSWORD)
    olive = Principal(name="olive", roles=frozenset({"owner"}))
    model_service.create_model(ctx, olive, "loans", purpose="rank loan applications")
    artifact = home / "model.bin"
    artifact.write_bytes(b"real bytes")
    versions.create_version(ctx, olive, "loans", VersionSpec(description="first"), artifact)
    now = datetime.now(UTC)
    failed = CheckResult(
        name="fairness.four_fifths",
        family=CheckFamily.FAIRNESS,
        passed=False,
        value=0.62,
        threshold=Threshold(">=", 0.8),
        message="Lowest impact ratio 0.62 (group F) is below 0.8",
    )
    record = RunRecord(
        suite="fairness",
        suite_version="1",
        source=RunSource.EXTERNAL,
        data_fingerprint=None,
        results=(failed,),
        started_at=now - timedelta(minutes=1),
        finished_at=now,
    )
    checks.store_run(ctx, OPERATOR_P, "loans", 1, record)
    findings.open_finding(ctx, olive, "loans", title="Calibration drifts", severity="medium")
    yield ctx
    ctx.uow.engine.dispose()


def _row(page: Any, title: str) -> Any:
    return page.locator("table.findings tbody tr", has_text=title).first


def test_an_owner_reads_a_generated_finding_and_the_questionnaire_in_chinese(
    browser: Any, server: Any
) -> None:
    olive = Session(browser, server, "olive", locale="zh-TW")
    page = olive.page
    page.goto(f"{server.url}/findings?model=loans")
    generated = _row(page, "公平性檢查未通過（五分之四規則）：fairness.four_fifths")
    assert "數值：0.62。門檻：>= 0.8。" in generated.locator(".finding-description").inner_text()
    assert "Check failed" not in page.inner_text("main")
    assert _row(page, "Calibration drifts").count() == 1  # typed by a person: as typed
    olive.shot("60-generated-finding-zh-TW")

    page.goto(f"{server.url}/models/loans/risk")
    assert page.inner_text("#q-decision_impact legend") == "1. 模型的輸出對個人有什麼影響？"
    assert "請考慮輸出所支援的決策" in page.inner_text("#q-decision_impact .hint")
    for question, answer in CREDIT.items():
        for value in [answer] if isinstance(answer, str) else answer:
            page.check(f"input[name={question}][value={value}]")
    page.click("button[name=step][value=preview]")
    page.locator("#risk-preview").wait_for()
    reasons = page.inner_text("#risk-preview .reasons")
    assert "第 6(2) 條及附件 III 所稱的高風險系統" in reasons
    assert "the tier is at least" not in reasons
    assert page.is_checked("input[name=decision_impact][value=significant]")
    olive.shot("61-risk-questionnaire-zh-TW")
    olive.close()


def test_in_english_the_same_pages_show_the_stored_english(browser: Any, server: Any) -> None:
    olive = Session(browser, server, "olive")
    page = olive.page
    page.goto(f"{server.url}/findings?model=loans")
    assert _row(page, "Check failed: fairness.four_fifths").count() == 1
    page.goto(f"{server.url}/models/loans/risk")
    assert "What effect do the model" in page.inner_text("#q-decision_impact legend")
    olive.close()
