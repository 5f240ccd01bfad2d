"""The grouped count pass: group coding and the per-group confusion table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steward.domain.errors import InvalidInput
from steward.validation import metrics as vm
from steward.validation.metrics.grouped import ConfusionCounts, grouped_confusion


def _naive(y: np.ndarray, p: np.ndarray, keys: list[tuple[object, ...]]) -> dict:
    out: dict = {}
    for yi, pi, k in zip(y, p, keys, strict=True):
        cell = out.setdefault(k, [0, 0, 0, 0])
        cell[int(yi) * 2 + int(pi)] += 1
    return out


@pytest.mark.parametrize(
    "make",
    [
        lambda rng, n: rng.choice(np.array(["x", "y", "z"], dtype=object), n),
        lambda rng, n: rng.choice(np.array(["x", "y", "z"]), n),  # numpy unicode
        lambda rng, n: rng.integers(-3, 3, n),
        lambda rng, n: rng.integers(0, 2, n).astype(bool),
        lambda rng, n: rng.choice(np.array([0.5, 1.5, 2.5]), n),
        lambda rng, n: rng.integers(0, 10**12, n) // 10**11,  # wide range: np.unique path
    ],
)
def test_counts_equal_a_naive_count(make) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2)
    n = 3000
    a, b = make(rng, n), rng.integers(0, 4, n)
    y, p = rng.integers(0, 2, n), rng.integers(0, 2, n)
    counts = grouped_confusion(y, p, {"a": a, "b": b})
    expected = _naive(y, p, list(zip(a.tolist(), b.tolist(), strict=True)))
    assert list(counts.groups.keys) == sorted(expected)  # ordered by value, as Fairlearn
    for g, key in enumerate(counts.groups.keys):
        tn, fp, fn, tp = expected[key]
        assert (counts.tn[g], counts.fp[g], counts.fn[g], counts.tp[g]) == (tn, fp, fn, tp)
        assert counts.rows[g] == tn + fp + fn + tp
    assert int(counts.rows.sum()) == n


def test_only_occurring_combinations_are_groups() -> None:
    a = np.array(["f", "f", "m", "m"])
    b = np.array([1, 2, 1, 1])
    groups = vm.encode_groups({"sex": a, "grade": b})
    assert groups.keys == (("f", 1), ("f", 2), ("m", 1))
    assert groups.labels == ("sex=f, grade=1", "sex=f, grade=2", "sex=m, grade=1")
    np.testing.assert_array_equal(groups.codes, [0, 1, 2, 2])


def test_weighted_counts_and_report_from_external_counts() -> None:
    y = np.array([1, 0, 1, 1, 0, 0])
    p = np.array([1, 1, 0, 1, 0, 1])
    g = np.array(["a", "a", "a", "b", "b", "b"])
    w = np.array([2.0, 1.0, 0.5, 1.0, 3.0, 1.5])
    counts = grouped_confusion(y, p, g, sample_weight=w)
    np.testing.assert_allclose(counts.tp, [2.0, 1.0])
    np.testing.assert_allclose(counts.fp, [1.0, 1.5])
    np.testing.assert_array_equal(counts.rows, [3, 3])
    # An engine that ran GROUP BY itself hands over the same table.
    external = ConfusionCounts(
        groups=counts.groups,
        rows=counts.rows,
        tn=counts.tn,
        fp=counts.fp,
        fn=counts.fn,
        tp=counts.tp,
    )
    rep = vm.report_from_counts(external, min_group_size=1)
    direct = vm.fairness_report(y, p, g, sample_weight=w, min_group_size=1)
    assert rep.demographic_parity_difference == direct.demographic_parity_difference
    assert rep.group("a").selection_rate == pytest.approx(3.0 / 3.5)


@pytest.mark.parametrize(("first", "second"), [(3, 5), (40, 5), (120, 90)])
def test_coded_columns_count_like_strings_whatever_the_code_width(first: int, second: int) -> None:
    """Categorical codes stay narrow (int8 up to 127 categories) and group codes and count
    cells use the narrowest type that fits: 15, 200 and 10 800 groups (int8, int16, int32
    cells) count exactly as the same columns given as strings, missing values included."""
    import pandas as pd

    rng = np.random.default_rng(first * 1000 + second)
    n = 30_000
    a = rng.choice(np.array([f"a{i:03d}" for i in range(first)], dtype=object), n)
    b = rng.choice(np.array([f"b{i:03d}" for i in range(second)], dtype=object), n)
    a[rng.random(n) < 0.01] = None
    y, p = rng.integers(0, 2, n), rng.integers(0, 2, n)
    as_codes = {"a": pd.Categorical(a), "b": pd.Categorical(b)}
    coded = grouped_confusion(y, p, as_codes, missing="group")
    plain = grouped_confusion(y, p, {"a": a, "b": b}, missing="group")
    assert coded.groups.keys == plain.groups.keys
    for name in ("rows", "tn", "fp", "fn", "tp"):
        assert np.array_equal(getattr(coded, name), getattr(plain, name)), name
    keys = [("(missing)" if x is None else x, z) for x, z in zip(a, b, strict=True)]
    naive = _naive(y, p, keys)
    assert len(naive) == coded.groups.size
    for g, key in enumerate(coded.groups.keys):
        assert [coded.tn[g], coded.fp[g], coded.fn[g], coded.tp[g]] == naive[key]


def test_pandas_string_columns_give_the_object_column_result() -> None:
    # pandas' text columns (Arrow-backed by default in pandas 3) are coded by their own
    # factorize; the report must equal the one on the same values as Python strings.
    rng = np.random.default_rng(5)
    y, p = rng.integers(0, 2, 5_000), rng.integers(0, 2, 5_000)
    raw = rng.choice(np.array(["b", "a", "c", None], dtype=object), 5_000)
    as_objects = vm.fairness_report(y, p, {"g": raw}, missing="group")
    for text in (pd.array(raw, dtype="str"), pd.Series(raw, dtype="string")):
        got = vm.fairness_report(y, p, {"g": text}, missing="group")
        assert [g.group for g in got.groups] == [g.group for g in as_objects.groups]
        assert got.demographic_parity_difference == as_objects.demographic_parity_difference
        assert got.equalized_odds_ratio == as_objects.equalized_odds_ratio
        with pytest.raises(InvalidInput, match="missing values"):
            vm.fairness_report(y, p, {"g": text})
