"""Monitors, their rules, runs and alerts: the pure part of production monitoring.

A *monitor* watches one production version: a reference profile (computed once from
the version's training or evaluation data), the columns to watch, the prediction,
score, label and join-key columns, a window and optionally a schedule, and a list of
*rules*. A run reduces a batch of production data to aggregates (``steward.monitoring``)
and compares them with the reference; each result is one ``(column, metric, value)``
row of a time series. A rule is breached when its metric crosses its threshold; it
*fires* only after ``consecutive`` breaches in a row (hysteresis), and while its alert
is open further breaches update that alert instead of raising new ones.

Column ``""`` holds dataset-level metrics (drift share, rows, performance).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from steward.domain.checks import COMPARISONS
from steward.domain.connections import ConnectionSpec, spec_from_config
from steward.domain.errors import InvalidInput
from steward.domain.findings import SEVERITIES

DATASET = ""  # the column of dataset-level results
ANY_COLUMN = "*"
MAX_COLUMNS = 500
MAX_RULES = 50

# Per-column results a run stores (each states its method, binning and sample sizes in
# its details). ``drift_score`` is the score of the column's drift method (a p-value for
# KS/chi-square/Z, a distance for PSI/Wasserstein/Jensen-Shannon); ``drifted`` is 1 when
# that method says the column drifted.
COLUMN_METRICS = (
    "drift_score",
    "drifted",
    "psi",
    "ks",
    "ks_p_value",
    "wasserstein",
    "jensenshannon",
    "chisquare_p_value",
    "ztest_p_value",
    "missing_rate",
    "out_of_range_share",
    "new_categories",
    "new_category_share",
)
# Dataset-level results: batch size, drift over all watched columns, and, once labels
# are known, performance and fairness of the labelled rows.
DATASET_METRICS = ("rows", "drift_share", "drifted_columns", "dataset_drift")
PERFORMANCE_METRICS = (
    "labelled_rows",
    "label_coverage",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "positive_rate",
)
# Per sensitive column (column = the sensitive column's name).
FAIRNESS_METRICS = ("demographic_parity_difference", "equalized_odds_difference")
METRICS = COLUMN_METRICS + DATASET_METRICS + PERFORMANCE_METRICS + FAIRNESS_METRICS
DRIFT_METHODS = ("auto", "psi", "ks", "wasserstein", "jensenshannon", "chisquare", "ztest")
# How a run computes its drift statistics. ``exact``: on the raw batch against the monitor's
# stored exact reference (sorted numeric columns, category counts) — equal to scipy /
# Evidently; ``sketch``: from the batch's aggregate on the reference-quantile bins, each
# score with a guaranteed error bound; ``auto``: exact up to EXACT_MAX_ROWS batch rows,
# sketch above. Monitors created before modes existed have no exact reference: sketch.
DRIFT_MODES = ("exact", "sketch", "auto")
EXACT_MAX_ROWS = 10_000_000  # measured: a 10 M-row batch, 20 columns, in memory on 2 cores

# Monitor rules compare with the check comparisons except equality (floats drift).
_OPS = {op: COMPARISONS[op] for op in (">", ">=", "<", "<=")}
_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
_EVERY = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class Window(StrEnum):
    """How runs group into the time series: each batch, or calendar days/weeks (UTC)."""

    BATCH = "batch"
    DAILY = "daily"
    WEEKLY = "weekly"


class AlertStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Rule:
    """``metric op threshold`` on one column, every column (``*``) or the dataset."""

    id: str
    metric: str
    op: str
    threshold: float
    column: str = DATASET
    severity: str = "high"
    consecutive: int = 1

    def breached(self, value: float | None) -> bool:
        return value is not None and value == value and _OPS[self.op](value, self.threshold)

    def describe(self) -> str:
        where = "the dataset" if self.column == DATASET else f"column {self.column!r}"
        if self.column == ANY_COLUMN:
            where = "any watched column"
        streak = "" if self.consecutive == 1 else f" for {self.consecutive} runs in a row"
        return f"{self.metric} {self.op} {self.threshold:g} on {where}{streak}"


@dataclass(frozen=True)
class MonitorConfig:
    columns: tuple[str, ...] = ()  # empty: every reference column except the roles below
    categorical: tuple[str, ...] = ()  # treat these as categorical whatever their type
    prediction: str | None = None  # predicted class (or value)
    score: str | None = None  # predicted probability of the positive class
    label: str | None = None  # true label, when it comes with the batch
    id_column: str | None = None  # join key for labels sent later
    sensitive: tuple[str, ...] = ()  # fairness per window, by these columns
    positive_label: float = 1.0
    window: Window = Window.BATCH
    method: str = "auto"  # drift method for every column; auto = Evidently's defaults
    # a drift method per column, for the columns named here (the others use ``method``)
    methods: dict[str, str] = field(default_factory=dict)
    mode: str = "exact"  # exact, sketch or auto (see DRIFT_MODES)
    schedule_every: str | None = None  # e.g. "1d", "7d", "12h"
    # What a scheduled run reads. On a server: a data connection plus a path, table or
    # query inside it. ``source`` (a raw path, glob, URL or SQL) is for the embedded store's
    # operator only (steward.domain.connections).
    source: str | None = None
    connection: ConnectionSpec | None = None
    rules: tuple[Rule, ...] = ()

    @property
    def role_columns(self) -> tuple[str, ...]:
        roles = (self.prediction, self.score, self.label, self.id_column)
        return tuple(c for c in roles if c)

    @property
    def every(self) -> timedelta | None:
        return None if self.schedule_every is None else parse_every(self.schedule_every)

    def method_for(self, column: str) -> str:
        """The drift method that tests ``column``: its own, else the monitor's."""
        return self.methods.get(column, self.method)


