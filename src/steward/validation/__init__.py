"""Steward's validation engine: load a model and data, run a suite of checks, keep evidence.

* :mod:`steward.validation.loading` — models (skops, ONNX, XGBoost, LightGBM, MLflow pyfunc,
  pickle only when trusted) and data (pandas, Polars, Arrow, Parquet, CSV);
* :mod:`steward.validation.checks` — the :class:`~steward.validation.checks.base.Check`
  contract and the built-in families (performance, fairness, explainability, robustness,
  data quality), plus third-party checks from the ``steward.checks`` entry point;
* :mod:`steward.validation.suites` — named, versioned YAML suites with thresholds;
* :mod:`steward.validation.runner` — input validation before heavy work, the run itself,
  plots and the JSON summary;
* :mod:`steward.validation.metrics` — the numeric kernels (one grouped count pass).
"""
