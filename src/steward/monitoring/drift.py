"""Per-column drift and dataset drift, from aggregates (any engine) or from raw data (exact).

Methods (defaults behave like Evidently 0.7's ``DataDriftPreset``):

=============== ======================================== =========== ===================
method          statistic                                threshold   drift when
=============== ======================================== =========== ===================
psi             Σ (c-r)·ln(c/r)                           0.1         PSI ≥ 0.1
ks              KS D; score = p-value (scipy ks_2samp)    0.05        p ≤ 0.05
wasserstein     W1 / max(std_pop(R), 0.001)               0.1         ≥ 0.1
jensenshannon   JS distance, natural log                  0.1         ≥ 0.1
chisquare       χ² goodness of fit; score = p-value       0.05        p < 0.05
ztest           pooled two-proportion z; score = p-value  0.05        p < 0.05
=============== ======================================== =========== ===================

``method="auto"`` is Evidently's default selection: reference ≤ 1000 values — numeric with
more than 5 distinct values in R+C: ks; otherwise chisquare (> 2 distinct) or ztest;
reference > 1000 values — numeric with more than 5 distinct values: wasserstein; otherwise
jensenshannon. The dataset drifts when the share of drifted columns ≥ ``drift_share`` (0.5).

:func:`compare` works on aggregates. Exact there: PSI and JS on the stated bins, χ², Z, and KS
/ Wasserstein on discrete columns (one bin per value). Sketch mode for KS and Wasserstein on
continuous columns: computed on the profile's fine quantile bins, the result carries
``error_bound`` (|sketch - exact| ≤ bound; see :mod:`steward.monitoring.stats`).
:func:`compare_exact` works on raw data in memory and matches Evidently's binning and scipy's
exact routines.
"""

from __future__ import annotations

import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from steward.domain.errors import InvalidInput
from steward.monitoring import stats
from steward.monitoring.aggregate import BatchAggregate, ColumnAggregate
from steward.monitoring.profile import (
    ColumnProfile,
    ColumnSpec,
    ReferenceProfile,
    fitting_methods,
)

METHODS = ("auto", "psi", "ks", "wasserstein", "jensenshannon", "chisquare", "ztest")
TESTS = {"ks", "chisquare", "ztest"}  # score is a p-value
DEFAULT_THRESHOLDS: dict[str, float] = {"psi": 0.1, "ks": 0.05, "wasserstein": 0.1,
                                        "jensenshannon": 0.1, "chisquare": 0.05, "ztest": 0.05}
WASSERSTEIN_MIN_STD = 0.001
NEW_CATEGORIES_LISTED = 20


@dataclass(frozen=True)
class DriftOptions:
    """``method`` for every column unless ``methods`` names one for a column; ``thresholds``
    override the defaults per method; ``psi_mode`` is "credit_risk" (reference deciles, empty
    bins floored at ``psi_epsilon``) or "evidently" (Evidently's bins and zero fill, exact
    mode only)."""

    method: str = "auto"
    methods: Mapping[str, str] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    psi_mode: str = "credit_risk"
    psi_epsilon: float = 1e-4
    drift_share: float = 0.5

    def __post_init__(self) -> None:
        for where, m in [("method", self.method), *self.methods.items()]:
            if m not in METHODS:
                raise InvalidInput(f"{where}: unknown drift method {m!r}; use one of "
                                   f"{', '.join(METHODS)}")
        for m in self.thresholds:
            if m not in DEFAULT_THRESHOLDS:
                raise InvalidInput(f"threshold for unknown method {m!r}; use one of "
                                   f"{', '.join(DEFAULT_THRESHOLDS)}")
        if self.psi_mode not in ("credit_risk", "evidently"):
            raise InvalidInput(f"psi_mode {self.psi_mode!r}: use 'credit_risk' or 'evidently'")
        if not 0 < self.drift_share <= 1:
            raise InvalidInput(f"drift_share {self.drift_share} must be in (0, 1]")

    def threshold(self, method: str) -> float:
        return float(self.thresholds.get(method, DEFAULT_THRESHOLDS[method]))

    def method_for(self, column: str) -> str:
        return self.methods.get(column, self.method)


