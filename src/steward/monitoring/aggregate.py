"""A batch reduced to mergeable aggregates on the reference profile's edges, by an engine.

Per numeric column: rows, missing (null or NaN), non-finite (±inf), finite count, sum, sum of
squares, min, max, counts below/above the reference range, and histograms on each of the
profile's binnings (``deciles``, ``fine`` and, for discrete columns, ``points``). Per
categorical column: rows, missing and the count of every category (values as text).

Bins follow numpy's ``searchsorted(edges, x, side="right")``: bin 0 is (-∞, e₁), bin j is
[e_j, e_{j+1}), the last is [e_k, +∞). Every engine produces exactly these counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from steward.domain.errors import InvalidInput

if TYPE_CHECKING:
    from steward.monitoring.profile import ReferenceProfile

Engine = Literal["duckdb", "numpy", "spark"]
ENGINES: tuple[str, ...] = ("duckdb", "numpy", "spark")
MAX_CATEGORIES = 10_000  # beyond this, the rarest categories are summed into ``other``


@dataclass(frozen=True)
class Query:
    """SQL run by DuckDB as a batch source; ``attach`` maps aliases to PostgreSQL DSNs."""

    sql: str
    attach: Mapping[str, str] = field(default_factory=dict)


@dataclass
class ColumnAggregate:
    name: str
    kind: str  # "numeric" | "categorical"
    rows: int = 0
    missing: int = 0
    nonfinite: int = 0
    n: int = 0  # values used by the drift metrics (finite numbers / non-missing categories)
    sum: float = 0.0
    sumsq: float = 0.0
    min: float | None = None
    max: float | None = None
    below: int = 0  # numeric values < reference min
    above: int = 0  # numeric values > reference max
    hist: dict[str, list[int]] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)
    other: int = 0  # categories beyond MAX_CATEGORIES

    @property
    def mean(self) -> float | None:
        return self.sum / self.n if self.n else None

    @property
    def std(self) -> float | None:
        """Population standard deviation from the moments (informational)."""
        if not self.n:
            return None
        m = self.sum / self.n
        return math.sqrt(max(self.sumsq / self.n - m * m, 0.0))

    def merged(self, other: ColumnAggregate) -> ColumnAggregate:
        if (other.name, other.kind) != (self.name, self.kind) or set(other.hist) != set(
                self.hist) or any(len(other.hist[k]) != len(v) for k, v in self.hist.items()):
            raise InvalidInput(
                f"cannot merge aggregates of column {self.name!r} computed on different "
                "profiles; aggregate every batch with the same reference profile")
        cats = dict(self.categories)
        for k, v in other.categories.items():
            cats[k] = cats.get(k, 0) + v
        mins = [v for v in (self.min, other.min) if v is not None]
        maxs = [v for v in (self.max, other.max) if v is not None]
        out = ColumnAggregate(
            name=self.name, kind=self.kind, rows=self.rows + other.rows,
            missing=self.missing + other.missing, nonfinite=self.nonfinite + other.nonfinite,
            n=self.n + other.n, sum=self.sum + other.sum, sumsq=self.sumsq + other.sumsq,
            min=min(mins) if mins else None, max=max(maxs) if maxs else None,
            below=self.below + other.below, above=self.above + other.above,
            hist={k: [a + b for a, b in zip(v, other.hist[k], strict=True)]
                  for k, v in self.hist.items()},
            categories=cats, other=self.other + other.other,
        )
        out.cap_categories()
        return out

    def cap_categories(self) -> None:
        if len(self.categories) > MAX_CATEGORIES:
            ranked = sorted(self.categories.items(), key=lambda kv: (-kv[1], kv[0]))
            self.other += sum(v for _, v in ranked[MAX_CATEGORIES:])
            self.categories = dict(ranked[:MAX_CATEGORIES])

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "rows": self.rows, "missing": self.missing,
            "nonfinite": self.nonfinite, "n": self.n, "sum": self.sum, "sumsq": self.sumsq,
            "min": self.min, "max": self.max, "below": self.below, "above": self.above,
            "hist": self.hist, "categories": self.categories, "other": self.other,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnAggregate:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class BatchAggregate:
    """One batch (or a merged window) on a profile's edges; ``engine`` says who computed it."""

    rows: int
    columns: dict[str, ColumnAggregate]
    engine: str = "numpy"
    profile_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "engine": self.engine, "profile_id": self.profile_id,
                "columns": {k: v.to_dict() for k, v in self.columns.items()}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BatchAggregate:
        return cls(rows=int(d["rows"]), engine=str(d.get("engine", "")),
                   profile_id=str(d.get("profile_id", "")),
                   columns={k: ColumnAggregate.from_dict(v) for k, v in d["columns"].items()})


def merge(batches: Iterable[BatchAggregate]) -> BatchAggregate:
    """Combine batches aggregated on the same profile (a window, or partitions) exactly."""
    items = list(batches)
    if not items:
        raise InvalidInput("nothing to merge: pass at least one batch aggregate")
    first = items[0]
    for b in items[1:]:
        if b.profile_id != first.profile_id or set(b.columns) != set(first.columns):
            raise InvalidInput("cannot merge aggregates of different reference profiles; "
                               "aggregate every batch with the monitor's stored profile")
    columns = dict(first.columns)
    for b in items[1:]:
        columns = {k: v.merged(b.columns[k]) for k, v in columns.items()}
    engines = sorted({b.engine for b in items})
    return BatchAggregate(rows=sum(b.rows for b in items), columns=columns,
                          engine="+".join(engines), profile_id=first.profile_id)


def aggregate(source: Any, profile: ReferenceProfile, engine: Engine = "duckdb",
              ) -> BatchAggregate:
    """Reduce ``source`` (frame, Arrow table, path/glob, fsspec URL, :class:`Query`, or a
    Spark DataFrame for ``engine="spark"``) to a :class:`BatchAggregate` on ``profile``.
    A :class:`~steward.monitoring.postgres.PostgresSource` is read in bounded chunks through
    a server-side cursor, each chunk reduced in ``engine`` and the parts merged."""
    from steward.monitoring import postgres

    if isinstance(source, postgres.PostgresSource):
        return postgres.aggregate(source, profile, engine)
    if engine == "duckdb":
        from steward.monitoring import _duckdb

        batch = _duckdb.aggregate(source, profile)
    elif engine == "numpy":
        from steward.monitoring import _numpy

        batch = _numpy.aggregate(source, profile)
    elif engine == "spark":
        from steward.monitoring import _spark

        batch = _spark.aggregate(source, profile)
    else:
        raise InvalidInput(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    if batch.rows == 0:
        raise InvalidInput("the batch has no rows: check the path, glob or query "
                           "(an empty batch cannot be compared with the reference)")
    return batch
