"""Reduce reference data and production batches to what the monitoring service stores.

This runs where the data is: in the SDK's process for both backends (embedded and over
HTTP) and in the scheduler. A reference becomes a profile (``steward.monitoring``); a
batch becomes a mergeable aggregate on that profile plus, when the monitor has a join key
or the batch carries labels, the few role columns (prediction id, prediction, score,
label, sensitive groups) needed for performance. Only these small results travel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from steward.domain.errors import InvalidInput
from steward.domain.monitoring import MonitorConfig, run_mode, watched_columns

ENGINES = ("duckdb", "numpy", "spark")


@dataclass(frozen=True)
class PredictionRows:
    """Role columns of a batch, row-aligned."""

    ids: list[str] | None = None
    prediction: list[float | None] | None = None
    score: list[float | None] | None = None
    label: list[float | None] | None = None
    groups: dict[str, list[str | None]] = field(default_factory=dict)

    def __len__(self) -> int:
        for values in (self.ids, self.prediction, self.score, self.label):
            if values is not None:
                return len(values)
        return 0


@dataclass(frozen=True)
class BatchPayload:
    """What one run sends to the service."""

    aggregate: dict[str, Any]  # steward.monitoring.BatchAggregate.to_dict()
    rows: int
    source: str
    engine: str
    missing_columns: list[str] = field(default_factory=list)
    observed_at: datetime | None = None  # when the batch happened (default: now)
    predictions: PredictionRows | None = None
    # "exact": ``exact`` holds the drift computed on the raw batch against the monitor's
    # exact reference ({"drift": DatasetDrift.to_dict(), "psi": ...}); "sketch": from the
    # aggregate (the server computes it, each score with its bound)
    mode: str = "sketch"
    exact: dict[str, Any] | None = None


@dataclass(frozen=True)
class ReferencePayload:
    profile: str  # steward.monitoring.ReferenceProfile JSON
    source: str
    fingerprint: str | None
    rows: int
    columns: list[str]
    numeric: list[str]
    categorical: list[str]
    # base64 of steward.monitoring.ExactReference.to_bytes(): the sorted numeric reference
    # columns and category counts exact runs compare with (None: the monitor sketches only)
    exact: str | None = None


def describe_source(data: Any) -> str:
    from steward.monitoring import PostgresSource, Query
    from steward.monitoring.connected import LockedQuery

    if isinstance(data, PostgresSource):
        return data.describe()
    if isinstance(data, LockedQuery):
        return data.description
    if isinstance(data, Query):
        return "query: " + " ".join(data.sql.split())[:500]
    if isinstance(data, (str, Path)):
        return str(data)
    return f"{type(data).__module__.split('.')[0]} frame"


def _is_numeric(frame: Any, name: str) -> bool:
    kind = getattr(frame[name].dtype, "kind", "O")
    return kind in "iuf"


def build_reference(
    data: Any, config: MonitorConfig, *, source: str | None = None
) -> ReferencePayload:
    """Profile reference data (a frame or a CSV/Parquet path) for ``config``'s columns."""
    from steward.lineage import datasets
    from steward.monitoring import ColumnSpec, build_profile
    from steward.validation import loading

    frame = loading.load_data(data, "reference")
    if len(frame) == 0:
        raise InvalidInput(
            "The reference data has no rows; pass the version's training or evaluation data.",
            field="reference",
        )
    present = [str(c) for c in frame.columns]
    needed = list(config.columns)
    missing = [c for c in needed if c not in present]
    if missing:
        raise InvalidInput(
            f"The reference data has no column(s) {', '.join(missing)}; it has "
            f"{', '.join(present[:30])}. Fix the monitor's columns or pass other data.",
            field="reference",
        )
    watched = list(watched_columns(config, present))
    for role in (config.prediction, config.score):
        if role and role in present and role not in watched:
            watched.append(role)  # prediction drift, when the reference has predictions
    if not watched:
        raise InvalidInput("No columns to watch: name them in columns.", field="columns")
    specs = [
        ColumnSpec(
            c,
            "numeric"
            if _is_numeric(frame, c) and c not in config.categorical and c != config.prediction
            else "categorical",
        )
        for c in watched
    ]
    profile = build_profile(frame, specs, engine="numpy")
    exact = None
    if config.mode != "sketch":
        import base64

        from steward.monitoring import prepare_exact

        exact = base64.b64encode(prepare_exact(frame, specs).to_bytes()).decode("ascii")
    return ReferencePayload(
        exact=exact,
        profile=profile.to_json(),
        source=source or describe_source(data),
        fingerprint=datasets.fingerprint(frame),
        rows=len(frame),
        columns=watched,
        numeric=[s.name for s in specs if s.kind == "numeric"],
        categorical=[s.name for s in specs if s.kind == "categorical"],
    )