@dataclass
class ColumnDrift:
    column: str
    kind: str
    method: str
    statistic: float | None
    p_value: float | None
    score: float | None  # compared with the threshold
    threshold: float
    drifted: bool
    binning: str
    n_reference: int
    n_current: int
    error_bound: float | None = None  # sketch mode: |score - exact| ≤ bound (statistic for ks)
    # "exact" (equal to the reference implementation on the raw data) or "sketch" (computed
    # on the profile's quantile bins; then error_bound says how far it can be from exact)
    mode: str = "exact"
    bins: str | None = None  # psi: "categories", "deciles" or "sturges"
    # sketch KS: the exact p-value lies in [low, high] (from the D interval)
    p_value_interval: list[float] | None = None
    missing_rate: float = 0.0
    nonfinite: int = 0
    out_of_range_share: float | None = None
    new_categories: list[str] = field(default_factory=list)
    new_category_share: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("statistic", "score", "p_value"):
            if isinstance(d[k], float) and math.isinf(d[k]):
                d[k] = None if k != "statistic" else "inf"
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnDrift:
        """The inverse of :meth:`to_dict` (a run's exact results sent by the client)."""
        values = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        if values.get("statistic") == "inf":
            values["statistic"] = math.inf
        for k in ("statistic", "p_value", "score", "threshold", "error_bound"):
            v = values.get(k)
            if v is not None and not isinstance(v, (int, float)):
                raise ValueError(f"{k} must be a number")
        return cls(**values)


@dataclass
class DatasetDrift:
    columns: dict[str, ColumnDrift]
    share: float
    drift_share: float
    drifted: bool
    n_reference: int
    n_current: int
    mode: str  # "aggregate" or "exact"

    @property
    def drifted_columns(self) -> list[str]:
        return [k for k, v in self.columns.items() if v.drifted]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DatasetDrift:
        return cls({k: ColumnDrift.from_dict(v) for k, v in d["columns"].items()},
                   float(d["share"]), float(d["drift_share"]), bool(d["drifted"]),
                   int(d["n_reference"]), int(d["n_current"]), str(d["mode"]))

    def to_dict(self) -> dict[str, Any]:
        return {"share": self.share, "drift_share": self.drift_share, "drifted": self.drifted,
                "n_reference": self.n_reference, "n_current": self.n_current,
                "mode": self.mode, "drifted_columns": self.drifted_columns,
                "columns": {k: v.to_dict() for k, v in self.columns.items()}}


def auto_method(kind: str, n_reference: int, n_values: int) -> str:
    """Evidently 0.7's default test for a column (``_get_default_stattest``)."""
    if n_reference <= 1000:
        if kind == "numeric" and n_values > 5:
            return "ks"
        return "chisquare" if n_values > 2 else "ztest"
    if kind == "numeric" and n_values > 5:
        return "wasserstein"
    return "jensenshannon"


@dataclass(frozen=True)
class ColumnMethods:
    """What a monitor's form shows per reference column: the method ``auto`` picks for it
    on the reference (a run decides again on reference and batch together) and every
    method that fits it (``profile.fitting_methods``, the rule ``check_method`` enforces)."""

    column: str
    kind: str
    distinct: int
    suggested: str
    fits: tuple[str, ...]


def suggest_methods(profile: ReferenceProfile) -> list[ColumnMethods]:
    return [
        ColumnMethods(cp.name, cp.kind, cp.nunique, auto_method(cp.kind, cp.n, cp.nunique),
                      tuple(m for m in fitting_methods(cp) if m != "auto"))
        for cp in profile.columns.values()
    ]


def _decide(method: str, score: float | None, threshold: float) -> bool:
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return False
    if method == "ks":
        return score <= threshold
    if method in TESTS:
        return score < threshold
    return score >= threshold


def _tests_on_counts(method: str, r: npt.NDArray[Any], c: npt.NDArray[Any],
                     ) -> tuple[float, float]:
    if method == "chisquare":
        return stats.chisquare_gof(r, c)
    keep = (r > 0) | (c > 0)
    r, c = r[keep], c[keep]
    if keep.sum() <= 1:
        return 0.0, 1.0
    # Evidently: indicator of one category; the pooled z is symmetric in which one.
    return stats.two_proportion_z(float(r[0]), float(r.sum()), float(c[0]), float(c.sum()))


