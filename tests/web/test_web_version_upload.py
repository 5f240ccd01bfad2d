"""Adding a version from the browser, in-process on SQLite and PostgreSQL: the artifact and a
data file upload through the API's spool, a registered dataset version links the version's
lineage, the wrong person is refused before the body is read, and a bad field or a file over
the limit re-renders the form with the reason beside the field and the typed text kept."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.conftest import ensure_user
from tests.web.test_web_pages import PASSWORD, sign_in

from steward.api.app import create_app
from steward.domain.permissions import OPERATOR, Principal
from steward.services import data_quality, datasets, identity, versions
from steward.services import models as model_service
from steward.services.context import Context

OP = Principal(name="admin", roles=frozenset({OPERATOR}))
CSV = b"age,income,label\n31,5000,1\n45,7200,0\n27,3100,1\n"


@pytest.fixture
def web(ctx: Context) -> Iterator[TestClient]:
    ctx.settings = ctx.settings.with_(max_artifact_bytes=4096)
    for name, role in {"olive": "owner", "oscar": "owner", "val": "validator"}.items():
        ensure_user(ctx, name, role)
        identity.set_password(ctx, OP, name, PASSWORD)
    model_service.create_model(ctx, OP, "churn", owner="olive", purpose="retention offers")
    datasets.create_dataset(ctx, OP, "customers", owner="olive")
    data_quality.snapshot(ctx, OP, "customers", pd.DataFrame({"age": [31, 45], "label": [1, 0]}))
    with TestClient(create_app(ctx)) as client:
        yield client


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _spool_files(ctx: Context) -> list[str]:
    folder = ctx.settings.spool_dir
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_an_owner_uploads_an_artifact_and_training_data(web: TestClient, ctx: Context) -> None:
    sign_in(web, "olive")
    model_page = web.get("/models/churn")
    assert 'id="add-version"' in model_page.text
    form = web.get("/models/churn/versions/new")
    assert form.status_code == 200
    assert 'data-limit="4096"' in form.text  # the limit is on the page before any upload
    made = web.post(
        "/models/churn/versions/new",
        data={
            "csrf_token": _csrf(form.text),
            "description": "gradient boosting, March data",
            "flavor": "sklearn",
            "metrics": "auc = 0.81\n\nrecall=0.7",
            "tags": "team = retail",
            "evaluation_ref": "customers@1",
        },
        files={
            "artifact": ("model.pkl", b"real model bytes", "application/octet-stream"),
            "training_file": ("train.csv", CSV, "text/csv"),
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    assert made.headers["location"] == "/models/churn?version=1&notice=version_created"
    version = versions.get_version(ctx, OP, "churn", 1)
    assert version.artifact.filename == "model.pkl" and version.artifact.size == 16
    assert version.metrics == {"auc": 0.81, "recall": 0.7} and version.tags == {"team": "retail"}
    assert version.training_data is not None and version.training_data.rows == 3
    assert version.training_data.name == "train.csv" and version.training_data.uri is None
    assert datasets.lineage(ctx, OP, "churn", 1).evaluation == ["customers@1"]
    assert _spool_files(ctx) == []  # nothing left behind


def test_a_bad_metric_keeps_what_was_typed_and_names_the_field(web: TestClient) -> None:
    sign_in(web, "olive")
    token = _csrf(web.get("/models/churn/versions/new").text)
    bad = web.post(
        "/models/churn/versions/new",
        data={"csrf_token": token, "description": "kept text", "metrics": "auc = high"},
        files={"artifact": ("model.pkl", b"bytes", "application/octet-stream")},
    )
    assert bad.status_code == 422
    assert "is not a number" in bad.text and "kept text" in bad.text
    assert 'id="v-metrics" name="metrics" rows="3" cols="40" aria-invalid="true"' in bad.text


def test_a_file_over_the_limit_is_refused_inline_and_not_kept(
    web: TestClient, ctx: Context
) -> None:
    sign_in(web, "olive")
    token = _csrf(web.get("/models/churn/versions/new").text)
    big = web.post(
        "/models/churn/versions/new",
        data={"csrf_token": token, "description": "too big"},
        files={"artifact": ("model.pkl", b"x" * 5000, "application/octet-stream")},
    )
    assert big.status_code == 413
    assert "larger than this server accepts (4096 bytes" in big.text and "too big" in big.text
    assert versions.list_versions(ctx, OP, "churn").items == []
    assert _spool_files(ctx) == []


def test_both_a_file_and_a_registered_version_is_refused(web: TestClient) -> None:
    sign_in(web, "olive")
    token = _csrf(web.get("/models/churn/versions/new").text)
    both = web.post(
        "/models/churn/versions/new",
        data={"csrf_token": token, "training_ref": "customers@1"},
        files={
            "artifact": ("model.pkl", b"bytes", "application/octet-stream"),
            "training_file": ("train.csv", CSV, "text/csv"),
        },
    )
    assert both.status_code == 422 and "not both" in both.text


@pytest.mark.parametrize("user", ["oscar", "val"])
def test_another_owner_or_a_validator_is_refused_as_the_service_words_it(
    web: TestClient, ctx: Context, user: str
) -> None:
    sign_in(web, user)
    form = web.get("/models/churn/versions/new")
    assert form.status_code == 403
    assert "version:write" in form.text
    token = _csrf(web.get("/").text)
    forged = web.post(
        "/models/churn/versions/new",
        data={"csrf_token": token},
        files={"artifact": ("model.pkl", b"bytes", "application/octet-stream")},
    )
    assert forged.status_code == 403
    assert versions.list_versions(ctx, OP, "churn").items == []
    assert 'id="add-version"' not in web.get("/models/churn").text
