"""Steward's metric kernels: pure numpy, one grouped count pass, equal to the reference libraries.

The validation checks (``steward.validation.checks``) call these; nothing here touches a store,
a model file or a face. Every function takes plain array-likes (lists, numpy arrays, pandas
or Polars series), validates them first and raises
:class:`~steward.domain.errors.InvalidInput` with a message naming the problem and the fix.
Results are frozen dataclasses with ``to_dict()`` (JSON-ready: NaN/inf become ``None``), so a
check can put them into ``CheckResult.details`` as they are. Exact definitions: the "Metric
definitions" section of ``docs/validation.md`` and ``/work/shared/metrics-reference.md`` §2.7-2.8.

The API for checks (import from ``steward.validation.metrics``)
----------------------------------------------------------------

Fairness — one call gives every figure::

    rep = fairness_report(y_true, y_pred, {"sex": sex, "age": age},
                          privileged={"sex": "male"},     # optional: AIF360-style signed metrics
                          min_group_size=30,              # smaller groups flagged, never merged
                          bands={"age": [25, 40, 60]})    # else > 20 distinct numbers → quintiles
    rep.demographic_parity_ratio, rep.demographic_parity_difference,
    rep.equalized_odds_difference, rep.equalized_odds_ratio,
    rep.equal_opportunity_difference, rep.equal_opportunity_ratio   # Fairlearn's definitions
    rep.four_fifths.passed / .flagged / .min_impact_ratio          # 29 CFR §1607.4(D)
    rep.privileged.disparate_impact / .statistical_parity_difference /
        .average_odds_difference / .equal_opportunity_difference  # AIF360's, signed
    rep.groups  # per group: rows, count, selection_rate, TPR, FPR, precision, accuracy,
                #            base_rate, impact_ratio, small, undefined rates, z-test p-value
    rep.bands, rep.notes, rep.to_dict()

  ``method="to_overall"`` compares each group with the whole population instead of with the
  other groups; ``small_groups="exclude"`` leaves small groups out of the aggregates;
  ``missing="group"`` reports missing group values as a ``"(missing)"`` group.
  Regression models: ``regression_group_gaps(y_true, y_pred, sensitive)`` (MAE/RMSE/mean
  error per group and the gaps). Single Fairlearn-compatible functions with Fairlearn's
  arguments: ``demographic_parity_difference/ratio``, ``equalized_odds_difference/ratio``,
  ``equal_opportunity_difference/ratio``. Engines that count elsewhere (SQL ``GROUP BY``) can
  build a :class:`ConfusionCounts` and call ``report_from_counts``.

Performance::

    rep = classification_report(y_true, y_score=p, threshold=0.5, threshold_op=">=")
    # or y_pred=labels, or both. rep.accuracy, .precision, .recall, .f1, .roc_auc, .gini,
    # .ks, .average_precision, .log_loss, .brier, .calibration (reliability curve + ECE/MCE),
    # .confusion (tn, fp, fn, tp); undefined metrics are None with a note.
    rep = regression_report(y_true, y_pred)   # .mae, .rmse, .r2, .mape, .mean_error

  Single metrics: ``accuracy, precision, recall, f1, roc_auc, gini, ks_statistic,
  average_precision, log_loss, brier_score, calibration, expected_calibration_error,
  confusion_matrix, binarize, mae, rmse, r2, mape``.

Explainability::

    imp = permutation_importance(score_fn, X, y, n_repeats=10, random_state=0)
    # score_fn(X, y, sample_weight) -> float, higher is better; same numbers as
    # sklearn.inspection.permutation_importance with the same seed; imp.ranked(),
    # per feature mean, std, ci_low/ci_high (Student-t over repeats).

Missing values: labels, predictions and scores raise by default; ``nan_policy="omit"`` on the
report functions drops those rows and reports how many (``rows_dropped``).
"""

from __future__ import annotations

from steward.validation.metrics.classification import (
    Calibration,
    ClassificationReport,
    Confusion,
    accuracy,
    average_precision,
    binarize,
    brier_score,
    calibration,
    classification_report,
    confusion_matrix,
    expected_calibration_error,
    f1,
    gini,
    ks_statistic,
    log_loss,
    precision,
    recall,
    roc_auc,
)
from steward.validation.metrics.fairness import (
    Banding,
    FairnessReport,
    FourFifths,
    GroupRow,
    PrivilegedComparison,
    RegressionGaps,
    band,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equal_opportunity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    fairness_report,
    quantile_edges,
    regression_group_gaps,
    report_from_counts,
)
from steward.validation.metrics.grouped import ConfusionCounts, Groups, encode_groups
from steward.validation.metrics.importance import (
    FeatureImportance,
    PermutationImportance,
    permutation_importance,
)
from steward.validation.metrics.regression import (
    RegressionReport,
    mae,
    mape,
    r2,
    regression_report,
    rmse,
)

__all__ = [
    "Banding",
    "Calibration",
    "ClassificationReport",
    "Confusion",
    "ConfusionCounts",
    "FairnessReport",
    "FeatureImportance",
    "FourFifths",
    "GroupRow",
    "Groups",
    "PermutationImportance",
    "PrivilegedComparison",
    "RegressionGaps",
    "RegressionReport",
    "accuracy",
    "average_precision",
    "band",
    "binarize",
    "brier_score",
    "calibration",
    "classification_report",
    "confusion_matrix",
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "encode_groups",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "expected_calibration_error",
    "f1",
    "fairness_report",
    "gini",
    "ks_statistic",
    "log_loss",
    "mae",
    "mape",
    "permutation_importance",
    "precision",
    "quantile_edges",
    "r2",
    "recall",
    "regression_group_gaps",
    "regression_report",
    "report_from_counts",
    "rmse",
    "roc_auc",
]
