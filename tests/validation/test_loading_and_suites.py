"""Model loading (skops, ONNX, pickle only when trusted), suite files, third-party checks."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import joblib
import numpy as np
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression

from steward.demo.credit import TARGET, load_german_credit
from steward.domain.errors import ArtifactError, InvalidInput, NotFound
from steward.domain.yamldoc import DocumentError
from steward.validation import checks, loading, runner
from steward.validation.suites import load_suite, parse_suite, shipped

NUMERIC = ["duration_in_month", "credit_amount", "age_in_years"]


@pytest.fixture(scope="module")
def fitted() -> tuple[LogisticRegression, object]:
    data = load_german_credit()
    model = LogisticRegression(max_iter=1000).fit(data[NUMERIC].astype(float), data[TARGET])
    return model, data


def test_pickle_is_refused_by_default_and_loads_with_trust(
    tmp_path: Path, fitted: tuple[LogisticRegression, object]
) -> None:
    model, data = fitted
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    with pytest.raises(ArtifactError, match="runs whatever code its author") as err:
        loading.load_model(path, "other")
    assert "trust=True" in str(err.value) and "--trust-pickle" in str(err.value)
    # A pickle under a neutral name is recognised by its header, not its suffix.
    renamed = tmp_path / "model.bin"
    renamed.write_bytes(path.read_bytes())
    with pytest.raises(ArtifactError, match="pickle"):
        loading.load_model(renamed, "other")
    loaded = loading.load_model(path, "other", trust=True)
    x = data[NUMERIC].astype(float)  # type: ignore[index]
    assert (loaded.predict(x) == model.predict(x)).all()


def test_skops_lists_untrusted_types_and_loads_when_they_are_trusted(tmp_path: Path) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    data = load_german_credit()
    model = HistGradientBoostingClassifier(max_iter=5).fit(data[NUMERIC], data[TARGET])
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    with pytest.raises(ArtifactError, match="TreePredictor") as err:
        loading.load_model(path, "sklearn")
    assert "trusted" in str(err.value)
    loaded = loading.load_model(path, "sklearn", trusted=untrusted)
    assert (loaded.predict(data[NUMERIC]) == model.predict(data[NUMERIC])).all()
    assert loaded.classes == [0, 1]


def _onnx_logistic(model: LogisticRegression, path: Path) -> None:
    """The fitted logistic regression as an ONNX graph: softmax([0, xw + b]) and argmax."""
    import onnx
    from onnx import TensorProto, helper

    w = np.column_stack([np.zeros(len(NUMERIC)), model.coef_[0]]).astype(np.float32)
    b = np.array([0.0, model.intercept_[0]], dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["X", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "B"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
            helper.make_node("ArgMax", ["logits"], ["label"], axis=1, keepdims=0),
        ],
        "logistic",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, len(NUMERIC)])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2]),
        ],
        initializer=[
            helper.make_tensor("W", TensorProto.FLOAT, list(w.shape), w.flatten().tolist()),
            helper.make_tensor("B", TensorProto.FLOAT, [2], b.tolist()),
        ],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(proto, path)


def test_onnx_model_predicts_like_the_model_it_was_built_from(
    tmp_path: Path, fitted: tuple[LogisticRegression, object]
) -> None:
    model, data = fitted
    path = tmp_path / "model.onnx"
    _onnx_logistic(model, path)
    loaded = loading.load_model(path, "onnx")
    frame = data[NUMERIC]  # type: ignore[index]
    proba = loaded.predict_proba(frame)
    assert proba is not None
    expected = model.predict_proba(frame.astype(float))[:, 1]
    np.testing.assert_allclose(proba[:, 1], expected, atol=1e-5)
    assert (loaded.predict(frame) == model.predict(frame.astype(float))).mean() > 0.99
    # The engine runs a suite on it like on any other model.
    out = runner.run_suite(
        load_suite("classification-default"),
        runner.RunInputs(
            data=data[[*NUMERIC, TARGET, "foreign_worker"]],  # type: ignore[index]
            target=TARGET,
            sensitive=["foreign_worker"],
            model=loaded,
            features=NUMERIC,
            settings={"min_group_size": 10},
            positive_means="favourable",
        ),
    )
    assert out.result("performance.roc_auc").value is not None


def test_unsupported_or_corrupt_artifacts_say_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "rules.txt"
    path.write_text("if amount > 1000 then refer")
    with pytest.raises(ArtifactError, match="predictions mode"):
        loading.load_model(path, "other")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a graph")
    with pytest.raises(ArtifactError, match=r"onnxruntime cannot load broken\.onnx"):
        loading.load_model(broken, "onnx")


def test_shipped_suites_parse() -> None:
    assert {"credit-default", "classification-default", "regression-default"} <= set(shipped())
    for name in shipped():
        suite = load_suite(name)
        assert suite.name == name and suite.checks


def test_suite_errors_name_the_line_and_the_fix() -> None:
    text = """suite: broken