def source_columns(data: Any) -> list[str] | None:
    """Column names of a batch without reading its rows (None: the engine will tell)."""
    from steward.monitoring import PostgresSource, Query
    from steward.monitoring.connected import LockedQuery

    if isinstance(data, PostgresSource):
        from steward.monitoring import postgres

        return postgres.columns(data)
    columns = getattr(data, "columns", None)
    if columns is not None and not callable(columns):
        return [str(c) for c in columns]
    names = getattr(getattr(data, "schema", None), "names", None)
    if names is not None:
        return [str(c) for c in names]
    if isinstance(data, (str, Path, Query, LockedQuery)):
        try:
            relation = _duckdb_relation(data, limit=0)
        except InvalidInput:
            raise
        except Exception as exc:  # duckdb errors: say which source and why
            raise InvalidInput(
                f"Cannot read {describe_source(data)!r}: {str(exc).splitlines()[0]}. Check the "
                "path, glob or query.",
                field="data",
            ) from None
        return [str(c) for c in relation.columns]
    return None


def _duckdb_relation(data: Any, limit: int | None = None, columns: Sequence[str] = ()) -> Any:
    import duckdb

    from steward.monitoring import Query
    from steward.monitoring.connected import LockedQuery

    select = ", ".join(_quote(c) for c in columns) if columns else "*"
    tail = "" if limit is None else f" LIMIT {int(limit)}"
    if isinstance(data, LockedQuery):
        locked, relation = data.connect()
        return locked.sql(f"SELECT {select} FROM {relation} AS batch{tail}")
    con = duckdb.connect()
    if isinstance(data, Query):
        for alias, url in data.attach.items():
            con.execute("INSTALL postgres; LOAD postgres;")
            con.execute(f"ATTACH '{url}' AS {_quote(alias)} (TYPE postgres, READ_ONLY)")
        return con.sql(f"SELECT {select} FROM ({data.sql}) AS batch{tail}")
    text = str(data)
    if "://" in text and not text.startswith("file://"):
        # s3:// and other fsspec URLs: the engine's reader (fsspec + a pyarrow dataset), the
        # same one the aggregate scans, so no DuckDB extension has to be downloaded
        from steward.monitoring import _duckdb

        con.close()
        con, relation = _duckdb.connect(text)
        return con.sql(f"SELECT {select} FROM {relation}{tail}")
    text = text.removeprefix("file://")
    lower = text.lower()
    if lower.endswith((".csv", ".csv.gz")):
        reader = f"read_csv_auto('{_literal(text)}')"
    elif lower.endswith((".parquet", ".pq")) or "*" in text:
        reader = f"read_parquet('{_literal(text)}')"
    else:
        raise InvalidInput(
            f"{text!r} is neither a CSV (.csv, .csv.gz) nor a Parquet (.parquet) file or glob.",
            field="data",
        )
    if "*" not in text and "://" not in text and not Path(text).exists():
        raise InvalidInput(f"No file {text!r}: check the path.", field="data")
    return con.sql(f"SELECT {select} FROM {reader}{tail}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return text.replace("'", "''")


def _floats(values: Any, name: str) -> list[float | None]:
    out: list[float | None] = []
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            out.append(None)
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"Column {name!r} holds {value!r}, not a number; predictions, scores and "
                "labels must be numeric (e.g. 0/1).",
                field=name,
            ) from None
        out.append(None if math.isnan(number) else number)
    return out