def run_mode(requested: str, rows: int, has_exact: bool) -> str:
    """The mode a run uses: ``auto`` is exact up to EXACT_MAX_ROWS rows when the monitor has an
    exact reference; ``exact`` without one is refused with the way out."""
    if requested not in DRIFT_MODES:
        raise InvalidInput(
            f"mode {requested!r} is unknown; modes are {', '.join(DRIFT_MODES)}", field="mode"
        )
    if requested == "auto":
        return "exact" if has_exact and rows <= EXACT_MAX_ROWS else "sketch"
    if requested == "exact" and not has_exact:
        raise InvalidInput(
            "This monitor has no exact reference (it was created before exact mode, or with "
            "mode sketch), so it cannot compute exact statistics. Run with --mode sketch, or "
            "create a new monitor (mode exact is the default) to keep one.",
            field="mode",
        )
    return requested


def default_rules() -> tuple[Rule, ...]:
    """Evidently-like defaults: the dataset drifts when half the watched columns do."""
    return (
        Rule(id="dataset-drift", metric="drift_share", op=">=", threshold=0.5, severity="high"),
        Rule(
            id="missing-values",
            metric="missing_rate",
            op=">=",
            threshold=0.2,
            column=ANY_COLUMN,
            severity="medium",
        ),
    )


def parse_every(text: str) -> timedelta:
    found = _EVERY.match(text.strip().lower())
    if not found or int(found.group(1)) == 0:
        raise InvalidInput(
            f"schedule {text!r} is not an interval; write a number and a unit m/h/d/w, "
            "e.g. '1d' (daily), '7d' (weekly) or '12h'.",
            field="schedule_every",
        )
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


def monitor_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise InvalidInput(
            f"Monitor name {name!r} must be 1-100 lower-case letters, digits, '.', '_' or '-' "
            "(e.g. 'weekly-applications').",
            field="name",
        )
    return name


