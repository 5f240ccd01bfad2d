"""Chromium (Playwright) creating a monitor from the model page: the owner, in English,
uploads the reference data, reads its columns with their suggested drift methods, creates
the monitor and finds it listed on the model page, linked to its own page; a validator, in
Traditional Chinese, finds no "New monitor" link and is refused as the service words it.
Any browser console error fails; screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.conftest import LiveServer
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.specs import VersionSpec
from steward.services import identity, lifecycle, monitoring, versions
from steward.services import models as model_service
from steward.services.context import Context
from steward.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)
OP = Principal(name="admin", roles=frozenset({OPERATOR}))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("monitors")
    settings = Settings(
        home=home, database_url=f"sqlite:///{home / 'steward.db'}", artifacts_url=str(home / "a")
    )
    ctx = bootstrap.build(settings, migrate=True)
    for name, role in {"olive": "owner", "val": "validator"}.items():
        identity.create_user(ctx, OP, name, roles=(role,))
        identity.set_password(ctx, OP, name, PASSWORD)
    model_service.create_model(ctx, OP, "churn", owner="olive", purpose="retention offers")
    artifact = home / "model.bin"
    artifact.write_bytes(b"real model bytes")
    versions.create_version(ctx, OP, "churn", VersionSpec(description="first"), artifact)
    for stage in ("validation", "approved", "production"):
        lifecycle.transition(ctx, OP, "churn", 1, stage, "test")
    yield ctx
    ctx.uow.engine.dispose()


def _reference(folder: Path) -> Path:
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {"income": rng.normal(5000, 900, 400).round(2), "region": rng.choice(["n", "s"], 400)}
    )
    path = folder / "reference.csv"
    frame.to_csv(path, index=False)
    return path


def test_the_owner_creates_a_monitor_and_sees_it_listed(
    browser: Any, server: LiveServer, store: Context, tmp_path: Path
) -> None:
    reference = _reference(tmp_path)
    olive = Session(browser, server, "olive")
    page = olive.page
    page.goto(f"{server.url}/models/churn")
    page.click("#new-monitor")
    page.set_input_files("#m-reference", str(reference))
    page.click("#read-columns")
    table = page.locator("#monitor-columns")
    table.wait_for()
    income = table.locator("tr", has_text="income").inner_text()
    assert "ks" in income and "wasserstein" in income  # suggested on 400 rows, and what fits
    page.fill("#m-name", "weekly-income")
    page.uncheck("#monitor-columns input[value=region]")
    # each column has its own method, pre-filled with the one suggested for it
    income_method = page.locator("#monitor-columns select[data-column=income]")
    assert income_method.input_value() == "ks"
    assert page.locator("#m-method").count() == 0  # no one-method-for-all once columns show
    income_method.select_option("wasserstein")
    page.fill("#m-schedule", "7d")
    page.set_input_files("#m-reference", str(reference))  # browsers do not keep the file
    olive.shot("46-new-monitor")
    page.click("#create-monitor")
    page.wait_for_url("**/models/churn/monitors/mon_*?notice=monitor_created")
    main = page.inner_text("main")
    assert "The monitor was created." in main and "weekly-income" in main and "No run yet." in main
    [made] = monitoring.list_monitors(store, OP, model="churn")
    assert made.watched == ("income",) and made.config.methods == {"income": "wasserstein"}
    page.goto(f"{server.url}/models/churn")
    link = page.locator(f"a[href='/models/churn/monitors/{made.id}']")
    assert link.inner_text() == "weekly-income"
    link.click()
    page.wait_for_url(f"**/models/churn/monitors/{made.id}")
    assert page.locator("h1").inner_text() == "Monitor weekly-income of churn"
    assert page.inner_text("#monitor-methods") == "income: wasserstein"
    olive.shot("47-monitor-page")
    olive.close()


def test_the_owner_chooses_a_method_per_column_in_chinese(
    browser: Any, server: LiveServer, store: Context, tmp_path: Path
) -> None:
    """A method that does not fit its column is refused inline, in the service's words, on
    that column's select, with the other choices kept; then each column runs its own."""
    reference = _reference(tmp_path)
    olive = Session(browser, server, "olive", locale="zh-TW")
    page = olive.page
    page.goto(f"{server.url}/models/churn/monitors/new")
    page.set_input_files("#m-reference", str(reference))
    page.click("#read-columns")
    page.locator("#monitor-columns").wait_for()
    assert "漂移檢定方法" in page.inner_text("#monitor-columns thead")
    assert page.locator("#monitor-columns select[data-column=region]").input_value() == "ztest"
    page.fill("#m-name", "per-column")
    page.select_option("#monitor-columns select[data-column=income]", "chisquare")
    page.select_option("#monitor-columns select[data-column=region]", "jensenshannon")
    page.set_input_files("#m-reference", str(reference))
    page.click("#create-monitor")
    page.locator("#monitor-error").wait_for()
    error = page.inner_text("#monitor-error")
    assert "部分輸入未被接受" in error and "欄位的漂移檢定方法" in error  # in Chinese
    assert "column 'income' (method chisquare)" in error  # and the service's words
    income = page.locator("#monitor-columns select[data-column=income]")
    assert income.get_attribute("aria-invalid") == "true"
    region = page.locator("#monitor-columns select[data-column=region]")
    assert region.get_attribute("aria-invalid") is None
    assert income.input_value() == "chisquare" and region.input_value() == "jensenshannon"
    assert page.input_value("#m-name") == "per-column"  # what the user typed is kept
    assert len(olive.errors) == 1 and "422" in olive.errors[0]  # the refusal's status only
    olive.errors.clear()
    olive.shot("48a-monitor-method-refused-zh-TW")
    income.select_option("psi")
    page.set_input_files("#m-reference", str(reference))
    page.click("#create-monitor")
    page.wait_for_url("**/models/churn/monitors/mon_*?notice=monitor_created")
    made = next(
        m for m in monitoring.list_monitors(store, OP, model="churn") if m.name == "per-column"
    )
    assert made.config.methods == {"income": "psi", "region": "jensenshannon"}
    assert page.inner_text("#monitor-methods").split("\n") == [
        "income: psi",
        "region: jensenshannon",
    ]
    olive.shot("48b-monitor-per-column-zh-TW")
    olive.close()


def test_a_validator_is_refused_in_chinese(browser: Any, server: LiveServer) -> None:
    val = Session(browser, server, "val", locale="zh-TW")
    page = val.page
    page.goto(f"{server.url}/models/churn")
    assert page.locator("#new-monitor").count() == 0
    response = page.goto(f"{server.url}/models/churn/monitors/new")
    assert response is not None and response.status == 403
    main = page.inner_text("main")
    assert "無法完成" in main  # the page speaks Chinese
    assert "monitor:manage" in main  # and quotes the service's words
    assert page.get_attribute("html", "lang") == "zh-TW"
    assert len(val.errors) == 1 and "403" in val.errors[0]  # the refusal's status, only
    val.errors.clear()
    val.shot("48-new-monitor-refused-zh-TW")
    val.close()