# -- from aggregates ---------------------------------------------------------------------------


def compare(profile: ReferenceProfile, batch: BatchAggregate,
            options: DriftOptions | None = None) -> DatasetDrift:
    """Drift of ``batch`` against the profile's reference, from aggregates only."""
    options = options or DriftOptions()
    if profile.reference is None:
        raise InvalidInput("the profile has no reference aggregate; build it with "
                           "build_profile()")
    if batch.profile_id != profile.id:
        raise InvalidInput("the batch was aggregated on another reference profile; "
                           "aggregate it with the monitor's stored profile")
    results = {name: _column_from_aggregates(cp, profile.reference.columns[name],
                                             batch.columns[name], options)
               for name, cp in profile.columns.items()}
    return _dataset(results, options, profile.reference.rows, batch.rows, "aggregate")


def _dataset(results: dict[str, ColumnDrift], options: DriftOptions, n_ref: int, n_cur: int,
             mode: str) -> DatasetDrift:
    tested = [r for r in results.values() if r.score is not None]
    share = sum(r.drifted for r in tested) / len(tested) if tested else 0.0
    return DatasetDrift(results, share, options.drift_share, share >= options.drift_share,
                        n_ref, n_cur, mode)


def _quality(cp: ColumnProfile, cur: ColumnAggregate) -> dict[str, Any]:
    out: dict[str, Any] = {"missing_rate": cur.missing / cur.rows if cur.rows else 0.0,
                           "nonfinite": cur.nonfinite}
    if cp.kind == "numeric":
        out["out_of_range_share"] = (cur.below + cur.above) / cur.n if cur.n else None
    else:
        known = set(cp.categories)
        new = sorted(k for k in cur.categories if k not in known)
        out["new_categories"] = new[:NEW_CATEGORIES_LISTED]
        out["new_category_share"] = (sum(cur.categories[k] for k in new) / cur.n
                                     if cur.n else None)
    return out


