"""Chromium (Playwright): an owner runs validation from the model page as a background job —
chooses the suite, uploads the data from their computer, names the label and sensitive
columns — the job's page shows it queued, a worker pass runs it, and after a reload the
page shows it done with a link to the results on the model page; in Traditional Chinese,
a file the service refuses is shown on the form, which keeps what was chosen. Any browser
console error (a CSP violation included) fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.demo.credit import TARGET, train_credit_model
from steward.domain.jobs import JobStatus
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.sdk.local import LocalBackend
from steward.services import checks, identity, jobs
from steward.services.context import Context
from steward.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)
OP = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("jobs")
    settings = Settings(
        home=home, database_url=f"sqlite:///{home / 'steward.db'}", artifacts_url=str(home / "a")
    )
    ctx = bootstrap.build(settings, migrate=True)
    identity.create_user(ctx, OP, "olive", roles=("owner",))
    identity.set_password(ctx, OP, "olive", PASSWORD)
    trained = train_credit_model(seed=42, model_kind="logistic")
    st = Steward(LocalBackend(ctx, "admin"))
    st.create_model("credit", title="Credit", owner="olive")
    st.log_version(
        "credit", trained.model, training_data=trained.train, target=TARGET, capture_git=False
    )
    trained.test.to_parquet(home / "holdout.parquet", index=False)
    (home / "notes.txt").write_text("not data")
    yield ctx
    ctx.uow.engine.dispose()


def _home(store: Context) -> Path:
    return store.settings.home


def test_an_owner_runs_validation_as_a_job_and_sees_it_done_after_a_reload(
    browser: Any, server: LiveServer, store: Context
) -> None:
    olive = Session(browser, server, "olive")
    page = olive.page
    page.goto(f"{server.url}/models/credit")
    page.click("#run-validation")
    page.wait_for_url("**/models/credit/versions/1/validate")
    page.select_option("#suite", "credit-default")
    page.set_input_files("#data", str(_home(store) / "holdout.parquet"))
    page.fill("#target", TARGET)
    page.check("input[name=sensitive][value=age_in_years]")
    page.check("input[name=sensitive][value=foreign_worker]")
    page.select_option("#positive_means", "adverse")
    olive.shot("60-run-validation-form")
    page.click("#validate-form button[type=submit]")
    page.wait_for_url("**/jobs/job_*?notice=job_queued")
    assert page.inner_text("#job-status") == "queued"
    job_id = page.url.split("/jobs/", 1)[1].split("?", 1)[0]
    olive.shot("61-job-queued")
    # the worker's pass, as `steward worker` would run it; the page follows it
    assert jobs.run_queued(store, "browser-worker").ran == (job_id,)
    page.locator("#job-result").wait_for(timeout=20000)  # jobs.js reloads once it ended
    page.reload()
    assert page.inner_text("#job-status") == "succeeded"
    assert page.locator("#job-progress").get_attribute("value") == "1.0"
    olive.shot("62-job-succeeded")
    page.click("#job-result a")
    page.wait_for_url("**/models/credit?version=1")
    done = jobs.get_job(store, OP, job_id)
    assert done.status is JobStatus.SUCCEEDED
    run = checks.get_run(store, OP, done.result["check_run"])
    assert run.suite == "credit-default" and run.version == 1
    olive.close()


def test_in_chinese_a_refused_file_is_shown_on_the_form_which_keeps_the_choices(
    browser: Any, server: LiveServer, store: Context
) -> None:
    olive = Session(browser, server, "olive", locale="zh-TW")
    page = olive.page
    page.goto(f"{server.url}/models/credit/versions/1/validate")
    assert "執行驗證" in page.inner_text("h1")
    page.set_input_files("#data", str(_home(store) / "notes.txt"))
    page.fill("#target", TARGET)
    page.check("input[name=sensitive][value=age_in_years]")
    before = len(jobs.list_jobs(store, OP))
    page.click("#validate-form button[type=submit]")
    page.locator("#validate-error").wait_for()
    assert "Parquet" in page.inner_text("#validate-error")
    assert page.input_value("#target") == TARGET
    assert page.is_checked("input[name=sensitive][value=age_in_years]")
    assert len(jobs.list_jobs(store, OP)) == before  # nothing was queued
    olive.errors[:] = [e for e in olive.errors if "422" not in e]  # the refusal's status
    olive.shot("63-validate-refused-zh")
    # the job list in Chinese: statuses translated
    page.goto(f"{server.url}/jobs?model=credit")
    assert "已完成" in page.inner_text("#jobs")
    olive.close()
