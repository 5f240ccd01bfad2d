"""The reference profile a monitor keeps: edges, category sets, moments and reference counts.

Computed once from the reference data (numpy or DuckDB), stored as JSON with the monitor.
Per numeric column:

* ``deciles`` — the reference's deciles (``quantile_disc``: values that occur in the data),
  duplicates merged, outer bins open to ±∞ (credit-risk PSI binning of columns with more
  than 20 distinct reference values; see :func:`steward.monitoring.stats.psi_edges`);
* ``fine`` — the reference's quantiles at 1/F … (F-1)/F (F = ``fine_bins``, 1000 by
  default), the sketch on which KS and Wasserstein are computed in sketch mode;
* ``points`` — for columns with at most ``discrete_max`` distinct reference values: edges
  ``[v, next float after v)`` around each value, so counts are exact per value and values
  the reference never had are counted between them (exact KS, χ², Z, JS).

Plus min, max, mean and population std of the reference, its distinct count, its category
set, and the reference's own :class:`~steward.monitoring.aggregate.BatchAggregate` on these
edges (which is what a batch is compared with).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from steward.domain.errors import InvalidInput
from steward.monitoring.aggregate import BatchAggregate, aggregate
from steward.monitoring.stats import point_edges, quantile_edges

if TYPE_CHECKING:
    from steward.monitoring import _duckdb, _numpy

Kind = Literal["numeric", "categorical"]
PROFILE_FORMAT = 1
FINE_BINS = 1000
DISCRETE_MAX = 50


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: Kind = "numeric"

    def __post_init__(self) -> None:
        if self.kind not in ("numeric", "categorical"):
            raise InvalidInput(f"column {self.name!r}: kind {self.kind!r} is not known; "
                               "use 'numeric' or 'categorical'")


@dataclass
class ColumnProfile:
    name: str
    kind: Kind
    n: int = 0
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None  # population (ddof = 0)
    nunique: int = 0
    edges: dict[str, list[float]] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)

    @property
    def discrete(self) -> bool:
        return "points" in self.edges

    @property
    def values(self) -> list[float]:
        """The distinct reference values of a discrete numeric column."""
        return self.edges.get("points", [])[0::2]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "n": self.n, "min": self.min,
                "max": self.max, "mean": self.mean, "std": self.std, "nunique": self.nunique,
                "edges": self.edges, "categories": self.categories}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnProfile:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def fitting_methods(cp: ColumnProfile) -> tuple[str, ...]:
    """The drift methods that can test this column (``auto`` always picks one of them).

    χ² compares counts per value, so it needs categories or a numeric column with at most
    ``DISCRETE_MAX`` distinct reference values (one exact bin per value); the Z-test
    compares one proportion, so it needs at most two values; KS and Wasserstein need
    numbers."""
    if cp.kind == "categorical":
        few = cp.nunique <= 2
        return ("auto", "psi", "jensenshannon", "chisquare", *(("ztest",) if few else ()))
    out = ["auto", "psi", "ks", "wasserstein", "jensenshannon"]
    if cp.discrete:
        out.append("chisquare")
        if cp.nunique <= 2:
            out.append("ztest")
    return tuple(out)


def check_method(profile: ReferenceProfile, method: str,
                 methods: Mapping[str, str] | None = None) -> None:
    """Refuse a drift method that cannot test a watched column, naming the ones that fit
    (at monitor creation, not at the first run). ``method`` tests every column that has no
    method of its own in ``methods``."""
    methods = methods or {}
    problems = []
    own: list[str] = []
    refused: list[str] = []  # the columns whose method does not fit, for a form to mark
    for cp in profile.columns.values():
        chosen = methods.get(cp.name, method)
        fits = fitting_methods(cp)
        if chosen not in fits:
            what = (f"{cp.nunique} categories" if cp.kind == "categorical" else
                    f"{cp.nunique} distinct numeric values")
            why = {"chisquare": "χ² compares counts per value and needs categories or at most "
                                f"{DISCRETE_MAX} distinct numbers",
                   "ztest": "the Z-test compares one proportion and needs at most two values",
                   }.get(chosen, f"{chosen} needs numbers")
            lead = f"column {cp.name!r}" + (f" (method {chosen})" if cp.name in methods else "")
            problems.append(f"{lead} has {what}: {why}; methods that fit: "
                            f"{', '.join(m for m in fits if m != 'auto')} (or auto)")
            refused.append(cp.name)
            if cp.name in methods:
                own.append(cp.name)
    if not problems:
        return
    if own and len(own) == len(problems):
        raise InvalidInput("A column's drift method cannot test it: " + "; ".join(problems)
                           + ". Choose a method that fits each column (--method COLUMN=METHOD), "
                           "or watch other columns.", field="methods", problems=problems,
                           columns=refused)
    raise InvalidInput(f"Drift method {method!r} cannot test every watched column: "
                       + "; ".join(problems) + ". Choose a method that fits with --method, "
                       "or watch other columns.", field="method", problems=problems,
                       columns=refused)


@dataclass
class ReferenceProfile:
    columns: dict[str, ColumnProfile]
    reference: BatchAggregate | None = None
    fine_bins: int = FINE_BINS
    discrete_max: int = DISCRETE_MAX
    format: int = PROFILE_FORMAT

    @property
    def id(self) -> str:
        """Content hash of the edges: aggregates on the same profile share it."""
        payload = json.dumps({k: v.to_dict() for k, v in sorted(self.columns.items())},
                             sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    @property
    def specs(self) -> list[ColumnSpec]:
        return [ColumnSpec(c.name, c.kind) for c in self.columns.values()]

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "fine_bins": self.fine_bins,
                "discrete_max": self.discrete_max,
                "columns": {k: v.to_dict() for k, v in self.columns.items()},
                "reference": self.reference.to_dict() if self.reference else None}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReferenceProfile:
        if d.get("format") != PROFILE_FORMAT:
            raise InvalidInput(f"reference profile format {d.get('format')!r} is not supported "
                               f"(this Steward reads format {PROFILE_FORMAT}); rebuild the "
                               "profile from the reference data")
        ref = d.get("reference")
        return cls(columns={k: ColumnProfile.from_dict(v) for k, v in d["columns"].items()},
                   reference=BatchAggregate.from_dict(ref) if ref else None,
                   fine_bins=int(d["fine_bins"]), discrete_max=int(d["discrete_max"]))

    @classmethod
    def from_json(cls, text: str) -> ReferenceProfile:
        return cls.from_dict(json.loads(text))


def column_profile(spec: ColumnSpec, finite: np.ndarray[Any, Any] | None,
                   categories: Sequence[str] | None, fine_bins: int, discrete_max: int,
                   ) -> ColumnProfile:
    """A column's profile from its sorted finite values (numeric) or category set."""
    if spec.kind == "categorical":
        cats = sorted(categories or [])
        if not cats:
            raise InvalidInput(f"reference column {spec.name!r} has no non-missing values; "
                               "choose a reference with data in every monitored column")
        return ColumnProfile(spec.name, "categorical", nunique=len(cats), categories=cats)
    assert finite is not None
    if finite.size == 0:
        raise InvalidInput(f"reference column {spec.name!r} has no finite values; choose a "
                           "reference with data in every monitored column")
    uniq = np.unique(finite)
    edges = {"deciles": quantile_edges(finite, 10), "fine": quantile_edges(finite, fine_bins)}
    if uniq.size <= discrete_max:
        edges["points"] = point_edges(uniq.tolist())
    return ColumnProfile(
        spec.name, "numeric", n=int(finite.size), min=float(finite[0]),
        max=float(finite[-1]), mean=float(np.mean(finite)), std=float(np.std(finite)),
        nunique=int(uniq.size), edges=edges)