def _column_from_aggregates(cp: ColumnProfile, ref: ColumnAggregate, cur: ColumnAggregate,
                            options: DriftOptions) -> ColumnDrift:
    quality = _quality(cp, cur)
    requested = options.method_for(cp.name)
    if cur.n == 0:
        method = requested if requested != "auto" else "none"
        return ColumnDrift(cp.name, cp.kind, method, None, None, None,
                           options.threshold(method) if method in DEFAULT_THRESHOLDS else 0.0,
                           False, "none", ref.n, 0, note="no values in the batch", **quality)
    if cp.kind == "categorical":
        keys = sorted(set(ref.categories) | set(cur.categories))
        r = np.array([ref.categories.get(k, 0) for k in keys], dtype=np.int64)
        c = np.array([cur.categories.get(k, 0) for k in keys], dtype=np.int64)
        method = requested if requested != "auto" else auto_method("categorical", ref.n,
                                                                   len(keys))
        if method in ("ks", "wasserstein"):
            raise InvalidInput(f"column {cp.name!r} is categorical: {method} needs numbers; "
                               "use chisquare, ztest, jensenshannon or psi")
        binning = f"categories ({len(keys)})"
        return _finish(cp, method, r, c, binning, options, ref.n, cur.n, quality,
                       bins="categories")

    discrete = cp.discrete
    gaps_used = discrete and any(v > 0 for v in cur.hist["points"][0::2])
    n_values = (cp.nunique + sum(1 for v in cur.hist["points"][0::2] if v > 0)
                if discrete else cp.nunique)
    method = requested if requested != "auto" else auto_method("numeric", ref.n, n_values)
    threshold = options.threshold(method)
    if discrete:
        pr = np.asarray(ref.hist["points"], dtype=np.int64)
        pc = np.asarray(cur.hist["points"], dtype=np.int64)
    if method in ("chisquare", "ztest", "jensenshannon") and discrete:
        return _finish(cp, method, pr, pc, f"distinct values ({n_values})", options, ref.n,
                       cur.n, quality)
    if method in ("chisquare", "ztest"):
        raise InvalidInput(f"column {cp.name!r} has {cp.nunique} distinct values: {method} "
                           "needs a categorical or discrete column; use ks, wasserstein, "
                           "jensenshannon or psi")
    if method == "psi" and discrete and cp.nunique <= stats.PSI_CATEGORIES_MAX:
        # one bin per reference value (values new to the batch counted between them): the
        # bins of stats.psi_edges, so validation and monitoring give the same PSI
        return _finish(cp, method, pr, pc, "", options, ref.n, cur.n, quality,
                       bins="categories")
    if method in ("psi", "jensenshannon"):
        r = np.asarray(ref.hist["deciles"], dtype=np.int64)
        c = np.asarray(cur.hist["deciles"], dtype=np.int64)
        return _finish(cp, method, r, c, f"reference deciles ({r.size} bins, outer bins "
                       "open)", options, ref.n, cur.n, quality, bins="deciles")
    if method == "ks":
        if discrete:
            d, upper = stats.ks_from_bins(pr, pc)
            binning = ("exact (one bin per value)" if not gaps_used else
                       "reference values + gaps (values new to the batch grouped)")
        else:
            d, upper = stats.ks_from_bins(ref.hist["fine"], cur.hist["fine"])
            binning = f"sketch: {len(cp.edges['fine']) + 1} reference-quantile bins"
        exact = discrete and not gaps_used
        if exact:
            p = stats.ks_pvalue(d, ref.n, cur.n)
            return ColumnDrift(cp.name, "numeric", "ks", d, p, p, threshold,
                               _decide("ks", p, threshold), binning, ref.n, cur.n, **quality)
        # D at the bin edges is attained (a lower bound, usually close): the exact D lies in
        # [d, d + bound]; the p-value is given with the interval the D interval implies
        bound = upper - d
        p = stats.ks_pvalue(d, ref.n, cur.n)
        p_lo, p_hi = stats.ks_pvalue_interval(d, upper, ref.n, cur.n)
        note = ("p-value approximate (sketch): the exact p lies in "
                f"[{p_lo:.3g}, {p_hi:.3g}]")
        if (p_lo <= threshold) != (p_hi <= threshold):
            note += f"; that interval straddles the threshold {threshold:g}"
        return ColumnDrift(cp.name, "numeric", "ks", d, p, p, threshold,
                           _decide("ks", p, threshold), binning, ref.n, cur.n,
                           error_bound=bound, mode="sketch", p_value_interval=[p_lo, p_hi],
                           note=note, **quality)
    # wasserstein
    norm = max(cp.std or 0.0, WASSERSTEIN_MIN_STD)
    lo = min(v for v in (cp.min, cur.min) if v is not None)
    hi = max(v for v in (cp.max, cur.max) if v is not None)
    if discrete and not gaps_used:
        values = np.asarray(cp.values)
        fr = np.cumsum(pr[1::2]) / ref.n
        fc = np.cumsum(pc[1::2]) / cur.n
        w = float(np.sum(np.abs(fr - fc)[:-1] * np.diff(values)))
        b = 0.0
        binning = "exact (one bin per value)"
        sketch = False
    else:
        inner = cp.edges["fine"]
        assert cp.min is not None and cp.max is not None and cp.mean is not None
        w, b = stats.wasserstein_sketch(
            inner, ref.hist["fine"], cur.hist["fine"], ref_min=cp.min, ref_max=cp.max,
            ref_mean=cp.mean, cur_mean=cur.sum / cur.n, cur_min=lo, cur_max=hi,
            below=cur.below, above=cur.above)
        binning = (f"sketch: {len(inner) + 1} reference-quantile bins, linear within a bin, "
                   "tails beyond the reference range from the batch's sum")
        sketch = True
    score = w / norm
    return ColumnDrift(cp.name, "numeric", "wasserstein", score, None, score, threshold,
                       _decide("wasserstein", score, threshold), binning, ref.n, cur.n,
                       error_bound=b / norm if sketch else None,
                       mode="sketch" if sketch else "exact",
                       note=_straddles(score, b / norm, threshold) if sketch else "", **quality)


def _straddles(score: float, bound: float | None, threshold: float) -> str:
    if bound is None or not bound > 0:
        return ""
    if (score - bound >= threshold) != (score + bound >= threshold):
        return (f"sketch: the exact value lies in [{score - bound:.4g}, {score + bound:.4g}], "
                f"which straddles the threshold {threshold:g}; run in exact mode to decide")
    return ""