def parse_config(raw: Mapping[str, Any]) -> MonitorConfig:
    """Validate a monitor configuration; every problem is reported at once, with its fix."""
    problems: list[str] = []
    known = set(MonitorConfig.__dataclass_fields__) | {"path", "table", "query"}
    unknown = sorted(set(raw) - known)
    if unknown:
        problems.append(
            f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )

    def names(key: str) -> tuple[str, ...]:
        value = raw.get(key) or ()
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, str) and v.strip() for v in value
        ):
            problems.append(f"{key} must be a list of column names")
            return ()
        if len(value) > MAX_COLUMNS:
            problems.append(f"{key} lists {len(value)} columns; at most {MAX_COLUMNS}")
        if len(set(value)) != len(value):
            problems.append(f"{key} names a column twice")
        return tuple(v.strip() for v in value)

    def one(key: str) -> str | None:
        value = raw.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            problems.append(f"{key} must be a column name")
            return None
        return value.strip()

    columns, categorical, sensitive = names("columns"), names("categorical"), names("sensitive")
    prediction, score, label, id_column = (
        one("prediction"),
        one("score"),
        one("label"),
        one("id_column"),
    )
    roles = [c for c in (prediction, score, label, id_column) if c]
    if len(set(roles)) != len(roles):
        problems.append("prediction, score, label and id_column must be different columns")
    overlap = sorted(set(columns) & {label, id_column} - {None})
    if overlap:
        problems.append(
            f"{', '.join(map(str, overlap))} is the label or join key; leave it out of columns"
        )
    window = Window.BATCH
    try:
        window = Window(str(raw.get("window") or "batch"))
    except ValueError:
        problems.append(f"window must be one of {', '.join(w.value for w in Window)}")
    method = str(raw.get("method") or "auto")
    if method not in DRIFT_METHODS:
        problems.append(f"method {method!r} is unknown; methods are {', '.join(DRIFT_METHODS)}")
    methods = _methods(raw.get("methods"), problems)
    mode = str(raw.get("mode") or "exact")
    if mode not in DRIFT_MODES:
        problems.append(f"mode {mode!r} is unknown; modes are {', '.join(DRIFT_MODES)}")
    every = raw.get("schedule_every")
    if every not in (None, ""):
        try:
            parse_every(str(every))
        except InvalidInput as exc:
            problems.append(exc.detail)
    source = raw.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        problems.append("source must be a path, glob, URL or SQL query")
    connection = spec_from_config(dict(raw), problems)
    if connection is not None and source not in (None, ""):
        problems.append("name a connection or a source, not both")
    positive = raw.get("positive_label", 1.0)
    if isinstance(positive, bool) or not isinstance(positive, (int, float)):
        problems.append("positive_label must be a number (e.g. 1)")
        positive = 1.0
    rules = _rules(raw.get("rules"), problems)
    if problems:
        raise InvalidInput(
            "The monitor configuration has problems: " + "; ".join(problems) + ".",
            field="config",
            problems=problems,
        )
    return MonitorConfig(
        columns=columns,
        categorical=categorical,
        prediction=prediction,
        score=score,
        label=label,
        id_column=id_column,
        sensitive=sensitive,
        positive_label=float(positive),
        window=window,
        method=method,
        methods=methods,
        mode=mode,
        schedule_every=None if every in (None, "") else str(every).strip().lower(),
        source=None if source in (None, "") else str(source).strip(),
        connection=connection,
        rules=default_rules() if rules is None else tuple(rules),
    )


def _methods(raw: Any, problems: list[str]) -> dict[str, str]:
    """``{column: method}``; also ``"col=method, col=method"`` or a list of ``col=method``."""
    if raw in (None, "", {}, []):
        return {}
    if isinstance(raw, str):
        raw = [part for part in raw.split(",") if part.strip()]
    if isinstance(raw, (list, tuple)):
        pairs: dict[str, Any] = {}
        for item in raw:
            column, sep, method = str(item).partition("=")
            if not sep or not column.strip():
                problems.append(f"methods: {item!r} is not COLUMN=METHOD (e.g. income=ks)")
                continue
            if column.strip() in pairs:
                problems.append(f"methods names column {column.strip()!r} twice")
            pairs[column.strip()] = method.strip()
        raw = pairs
    if not isinstance(raw, Mapping):
        problems.append("methods must map column names to drift methods, e.g. {income: ks}")
        return {}
    if len(raw) > MAX_COLUMNS:
        problems.append(f"methods names {len(raw)} columns; at most {MAX_COLUMNS}")
    out: dict[str, str] = {}
    for column, method in raw.items():
        if not isinstance(column, str) or not column.strip():
            problems.append("methods must map column names to drift methods")
            continue
        if method not in DRIFT_METHODS:
            problems.append(
                f"method {method!r} of column {column!r} is unknown; methods are "
                f"{', '.join(DRIFT_METHODS)}"
            )
            continue
        out[column.strip()] = str(method)
    return out


def method_options(values: Sequence[str]) -> tuple[str | None, list[str]]:
    """The CLI's repeatable ``--method``: one plain METHOD (every column's) and any number
    of COLUMN=METHOD (that column's own); parse_config judges the methods themselves."""
    plain = [v.strip() for v in values if "=" not in v]
    if len(plain) > 1:
        raise InvalidInput(
            f"--method names {len(plain)} methods for every column ({', '.join(plain)}); give "
            "one, and COLUMN=METHOD for a column's own (e.g. --method psi --method age=ks).",
            field="method",
        )
    return (plain[0] if plain else None), [v for v in values if "=" in v]


def check_method_columns(config: MonitorConfig, watched: Sequence[str]) -> None:
    """A per-column method may only name a column the monitor watches."""
    unknown = sorted(set(config.methods) - set(watched))
    if unknown:
        raise InvalidInput(
            f"A drift method is set for {', '.join(map(repr, unknown))}, which this monitor "
            f"does not watch; watched: {', '.join(watched)}. Set methods for watched columns "
            "only.",
            field="methods",
        )


