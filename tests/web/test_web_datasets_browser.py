"""Chromium (Playwright) on the dataset pages: a data steward opens the inventory, filters
it by classification, opens a dataset with a failed and an approved version, and reads its
rule results, open findings and lineage; the same page in Traditional Chinese. Any browser
console error fails; screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from tests.conftest import LiveServer
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.specs import VersionSpec
from steward.lineage import datasets as lineage
from steward.services import data_quality, datasets, identity, models, versions
from steward.services.context import Context
from steward.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)
OP = Principal(name="admin", roles=frozenset({OPERATOR}))
GOOD = pd.DataFrame({"id": [1, 2, 3], "purpose": ["car", "car", "education"]})


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("datasets")
    settings = Settings(
        home=home, database_url=f"sqlite:///{home / 'steward.db'}", artifacts_url=str(home / "a")
    )
    ctx = bootstrap.build(settings, migrate=True)
    identity.create_user(ctx, OP, "steve", roles=("data_steward",), password=PASSWORD)
    datasets.create_dataset(
        ctx,
        OP,
        "loan-applications",
        owner="dana",
        title="Loan applications",
        classification="confidential",
        legal_basis="contract (PDPA Art. 19)",
        retention="7y",
    )
    datasets.create_dataset(ctx, OP, "branches", owner="dana", classification="public")
    data_quality.set_rules(
        ctx,
        OP,
        "loan-applications",
        "rules:\n  - kind: allowed_values\n    column: purpose\n    values: [car, education]\n",
    )
    bad = pd.concat([GOOD, pd.DataFrame({"id": [4], "purpose": ["boat"]})])
    data_quality.snapshot(ctx, OP, "loan-applications", GOOD)
    data_quality.snapshot(ctx, OP, "loan-applications", bad)
    datasets.approve(
        ctx, Principal("steve", roles=frozenset({"data_steward"})), "loan-applications@1", "fit"
    )
    models.create_model(ctx, OP, "credit")
    artifact = home / "m.bin"
    artifact.write_bytes(b"weights")
    spec = VersionSpec(training_data=lineage.describe(GOOD, name="credit-training"))
    versions.create_version(ctx, OP, "credit", spec, artifact)
    yield ctx
    ctx.uow.engine.dispose()


def test_a_data_steward_reads_the_inventory_and_a_dataset(
    browser: Any, server: LiveServer, store: Context
) -> None:
    steve = Session(browser, server, "steve")
    page = steve.page
    page.click("nav >> text=Datasets")
    page.wait_for_url("**/datasets")
    assert page.locator("#dataset-loan-applications").count() == 1
    assert page.locator("#dataset-branches").count() == 1
    page.select_option("#d-class", "confidential")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**classification=confidential")
    assert page.locator("#dataset-branches").count() == 0
    page.click("text=loan-applications")
    page.wait_for_url("**/datasets/loan-applications")
    assert page.locator("#classification").inner_text() == "confidential"
    assert "failed" in page.locator("#version-2").inner_text()
    assert "steve" in page.locator("#version-1").inner_text()
    results = page.locator("table.rule-results")
    assert "1 / 4" in results.inner_text() and "boat" in results.inner_text()
    assert "loan-applications@2 fails" in page.locator("ul.data-findings").inner_text()
    assert "credit v1" in page.locator("ul.lineage").inner_text()
    steve.shot("20-dataset")
    # and the other way: the model page names the dataset version it was trained on
    page.click("ul.lineage >> text=credit v1")
    page.wait_for_url("**/models/credit?version=1")
    assert "loan-applications@1" in page.locator("ul.data-lineage").inner_text()
    # the lineage graph, drawn on the server, both ways: the model page's leads to the dataset
    graph = page.locator("#lineage-graph svg")
    assert graph.count() == 1 and "loan-applications@1" in graph.inner_html()
    page.locator('#lineage-graph a[href="/datasets/loan-applications"]').click()
    page.wait_for_url("**/datasets/loan-applications")
    drawn = page.locator("#lineage-graph svg")
    assert "credit v1" in drawn.inner_html() and "loan-applications@2" in drawn.inner_html()
    assert drawn.bounding_box() is not None  # rendered, not only present
    # the dataset card, linked from the page, served as a self-contained document
    page.click("text=Dataset card")
    page.wait_for_url("**/datasets/loan-applications/card")
    assert "Dataset card: Loan applications" in page.locator("h1").inner_text()
    assert "credit" in page.locator("#lineage").inner_text()
    assert "fit" in page.locator("#approvals").inner_text()
    steve.close()
    # the same page in Traditional Chinese
    zh = Session(browser, server, "steve", locale="zh-TW")
    zh.page.goto(f"{server.url}/datasets/loan-applications")
    body = zh.page.locator("main").inner_text()
    assert "資料分級" in body and "機密" in body and "血緣" in body
    zh.shot("21-dataset-zh")
    zh.page.click("text=資料集卡")
    zh.page.wait_for_url("**/datasets/loan-applications/card")
    assert "資料集卡：Loan applications" in zh.page.locator("h1").inner_text()  # noqa: RUF001
    assert "清冊" in zh.page.locator("#inventory").inner_text()
    zh.close()
