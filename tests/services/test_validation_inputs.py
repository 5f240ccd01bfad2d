"""Validation inputs beyond pandas: Polars and Arrow data (model and predictions mode), and an
MLflow-logged scikit-learn model stored as a folder artifact — through the SDK, locally and
over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from steward.demo.credit import TARGET, TrainedCreditModel, train_credit_model
from steward.domain.entities import Flavor
from steward.domain.errors import ArtifactError
from steward.lineage.datasets import fingerprint
from steward.sdk.client import Steward

pl = pytest.importorskip("polars")

SUITE = (
    'suite: inputs\nversion: "1"\nsettings: {favorable_label: 0, min_group_size: 20,'
    " bands: {age_in_years: [25]}}\nchecks:\n"
    "  - check: performance.roc_auc\n  - check: performance.accuracy\n"
    "  - check: performance.brier\n  - check: fairness.demographic_parity_ratio\n"
    "  - check: data_quality.drift\n"
)
NUMBERS = [
    "performance.roc_auc",
    "performance.accuracy",
    "performance.brier",
    "fairness.demographic_parity_ratio",
    "data_quality.drift",
]


@pytest.fixture(scope="module")
def trained() -> TrainedCreditModel:
    return train_credit_model(seed=42, model_kind="logistic")


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    path = tmp_path / "inputs.yaml"
    path.write_text(SUITE)
    return path


def _values(run: Any) -> dict[str, float | None]:
    return {name: run.result(name).value for name in NUMBERS}


def test_polars_and_arrow_data_validate_like_pandas(
    client: Steward, trained: TrainedCreditModel, suite: Path
) -> None:
    client.create_model("credit", owner="alice")
    client.log_version(
        "credit", trained.model, training_data=trained.train, target=TARGET, capture_git=False
    )
    common: dict[str, Any] = {
        "target": TARGET,
        "sensitive_features": ["age_in_years"],
        "suite": suite,
    }
    by_pandas = client.validate(
        "credit", 1, data=trained.test, reference_data=trained.train, **common
    )
    by_polars = client.validate(
        "credit",
        1,
        data=pl.from_pandas(trained.test),
        reference_data=pl.from_pandas(trained.train),
        **common,
    )
    by_arrow = client.validate(
        "credit",
        1,
        data=pa.Table.from_pandas(trained.test, preserve_index=False),
        reference_data=pa.Table.from_pandas(trained.train, preserve_index=False),
        **common,
    )
    expected = _values(by_pandas)
    assert all(v is not None for v in expected.values())
    for run in (by_polars, by_arrow):
        assert run.summary["mode"] == "model"
        assert _values(run) == pytest.approx(expected, abs=1e-12)
        # The same rows give the same fingerprint, whatever library held them.
        assert run.data_fingerprint == by_pandas.data_fingerprint == fingerprint(trained.test)
        assert run.summary["reference_fingerprint"] == fingerprint(trained.train)


def test_predictions_mode_from_polars_and_arrow(
    client: Steward, trained: TrainedCreditModel, suite: Path, tmp_path: Path
) -> None:
    client.create_model("vendor", owner="alice")
    opaque = tmp_path / "vendor.bin"
    opaque.write_bytes(b"opaque vendor model")
    client.log_version("vendor", artifact=opaque, capture_git=False)
    x = trained.test[trained.feature_columns]
    scored = trained.test[[TARGET, "age_in_years"]].copy()
    scored["decision"] = trained.model.predict(x)
    scored["pd"] = trained.model.predict_proba(x)[:, 1]
    common: dict[str, Any] = {
        "target": TARGET,
        "sensitive_features": "age_in_years",
        "suite": suite,
    }
    reference = client.validate("vendor", 1, data=scored, y_pred="decision", y_score="pd", **common)
    polars_columns = client.validate(
        "vendor", 1, data=pl.from_pandas(scored), y_pred="decision", y_score="pd", **common
    )
    arrow_columns = client.validate(
        "vendor",
        1,
        data=pa.Table.from_pandas(scored, preserve_index=False),
        y_pred="decision",
        y_score="pd",
        **common,
    )
    # Predictions passed as Polars / Arrow arrays beside a Polars / Arrow table of the rest.
    rest = scored[[TARGET, "age_in_years"]]
    polars_arrays = client.validate(
        "vendor",
        1,
        data=pl.from_pandas(rest),
        y_pred=pl.Series(scored["decision"].to_numpy()),
        y_score=pl.Series(scored["pd"].to_numpy()),
        **common,
    )
    arrow_arrays = client.validate(
        "vendor",
        1,
        data=pa.Table.from_pandas(rest, preserve_index=False),
        y_pred=pa.chunked_array([scored["decision"].to_numpy()]),
        y_score=pa.array(scored["pd"].to_numpy()),
        **common,
    )
    performance = [n for n in NUMBERS if n != "data_quality.drift"]
    expected = {n: reference.result(n).value for n in performance}
    assert all(v is not None for v in expected.values())
    assert reference.result("data_quality.drift").passed is None  # no reference data given
    for run in (polars_columns, arrow_columns, polars_arrays, arrow_arrays):
        assert run.summary["mode"] == "predictions"
        assert {n: run.result(n).value for n in performance} == pytest.approx(expected, abs=1e-12)
    assert polars_columns.data_fingerprint == reference.data_fingerprint


# -- MLflow ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mlflow_folders(
    tmp_path_factory: pytest.TempPathFactory, trained: TrainedCreditModel
) -> dict[str, Path]:
    """A model logged to an MLflow tracking store (SQLite) in a run, then downloaded as the
    folder MLflow wrote — once in skops format (MLflow's default), once with cloudpickle."""
    pytest.importorskip("mlflow")
    import mlflow
    import mlflow.sklearn

    root = tmp_path_factory.mktemp("mlflow")
    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
    # Artifacts under the temporary folder too (MLflow's default is ./mlruns in the cwd).
    experiment = mlflow.create_experiment(
        "steward-tests", artifact_location=(root / "artifacts").as_uri()
    )
    folders = {}
    try:
        for fmt in ("skops", "cloudpickle"):
            with mlflow.start_run(experiment_id=experiment):
                info = mlflow.sklearn.log_model(
                    trained.model,
                    name="model",
                    serialization_format=fmt,
                    input_example=trained.test[trained.feature_columns].head(3),
                )
            folders[fmt] = Path(
                mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(root / fmt))
            )
    finally:
        mlflow.set_tracking_uri("")
    return folders


