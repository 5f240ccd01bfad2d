"""Run a suite: validate every input first, then predict once, run the checks, keep evidence.

Everything that can be wrong with the inputs (target or sensitive column absent, wrong
dtypes, a single or empty group, mismatched lengths, a model that cannot predict on the
data) is found by :func:`prepare` on a few rows before the full prediction or any check
runs, and raised as :class:`~steward.domain.errors.InvalidInput` naming the fix.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from steward.domain.checks import CheckFamily, CheckResult, Threshold
from steward.domain.errors import InvalidInput
from steward.validation.checks import registry
from steward.validation.checks.base import (
    REQUIREMENTS,
    CheckContext,
    Outcome,
    compare,
    positive_scores,
)
from steward.validation.loading import LoadedModel
from steward.validation.options import Predictions
from steward.validation.suites import SETTINGS, Suite

Progress = Callable[[int, int, str], None]
_MAX_GROUPS = 200


@dataclass(frozen=True)
class RunInputs:
    data: pd.DataFrame
    target: str | None = None
    sensitive: Sequence[str] = ()
    model: LoadedModel | None = None
    predictions: Predictions | None = None
    features: Sequence[str] | None = None
    reference: pd.DataFrame | None = None
    profile: dict[str, dict[str, Any]] | None = None
    signature: list[tuple[str, str]] | None = None
    baseline: LoadedModel | None = None
    baseline_label: str = ""
    baseline_error: str | None = None
    tier: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    # What a positive prediction means: "favourable" or "adverse". The run's own statement,
    # and the model's stored one (a default: a suite's favorable_label overrides it).
    positive_means: str | None = None
    model_positive_means: str | None = None


@dataclass(frozen=True)
class EvidenceBlob:
    name: str
    content: bytes
    media_type: str


@dataclass(frozen=True)
class RunOutput:
    suite: str
    suite_version: str
    results: tuple[CheckResult, ...]
    evidence: tuple[EvidenceBlob, ...]
    summary: dict[str, Any]
    started_at: datetime
    finished_at: datetime

    @property
    def passed(self) -> bool:
        return all(r.passed is not False for r in self.results)

    def result(self, name: str) -> CheckResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(name)


def _columns(frame: pd.DataFrame) -> str:
    names = [str(c) for c in frame.columns]
    shown = ", ".join(names[:15]) + (f", … ({len(names)} in all)" if len(names) > 15 else "")
    return shown


def _need_column(frame: pd.DataFrame, column: str, role: str, fix: str) -> None:
    if column not in frame.columns:
        raise InvalidInput(
            f"The {role} column {column!r} is not in the data (columns: {_columns(frame)}). {fix}",
            field=role.replace(" ", "_"),
        )


def _settings(suite: Suite, inputs: RunInputs) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "positive_label": 1,
        "min_group_size": 30,
        "small_groups": "include",
        "seed": 0,
    }
    merged.update(suite.settings)
    unknown = sorted(set(inputs.settings) - set(SETTINGS))
    if unknown:
        raise InvalidInput(
            f"Unknown setting(s): {', '.join(unknown)}. Known: {', '.join(SETTINGS)}.",
            field="settings",
        )
    merged.update({k: v for k, v in inputs.settings.items() if v is not None})
    for key in ("bands", "privileged"):
        merged[key] = dict(merged.get(key) or {})
    return merged


def _labels(values: Any, role: str) -> np.ndarray[Any, Any]:
    array = np.asarray(values)
    if array.dtype.kind == "f" and np.isnan(array).any():
        raise InvalidInput(
            f"{role} has {int(np.isnan(array).sum())} missing value(s); drop or fill those rows "
            "before validating.",
            field=role,
        )
    if array.dtype.kind == "O" and pd.isna(array).any():
        raise InvalidInput(f"{role} has missing values; drop or fill those rows.", field=role)
    return array


def _positive(
    y_true: np.ndarray[Any, Any], positive: Any, role: str, setting: str = "positive_label"
) -> Any:
    observed = pd.unique(pd.Series(y_true))
    if len(observed) > 2:
        raise InvalidInput(
            f"{role} has {len(observed)} distinct values; classification checks are binary. "
            "Validate a binary target, or use a regression suite for a numeric one.",
            field=role,
        )
    values = set(observed.tolist())
    if positive in values:
        return positive
    if str(positive) in {str(v) for v in values}:
        return next(v for v in values if str(v) == str(positive))
    if y_true.dtype.kind == "b":
        return True
    raise InvalidInput(
        f"The {setting} {positive!r} does not occur in {role} (values: "
        f"{', '.join(sorted(map(str, values)))}); set {setting} to one of those labels "
        "(e.g. --positive-label bad).",
        field=setting,
    )


DIRECTIONS = ("favourable", "adverse")
ASK_DIRECTION = (
    "State what a positive prediction means for the person: --positive-means favourable "
    "(approve, hire, admit) or --positive-means adverse (deny, default, high risk) — SDK/REST "
    "positive_means=, or once for the model: `steward model update MODEL --positive-means ...` "
    "(also asked by the risk questionnaire)."
)


def _direction(
    inputs: RunInputs,
    settings: dict[str, Any],
    y_true: np.ndarray[Any, Any],
    positive: Any,
    role: str,
    *,
    fairness: bool,
) -> tuple[str | None, Any]:
    """(positive_means, favourable label) of a classification run.

    Fairness compares groups on the favourable outcome. With positive = adverse that is the
    other label, so the group with the *highest* positive rate is the disadvantaged one.
    A suite's explicit ``favorable_label`` states the direction too: it wins over the model's
    stored direction, and a run that states a contradicting one is refused. Without any, a run
    with fairness checks is refused, asking.
    """
    stated = _known(inputs.positive_means or settings.get("positive_means"))
    favorable = settings.get("favorable_label")
    if favorable is not None:
        label = _positive(y_true, favorable, role, "favorable_label")
        implied = "favourable" if label == positive else "adverse"
        if stated is not None and stated != implied:
            raise InvalidInput(
                f"positive_means is {stated} but favorable_label {label!r} says a positive "
                f"prediction ({positive!r}) is {implied}; drop one of them or make them agree.",
                field="positive_means",
            )
        return implied, label
    stated = stated or _known(inputs.model_positive_means)
    if stated == "favourable":
        return stated, positive
    if stated == "adverse":
        values = set(pd.unique(pd.Series(y_true)).tolist())
        others = [v for v in values if v != positive]
        if len(others) != 1:
            raise InvalidInput(
                f"positive_means is adverse, but {role} has no label other than the positive "
                f"one ({positive!r}) to be the favourable outcome; pass --favorable-label.",
                field="favorable_label",
            )
        return stated, others[0]
    if fairness:
        raise InvalidInput(
            "Fairness checks need the direction of the outcome, and neither the run nor the "
            "model states it. " + ASK_DIRECTION,
            field="positive_means",
        )
    return None, positive


def _known(value: Any) -> str | None:
    if value in (None, "", "unstated"):
        return None
    if value not in DIRECTIONS:
        raise InvalidInput(
            f"positive_means {value!r} is not known; use favourable or adverse "
            "(--positive-means favourable|adverse).",
            field="positive_means",
        )
    return str(value)


def _groups(
    frame: pd.DataFrame, sensitive: Sequence[str], settings: dict[str, Any]
) -> pd.DataFrame:
    """Check the sensitive columns; the fairness kernels band and group them."""
    for column in sensitive:
        series = frame[column]
        if series.isna().all():
            raise InvalidInput(
                f"Sensitive feature {column!r} is empty (every value is missing); fairness "
                "cannot be assessed on it. Pass a column with values.",
                field="sensitive_features",
            )
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        if column in settings["bands"] and not numeric:
            raise InvalidInput(
                f"Bands are configured for {column!r}, but it is not numeric "
                f"({series.dtype}); remove its bands or convert it.",
                field="bands",
            )
        if series.nunique(dropna=False) < 2:
            raise InvalidInput(
                f"Sensitive feature {column!r} has a single group ({series.iloc[0]!r}) in "
                "this data; fairness compares groups. Validate on data with more than one "
                "group, or leave the feature out.",
                field="sensitive_features",
            )
        if not numeric and series.nunique() > _MAX_GROUPS:
            raise InvalidInput(
                f"Sensitive feature {column!r} has {series.nunique()} distinct values (at most "
                f"{_MAX_GROUPS}); is it really a group attribute?",
                field="sensitive_features",
            )
    return frame[list(sensitive)]


def _try_predict(model: LoadedModel, x: pd.DataFrame, label: str) -> None:
    sample = x.head(10)
    try:
        got = model.predict(sample)
    except Exception as exc:
        raise InvalidInput(
            f"The {label} cannot predict on this data: {type(exc).__name__}: {exc}. Check that "
            "the data has the model's input columns with the dtypes it was trained on.",
            field="data",
        ) from None
    if len(got) != len(sample):
        raise InvalidInput(
            f"The {label} returned {len(got)} predictions for {len(sample)} rows; it must "
            "return one prediction per row.",
            field="data",
        )


def prepare(suite: Suite, inputs: RunInputs) -> CheckContext:
    """Validate the inputs (cheaply) and build the context; raises InvalidInput."""
    frame = inputs.data
    if len(frame) == 0:
        raise InvalidInput("The data has no rows.", field="data")
    settings = _settings(suite, inputs)
    known = registry()
    needs = {r for c in suite.checks for r in known[c.check].requires}
    sensitive = list(inputs.sensitive)
    for column in sensitive:
        _need_column(
            frame, column, "sensitive feature", "Pass sensitive columns present in the data."
        )
    model = inputs.model
    if (model is None) == (inputs.predictions is None):
        raise InvalidInput(
            "Pass either a model (validate the version's artifact) or predictions "
            "(y_true/y_pred columns), not both or neither.",
            field="predictions",
        )
    task = suite.task
    features: list[str] = []
    roles: tuple[str, ...] = ()
    if inputs.predictions is not None:
        p = inputs.predictions
        fix = (
            "In predictions mode --target / target= names the true labels and --y-pred / "
            "--y-score (y_pred= / y_score=) the predictions."
        )
        _need_column(frame, p.y_true, "target", fix)
        _need_column(frame, p.y_pred, "y_pred", fix)
        if p.y_score:
            _need_column(frame, p.y_score, "y_score", fix)
        for column in p.id_columns:
            if column not in frame.columns:
                raise InvalidInput(
                    f"The id column {column!r} is not in the data (columns: {_columns(frame)}); "
                    "pass --id-column / id_columns= with columns of the data.",
                    field="id_columns",
                )
        target = p.y_true
        roles = tuple(
            dict.fromkeys(c for c in (p.y_pred, p.y_score, *sensitive, *p.id_columns) if c)
        )
    else:
        assert model is not None
        if not inputs.target:
            raise InvalidInput("Name the target column (--target / target=).", field="target")
        target = inputs.target
        _need_column(frame, target, "target", "Pass --target with the label column's name.")
        if inputs.features:
            features = list(inputs.features)
        elif model.feature_names:
            features = list(model.feature_names)
        elif inputs.signature:
            features = [name for name, _ in inputs.signature]
        else:
            features = [c for c in frame.columns if c != target]
        missing = [c for c in features if c not in frame.columns]
        if missing:
            raise InvalidInput(
                f"The data lacks the model's input column(s) {', '.join(missing)}. Validate "
                "on data with every feature the model was trained on.",
                field="data",
            )
        if target in features:
            raise InvalidInput(
                f"The target {target!r} is among the model's inputs; pass the right --target.",
                field="target",
            )
        has_proba = model.proba_fn is not None
        if task == "classification" and not has_proba and model.classes is None:
            kind = frame[target].dtype.kind
            if kind == "f" and frame[target].nunique() > 2:
                raise InvalidInput(
                    f"Suite {suite.name!r} is for classification, but the target {target!r} is "
                    "continuous and the model has no classes; use a regression suite.",
                    field="suite",
                )
        _try_predict(model, frame[features], "model")
        if inputs.baseline is not None:
            _try_predict(inputs.baseline, frame[features], f"baseline ({inputs.baseline_label})")

    if "sensitive" in needs and not sensitive:
        raise InvalidInput(
            f"Suite {suite.name!r} has fairness checks, which need sensitive features: pass "
            "them (--sensitive a,b / sensitive_features=[...]).",
            field="sensitive_features",
        )
    y_true = _labels(frame[target].to_numpy(), "target" if model else "y_true")
    if task == "regression" and y_true.dtype.kind not in "iuf":
        raise InvalidInput(
            f"Suite {suite.name!r} is a regression suite but the target has dtype "
            f"{frame[target].dtype}; use a classification suite or a numeric target.",
            field="target",
        )
    positive = (
        _positive(y_true, settings["positive_label"], "target" if model else "y_true")
        if task == "classification"
        else None
    )
    # Suite settings may name features this run does not use: they apply only when present.
    settings["bands"] = {k: v for k, v in settings["bands"].items() if k in sensitive}
    settings["privileged"] = {k: v for k, v in settings["privileged"].items() if k in sensitive}
    groups = _groups(frame, sensitive, settings) if sensitive else None
    if task == "classification":
        settings["positive_means"], settings["favorable_label"] = _direction(
            inputs,
            settings,
            y_true,
            positive,
            "target" if model else "y_true",
            fairness=any(known[c.check].family == CheckFamily.FAIRNESS for c in suite.checks),
        )
    if inputs.reference is not None and features:
        missing = [c for c in features if c not in inputs.reference.columns]
        if missing:
            raise InvalidInput(
                f"The reference data lacks column(s) {', '.join(missing)}; pass the training "
                "data the model was fitted on.",
                field="reference",
            )
    # Inputs are valid: the heavy work starts here.
    if model is not None:
        y_pred = _labels(model.predict(frame[features]), "model predictions")
        y_score = (
            positive_scores(model, frame[features], positive) if task == "classification" else None
        )
    else:
        assert inputs.predictions is not None
        y_pred = _labels(frame[inputs.predictions.y_pred].to_numpy(), "y_pred")
        y_score = None
        if inputs.predictions.y_score:
            raw = frame[inputs.predictions.y_score]
            if not pd.api.types.is_numeric_dtype(raw):
                raise InvalidInput(
                    f"The score column {inputs.predictions.y_score!r} (--y-score) must be "
                    f"numeric (probabilities, or any score that ranks cases), not {raw.dtype}.",
                    field="y_score",
                )
            y_score = _labels(raw.to_numpy(dtype="float64"), "y_score").astype(np.float64)
    if task == "classification":
        labels = set(pd.unique(pd.Series(y_true)).tolist())
        extra = set(pd.unique(pd.Series(y_pred)).tolist()) - labels
        if extra and len(labels | extra) > 2:
            raise InvalidInput(
                f"Predictions contain label(s) {', '.join(sorted(map(str, extra)))} that the "
                f"target does not use ({', '.join(sorted(map(str, labels)))}); predictions and "
                "target must use the same labels.",
                field="y_pred",
            )
    return CheckContext(
        frame=frame,
        features=features,
        target=target,
        task=task,
        y_true=y_true,
        y_pred=y_pred,
        y_score=y_score,
        positive_label=positive,
        sensitive=sensitive,
        groups=groups,
        bands={k: [float(e) for e in v] for k, v in settings["bands"].items()},
        model=model,
        baseline=inputs.baseline,
        baseline_label=inputs.baseline_label,
        reference=inputs.reference,
        profile=inputs.profile,
        signature=inputs.signature,
        settings=settings,
        seed=int(settings.get("seed") or 0),
        unavailable={"baseline": inputs.baseline_error} if inputs.baseline_error else {},
        roles=roles,
        score_column=inputs.predictions.y_score if inputs.predictions else None,
    )


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def run_suite(suite: Suite, inputs: RunInputs, progress: Progress | None = None) -> RunOutput:
    started = datetime.now(UTC)
    ctx = prepare(suite, inputs)
    known = registry()
    total = len(suite.checks)
    results: list[CheckResult] = []
    plots: dict[str, str] = {}
    timings: dict[str, float] = {}
    skipped: list[str] = []
    for i, entry in enumerate(suite.checks):
        cls = known[entry.check]
        if progress:
            progress(i, total, entry.check)
        missing = [r for r in sorted(cls.requires) if not ctx.has(r)]
        t0 = time.perf_counter()
        if missing:
            outcome = Outcome(
                value=None,
                message="skipped: needs "
                + "; ".join(
                    REQUIREMENTS.get(r, r)
                    + (f" ({ctx.unavailable[r]})" if r in ctx.unavailable else "")
                    for r in missing
                ),
                skipped=True,
            )
        else:
            params = {**cls.default_params, **entry.params}
            outcome = cls().run(ctx, params)
        timings[entry.check] = round(time.perf_counter() - t0, 4)
        threshold = entry.threshold_for(inputs.tier) or cls.default_threshold
        value = _finite(outcome.value)
        passed: bool | None
        if outcome.skipped:
            passed, threshold = None, None
            skipped.append(entry.check)
        elif outcome.informational:
            passed, threshold = None, None
        elif outcome.passed is not None:
            passed = outcome.passed
        elif threshold is not None and value is not None:
            passed = compare(abs(value) if cls.compare_abs else value, threshold)
        elif threshold is not None:
            passed = False
        else:
            passed = None
        details = dict(outcome.details)
        if entry.severity:
            details["severity"] = entry.severity
        for plot in outcome.plots:
            plots[plot.name] = plot.svg
        if outcome.plots:
            details["plots"] = [p.name for p in outcome.plots]
        message = outcome.message
        if value is None and outcome.value is not None and not outcome.skipped:
            message = (message + " " if message else "") + "(value not finite)"
        if passed is not None and threshold is not None:
            message = f"{message} {_uncertainty(details, threshold, cls.compare_abs)}".strip()
        results.append(
            CheckResult(
                name=cls.name,
                family=CheckFamily(cls.family),
                passed=passed,
                value=value,
                threshold=threshold,
                message=_explain(message, value, threshold, passed),
                details=_jsonable(details),
            )
        )
    if progress:
        progress(total, total, "done")
    finished = datetime.now(UTC)
    summary = {
        "suite": suite.name,
        "suite_version": suite.version,
        "task": ctx.task,
        "rows": len(ctx.frame),
        "mode": "model" if ctx.model is not None else "predictions",
        "model": ctx.model.description if ctx.model else None,
        "baseline": ctx.baseline_label or None,
        "target": ctx.target,
        "positive_label": _jsonable(ctx.positive_label),
        "positive_means": ctx.settings.get("positive_means"),
        "favorable_label": _jsonable(ctx.settings.get("favorable_label")),
        "sensitive_features": ctx.sensitive,
        "bands": ctx.bands,
        "risk_tier": inputs.tier,
        "settings": _jsonable(ctx.settings),
        "failed": [r.name for r in results if r.passed is False],
        "skipped": skipped,
        "seconds": timings,
    }
    evidence = [
        EvidenceBlob(name, svg.encode("utf-8"), "image/svg+xml")
        for name, svg in sorted(plots.items())
    ]
    full = {
        **summary,
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "results": [_result_json(r) for r in results],
    }
    evidence.append(
        EvidenceBlob(
            "summary.json",
            json.dumps(full, indent=2, sort_keys=True).encode("utf-8"),
            "application/json",
        )
    )
    return RunOutput(
        suite=suite.name,
        suite_version=suite.version,
        results=tuple(results),
        evidence=tuple(evidence),
        summary=summary,
        started_at=started,
        finished_at=finished,
    )


def _uncertainty(details: dict[str, Any], threshold: Threshold, absolute: bool) -> str:
    """Say so when a metric's confidence interval straddles its threshold (and mark it)."""
    found = details.get("interval")
    if not isinstance(found, dict):
        return ""
    found = details["interval"] = dict(found)  # the report's own dict is shared; copy it
    low, high = float(found["low"]), float(found["high"])
    if absolute:  # signed metrics compare |value|: the interval of |value|
        low, high = (0.0, max(-low, high)) if low <= 0.0 <= high else sorted((abs(low), abs(high)))
    if compare(low, threshold) == compare(high, threshold):
        found["straddles_threshold"] = False
        return ""
    found["straddles_threshold"] = True
    details["uncertain"] = True
    return (
        f"Uncertain: the {float(found['level']):.0%} interval [{low:.3f}, {high:.3f}] straddles "
        f"the threshold {threshold.op} {threshold.limit:g}, so with these group sizes the "
        "result could go either way."
    )


def _explain(
    message: str, value: float | None, threshold: Threshold | None, passed: bool | None
) -> str:
    if passed is False and threshold is not None:
        shown = "no value" if value is None else f"{value:.4g}"
        verdict = f"FAILED: {shown}, required {threshold.op} {threshold.limit:g}."
        return f"{verdict} {message}".strip()
    return message


def _result_json(result: CheckResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "family": result.family.value,
        "passed": result.passed,
        "value": result.value,
        "threshold": None
        if result.threshold is None
        else {"op": result.threshold.op, "limit": result.threshold.limit},
        "message": result.message,
        "details": result.details,
    }


def _jsonable(value: Any) -> Any:
    """Plain JSON types (numpy scalars become Python numbers; non-finite floats null)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)
