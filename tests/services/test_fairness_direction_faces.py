"""Fairness direction through every face (issue 13, item 4): stored on the model (SDK, REST,
CLI, web, risk questionnaire), overridable per run, asked for when unstated; migration 0015
marks existing models favourable — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sklearn.linear_model import LogisticRegression
from sqlalchemy import text
from tests.cli.helpers import flat, run
from tests.conftest import ensure_user
from tests.risk_answers import CREDIT as CREDIT_ANSWERS
from tests.web.test_web_pages import PASSWORD, sign_in

import steward
from steward.api.app import create_app
from steward.domain.entities import PositiveMeans
from steward.domain.errors import InvalidInput
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.services import identity
from steward.store import database

SUITE = (
    "suite: direction\nversion: '1'\nchecks:\n  - check: fairness.four_fifths\n"
    "  - check: fairness.demographic_parity_ratio\n"
)


def _scored() -> pd.DataFrame:
    """Recidivism-shaped: 1 = high risk, flagged far more often for group 'b'."""
    rng = np.random.default_rng(4)
    rows = 600
    group = np.where(np.arange(rows) % 2 == 0, "a", "b")
    flagged = rng.random(rows) < np.where(group == "b", 0.6, 0.3)
    return pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "group": group,
            "high_risk": flagged.astype(int),
            "recid": (rng.random(rows) < 0.4).astype(int),
        }
    )


def _register(st: Steward, **fields: Any) -> None:
    frame = _scored()
    model = LogisticRegression().fit(frame[["x"]], frame["recid"])
    st.create_model("recid", owner="alice", **fields)
    st.log_version("recid", model, capture_git=False)


def _validate(st: Steward, suite: Path, **kwargs: Any) -> Any:
    return st.validate(
        "recid",
        1,
        data=_scored(),
        target="recid",
        y_pred="high_risk",
        sensitive_features=["group"],
        suite=suite,
        **kwargs,
    )


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    path = tmp_path / "direction.yaml"
    path.write_text(SUITE)
    return path


def test_unstated_is_asked_stated_on_the_model_is_used(client: Steward, suite: Path) -> None:
    _register(client)
    assert client.get_model("recid").positive_means is PositiveMeans.UNSTATED
    with pytest.raises(InvalidInput, match="--positive-means favourable"):
        _validate(client, suite)
    assert client.update_model("recid", positive_means="adverse").positive_means == "adverse"
    run = _validate(client, suite)
    assert run.summary["positive_means"] == "adverse"
    four_fifths = run.result("fairness.four_fifths")
    assert four_fifths.details["flagged"] == ["b"]  # flagged high risk most often: hurt
    assert "a positive prediction (1) is adverse" in four_fifths.message
    # Every fairness result carries its bootstrap interval, over REST as well.
    assert four_fifths.details["interval"]["level"] == 0.95
    assert four_fifths.details["interval"]["replicates"] == 1000
    # A run may state it for itself; the model's setting is then not used.
    favourable = _validate(client, suite, positive_means="favourable")
    assert favourable.result("fairness.four_fifths").details["flagged"] == ["a"]


def test_the_risk_questionnaire_asks_and_stores_it(local: Steward) -> None:
    _register(local)
    local.assess_risk("recid", {**CREDIT_ANSWERS, "positive_prediction": "adverse"})
    assert local.get_model("recid").positive_means is PositiveMeans.ADVERSE
    # The question is optional: answers without it keep what the model states.
    local.update_model("recid", positive_means="favourable")
    local.assess_risk("recid", {**CREDIT_ANSWERS, "third_party": "pretrained"})
    assert local.get_model("recid").positive_means is PositiveMeans.FAVOURABLE


def test_cli_flags_on_model_and_run(suite: Path, tmp_path: Path) -> None:
    home = tmp_path / "store"
    st = steward.connect(home=str(home), actor="alice")
    _register(st)
    st.close()
    data = tmp_path / "scored.csv"
    _scored().to_csv(data, index=False)
    common = ["check", "run", "recid", "1", "--data", str(data), "--target", "recid"]
    common += ["--y-pred", "high_risk", "--sensitive", "group", "--suite", str(suite)]
    refused = run(home, *common)
    assert refused.exit_code == 1
    assert "--positive-means favourable" in flat(refused.output)
    ran = run(home, *common, "--positive-means", "adverse", "--json")
    assert ran.exit_code == 2, ran.output  # stored, and the four-fifths check fails
    assert json.loads(ran.output)["summary"]["positive_means"] == "adverse"
    table = flat(run(home, *common, "--positive-means", "adverse").output)
    assert "95% CI" in table  # the interval next to each fairness value
    shown = run(home, "model", "update", "recid", "--positive-means", "adverse")
    assert shown.exit_code == 0, shown.output
    assert "positive prediction adverse" in flat(shown.output)
    bad = run(home, "model", "update", "recid", "--positive-means", "maybe")
    assert bad.exit_code == 1 and "favourable" in flat(bad.output)


def test_migration_0015_marks_existing_models_favourable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = database.make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(database.MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0011")
        conn.execute(
            text(
                "INSERT INTO models (name, title, description, purpose, business_unit, owner, "
                "team, risk_tier, regulatory_category, status, allow_multiple_production, "
                "latest_version, created_at, created_by, updated_at, search_text) VALUES "
                "('old', '', '', '', '', 'a', '', 'low', 'minimal', 'active', false, 0, "
                "'2026-01-01', 'a', '2026-01-01', 'old')"
            )
        )
    database.migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT positive_means FROM models")).scalar() == "favourable"
    engine.dispose()


def test_the_model_page_shows_what_a_positive_prediction_means(ctx: Any, local: Steward) -> None:
    _register(local)
    ensure_user(ctx, "val", "validator")
    identity.set_password(
        ctx, Principal(name="admin", roles=frozenset({OPERATOR})), "val", PASSWORD
    )
    with TestClient(create_app(ctx)) as web:
        sign_in(web, "val")
        page = web.get("/models/recid").text
        assert "A positive prediction is" in page
        assert "not stated" in page and "fairness checks ask for it" in page
        local.update_model("recid", positive_means="adverse")
        shown = web.get("/models/recid").text
        assert '<dd id="positive-means">adverse</dd>' in shown
        assert "不利" in web.get("/models/recid", headers={"Accept-Language": "zh-TW"}).text
