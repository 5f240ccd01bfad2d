"""Chromium (Playwright): "Run validation" on data the server already holds. In English the
owner picks a registered dataset version as the evaluation data and the version's own
training data as the reference — no file leaves their computer — and a worker pass
validates them; in Traditional Chinese, another team's dataset is refused on the form in
the service's words (403: its data connection is not open to her), the choice kept and
nothing queued. Any other browser console error fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.services.test_validation_stored_data import hold_data
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.demo.credit import TARGET
from steward.domain.jobs import JobStatus
from steward.domain.permissions import OPERATOR, Principal
from steward.services import checks, identity, jobs
from steward.services.context import Context
from steward.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)
OP = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("held")
    settings = Settings(
        home=home, database_url=f"sqlite:///{home / 'steward.db'}", artifacts_url=str(home / "a")
    )
    ctx = bootstrap.build(settings, migrate=True)
    hold_data(ctx, home / "lake", home / "vault")
    identity.set_password(ctx, OP, "alice", PASSWORD)
    yield ctx
    ctx.uow.engine.dispose()


def test_an_owner_validates_data_the_server_holds(
    browser: Any, server: LiveServer, store: Context
) -> None:
    alice = Session(browser, server, "alice")
    page = alice.page
    page.goto(f"{server.url}/models/credit/versions/1/validate")
    own = page.locator("#stored_reference option[value=training]").inner_text()
    assert own == "This version's training data (credit-train@1)"
    assert page.locator("#stored_data option[value=evaluation]").count() == 0  # not held
    page.select_option("#stored_data", "credit-eval@1")
    page.select_option("#stored_reference", "training")
    page.fill("#target", TARGET)
    page.fill("#sensitive", "age_in_years")  # no signature: the names, typed
    page.select_option("#positive_means", "adverse")
    alice.shot("64-validate-stored-data")
    page.click("#validate-form button[type=submit]")
    page.wait_for_url("**/jobs/job_*?notice=job_queued")
    job_id = page.url.split("/jobs/", 1)[1].split("?", 1)[0]
    queued = jobs.get_job(store, OP, job_id)
    assert queued.params["data_dataset"] == "credit-eval@1"
    assert queued.params["reference_dataset"] == "credit-train@1"
    assert jobs.run_queued(store, "browser-worker").ran == (job_id,)
    page.locator("#job-result").wait_for(timeout=20000)
    page.reload()
    assert page.inner_text("#job-status") == "succeeded"
    done = jobs.get_job(store, OP, job_id)
    assert done.status is JobStatus.SUCCEEDED, done.error
    run = checks.get_run(store, OP, done.result["check_run"])
    assert run.version == 1 and run.result("performance.roc_auc") is not None
    alice.close()


def test_in_chinese_another_teams_dataset_is_refused_on_the_form(
    browser: Any, server: LiveServer, store: Context
) -> None:
    alice = Session(browser, server, "alice", locale="zh-TW")
    page = alice.page
    page.goto(f"{server.url}/models/credit/versions/1/validate")
    assert "或伺服器上已有的資料" in page.inner_text("#validate-form")
    page.select_option("#stored_data", "secret-eval@1")
    page.fill("#target", TARGET)
    before = len(jobs.list_jobs(store, OP))
    page.click("#validate-form button[type=submit]")
    page.locator("#validate-error").wait_for()
    error = page.inner_text("#validate-error")
    assert "alice may not use connection 'vault'" in error  # the service's words
    assert "資料" in error  # the field, named in Chinese
    assert page.input_value("#stored_data") == "secret-eval@1"  # the choice is kept
    assert page.get_attribute("#stored_data", "aria-invalid") == "true"
    assert page.input_value("#target") == TARGET
    assert len(jobs.list_jobs(store, OP)) == before  # nothing was queued
    assert len(alice.errors) == 1 and "403" in alice.errors[0]  # the refusal's status only
    alice.errors.clear()
    alice.shot("65-validate-stored-refused-zh-TW")
    alice.close()