def _rules(raw: Any, problems: list[str]) -> list[Rule] | None:
    if raw is None:
        return None
    if not isinstance(raw, (list, tuple)):
        problems.append("rules must be a list of {id, metric, op, threshold, ...}")
        return []
    if len(raw) > MAX_RULES:
        problems.append(f"at most {MAX_RULES} rules")
    out: list[Rule] = []
    seen: set[str] = set()
    for n, entry in enumerate(raw, 1):
        if isinstance(entry, Rule):
            entry = rule_json(entry)
        if not isinstance(entry, Mapping):
            problems.append(f"rule {n} must be a mapping")
            continue
        where = f"rule {entry.get('id') or n}"
        extra = sorted(set(entry) - set(Rule.__dataclass_fields__))
        if extra:
            problems.append(f"{where}: unknown key(s) {', '.join(extra)}")
        rid = str(entry.get("id") or "")
        if not _RULE_ID.match(rid):
            problems.append(f"{where}: id must be lower-case letters, digits, '.', '_' or '-'")
        elif rid in seen:
            problems.append(f"{where}: the id is used twice")
        seen.add(rid)
        metric = str(entry.get("metric") or "")
        column = str(entry.get("column") or DATASET)
        if metric not in METRICS:
            problems.append(f"{where}: unknown metric {metric!r}; metrics are {', '.join(METRICS)}")
        elif metric in COLUMN_METRICS and column == DATASET:
            problems.append(f"{where}: {metric} is per column; set column (a name or '*')")
        elif metric in DATASET_METRICS + PERFORMANCE_METRICS and column != DATASET:
            problems.append(f"{where}: {metric} is a dataset-level metric; leave column out")
        elif metric in FAIRNESS_METRICS and column in (DATASET, ANY_COLUMN):
            problems.append(f"{where}: {metric} is per sensitive column; name that column")
        op = str(entry.get("op") or ">=")
        if op not in _OPS:
            problems.append(f"{where}: op must be one of {', '.join(_OPS)}")
        threshold = entry.get("threshold")
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, (int, float))
            or (threshold != threshold)
        ):
            problems.append(f"{where}: threshold must be a number")
            threshold = 0.0
        severity = str(entry.get("severity") or "high")
        if severity not in SEVERITIES:
            problems.append(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
        consecutive = entry.get("consecutive", 1)
        if (
            isinstance(consecutive, bool)
            or not isinstance(consecutive, int)
            or not (1 <= consecutive <= 100)
        ):
            problems.append(f"{where}: consecutive must be a whole number from 1 to 100")
            consecutive = 1
        out.append(
            Rule(
                id=rid,
                metric=metric,
                op=op,
                threshold=float(threshold),
                column=column,
                severity=severity,
                consecutive=consecutive,
            )
        )
    return out


def rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "metric": rule.metric,
        "op": rule.op,
        "threshold": rule.threshold,
        "column": rule.column,
        "severity": rule.severity,
        "consecutive": rule.consecutive,
    }


def config_json(config: MonitorConfig) -> dict[str, Any]:
    return {
        "columns": list(config.columns),
        "categorical": list(config.categorical),
        "prediction": config.prediction,
        "score": config.score,
        "label": config.label,
        "id_column": config.id_column,
        "sensitive": list(config.sensitive),
        "positive_label": config.positive_label,
        "window": config.window.value,
        "method": config.method,
        "methods": dict(config.methods),
        "mode": config.mode,
        "schedule_every": config.schedule_every,
        "source": config.source,
        **_connection_json(config.connection),
        "rules": [rule_json(r) for r in config.rules],
    }


def _connection_json(spec: ConnectionSpec | None) -> dict[str, Any]:
    if spec is None:
        return {}
    return {"connection": spec.connection, "path": spec.path, "table": spec.table,
            "query": spec.query}


def check_rule_columns(config: MonitorConfig, watched: Sequence[str]) -> None:
    """Rules may only name columns the monitor watches (or its sensitive columns)."""
    allowed = set(watched) | {DATASET, ANY_COLUMN} | set(config.sensitive)
    if config.prediction:
        allowed.add(config.prediction)
    if config.score:
        allowed.add(config.score)
    bad = [f"{r.id} ({r.column})" for r in config.rules if r.column not in allowed]
    if bad:
        raise InvalidInput(
            f"Rule(s) {', '.join(bad)} name columns this monitor does not watch; watched: "
            f"{', '.join(watched)}.",
            field="rules",
        )


# -- rule evaluation with hysteresis ------------------------------------------------------

Values = Mapping[tuple[str, str], float | None]  # (column, metric) -> value