def _finish(cp: ColumnProfile, method: str, r: npt.NDArray[Any], c: npt.NDArray[Any],
            binning: str, options: DriftOptions, n_ref: int, n_cur: int,
            quality: dict[str, Any], bins: str | None = None) -> ColumnDrift:
    threshold = options.threshold(method)
    p: float | None = None
    if method == "psi":
        # credit-risk PSI whatever psi_mode says: Evidently's bins need the raw data
        found = stats.psi_on_counts(r, c, bins or "deciles", epsilon=options.psi_epsilon)
        stat, binning = found.value, found.binning
        score = stat
    elif method == "jensenshannon":
        stat = stats.jensenshannon(r, c)
        score = stat
    elif method in ("chisquare", "ztest"):
        stat, p = _tests_on_counts(method, r, c)
        score = p
    else:
        raise InvalidInput(f"column {cp.name!r}: {method} needs numbers, not "
                           f"{binning.split(' ')[0]}; use chisquare, ztest, jensenshannon or psi")
    return ColumnDrift(cp.name, cp.kind, method, stat, p, score, threshold,
                       _decide(method, score, threshold), binning, n_ref, n_cur,
                       bins=bins if method == "psi" else None, **quality)


# -- exact, on raw data ------------------------------------------------------------------------


@dataclass
class ExactColumn:
    """One reference column kept for exact mode: numeric — its finite values **sorted**
    (the exact ECDF), population std and distinct count; categorical — its category counts."""

    name: str
    kind: str
    rows: int
    values: npt.NDArray[np.float64] | None = None
    std: float = 0.0
    nunique: int = 0
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class ExactReference:
    """The reference prepared once per monitor for :func:`compare_exact`: a batch is then one
    sort of the batch plus a merge per numeric column (no re-sorting of the reference) and
    one hash count per categorical column. ``save``/``load`` keep it next to the stored
    profile (``.npz``: one float64 array per numeric column, JSON for the rest)."""

    columns: dict[str, ExactColumn]
    rows: int

    @property
    def specs(self) -> list[ColumnSpec]:
        return [ColumnSpec(c.name, "numeric" if c.kind == "numeric" else "categorical")
                for c in self.columns.values()]

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.save(buffer)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ExactReference:
        return cls.load(io.BytesIO(data))

    def save(self, path: str | os.PathLike[str] | io.BytesIO) -> None:
        meta = {"format": 1, "rows": self.rows,
                "columns": [{"name": c.name, "kind": c.kind, "rows": c.rows, "std": c.std,
                             "nunique": c.nunique, "counts": c.counts}
                            for c in self.columns.values()]}
        arrays = {f"v{i}": c.values for i, c in enumerate(self.columns.values())
                  if c.values is not None}
        if isinstance(path, io.BytesIO):
            np.savez(path, meta=np.array(json.dumps(meta)), **arrays)  # type: ignore[arg-type]
            return
        with open(path, "wb") as fh:  # noqa: PTH123 (np.savez would append ".npz")
            np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: str | os.PathLike[str] | io.BytesIO) -> ExactReference:
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != 1:
                    raise InvalidInput(f"exact reference format {meta.get('format')!r}"
                                       " is not supported; prepare it again with "
                                       "prepare_exact()")
                cols = {}
                for i, c in enumerate(meta["columns"]):
                    values = (np.asarray(data[f"v{i}"], dtype=np.float64)
                              if c["kind"] == "numeric" else None)
                    cols[c["name"]] = ExactColumn(c["name"], c["kind"], int(c["rows"]), values,
                                                  float(c["std"]), int(c["nunique"]),
                                                  {str(k): int(v) for k, v in c["counts"].items()})
        except (OSError, ValueError, KeyError) as exc:
            where = "sent" if isinstance(path, io.BytesIO) else repr(str(path))
            raise InvalidInput(f"cannot read the exact reference {where}: {exc}; prepare "
                               "it again with prepare_exact(reference, specs).save(path)"
                               ) from exc
        return cls(cols, int(meta["rows"]))


