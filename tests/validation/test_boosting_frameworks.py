"""XGBoost and LightGBM models are stored in their native formats and validated from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from steward.domain.entities import Flavor
from steward.sdk.client import Steward
from steward.validation import loading

xgboost = pytest.importorskip("xgboost")
lightgbm = pytest.importorskip("lightgbm")


def data(seed: int = 0, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": rng.normal(50, 12, n),
            "debt": rng.normal(20, 6, n),
            "age": rng.integers(19, 75, n).astype(float),
        }
    )
    logit = 0.08 * (frame["debt"] - 20) - 0.05 * (frame["income"] - 50)
    frame["default"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame["group"] = np.where(frame["age"] < 30, "young", "older")
    return frame


FEATURES = ["income", "debt", "age"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("framework", "flavor", "filename"),
    [("xgboost", Flavor.XGBOOST, "model.ubj"), ("lightgbm", Flavor.LIGHTGBM, "model.lgb")],
)
def test_native_artifact_round_trips_and_validates(
    local: Steward, tmp_path: Path, framework: str, flavor: Flavor, filename: str
) -> None:
    train, test = data(0), data(1)
    if framework == "xgboost":
        model = xgboost.XGBClassifier(n_estimators=30, max_depth=3, random_state=0)
    else:
        model = lightgbm.LGBMClassifier(n_estimators=30, random_state=0, verbose=-1)
    model.fit(train[FEATURES], train["default"])

    local.create_model("pd", owner="alice", positive_means="adverse")  # 1 = default
    version = local.log_version("pd", model, training_data=train, target="default")
    assert version.artifact.flavor is flavor
    assert version.artifact.filename == filename

    stored = tmp_path / filename
    local.download("pd", version.version, stored)
    loaded = loading.load_model(stored, flavor.value)
    expected = model.predict_proba(test[FEATURES])[:, 1]
    np.testing.assert_allclose(loaded.proba_fn(test[FEATURES])[:, 1], expected, rtol=1e-6)
    np.testing.assert_array_equal(loaded.predict_fn(test[FEATURES]), model.predict(test[FEATURES]))

    run = local.validate(
        "pd",
        version.version,
        data=test,
        target="default",
        sensitive_features=["group"],
        features=FEATURES,
    )
    auc = run.result("performance.roc_auc").value
    from sklearn.metrics import roc_auc_score

    assert auc == pytest.approx(roc_auc_score(test["default"], expected), abs=1e-9)
    assert run.artifact_sha256 == version.artifact.sha256
