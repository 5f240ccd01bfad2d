"""Creating a monitor from the browser, in-process on SQLite and PostgreSQL: the reference
upload shows each column with its suggested drift method, a method that does not fit a
column is refused inline with the service's words and the typed values kept, a good form
creates the monitor and lands on its page, and the wrong role is refused before the body
is read. No upload is left in the spool."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.conftest import ensure_user
from tests.web.test_web_pages import PASSWORD, sign_in

from steward.api.app import create_app
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.services import identity, monitoring
from steward.services.context import Context

OP = Principal(name="admin", roles=frozenset({OPERATOR}))
CREATE = {"step": "create", "name": "weekly-income", "version": "1"}


def reference_csv() -> bytes:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {"income": rng.normal(5000, 900, 300).round(2), "region": rng.choice(["n", "s"], 300)}
    )
    return frame.to_csv(index=False).encode()


@pytest.fixture
def web(
    ctx: Context, local: Steward, make_file: Callable[[bytes, str], Path]
) -> Iterator[TestClient]:
    for name, role in {"olive": "owner", "val": "validator"}.items():
        ensure_user(ctx, name, role)
        identity.set_password(ctx, OP, name, PASSWORD)
    local.create_model("churn", owner="olive")
    local.log_version("churn", artifact=make_file(b"m", "m.bin"), capture_git=False)
    for stage in ("validation", "approved", "production"):
        local.transition("churn", 1, to=stage, justification="test")
    with TestClient(create_app(ctx)) as client:
        yield client


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_a_method_that_does_not_fit_a_column_is_refused_inline(
    web: TestClient, ctx: Context
) -> None:
    sign_in(web, "olive")
    assert 'id="new-monitor"' in web.get("/models/churn").text
    token = _csrf(web.get("/models/churn/monitors/new").text)
    read = web.post(
        "/models/churn/monitors/new",
        data={"csrf_token": token, "step": "inspect"},
        files={"reference": ("reference.csv", reference_csv(), "text/csv")},
    )
    assert read.status_code == 200, read.text
    # income is continuous: auto suggests KS on 300 rows, and chi-square does not fit it
    assert '<label for="col-1">income</label>' in read.text
    assert "<td><code>ks</code></td><td>psi, ks, wasserstein, jensenshannon</td>" in read.text
    assert "<td><code>ztest</code></td><td>psi, jensenshannon, chisquare, ztest</td>" in read.text

    refused = web.post(
        "/models/churn/monitors/new",
        data={
            **CREATE,
            "csrf_token": token,
            "column": ["income", "region"],
            "method": "chisquare",
            "mode": "exact",
            "drift_share": "0.4",
            "missing": "0.1",
            "schedule_every": "7d",
        },
        files={"reference": ("reference.csv", reference_csv(), "text/csv")},
    )
    assert refused.status_code == 422
    assert "Drift method &#39;chisquare&#39; cannot test every watched column" in refused.text
    assert 'id="monitor-error"' in refused.text
    assert '<option value="chisquare" selected>' in refused.text
    assert 'name="name" value="weekly-income"' in refused.text and 'value="7d"' in refused.text
    assert 'value="0.4"' in refused.text
    # the columns are shown, each with its own select: the one the method cannot test is
    # marked, and shows the method the user chose
    assert 'name="method:income" data-column="income" aria-invalid="true"' in refused.text
    assert 'name="method:region" data-column="region">' in refused.text
    assert monitoring.list_monitors(ctx, OP, model="churn") == []
    folder = ctx.settings.spool_dir
    assert not folder.is_dir() or list(folder.iterdir()) == []


def test_a_form_without_its_file_keeps_every_typed_value(web: TestClient) -> None:
    sign_in(web, "olive")
    token = _csrf(web.get("/models/churn/monitors/new").text)
    typed = {**CREATE, "csrf_token": token, "schedule_every": "12h", "drift_share": "0.3"}
    refused = web.post("/models/churn/monitors/new", data=typed, files={"x": ("", b"")})
    assert refused.status_code == 422
    assert "Choose the reference data file" in refused.text
    assert 'id="m-reference" name="reference" accept=".parquet,.pq,.csv" aria-invalid="true"' in (
        refused.text
    )
    assert 'value="weekly-income"' in refused.text and 'value="12h"' in refused.text
    assert 'value="0.3"' in refused.text


def test_the_owner_creates_a_monitor_and_sees_its_page(web: TestClient, ctx: Context) -> None:
    sign_in(web, "olive")
    token = _csrf(web.get("/models/churn/monitors/new").text)
    made = web.post(
        "/models/churn/monitors/new",
        data={
            **CREATE,
            "csrf_token": token,
            "column": ["income"],
            "method": "wasserstein",
            "mode": "exact",
            "drift_share": "0.4",
            "missing": "0.1",
        },
        files={"reference": ("reference.csv", reference_csv(), "text/csv")},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    [mon] = monitoring.list_monitors(ctx, OP, model="churn")
    assert mon.name == "weekly-income" and mon.watched == ("income",)
    assert mon.config.method == "wasserstein" and mon.reference.exact is not None
    assert [r.threshold for r in mon.config.rules] == [0.4, 0.1]
    assert made.headers["location"] == f"/models/churn/monitors/{mon.id}?notice=monitor_created"
    shown = web.get(made.headers["location"])
    assert shown.status_code == 200 and "The monitor was created." in shown.text
    assert "No run yet." in shown.text
    assert f'href="/models/churn/monitors/{mon.id}"' in web.get("/models/churn").text
    folder = ctx.settings.spool_dir
    assert not folder.is_dir() or list(folder.iterdir()) == []


def test_a_validator_is_refused_before_the_upload_is_read(web: TestClient) -> None:
    sign_in(web, "val")
    assert 'id="new-monitor"' not in web.get("/models/churn").text
    form = web.get("/models/churn/monitors/new")
    assert form.status_code == 403 and "monitor:manage" in form.text
    token = _csrf(web.get("/").text)
    posted = web.post(
        "/models/churn/monitors/new",
        data={"csrf_token": token, "step": "create", "version": "1"},
        files={"reference": ("reference.csv", reference_csv(), "text/csv")},
    )
    assert posted.status_code == 403


def test_the_monitor_page_lists_its_runs_under_its_own_model_only(
    web: TestClient, local: Steward
) -> None:
    local.create_model("other", owner="olive")
    frame = pd.read_csv(io.BytesIO(reference_csv()))
    mon = local.create_monitor("churn", 1, reference=frame, columns=["income"], method="ks")
    local.run_monitor(mon.id, frame.assign(income=frame.income + 2000))
    sign_in(web, "olive")
    page = web.get(f"/models/churn/monitors/{mon.id}")
    assert page.status_code == 200
    runs = page.text.split('id="monitor-runs"', 1)[1].split("</table>", 1)[0]
    assert '<th scope="col">income</th>' in runs and "<small>ks</small>" in runs
    assert "<td>exact</td>" in runs and "<td>drifted</td>" in runs
    assert "<code>alrt_" in runs  # the dataset-drift rule fired on this run
    assert web.get(f"/models/other/monitors/{mon.id}").status_code == 404