@dataclass(frozen=True)
class Breach:
    rule: Rule
    column: str
    value: float
    streak: int  # consecutive breaching runs, this one included
    fires: bool  # streak reached rule.consecutive

    @property
    def message(self) -> str:
        where = "dataset" if self.column == DATASET else f"column {self.column!r}"
        return (
            f"{self.rule.metric} = {self.value:.4g} on {where} ({self.rule.op} "
            f"{self.rule.threshold:g}) for {self.streak} run(s) in a row "
            f"[rule {self.rule.id}]"
        )


def evaluate(rules: Sequence[Rule], current: Values, previous: Sequence[Values]) -> list[Breach]:
    """Breaches of this run; ``previous`` are earlier runs' values, newest first.

    A rule on ``*`` is evaluated for every column that has the metric in this run. A
    run that lacks the metric (e.g. no labels yet) ends a streak: hysteresis counts
    consecutive *evaluated* breaches only.
    """
    out: list[Breach] = []
    for rule in rules:
        columns = (
            sorted({c for c, m in current if m == rule.metric and c != DATASET})
            if rule.column == ANY_COLUMN
            else [rule.column]
        )
        for column in columns:
            value = current.get((column, rule.metric))
            if value is None or not rule.breached(value):
                continue
            streak = 1
            for earlier in previous:
                if not rule.breached(earlier.get((column, rule.metric))):
                    break
                streak += 1
            out.append(Breach(rule, column, float(value), streak, streak >= rule.consecutive))
    return out


def window_start(window: Window, moment: datetime) -> datetime:
    """The start of the window a batch observed at ``moment`` belongs to (UTC)."""
    moment = moment.astimezone(UTC)
    if window is Window.BATCH:
        return moment
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if window is Window.DAILY:
        return day
    return day - timedelta(days=day.weekday())  # ISO weeks start on Monday


def next_due(every: timedelta, last: datetime | None, created: datetime) -> datetime:
    return created if last is None else last + every


# -- what the services return ------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceInfo:
    source: str  # "training dataset <fp>", a path, "frame", a query
    fingerprint: str | None
    rows: int
    columns: tuple[str, ...]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    exact: str | None = None  # sha256 of the stored exact reference (None: sketch only)


@dataclass(frozen=True)
class Monitor:
    id: str
    name: str
    model: str
    version: int
    config: MonitorConfig
    reference: ReferenceInfo
    active: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    last_run_at: datetime | None = None
    next_run_at: datetime | None = None
    open_alerts: int = 0
    # consecutive failed scheduled runs (0 after a success), the last error and when
    failures: int = 0
    last_error: str | None = None
    last_failed_at: datetime | None = None

    @property
    def watched(self) -> tuple[str, ...]:
        return watched_columns(self.config, self.reference.columns)


def watched_columns(config: MonitorConfig, reference_columns: Sequence[str]) -> tuple[str, ...]:
    if config.columns:
        return config.columns
    skip = {config.label, config.id_column}
    return tuple(c for c in reference_columns if c not in skip)


@dataclass(frozen=True)
class Result:
    column: str
    metric: str
    value: float | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MonitorRun:
    id: str
    monitor_id: str
    model: str
    version: int
    window_start: datetime
    rows: int
    source: str
    engine: str
    started_at: datetime
    finished_at: datetime
    created_by: str
    drift_share: float | None
    drifted_columns: tuple[str, ...]
    problems: tuple[str, ...]
    labelled_rows: int = 0
    alerts: tuple[str, ...] = ()
    results: tuple[Result, ...] = ()
    mode: str = "sketch"  # how the drift statistics were computed: exact or sketch

    def result(self, metric: str, column: str = DATASET) -> Result | None:
        for r in self.results:
            if r.metric == metric and r.column == column:
                return r
        return None


@dataclass(frozen=True)
class Alert:
    id: str
    monitor_id: str
    model: str
    version: int
    rule: str
    metric: str
    column: str
    severity: str
    status: AlertStatus
    op: str
    threshold: float
    value: float | None
    message: str
    first_run: str
    last_run: str
    breaches: int
    raised_at: datetime
    updated_at: datetime
    finding_id: int | None = None
    transition: str | None = None  # the stage the version was moved to, if any
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None


@dataclass(frozen=True)
class HistoryPoint:
    run_id: str
    window_start: datetime
    at: datetime
    column: str
    metric: str
    value: float | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LabelReport:
    monitor_id: str
    received: int
    matched: int
    already_labelled: int
    runs: tuple[str, ...]  # runs whose performance was (re)computed
    alerts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduleReport:
    ran: tuple[str, ...]  # run ids
    failed: tuple[tuple[str, str], ...]  # (monitor id, why)
    not_due: int
