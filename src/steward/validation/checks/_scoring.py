"""The primary metric of a task, used to compare models and measure perturbation drops."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from steward.validation.metrics import classification, regression

if TYPE_CHECKING:
    from steward.validation.checks.base import Array, CheckContext


def primary_name(ctx: CheckContext, has_score: bool) -> str:
    if ctx.task == "regression":
        return "r2"
    return "roc_auc" if has_score else "accuracy"


def primary(ctx: CheckContext, y_pred: Array, y_score: Array | None) -> float:
    return primary_on(ctx, ctx.y_true, y_pred, y_score)


def primary_on(ctx: CheckContext, y_true: Any, y_pred: Array, y_score: Array | None) -> float:
    if ctx.task == "regression":
        return regression.r2(np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, np.float64))
    if y_score is not None:
        return classification.roc_auc(y_true, y_score, pos_label=ctx.positive_label)
    return classification.accuracy(y_true, y_pred)
