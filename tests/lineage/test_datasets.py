"""Dataset lineage: content fingerprints, schemas, profiles and signature inference."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression

from steward.domain.entities import ColumnSpec
from steward.domain.errors import InvalidInput
from steward.lineage import datasets
from steward.sdk.client import Steward


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [31.0, 45.0, 22.0, np.nan, 58.0, 39.0],
            "income": [1.5, 2.5, 3.0, 4.0, 10.0, 2.5],
            "children": [0, 2, 1, 3, 0, 2],
            "city": ["Paris", "Lyon", None, "Paris", "Nice", "Paris"],
            "approved": [True, False, True, True, False, True],
        }
    )


def test_fingerprint_is_the_same_whatever_container_holds_the_data(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    parquet = tmp_path / "data.parquet"
    csv = tmp_path / "data.csv"
    frame.to_parquet(parquet, index=False)
    frame.to_csv(csv, index=False)
    table = pa.Table.from_pandas(frame, preserve_index=False)

    loaded = {
        "frame": datasets.to_frame(frame),
        "arrow": datasets.to_frame(table),
        "parquet": datasets.to_frame(parquet),
        "csv": datasets.to_frame(str(csv)),
    }
    for name, got in loaded.items():
        assert list(got.dtypes) == list(frame.dtypes), name
    prints = {name: datasets.fingerprint(got) for name, got in loaded.items()}
    assert set(prints.values()) == {datasets.fingerprint(frame)}, prints
    assert len(prints["frame"]) == 64
    # the index is not content
    assert datasets.fingerprint(frame.set_axis(range(10, 16))) == prints["frame"]
    described = datasets.describe(parquet, name="train")
    assert described.fingerprint == prints["frame"]
    assert described.uri == parquet.resolve().as_uri()


def test_fingerprint_changes_with_any_cell_row_order_column_or_dtype(
    frame: pd.DataFrame,
) -> None:
    base = datasets.fingerprint(frame)
    one_cell = frame.copy()
    one_cell.loc[4, "income"] = 10.000001
    text_cell = frame.copy()
    text_cell.loc[1, "city"] = "lyon"
    null_cell = frame.copy()
    null_cell.loc[0, "city"] = None
    reordered = frame.iloc[[1, 0, 2, 3, 4, 5]].reset_index(drop=True)
    renamed = frame.rename(columns={"income": "salary"})
    swapped = frame[["income", "age", "children", "city", "approved"]]
    retyped = frame.astype({"children": "float64"})
    fewer = frame.iloc[:5]
    variants = [one_cell, text_cell, null_cell, reordered, renamed, swapped, retyped, fewer]
    prints = [datasets.fingerprint(v) for v in variants]
    assert base not in prints
    assert len(set(prints)) == len(prints)
    assert datasets.fingerprint(frame.copy()) == base


def test_schema_maps_dtypes_to_portable_types(frame: pd.DataFrame) -> None:
    frame = frame.assign(
        when=pd.to_datetime(["2024-01-01"] * 6),
        kind=pd.Categorical(["a", "b", "a", "a", "b", "a"]),
        small=np.arange(6, dtype="uint8"),
    )
    assert datasets.schema(frame) == [
        ColumnSpec("age", "float"),
        ColumnSpec("income", "float"),
        ColumnSpec("children", "integer"),
        ColumnSpec("city", "string"),
        ColumnSpec("approved", "boolean"),
        ColumnSpec("when", "datetime"),
        ColumnSpec("kind", "category"),
        ColumnSpec("small", "integer"),
    ]


def test_profile_matches_pandas(frame: pd.DataFrame) -> None:
    profile = datasets.profile(frame)
    assert list(profile) == list(frame.columns)

    age = frame["age"].dropna()
    assert profile["age"] == {
        "type": "float",
        "nulls": 1,
        "null_fraction": pytest.approx(1 / 6),
        "distinct": 5,
        "min": 22.0,
        "max": 58.0,
        "mean": pytest.approx(age.mean()),
        "std": pytest.approx(age.std(ddof=1)),
        "p25": pytest.approx(age.quantile(0.25)),
        "p50": pytest.approx(age.median()),
        "p75": pytest.approx(age.quantile(0.75)),
    }
    assert profile["age"]["mean"] == pytest.approx(39.0)
    children = profile["children"]
    assert children["type"] == "integer"
    assert (children["min"], children["max"], children["nulls"]) == (0.0, 3.0, 0)
    assert children["mean"] == pytest.approx(frame["children"].mean())
    assert children["distinct"] == 4
    assert profile["income"]["p50"] == pytest.approx(frame["income"].median()) == 2.75

    assert profile["city"] == {
        "type": "string",
        "nulls": 1,
        "null_fraction": pytest.approx(1 / 6),
        "distinct": 3,
        "top": {"Paris": 3, "Lyon": 1, "Nice": 1},
    }
    assert profile["approved"]["top"] == {"True": 4, "False": 2}
    assert profile["approved"]["type"] == "boolean"


def test_profile_edge_cases() -> None:
    frame = pd.DataFrame(
        {
            "single": [5.0],
            "all_null": [np.nan],
            "inf": [math.inf],
        }
    )
    profile = datasets.profile(frame)
    assert profile["single"]["std"] is None  # one value has no sample deviation
    assert profile["single"]["mean"] == 5.0
    assert profile["all_null"] == {
        "type": "float",
        "nulls": 1,
        "null_fraction": 1.0,
        "distinct": 0,
    }
    assert profile["inf"]["max"] is None  # never a non-JSON number
    many = pd.DataFrame({"c": [f"v{i % 30}" for i in range(300)]})
    assert len(datasets.profile(many)["c"]["top"]) == datasets.TOP_CATEGORIES
    empty = datasets.profile(pd.DataFrame({"x": pd.Series([], dtype="float64")}))
    assert empty == {"x": {"type": "float", "nulls": 0, "null_fraction": 0.0, "distinct": 0}}


def test_describe_numpy_and_refusals(tmp_path: Path) -> None:
    described = datasets.describe(np.arange(6).reshape(3, 2), name="arr")
    assert (described.rows, described.columns) == (3, 2)
    assert [c.name for c in described.schema] == ["x0", "x1"]
    assert described.uri is None
    with pytest.raises(InvalidInput, match="does not exist"):
        datasets.describe(tmp_path / "missing.csv", name="x")
    other = tmp_path / "data.json"
    other.write_text("{}")
    with pytest.raises(InvalidInput, match=re.escape("Unsupported dataset file 'data.json'")):
        datasets.describe(other, name="x")
    with pytest.raises(InvalidInput, match=re.escape("Unsupported dataset type builtins.dict")):
        datasets.describe({"a": [1]}, name="x")


def test_signature_uses_the_models_feature_names(frame: pd.DataFrame) -> None:
    data = frame.assign(city=frame["city"].fillna("?"), age=frame["age"].fillna(0.0))
    model = LogisticRegression().fit(data[["income", "age"]], data["approved"])
    assert list(model.feature_names_in_) == ["income", "age"]

    inputs, outputs = datasets.infer_signature_columns(data, "approved", model)
    assert inputs == [ColumnSpec("income", "float"), ColumnSpec("age", "float")]
    assert outputs == [ColumnSpec("approved", "boolean")]

    # without feature names: every column but the target, in data order
    plain = LogisticRegression().fit(data[["income", "age"]].to_numpy(), data["approved"])
    assert not hasattr(plain, "feature_names_in_")
    inputs, outputs = datasets.infer_signature_columns(data, "approved", plain)
    assert [c.name for c in inputs] == ["age", "income", "children", "city"]
    assert outputs == [ColumnSpec("approved", "boolean")]

    # a feature the data does not have is kept, typed unknown; no target, no outputs
    narrow = data[["income"]]
    inputs, outputs = datasets.infer_signature_columns(narrow, None, model)
    assert inputs == [ColumnSpec("income", "float"), ColumnSpec("age", "unknown")]
    assert outputs == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_logged_version_carries_dataset_lineage_and_signature(
    local: Steward, frame: pd.DataFrame
) -> None:
    data = frame.assign(age=frame["age"].fillna(0.0))
    model = LogisticRegression().fit(data[["income", "age"]], data["approved"])
    local.create_model("loans")
    version = local.log_version(
        "loans",
        model,
        training_data=data,
        evaluation_data=data.iloc[:3],
        target="approved",
        capture_git=False,
    )
    assert version.signature is not None
    assert version.signature.inputs == [ColumnSpec("income", "float"), ColumnSpec("age", "float")]
    assert version.signature.outputs == [ColumnSpec("approved", "boolean")]
    training = version.training_data
    assert training is not None and version.evaluation_data is not None
    assert training.name == "loans-training"
    assert training.fingerprint == datasets.fingerprint(data)
    assert (training.rows, training.columns) == (6, 5)
    assert training.profile == datasets.profile(data)
    assert version.evaluation_data.rows == 3
    assert local.get_version("loans", 1) == version