version: "1"
checks:
  - check: fairness.demographic_parity_ratoi
  - check: performance.roc_auc
    threshold: "at least 0.7"
  - check: performance.f1
    tiers: {extreme: ">= 0.5"}
    colour: red
"""
    with pytest.raises(DocumentError) as err:
        parse_suite(text, "broken.yaml")
    message = str(err.value)
    assert (
        "broken.yaml line 4: unknown check 'fairness.demographic_parity_ratoi' (did you mean "
        "'fairness.demographic_parity_ratio'?)" in message
    )
    assert "broken.yaml line 6: threshold 'at least 0.7' must look like '>= 0.8'" in message
    assert "line 8: unknown tier 'extreme'" in message
    assert "line 9: unknown key 'colour'" in message
    with pytest.raises(NotFound, match="Shipped suites: "):
        load_suite("no-such-suite")
    with pytest.raises(InvalidInput, match="neither a shipped suite name"):
        load_suite("../etc/passwd")


def test_tier_thresholds_override_the_default(fitted: tuple[LogisticRegression, object]) -> None:
    model, data = fitted
    suite = parse_suite(
        """suite: tiers
version: "1"
checks:
  - check: performance.roc_auc
    threshold: ">= 0.5"
    tiers: {critical: ">= 0.99"}
""",
        "tiers.yaml",
    )
    for tier, passed in (("low", True), ("critical", False)):
        out = runner.run_suite(
            suite,
            runner.RunInputs(
                data=data,  # type: ignore[arg-type]
                target=TARGET,
                model=loading.from_object(model),
                features=NUMERIC,
                tier=tier,
            ),
        )
        result = out.result("performance.roc_auc")
        assert result.passed is passed
        assert result.threshold is not None


def test_third_party_checks_plug_in_through_the_entry_point(
    monkeypatch: pytest.MonkeyPatch, fitted: tuple[LogisticRegression, object]
) -> None:
    model, data = fitted
    good = importlib.metadata.EntryPoint(
        "acme", "tests.validation.custom_checks:MaxScore", checks.ENTRY_POINT_GROUP
    )
    monkeypatch.setattr(checks, "entry_points", lambda group: [good])
    checks.registry.cache_clear()
    try:
        suite = parse_suite(
            'suite: custom\nversion: "1"\nchecks:\n  - check: custom.max_score\n', "c.yaml"
        )
        out = runner.run_suite(
            suite,
            runner.RunInputs(
                data=data,  # type: ignore[arg-type]
                target=TARGET,
                model=loading.from_object(model),
                features=NUMERIC,
            ),
        )
        result = out.result("custom.max_score")
        assert result.family.value == "custom" and result.passed is True
        bad = importlib.metadata.EntryPoint(
            "oops", "tests.validation.custom_checks:NotACheck", checks.ENTRY_POINT_GROUP
        )
        monkeypatch.setattr(checks, "entry_points", lambda group: [bad])
        checks.registry.cache_clear()
        with pytest.raises(InvalidInput, match="not a steward Check subclass"):
            checks.registry()
    finally:
        checks.registry.cache_clear()


def test_every_check_is_documented() -> None:
    text = (Path(__file__).parents[2] / "docs" / "validation.md").read_text(encoding="utf-8")
    missing = [name for name in checks.registry() if f"`{name}`" not in text]
    assert missing == [], f"add to docs/validation.md: {missing}"


def test_unknown_params_and_settings_are_refused(
    fitted: tuple[LogisticRegression, object],
) -> None:
    with pytest.raises(DocumentError, match=r"line 5: robustness.numeric_noise has no parameter"):
        parse_suite(
            'suite: p\nversion: "1"\nchecks:\n  - check: robustness.numeric_noise\n'
            "    params: {sigma: 0.1}\n",
            "p.yaml",
        )
    model, data = fitted
    with pytest.raises(InvalidInput, match="Unknown setting"):
        runner.run_suite(
            load_suite("classification-default"),
            runner.RunInputs(
                data=data,  # type: ignore[arg-type]
                target=TARGET,
                model=loading.from_object(model),
                features=NUMERIC,
                settings={"postive_label": 1},
            ),
        )