def prepare_exact(reference: Any, columns: Sequence[ColumnSpec]) -> ExactReference:
    """Sort each numeric reference column once (its exact ECDF) and count each categorical
    one: the once-per-monitor step of exact mode."""
    from steward.monitoring._numpy import category_counts, numeric_values, to_frame

    names = [c.name for c in columns]
    if not names:
        raise InvalidInput("no columns to compare: pass at least one ColumnSpec")
    frame = to_frame(reference, names)
    rows = len(frame)

    def one(spec: ColumnSpec) -> ExactColumn:
        if spec.kind == "numeric":
            v = numeric_values(frame, spec.name)
            v = np.sort(v[np.isfinite(v)])
            if v.size == 0:
                raise InvalidInput(f"reference column {spec.name!r} has no finite values; "
                                   "choose a reference with data in every monitored column")
            nunique = int(np.count_nonzero(np.diff(v)) + 1)
            return ExactColumn(spec.name, "numeric", rows, v, float(np.std(v)), nunique)
        counts = category_counts(frame[spec.name])
        return ExactColumn(spec.name, "categorical", rows, counts=counts,
                           nunique=len(counts))

    with ThreadPoolExecutor(max_workers=min(len(columns), os.cpu_count() or 1) or 1) as pool:
        done = list(pool.map(one, columns))
    return ExactReference({c.name: c for c in done}, rows)


def compare_exact(reference: pd.DataFrame | ExactReference | Any, current: Any,
                  columns: Sequence[ColumnSpec] | None = None,
                  options: DriftOptions | None = None) -> DatasetDrift:
    """Drift on raw data in memory: Evidently's bins for PSI/JS (``psi_mode="evidently"``
    gives its zero fill too), scipy-exact KS and Wasserstein.

    ``reference`` is raw data (prepared on the fly) or an :class:`ExactReference` from
    :func:`prepare_exact` (``columns`` then default to its columns)."""
    from steward.monitoring._numpy import category_counts, numeric_values, to_frame

    options = options or DriftOptions()
    if not isinstance(reference, ExactReference):
        if columns is None:
            raise InvalidInput("compare_exact needs the columns (ColumnSpec list) when the "
                               "reference is raw data")
        reference = prepare_exact(reference, columns)
    specs = list(columns) if columns is not None else reference.specs
    unknown = [s.name for s in specs if s.name not in reference.columns]
    if unknown:
        raise InvalidInput(f"the exact reference has no column {', '.join(map(repr, unknown))};"
                           " prepare it with these columns")
    prepared = reference
    cur_f = to_frame(current, [c.name for c in specs])

    def one(spec: ColumnSpec) -> ColumnDrift:
        ref = prepared.columns[spec.name]
        if ref.kind != spec.kind:
            raise InvalidInput(f"column {spec.name!r} is {ref.kind} in the exact reference, "
                               f"not {spec.kind}; prepare it with the monitor's specs")
        if spec.kind == "numeric":
            cv = numeric_values(cur_f, spec.name)
            finite = np.isfinite(cv)
            missing = float(np.isnan(cv).mean()) if cv.size else 0.0
            # np.sort copies: the finite-value mask makes a second copy only when needed
            cv = np.sort(cv if finite.all() else cv[finite])
            return _exact_numeric(spec.name, ref, cv, options, missing)
        counts = category_counts(cur_f[spec.name])
        n = sum(counts.values())
        missing = 1 - n / len(cur_f) if len(cur_f) else 0.0
        return _exact_categorical(spec.name, ref.counts, counts, options, missing)

    # numpy's sorts and merges release the GIL: columns run in parallel on the machine's CPUs
    with ThreadPoolExecutor(max_workers=min(len(specs), os.cpu_count() or 1) or 1) as pool:
        done = list(pool.map(one, specs))
    results = {spec.name: r for spec, r in zip(specs, done, strict=True)}
    return _dataset(results, options, prepared.rows, len(cur_f), "exact")


