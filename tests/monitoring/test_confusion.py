"""Grouped confusion counts: DuckDB = numpy, merging = one scan, metrics = sklearn/Fairlearn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from steward.domain.errors import InvalidInput
from steward.monitoring.confusion import ConfusionCounts, confusion_counts, merge_confusion


def batch(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["f", "m"], n, p=[0.4, 0.6])
    age = rng.choice(["young", "old"], n)
    y = (rng.random(n) < np.where(sex == "f", 0.3, 0.5)).astype(int)
    p = np.where(rng.random(n) < 0.8, y, 1 - y)
    return pd.DataFrame({"label": y, "decision": p, "sex": sex, "age": age})


@pytest.mark.parametrize("engine", ["duckdb", "numpy"])
def test_metrics_from_counts_equal_sklearn_and_fairlearn(engine: str) -> None:
    df = batch(3000, 1)
    counts = confusion_counts(
        df, label="label", prediction="decision", groups=["sex", "age"], engine=engine
    )
    y, p = df["label"], df["decision"]
    perf = counts.performance()
    assert perf["labelled_rows"] == 3000 and counts.skipped == 0
    assert perf["accuracy"] == pytest.approx(accuracy_score(y, p), abs=1e-15)
    assert perf["precision"] == pytest.approx(precision_score(y, p), abs=1e-15)
    assert perf["recall"] == pytest.approx(recall_score(y, p), abs=1e-15)
    assert perf["f1"] == pytest.approx(f1_score(y, p), abs=1e-15)
    assert perf["positive_rate"] == pytest.approx(p.mean(), abs=1e-15)
    for column in ("sex", "age"):
        fair = counts.fairness(column)
        assert fair["demographic_parity_difference"] == pytest.approx(
            demographic_parity_difference(y, p, sensitive_features=df[column]), abs=1e-15
        )
        assert fair["equalized_odds_difference"] == pytest.approx(
            equalized_odds_difference(y, p, sensitive_features=df[column]), abs=1e-15
        )


def test_undefined_rates_count_as_zero_like_fairlearn() -> None:
    y, p = np.array([0, 0, 1, 1, 0, 0]), np.array([0, 1, 1, 0, 1, 0])
    g = np.array(["a", "a", "b", "b", "c", "c"])  # a and c have no positives, b no negatives
    counts = confusion_counts(
        pd.DataFrame({"y": y, "p": p, "g": g}), label="y", prediction="p", groups=["g"]
    )
    expected = equalized_odds_difference(y, p, sensitive_features=g)
    assert expected == 0.5
    assert counts.fairness("g")["equalized_odds_difference"] == expected


def test_engines_agree_and_windows_merge_without_rescanning(tmp_path: Path) -> None:
    df = batch(5000, 2)
    df.loc[::17, "label"] = None  # labels not arrived yet
    df.loc[::29, "sex"] = None
    path = tmp_path / "batch.parquet"
    df.to_parquet(path)
    args = {"label": "label", "prediction": "decision", "groups": ["sex"]}
    whole = confusion_counts(str(path), **args)
    assert whole.to_dict() == confusion_counts(df, engine="numpy", **args).to_dict()
    assert whole.skipped == int(df["label"].isna().sum())
    assert "<missing>" in whole.totals("sex")
    parts = [confusion_counts(df.iloc[i : i + 1000], **args) for i in range(0, 5000, 1000)]
    window = merge_confusion(parts)
    assert window.to_dict() == whole.to_dict()
    assert ConfusionCounts.from_dict(window.to_dict()).to_dict() == whole.to_dict()


def test_positive_class_matches_text_and_numbers() -> None:
    df = pd.DataFrame({"y": ["good", "bad", "good", None], "p": ["good", "good", "bad", "bad"]})
    c = confusion_counts(df, label="y", prediction="p", positive="good")
    assert c.totals()[""] == [0, 1, 1, 1] and c.skipped == 1
    assert (
        c.to_dict()
        == confusion_counts(
            df, label="y", prediction="p", positive="good", engine="numpy"
        ).to_dict()
    )
    floats = pd.DataFrame({"y": [1.0, 0.0, 1.0], "p": [True, False, False]})
    for engine in ("duckdb", "numpy"):
        f = confusion_counts(floats, label="y", prediction="p", engine=engine)
        assert f.totals()[""] == [1, 0, 1, 1]


def test_bad_input_is_explained() -> None:
    df = batch(100, 3)
    with pytest.raises(InvalidInput, match="no column 'score'"):
        confusion_counts(df, label="score", prediction="decision")
    with pytest.raises(InvalidInput, match="must be distinct"):
        confusion_counts(df, label="label", prediction="label")
    with pytest.raises(InvalidInput, match="no rows"):
        confusion_counts(df.iloc[:0], label="label", prediction="decision")
    with pytest.raises(InvalidInput, match="not grouped by 'age'"):
        confusion_counts(df, label="label", prediction="decision", groups=["sex"]).fairness("age")
    a = confusion_counts(df, label="label", prediction="decision", groups=["sex"])
    b = confusion_counts(df, label="label", prediction="decision", groups=["age"])
    with pytest.raises(InvalidInput, match="cannot merge"):
        a.merged(b)
    one = confusion_counts(df.assign(sex="f"), label="label", prediction="decision", groups=["sex"])
    assert one.fairness("sex") == {
        "demographic_parity_difference": None,
        "equalized_odds_difference": None,
    }


def test_counts_of_rows_in_memory_equal_a_scan_and_group_rates_match_fairlearn() -> None:
    from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate
    from fairlearn.metrics import true_positive_rate as tpr

    from steward.monitoring.confusion import count_rows

    df = batch(2000, 4)
    df.loc[::13, "sex"] = None
    df["label"] = df["label"].astype(object)
    df.loc[::31, "label"] = None
    scanned = confusion_counts(df, label="label", prediction="decision", groups=["sex"])
    rows = [
        ((sex,), None if y is None else y == 1, p == 1)
        for sex, y, p in zip(df["sex"], df["label"], df["decision"], strict=True)
    ]
    assert count_rows(rows, groups=["sex"]).to_dict() == scanned.to_dict()
    known = df[df["label"].notna()]
    frame = MetricFrame(
        metrics={"selection_rate": selection_rate, "tpr": tpr, "fpr": false_positive_rate},
        y_true=known["label"].astype(int),
        y_pred=known["decision"],
        sensitive_features=known["sex"].fillna("<missing>"),
    )
    rates = scanned.group_rates("sex")
    assert set(rates) == {"f", "m", "<missing>"}
    for group, row in frame.by_group.iterrows():
        for metric in ("selection_rate", "tpr", "fpr"):
            assert rates[str(group)][metric] == pytest.approx(row[metric], abs=1e-15)
    with pytest.raises(InvalidInput, match="group values"):
        count_rows([((), True, True)], groups=["sex"])


def test_roc_auc_of_merged_score_counts_equals_sklearn_with_ties() -> None:
    from sklearn.metrics import roc_auc_score

    from steward.services.monitoring import roc_auc_of_counts

    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 3000)
    s = np.round(np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1), 2)  # many ties

    def counts(part: slice) -> list[list[float]]:
        out: dict[float, list[float]] = {}
        for score, label in zip(s[part], y[part], strict=True):
            out.setdefault(float(score), [0.0, 0.0])[int(label)] += 1
        return [[k, *v] for k, v in sorted(out.items())]

    merged = roc_auc_of_counts([counts(slice(0, 1000)), counts(slice(1000, None))])
    assert merged == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert roc_auc_of_counts([[[0.5, 3.0, 0.0]]]) is None  # one class only