def build_profile(source: Any, columns: Sequence[ColumnSpec], *, engine: str = "duckdb",
                  fine_bins: int = FINE_BINS, discrete_max: int = DISCRETE_MAX,
                  ) -> ReferenceProfile:
    """Profile the reference data: edges and moments, then the reference's own aggregate.

    ``engine`` ("duckdb" or "numpy") reads the source; the edges are computed with numpy on
    one column at a time, so both give the same profile."""
    if not columns:
        raise InvalidInput("no columns to monitor: pass at least one ColumnSpec")
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise InvalidInput(f"column listed twice in {names}; list each column once")
    if fine_bins < 10:
        raise InvalidInput(f"fine_bins={fine_bins} is too coarse; use at least 10 (default "
                           f"{FINE_BINS})")
    reader: _duckdb.ColumnReader | _numpy.ColumnReader
    if engine == "duckdb":
        from steward.monitoring import _duckdb

        reader = _duckdb.column_reader(source, columns)
    elif engine == "numpy":
        from steward.monitoring import _numpy

        reader = _numpy.column_reader(source, columns)
    else:
        raise InvalidInput(f"profiles are built with engine 'duckdb' or 'numpy', not {engine!r}")
    profiles: dict[str, ColumnProfile] = {}
    for spec in columns:
        if spec.kind == "numeric":
            values = reader.numeric(spec.name)
            profiles[spec.name] = column_profile(spec, np.sort(values), None, fine_bins,
                                                 discrete_max)
        else:
            profiles[spec.name] = column_profile(spec, None, reader.categories(spec.name),
                                                 fine_bins, discrete_max)
    profile = ReferenceProfile(columns=profiles, fine_bins=fine_bins, discrete_max=discrete_max)
    profile.reference = aggregate(source, profile, engine="duckdb" if engine == "duckdb"
                                  else "numpy")
    return profile