def test_mlflow_logged_sklearn_folder_is_loaded_and_validated(
    client: Steward,
    trained: TrainedCreditModel,
    suite: Path,
    mlflow_folders: dict[str, Path],
) -> None:
    folder = mlflow_folders["skops"]
    assert (folder / "MLmodel").is_file() and (folder / "model.skops").is_file()
    client.create_model("credit", owner="alice")
    version = client.log_version("credit", artifact=folder, capture_git=False)
    assert (version.artifact.flavor, version.artifact.is_directory) == (Flavor.MLFLOW, True)
    run = client.validate(
        "credit",
        1,
        data=trained.test,
        target=TARGET,
        sensitive_features=["age_in_years"],
        suite=suite,
        reference_data=trained.train,
    )
    # Loaded through Steward's skops loader: scores as well as labels, equal to the original.
    x = trained.test[trained.feature_columns]
    y = trained.test[TARGET].to_numpy()
    from sklearn.metrics import accuracy_score, roc_auc_score

    assert run.summary["model"].startswith("MLflow sklearn model (skops)")
    assert run.artifact_sha256 == version.artifact.sha256
    assert run.result("performance.roc_auc").value == pytest.approx(
        roc_auc_score(y, trained.model.predict_proba(x)[:, 1]), abs=1e-12
    )
    assert run.result("performance.accuracy").value == pytest.approx(
        accuracy_score(y, trained.model.predict(x)), abs=1e-12
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_mlflow_pickle_folder_needs_trust(
    local: Steward,
    trained: TrainedCreditModel,
    suite: Path,
    mlflow_folders: dict[str, Path],
) -> None:
    local.create_model("credit", owner="alice")
    local.log_version("credit", artifact=mlflow_folders["cloudpickle"], capture_git=False)
    common: dict[str, Any] = {
        "data": trained.test,
        "target": TARGET,
        "sensitive_features": ["age_in_years"],
        "suite": suite,
    }
    with pytest.raises(ArtifactError, match=r"sklearn \(cloudpickle\).*trust=True"):
        local.validate("credit", 1, **common)
    assert local.check_runs("credit", 1) == []  # refused before anything was stored
    before = os.environ.get("MLFLOW_ALLOW_PICKLE_DESERIALIZATION")
    run = local.validate("credit", 1, trust=True, **common)
    # MLflow's own guard is lifted for the load only.
    assert os.environ.get("MLFLOW_ALLOW_PICKLE_DESERIALIZATION") == before
    assert run.summary["trusted_pickle"] is True
    assert run.summary["model"] == "MLflow pyfunc: Pipeline"
    x = trained.test[trained.feature_columns]
    assert run.result("performance.accuracy").value == pytest.approx(
        float(np.mean(trained.model.predict(x) == trained.test[TARGET].to_numpy())), abs=1e-12
    )
    assert run.result("performance.roc_auc").value is not None


def test_a_folder_without_mlmodel_is_not_an_mlflow_model(tmp_path: Path) -> None:
    from steward.validation import loading

    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\x00")
    with pytest.raises(ArtifactError, match="no MLmodel file"):
        loading.load_model(folder, Flavor.DIRECTORY.value)
    (folder / "MLmodel").write_text("flavors: {}\n")
    with pytest.raises(ArtifactError, match="lists no flavors"):
        loading.load_model(folder, Flavor.MLFLOW.value)