def _exact_numeric(name: str, ref: ExactColumn, c: npt.NDArray[np.float64],
                   options: DriftOptions, missing: float) -> ColumnDrift:
    r = ref.values
    assert r is not None
    quality: dict[str, Any] = {"missing_rate": missing}
    if c.size == 0:
        return ColumnDrift(name, "numeric", "none", None, None, None, 0.0, False, "none",
                           r.size, 0, note="no values in the batch", **quality)
    quality["out_of_range_share"] = float((np.searchsorted(c, r[0], "left")
                                           + c.size - np.searchsorted(c, r[-1], "right"))
                                          / c.size)
    requested = options.method_for(name)
    if requested == "auto":
        # only "more than 5 distinct values in R+C" matters
        n_values = ref.nunique if ref.nunique > 5 else int(
            np.unique(np.concatenate([r, c])).size)
        method = auto_method("numeric", r.size, n_values)
    else:
        method = requested
    threshold = options.threshold(method)
    p: float | None = None
    if method == "ks":
        stat = stats.ks_wasserstein_sorted(r, c)[0]
        p = score = stats.ks_pvalue(stat, r.size, c.size)
        binning = "exact"
    elif method == "wasserstein":
        stat = score = stats.wasserstein_sorted(r, c) / max(ref.std, WASSERSTEIN_MIN_STD)
        binning = "exact"
    elif method == "psi":
        found = stats.psi_numeric(r, c, mode=options.psi_mode, epsilon=options.psi_epsilon)
        return ColumnDrift(name, "numeric", "psi", found.value, None, found.value, threshold,
                           _decide("psi", found.value, threshold), found.binning, r.size,
                           c.size, bins=found.bins, **quality)
    else:
        rc, cc, binning = stats.evidently_binned(r, c, numeric=True)
        return _exact_counts(name, "numeric", method, rc, cc, binning, options, r.size, c.size,
                             quality)
    return ColumnDrift(name, "numeric", method, stat, p, score, threshold,
                       _decide(method, score, threshold), binning, r.size, c.size, **quality)


def _exact_categorical(name: str, ref: Mapping[str, int], cur: Mapping[str, int],
                       options: DriftOptions, missing: float) -> ColumnDrift:
    n_ref, n_cur = sum(ref.values()), sum(cur.values())
    quality: dict[str, Any] = {"missing_rate": missing}
    if n_cur == 0:
        return ColumnDrift(name, "categorical", "none", None, None, None, 0.0, False, "none",
                           n_ref, 0, note="no values in the batch", **quality)
    new = sorted(k for k in cur if k not in ref)
    quality["new_categories"] = new[:NEW_CATEGORIES_LISTED]
    quality["new_category_share"] = sum(cur[k] for k in new) / n_cur
    # Evidently's bins for categories: one per distinct value of R+C, in sorted order
    keys = sorted(set(ref) | set(cur))
    rc = np.array([ref.get(k, 0) for k in keys], dtype=np.int64)
    cc = np.array([cur.get(k, 0) for k in keys], dtype=np.int64)
    requested = options.method_for(name)
    method = requested if requested != "auto" else auto_method("categorical", n_ref, rc.size)
    return _exact_counts(name, "categorical", method, rc, cc, f"distinct values ({rc.size})",
                         options, n_ref, n_cur, quality)


def _exact_counts(name: str, kind: str, method: str, rc: npt.NDArray[Any], cc: npt.NDArray[Any],
                  binning: str, options: DriftOptions, n_ref: int, n_cur: int,
                  quality: dict[str, Any]) -> ColumnDrift:
    threshold = options.threshold(method)
    p: float | None = None
    bins: str | None = None
    if method == "psi":  # categorical here: one bin per category of R+C
        found = stats.psi_on_counts(rc, cc, "categories", mode=options.psi_mode,
                                    epsilon=options.psi_epsilon)
        stat, binning, bins = found.value, found.binning, found.bins
        score = stat
    elif method == "jensenshannon":
        stat = stats.jensenshannon(rc, cc)
        score = stat
    elif method in ("chisquare", "ztest"):
        stat, p = _tests_on_counts(method, rc, cc)
        score = p
    else:
        raise InvalidInput(f"column {name!r} is categorical: {method} needs numbers; use "
                           "chisquare, ztest, jensenshannon or psi")
    return ColumnDrift(name, kind, method, stat, p, score, threshold,
                       _decide(method, score, threshold), binning, n_ref, n_cur, bins=bins,
                       **quality)