def role_columns(config: MonitorConfig, present: Sequence[str]) -> list[str] | None:
    """The role columns a batch with columns ``present`` must send (None: none needed)."""
    has_label = config.label is not None and config.label in present
    has_ids = config.id_column is not None and config.id_column in present
    if config.id_column is not None and not has_ids and not has_label:
        raise InvalidInput(
            f"The batch has no join-key column {config.id_column!r}; labels sent later could "
            "not be matched. Include it in the batch.",
            field="data",
        )
    if not has_ids and not has_label:
        return None
    if config.prediction is None and config.score is None:
        raise InvalidInput(
            "This monitor has a label or join key but no prediction or score column; set "
            "prediction (and score) so performance can be computed.",
            field="config",
        )
    return [
        c
        for c in (config.id_column, config.prediction, config.score, config.label)
        if c and c in present
    ] + [c for c in config.sensitive if c in present]


def role_rows(data: Any, config: MonitorConfig, present: Sequence[str]) -> PredictionRows | None:
    """The batch's id, prediction, score, label and sensitive columns, when needed."""
    wanted = role_columns(config, present)
    if wanted is None:
        return None
    has_ids = config.id_column is not None and config.id_column in present
    has_label = config.label is not None and config.label in present
    frame = _columns_frame(data, wanted)
    ids = None
    if has_ids:
        assert config.id_column is not None
        raw_ids = frame[config.id_column].tolist()
        if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in raw_ids):
            raise InvalidInput(
                f"Some rows have no {config.id_column!r}; every prediction needs its id.",
                field="data",
            )
        ids = [str(v) for v in raw_ids]
        if any(len(v) > 200 for v in ids):
            raise InvalidInput("Prediction ids have at most 200 characters.", field="data")
        if len(set(ids)) != len(ids):
            raise InvalidInput(
                f"Column {config.id_column!r} repeats prediction ids; each must be unique.",
                field="data",
            )
    return PredictionRows(
        ids=ids,
        prediction=None
        if config.prediction not in frame
        else _floats(frame[config.prediction].tolist(), str(config.prediction)),
        score=None
        if config.score not in frame
        else _floats(frame[config.score].tolist(), str(config.score)),
        label=None if not has_label else _floats(frame[config.label].tolist(), str(config.label)),
        groups={
            c: [None if v is None or v != v else str(v) for v in frame[c].tolist()]
            for c in config.sensitive
            if c in frame
        },
    )


def _columns_frame(data: Any, columns: Sequence[str]) -> Any:
    from steward.monitoring import Query
    from steward.monitoring.connected import LockedQuery

    if isinstance(data, (str, Path, Query, LockedQuery)):
        return _duckdb_relation(data, columns=columns).df()
    from steward.lineage import datasets

    frame = datasets.to_frame(data)
    return frame[list(columns)]


def reduce_batch(
    data: Any,
    profile_json: str,
    config: MonitorConfig,
    *,
    engine: str = "duckdb",
    observed_at: datetime | None = None,
    mode: str | None = None,
    exact_reference: bytes | None = None,
) -> BatchPayload:
    """One scan of the batch in ``engine``: aggregate on the profile + role columns; in exact
    mode (``mode``, default the monitor's) also the drift on the raw batch against
    ``exact_reference`` (the monitor's stored :class:`~steward.monitoring.ExactReference`)."""
    from steward.monitoring import PostgresSource, ReferenceProfile, aggregate
    from steward.monitoring.postgres import is_postgres_url

    if engine not in ENGINES:
        raise InvalidInput(f"engine must be one of {', '.join(ENGINES)}.", field="engine")
    if isinstance(data, str) and is_postgres_url(data):
        data = PostgresSource.parse(data)
    profile = ReferenceProfile.from_json(profile_json)
    present = source_columns(data)
    missing: list[str] = []
    if present is not None:
        missing = [c for c in profile.columns if c not in present]
        if len(missing) == len(profile.columns):
            raise InvalidInput(
                f"The batch has none of the monitored columns ({', '.join(profile.columns)}); "
                f"it has {', '.join(present[:30])}. Is it the right data?",
                field="data",
            )
        if missing:
            profile = sub_profile(profile, [c for c in profile.columns if c not in missing])
    requested = mode or config.mode
    raw: Any = data
    if isinstance(data, PostgresSource):
        batch, predictions, raw = _reduce_postgres(
            data, profile, config, present or [], engine, keep=requested != "sketch"
        )
    else:
        batch = aggregate(data, profile, engine=engine)  # type: ignore[arg-type]
        predictions = role_rows(data, config, present or [])
    chosen = run_mode(requested, batch.rows, exact_reference is not None)
    if chosen == "exact" and engine == "spark":
        if requested == "exact":
            raise InvalidInput(
                "Exact mode reads the batch into memory here; the spark engine only "
                "aggregates. Run with --mode sketch (or auto) on Spark, or with the duckdb "
                "engine.",
                field="mode",
            )
        chosen = "sketch"
    exact = None
    if chosen == "exact":
        assert exact_reference is not None
        exact = exact_drift(
            raw, exact_reference, list(profile.columns), config.method, config.methods
        )
    if predictions is not None and len(predictions) != batch.rows:
        raise InvalidInput(
            f"Read {len(predictions)} prediction rows but aggregated {batch.rows}: the source "
            "changed while it was read; run again.",
            field="data",
        )
    return BatchPayload(
        aggregate=batch.to_dict(),
        rows=batch.rows,
        source=describe_source(data),
        engine=batch.engine or engine,
        missing_columns=missing,
        observed_at=observed_at,
        predictions=predictions,
        mode=chosen,
        exact=exact,
    )


