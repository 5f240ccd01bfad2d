# ruff: noqa: RUF001  (Traditional Chinese uses full-width punctuation)
"""What Steward itself writes, in the page's language: the findings it opens (a failed
check, a monitoring alert, an unapproved artifact, an adverse review, a data recall, an
MLflow alias moved by hand, a failing data rule) and the risk questionnaire with the reasons
of its result. English pages, the CLI and REST keep the stored English; REST also returns the
message key and parameters. In-process on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import ensure_user
from tests.risk_answers import CREDIT
from tests.web.test_web_pages import PASSWORD, sign_in

from steward.api.app import create_app
from steward.domain import finding_messages as fm
from steward.domain import risk
from steward.domain.checks import CheckFamily, CheckResult, RunRecord, RunSource, Threshold
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.specs import VersionSpec
from steward.services import checks, findings, identity, reviews, versions
from steward.services import models as model_service
from steward.services import risk as risk_service
from steward.services.context import Context
from steward.web import i18n
from steward.web.finding_text import FindingText
from steward.web.risk_text import RiskText

OP = Principal(name="admin", roles=frozenset({OPERATOR}))


@dataclass
class Shown:
    """Anything a page shows as a finding: a title, maybe a key and its parameters."""

    title: str
    description: str = ""
    message_key: str | None = None
    message_params: dict[str, Any] | None = field(default=None)


def _text(code: str) -> FindingText:
    return FindingText(i18n.translations(code).gettext, i18n.Formatter(code), code != "en", code)


CHECK = Shown(
    "Check failed: fairness.four_fifths",
    "Lowest impact ratio 0.62 (group F) is below 0.8; value 0.62 (threshold: >= 0.8)",
    fm.CHECK_FAILED,
    {
        "check": "fairness.four_fifths",
        "message": "Lowest impact ratio 0.62 (group F) is below 0.8",
        "value": 0.62,
        "op": ">=",
        "limit": 0.8,
    },
)
ALERT = Shown(
    "Monitoring alert: psi on income",
    "Monitor drift (mon_1): psi = 0.31 on column 'income' (> 0.2) for 2 run(s) in a row [rule r1].",
    fm.MONITOR_ALERT,
    {
        "metric": "psi",
        "column": "income",
        "monitor": "drift",
        "monitor_id": "mon_1",
        "value": 0.31,
        "op": ">",
        "threshold": 0.2,
        "streak": 2,
        "rule": "r1",
    },
)


def test_english_pages_show_the_stored_english() -> None:
    en = _text("en")
    for shown in (CHECK, ALERT):
        assert en.title(shown) == shown.title
        assert en.description(shown) == shown.description


def test_zh_tw_words_each_generated_finding_from_its_key_and_parameters() -> None:
    zh = _text("zh-TW")
    assert zh.title(CHECK) == "公平性檢查未通過（五分之四規則）：fairness.four_fifths"
    said = zh.description(CHECK)
    assert said.startswith("fairness.four_fifths 未通過。數值：0.62。門檻：>= 0.8。")
    # the check's own explanation exists only in English and is kept, marked as such
    assert "檢查本身的說明（英文）：Lowest impact ratio 0.62" in said
    assert zh.title(ALERT) == "監控警示：欄位 income 的 psi"
    assert zh.description(ALERT) == (
        "監控 drift（mon_1）：欄位 income 的 psi = 0.31（門檻 > 0.2），"
        "已連續 2 次執行超出 [規則 r1]。"
    )
    cases = {
        "監控警示：資料集的 psi": Shown(
            "Monitoring alert: psi on the dataset", "", fm.MONITOR_ALERT, {"metric": "psi"}
        ),
        "prod 回報載入了未經核准的模型檔": Shown(
            "Unapproved artifact reported in prod",
            "",
            fm.DEPLOY_UNAPPROVED,
            {"environment": "prod"},
        ),
        "定期審查：不滿意": Shown(
            "Periodic review unsatisfactory", "", fm.REVIEW_ADVERSE, {"outcome": "unsatisfactory"}
        ),
        "資料召回：loans@3（訓練資料）": Shown(
            "Data recall: loans@3 (training data)",
            "",
            fm.DATA_RECALL,
            {"dataset": "loans@3", "role": "training"},
        ),
        "MLflow 的 alias champion 在 Steward 之外被變更": Shown(
            "MLflow alias champion moved outside Steward",
            "",
            fm.MLFLOW_MOVED,
            {"what": "alias champion"},
        ),
        "loans@2 未通過規則 income_present：3 missing": Shown(
            "loans@2 fails income_present: 3 missing",
            "",
            fm.DATASET_RULE_FAILED,
            {"ref": "loans@2", "rule": "income_present", "detail": "3 missing"},
        ),
    }
    for expected, shown in cases.items():
        assert zh.title(shown) == expected


def test_what_a_person_wrote_or_parameters_that_do_not_cover_a_sentence_stay_as_stored() -> None:
    zh = _text("zh-TW")
    typed = Shown("Calibration drifts", "Seen in the March backtest")
    assert (zh.title(typed), zh.description(typed)) == (typed.title, typed.description)
    # a finding backfilled from its title only: the title is worded, the description kept
    partial = Shown(
        ALERT.title, ALERT.description, fm.MONITOR_ALERT, {"metric": "psi", "column": "x"}
    )
    assert zh.title(partial) == "監控警示：欄位 x 的 psi"
    assert zh.description(partial) == ALERT.description
    # a review's description is the reviewer's notes: never re-worded
    review = Shown("Periodic review unsatisfactory", "Notes", fm.REVIEW_ADVERSE, {"outcome": "x"})
    assert zh.description(review) == "Notes"
    assert zh.title(review) == "定期審查：x"
    unknown = Shown("Something", "", "plugin.key", {"a": 1})
    assert zh.title(unknown) == "Something"


def test_risk_reasons_are_worded_from_what_they_record() -> None:
    english = risk.shipped()
    scored = risk.score(english, CREDIT)
    en = RiskText(i18n.translations("en").gettext, "en", english)
    zh = RiskText(i18n.translations("zh-TW").gettext, "zh-TW", english)
    assert [en.reason(r, scored) for r in scored.reasons] == [r.text for r in scored.reasons]
    worded = [zh.reason(r, scored) for r in scored.reasons]
    assert all(w != r.text for w, r in zip(worded, scored.reasons, strict=True))
    assert any(w.startswith("風險等級") for w in worded)
    assert any("第 6(2) 條及附件 III 所稱的高風險系統" in w for w in worded)
    # reasons of another questionnaire version keep their stored English
    assert zh.reason(scored.reasons[0], scored, version="2020.1") == scored.reasons[0].text


# -- through the services, the pages and REST ------------------------------------------------


@pytest.fixture
def web(ctx: Context, tmp_path: Path) -> Iterator[TestClient]:
    for name, role in {"olive": "owner", "val": "validator"}.items():
        ensure_user(ctx, name, role)
        identity.set_password(ctx, OP, name, PASSWORD)
    olive = Principal(name="olive", roles=frozenset({"owner"}))
    model_service.create_model(ctx, olive, "churn", title="Churn", purpose="retention offers")
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"not a real model, but real bytes")
    versions.create_version(ctx, olive, "churn", VersionSpec(description="first"), artifact)
    now = datetime.now(UTC)
    record = RunRecord(
        suite="fairness",
        suite_version="1",
        source=RunSource.EXTERNAL,
        data_fingerprint=None,
        results=(
            CheckResult(
                name="fairness.four_fifths",
                family=CheckFamily.FAIRNESS,
                passed=False,
                value=0.62,
                threshold=Threshold(">=", 0.8),
                message="Lowest impact ratio 0.62 (group F) is below 0.8",
            ),
        ),
        started_at=now - timedelta(minutes=1),
        finished_at=now,
    )
    checks.store_run(ctx, OP, "churn", 1, record)
    risk_service.assess(ctx, olive, "churn", CREDIT)
    reviews.complete_review(ctx, OP, "churn", outcome="unsatisfactory", notes="Stale data.")
    findings.open_finding(ctx, OP, "churn", title="Calibration drifts", severity="high")
    with TestClient(create_app(ctx)) as client:
        yield client


def test_generated_findings_store_their_key_and_the_migration_reads_the_same_back(
    web: TestClient, ctx: Context
) -> None:
    import importlib

    backfill = importlib.import_module(
        "steward.store.migrations.versions.0033_finding_message_keys"
    ).finding_message
    listed = {f.title: f for f in findings.list_findings(ctx, OP, model="churn").items}
    check = listed["Check failed: fairness.four_fifths"]
    assert check.message_key == fm.CHECK_FAILED
    assert check.message_params == {
        "check": "fairness.four_fifths",
        "message": check.message_params["message"],
        "value": 0.62,
        "op": ">=",
        "limit": 0.8,
    }
    review = listed["Periodic review unsatisfactory"]
    assert (review.message_key, review.message_params) == (
        fm.REVIEW_ADVERSE,
        {"outcome": "unsatisfactory"},
    )
    assert listed["Calibration drifts"].message_key is None
    # the migration's reading of the stored English agrees with what the service stored
    for f in (check, review):
        key, params = backfill(f.source, f.title, f.description)
        assert key == f.message_key
        assert params == {k: v for k, v in (f.message_params or {}).items() if k in params}
        assert set(params) == set(f.message_params or {})


def test_findings_pages_in_zh_tw_word_generated_findings_and_keep_typed_ones(
    web: TestClient,
) -> None:
    sign_in(web, "olive")
    en = web.get("/findings?model=churn")
    assert "Check failed: fairness.four_fifths" in en.text and "Calibration drifts" in en.text
    web.cookies.set(i18n.COOKIE, "zh-TW")
    zh = web.get("/findings?model=churn")
    assert "公平性檢查未通過（五分之四規則）：fairness.four_fifths" in zh.text
    assert "數值：0.62。門檻：&gt;= 0.8。" in zh.text
    assert "定期審查：不滿意" in zh.text
    assert "Calibration drifts" in zh.text  # as typed
    assert "Check failed:" not in zh.text
    model = web.get("/models/churn")
    assert "公平性檢查未通過（五分之四規則）" in model.text
    # the stored assessment's reasons, worded from what they record
    assert "第 6(2) 條及附件 III 所稱的高風險系統" in model.text
    mine = web.get("/work")
    assert "公平性檢查未通過（五分之四規則）" in mine.text


def test_rest_returns_the_english_title_with_the_key_and_parameters(web: TestClient) -> None:
    token = web.post("/api/v1/auth/login", json={"user": "olive", "password": PASSWORD}).json()[
        "token"
    ]
    body = web.get(
        "/api/v1/findings",
        params={"model": "churn"},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "zh-TW"},
    ).json()
    check = next(f for f in body["items"] if f["source"] == "check")
    assert check["title"] == "Check failed: fairness.four_fifths"
    assert check["message_key"] == "check.failed"
    assert check["message_params"]["limit"] == 0.8


def test_the_questionnaire_page_in_zh_tw_with_its_preview(web: TestClient) -> None:
    sign_in(web, "olive")
    web.cookies.set(i18n.COOKIE, "zh-TW")
    page = web.get("/models/churn/risk")
    assert page.status_code == 200
    assert "模型的輸出對個人有什麼影響？" in page.text
    assert "請考慮輸出所支援的決策" in page.text  # the question's help
    assert "決定或實質影響對個人具重大影響的決策" in page.text  # an option's label
    assert "What effect do the model" not in page.text
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    # a multi-choice answer repeats its field, as the browser posts it
    form = {"csrf_token": token, "step": "preview", **CREDIT}
    preview = web.post("/models/churn/risk", data=form)
    assert preview.status_code == 200, preview.text[:2000]
    assert "第 6(2) 條及附件 III 所稱的高風險系統" in preview.text
    assert "the tier is at least" not in preview.text
    web.cookies.set(i18n.COOKIE, "en")
    english = web.get("/models/churn/risk")
    assert "What effect do the model" in english.text


def test_the_english_templates_reproduce_what_the_services_store(
    web: TestClient, ctx: Context
) -> None:
    for f in findings.list_findings(ctx, OP, model="churn").items:
        if f.message_key is not None:
            assert fm.title(f.message_key, f.message_params, "en") == f.title


def test_a_finding_notification_is_worded_in_the_readers_language(
    web: TestClient, ctx: Context
) -> None:
    from zoneinfo import ZoneInfo

    from steward.domain import notifications as n
    from steward.services import notifications as notify

    notify.collect(ctx, OP)
    olive = Principal(name="olive", roles=frozenset({"owner"}))
    notes = notify.list_mine(ctx, olive)
    note = next(x for x in notes if x.message_key == fm.CHECK_FAILED)
    assert note.subject == "Check failed: fairness.four_fifths"
    assert n.headline(note, "en").endswith("— Check failed: fairness.four_fifths")
    zh_title = "公平性檢查未通過（五分之四規則）：fairness.four_fifths"
    assert n.headline(note, "zh-TW") == f"指派給您的發現事項: churn — {zh_title}"
    mail = n.immediate(
        note, name="Olive", language="zh-TW", zone=ZoneInfo("Asia/Taipei"), base_url=""
    )
    assert zh_title in mail.subject and zh_title in mail.body
    sign_in(web, "olive")
    web.cookies.set(i18n.COOKIE, "zh-TW")
    assert zh_title in web.get("/notifications").text
