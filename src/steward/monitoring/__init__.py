"""Steward's monitoring compute engine: reference profiles, mergeable batch aggregates, drift.

The engine never needs the raw reference and the raw batch side by side. A **reference
profile** is computed once (bin edges, category sets, moments and the reference's own counts
on those edges) and stored with the monitor as JSON; each production batch is reduced, in
one scan where the data lives, to a :class:`BatchAggregate` on the profile's edges; drift
metrics are arithmetic on two aggregates. Aggregates merge (:func:`merge`), so windows and
partitions combine without rescanning.

API for the monitoring service (everything below is importable from ``steward.monitoring``)::

    from steward.monitoring import (
        ColumnSpec, build_profile, ReferenceProfile,      # steward.monitoring.profile
        aggregate, merge, BatchAggregate, Query,          # steward.monitoring.aggregate
        DriftOptions, compare, compare_exact,             # steward.monitoring.drift
        ExactReference, prepare_exact,
        ColumnDrift, DatasetDrift,
    )

    # 1. once, when the monitor is created (reference = training/evaluation data)
    profile = build_profile(reference_df, [ColumnSpec("age", "numeric"),
                                           ColumnSpec("purpose", "categorical")])
    stored = profile.to_json()                  # str; ReferenceProfile.from_json(stored)

    # 2. per batch, in the engine ("duckdb" default, "numpy", "spark")
    batch = aggregate("s3://logs/2026-11-*.parquet", profile)       # or a frame, Query(...)
    week = merge([batch_monday, batch_tuesday])                      # windows without rescans
    batch.to_dict() / BatchAggregate.from_dict(d)                    # JSON-able, to store

    # 3. drift: one ColumnDrift per column + dataset drift share
    result = compare(profile, batch, DriftOptions())                 # method="auto" (Evidently)
    result.drifted, result.share, result.columns["age"].score, .drifted, .method, .binning

    # exact mode (raw data in memory): Evidently-identical binning and scipy-exact KS / W1
    result = compare_exact(reference_df, current_df, specs, DriftOptions())
    # ... or prepare the reference once per monitor (numeric columns sorted: the exact ECDF),
    # so each batch is one sort of the batch plus one merge per column
    prepared = prepare_exact(reference_df, specs)     # ExactReference; .save(p) / .load(p)
    result = compare_exact(prepared, current_df)

    # labelled batches: grouped confusion counts (mergeable) → performance and fairness
    counts = confusion_counts(batch_df, label="y", prediction="decision", groups=["sex"])
    window = merge_confusion([counts_monday, counts_tuesday])
    window.performance()["f1"], window.fairness("sex")["equalized_odds_difference"]

Sources accepted by :func:`aggregate` and :func:`build_profile`: a pandas DataFrame, a pyarrow
Table/RecordBatch (scanned by DuckDB without a copy), a path or glob of ``.parquet`` /
``.csv`` / ``.csv.gz`` files, ``s3://`` (and any fsspec URL) read through fsspec + pyarrow,
or a :class:`Query` (SQL run by DuckDB; ``Query(sql, attach={"pg": "postgresql://..."})``
attaches a PostgreSQL database through DuckDB's postgres extension when it is installed), or a
:class:`PostgresSource` (a PostgreSQL table or SELECT read through psycopg with a server-side
cursor in bounded chunks, each reduced and the parts merged: no DuckDB extension needed;
text form ``postgresql://user@host/db#table=events`` or ``…#query=SELECT …``).
The Spark engine also accepts a ``pyspark.sql.DataFrame``. These raw sources are read by
whoever calls the engine; a Steward *server* reads only through an admin-registered data
connection, as a :class:`steward.monitoring.connected.LockedQuery` (resolved paths, parsed
SQL, a DuckDB without external access) or a ``PostgresSource`` (see ``docs/security.md``).

Per column, :class:`ColumnDrift` carries ``method`` (psi, ks, wasserstein, jensenshannon,
chisquare, ztest), ``statistic``, ``p_value`` (tests), ``score`` (what is compared with the
threshold: p-value for tests, the statistic for distances), ``threshold``, ``drifted``,
``binning`` (which bins or "exact"), ``bins`` (PSI: "categories", "deciles" or "sturges"),
``n_reference``/``n_current``, ``mode`` ("exact" or "sketch"), ``error_bound`` (sketch: the
exact value is guaranteed to lie within ± it), ``p_value_interval`` (sketch KS: where the
exact p-value lies), and data-quality figures: ``missing_rate``, ``out_of_range_share``
(numeric: outside the reference [min, max]), ``new_categories`` (categorical). Bad input
(missing column, a text column where a number is expected, an empty batch, unreadable files)
raises
:class:`steward.domain.errors.InvalidInput` naming the column or file and the fix.

Modules: :mod:`.profile`, :mod:`.aggregate` (engine dispatch and the aggregate types),
:mod:`._duckdb`, :mod:`._numpy`, :mod:`._spark` (engines), :mod:`.stats` (the formulae, on
counts or arrays), :mod:`.drift` (method selection and results). Definitions and tolerances:
``docs/monitoring.md`` ("Metrics").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from steward.monitoring.aggregate import (
    BatchAggregate,
    ColumnAggregate,
    Query,
    aggregate,
    merge,
)
from steward.monitoring.postgres import PostgresSource

if TYPE_CHECKING:
    from steward.monitoring.confusion import ConfusionCounts, confusion_counts, merge_confusion
    from steward.monitoring.drift import (
        ColumnDrift,
        DatasetDrift,
        DriftOptions,
        ExactReference,
        compare,
        compare_exact,
        prepare_exact,
    )
    from steward.monitoring.profile import (
        ColumnProfile,
        ColumnSpec,
        ReferenceProfile,
        build_profile,
    )

# The statistics pull in scipy and pandas (about a second), which the API server, the CLI
# and `steward --help` must not pay for at start-up: they load on first use. (The light
# modules above stay eager, so `aggregate` is always the function, never the submodule.)
# The profile needs numpy, which a server installed without the `monitoring` extra lacks.
_LAZY = {
    "ColumnProfile": "profile",
    "ColumnSpec": "profile",
    "ReferenceProfile": "profile",
    "build_profile": "profile",
    "ConfusionCounts": "confusion",
    "confusion_counts": "confusion",
    "merge_confusion": "confusion",
    "ColumnDrift": "drift",
    "DatasetDrift": "drift",
    "DriftOptions": "drift",
    "ExactReference": "drift",
    "compare": "drift",
    "compare_exact": "drift",
    "prepare_exact": "drift",
}


def __getattr__(name: str) -> Any:
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "BatchAggregate",
    "ColumnAggregate",
    "ColumnDrift",
    "ColumnProfile",
    "ColumnSpec",
    "ConfusionCounts",
    "DatasetDrift",
    "DriftOptions",
    "ExactReference",
    "PostgresSource",
    "Query",
    "ReferenceProfile",
    "aggregate",
    "build_profile",
    "compare",
    "compare_exact",
    "confusion_counts",
    "merge",
    "merge_confusion",
    "prepare_exact",
]
