"""Chromium (Playwright) adding a version as the model's owner, in English and Traditional
Chinese: the limit is on the page before the upload, a file over it is stopped in the page,
the upload shows its progress and lands on the model page; a refused metric comes back
beside its field with the typed text kept; a validator is refused as the service words it.
Any browser console error (a CSP violation included) fails; screenshots go to
test-artifacts/ui/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LiveServer
from tests.web.test_web_browser import CHROMIUM, Session
from tests.web.webutil import PASSWORD

from steward import bootstrap
from steward.domain.permissions import OPERATOR, Principal
from steward.services import identity, versions
from steward.services import models as model_service
from steward.services.context import Context
from steward.settings import Settings

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (scripts/venv.sh)"
)
OP = Principal(name="admin", roles=frozenset({OPERATOR}))
LIMIT = 64 * 1024
CSV = b"age,income,label\n31,5000,1\n45,7200,0\n27,3100,1\n"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    home = tmp_path_factory.mktemp("versions")
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'steward.db'}",
        artifacts_url=str(home / "a"),
        max_artifact_bytes=LIMIT,
    )
    ctx = bootstrap.build(settings, migrate=True)
    for name, role in {"olive": "owner", "val": "validator"}.items():
        identity.create_user(ctx, OP, name, roles=(role,))
        identity.set_password(ctx, OP, name, PASSWORD)
    model_service.create_model(ctx, OP, "churn", owner="olive", purpose="retention offers")
    yield ctx
    ctx.uow.engine.dispose()


def _files(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = {"model.pkl": b"m" * 20_000, "big.pkl": b"b" * (LIMIT + 1), "train.csv": CSV}
    for name, data in made.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in made}


def test_the_owner_uploads_a_version_with_progress(
    browser: Any, server: LiveServer, store: Context, tmp_path: Path
) -> None:
    files = _files(tmp_path)
    olive = Session(browser, server, "olive")
    page = olive.page
    page.goto(f"{server.url}/models/churn")
    page.click("#add-version")
    assert "64 MB" not in page.inner_text("#upload-limit")
    assert str(LIMIT) in page.inner_text("#upload-limit")
    page.set_input_files("#v-artifact", str(files["big.pkl"]))
    page.click("form.version-new button[type=submit]")
    check = page.locator("#upload-check")
    check.wait_for()
    assert "big.pkl is larger than this server accepts" in check.inner_text()
    assert versions.list_versions(store, OP, "churn").items == []  # nothing was sent

    page.set_input_files("#v-artifact", str(files["model.pkl"]))
    page.set_input_files("#v-training-file", str(files["train.csv"]))
    page.select_option("#v-flavor", "sklearn")
    page.fill("#v-description", "gradient boosting, March data")
    page.fill("#v-metrics", "auc = 0.81")
    olive.shot("40-add-version")
    page.click("form.version-new button[type=submit]")
    page.wait_for_url("**/models/churn?version=1&notice=version_created")
    assert "The version was added in development." in page.inner_text("main")
    made = versions.get_version(store, OP, "churn", 1)
    assert made.artifact.size == 20_000 and made.metrics == {"auc": 0.81}
    assert made.training_data is not None and made.training_data.rows == 3
    olive.close()


def test_a_refused_metric_is_shown_beside_its_field_in_chinese(
    browser: Any, server: LiveServer, tmp_path: Path
) -> None:
    files = _files(tmp_path)
    olive = Session(browser, server, "olive", locale="zh-TW")
    page = olive.page
    page.goto(f"{server.url}/models/churn/versions/new")
    assert "新增 churn 的版本" in page.inner_text("h1")
    page.set_input_files("#v-artifact", str(files["model.pkl"]))
    page.fill("#v-description", "第二版")
    page.fill("#v-metrics", "auc = high")
    page.click("form.version-new button[type=submit]")
    error = page.locator("#version-error")
    error.wait_for()
    assert "指標" in error.inner_text()  # the field, named in the page's language
    assert "is not a number" in error.inner_text()  # and the service's own words
    assert page.input_value("#v-description") == "第二版"
    assert page.get_attribute("#v-metrics", "aria-invalid") == "true"
    olive.shot("41-add-version-refused-zh-TW")
    # Chromium logs the upload request's expected 422 (the refusal) as a failed load.
    assert len(olive.errors) == 1 and "422" in olive.errors[0]
    olive.errors.clear()
    olive.close()


@pytest.mark.parametrize("locale", ["en-US", "zh-TW"])
def test_a_validator_is_refused_as_the_service_words_it(
    browser: Any, server: LiveServer, locale: str
) -> None:
    val = Session(browser, server, "val", locale=locale)
    page = val.page
    page.goto(f"{server.url}/models/churn")
    assert page.locator("#add-version").count() == 0
    response = page.goto(f"{server.url}/models/churn/versions/new")
    assert response is not None and response.status == 403
    assert "version:write" in page.inner_text("main")
    assert len(val.errors) == 1 and "403" in val.errors[0]  # the refusal's status, only
    val.errors.clear()
    if locale == "zh-TW":
        val.shot("42-add-version-refused-validator-zh-TW")
    val.close()