def exact_drift(
    data: Any,
    exact_reference: bytes,
    columns: Sequence[str],
    method: str,
    methods: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Drift of the raw batch against the exact reference: the monitor's method (or each
    column's own) and PSI for every column, equal to scipy / Evidently
    (``steward.monitoring.compare_exact``)."""
    from steward.monitoring import DriftOptions, ExactReference, compare_exact
    from steward.monitoring._numpy import to_frame

    prepared = ExactReference.from_bytes(exact_reference)
    specs = [s for s in prepared.specs if s.name in columns]
    frame = to_frame(data, [s.name for s in specs])
    own = dict(methods or {})
    drift = compare_exact(prepared, frame, specs, DriftOptions(method=method, methods=own))
    psi = drift if method == "psi" and not own else compare_exact(
        prepared, frame, specs, DriftOptions(method="psi")
    )
    return {"drift": drift.to_dict(), "psi": psi.to_dict()}


def _reduce_postgres(
    source: Any,
    profile: Any,
    config: MonitorConfig,
    present: Sequence[str],
    engine: str,
    keep: bool = False,
) -> tuple[Any, PredictionRows | None, Any]:
    """One pass over a PostgreSQL source: each chunk aggregated and its role columns kept."""
    import pyarrow as pa

    from steward.monitoring import aggregate, merge, postgres

    if engine == "spark":
        raise InvalidInput(
            "A PostgreSQL source is reduced with the duckdb or numpy engine; for Spark, read "
            "the table with spark.read.jdbc and pass the DataFrame.",
            field="engine",
        )
    watched = list(profile.columns)
    wanted = role_columns(config, present) or []
    parts = []
    roles = []
    kept = []  # the watched columns, for exact mode
    for chunk in postgres.chunks(source, list(dict.fromkeys(watched + wanted))):
        parts.append(aggregate(chunk.select(watched), profile, engine=engine))  # type: ignore[arg-type]
        if wanted:
            roles.append(chunk.select(wanted))
        if keep:
            kept.append(chunk.select(watched))
    if not parts:
        raise InvalidInput(
            f"{source.describe()} returned no rows; an empty batch cannot be compared with "
            "the reference. Check the table or the query's WHERE clause.",
            field="data",
        )
    predictions = role_rows(pa.concat_tables(roles), config, present) if wanted else None
    return merge(parts), predictions, pa.concat_tables(kept) if kept else None


def sub_profile(profile: Any, keep: Sequence[str]) -> Any:
    """The profile restricted to ``keep`` (a batch lacks the other columns)."""
    from steward.monitoring import BatchAggregate, ReferenceProfile

    sub = ReferenceProfile(
        columns={k: profile.columns[k] for k in keep},
        fine_bins=profile.fine_bins,
        discrete_max=profile.discrete_max,
    )
    ref = profile.reference
    if ref is not None:
        sub.reference = BatchAggregate(
            rows=ref.rows,
            columns={k: ref.columns[k] for k in keep},
            engine=ref.engine,
            profile_id=sub.id,
        )
    return sub
