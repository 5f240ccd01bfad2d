"""Monitoring as documentation: the model card's status section and the pack's history.

``card_status_in_uow`` summarises the monitors of one version for its model card (Annex
IV 9, Art. 72): each monitor with its window, schedule and reference, its rules, the
latest runs with their drift share and most drifted columns (ranked by PSI on the
reference deciles, or categories for low-cardinality columns — the one statistic every
column has, so they compare), the alerts
(open and resolved, with their findings and lifecycle effect), and label coverage with
performance and fairness over the labelled windows. ``pack_history_in_uow`` is the full
record for an evidence pack: every monitor the model ever had (deleted ones too), its
reference profile, every run with every per-column result, and every alert.

Both read inside the caller's transaction, so a card or pack is one consistent snapshot;
permission checks are the caller's (``modelcards`` needs ``GOVERNANCE_READ``,
``evidence`` needs ``EVIDENCE_EXPORT``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from steward.domain.monitoring import (
    DATASET,
    FAIRNESS_METRICS,
    Alert,
    AlertStatus,
    Monitor,
    MonitorRun,
    Result,
)
from steward.services.context import version_row_id
from steward.store.compliance_repo import ComplianceRepository
from steward.store.uow import UnitOfWork

CARD_RUNS = 12  # newest runs per monitor shown on a card
TOP_COLUMNS = 3  # most drifted columns named per run
_PAGE = 500
PERFORMANCE_COLUMNS = ("accuracy", "precision", "recall", "f1", "roc_auc", "positive_rate")


def _value(run: MonitorRun, metric: str, column: str = DATASET) -> float | None:
    for r in run.results:
        if r.column == column and r.metric == metric:
            return r.value
    return None


def most_drifted(results: Sequence[Result], limit: int = TOP_COLUMNS) -> list[str]:
    """Columns by PSI (reference deciles, or categories for low-cardinality columns), highest
    first; a drifted column says so."""
    drifted = {r.column for r in results if r.metric == "drifted" and r.value == 1.0}
    psi = sorted(
        ((r.value, r.column) for r in results if r.metric == "psi" and r.value is not None),
        key=lambda x: (-x[0], x[1]),
    )
    out = []
    for value, column in psi[:limit]:
        flag = ", drifted" if column in drifted else ""
        out.append(f"{column} (PSI {value:.3g}{flag})")
    return out


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _schedule(monitor: Monitor) -> str:
    every = monitor.config.schedule_every
    return f"every {every}" if every else "on demand"


def _all_runs(uow: UnitOfWork, monitor_id: str, limit: int | None = None) -> list[MonitorRun]:
    """Runs with their results, newest first (all of them when ``limit`` is None)."""
    out: list[MonitorRun] = []
    while limit is None or len(out) < limit:
        page = _PAGE if limit is None else min(_PAGE, limit - len(out))
        before = None if not out else (out[-1].finished_at, out[-1].id)
        got = uow.monitors.runs(monitor_id, limit=page, before=before, with_results=True)
        out.extend(got)
        if len(got) < page:
            break
    return out


def _alerts(uow: UnitOfWork, monitor_id: str) -> list[Alert]:
    return uow.monitors.alerts(monitor_id=monitor_id, status=None, limit=1_000_000)


def card_status_in_uow(uow: UnitOfWork, model: str, version: int) -> dict[str, Any] | None:
    """The card's monitoring status of ``model``/``version``, or None when it has no monitor.

    Shape: ``{"facts": {label: text}, "tables": [{"columns", "rows", "caption"}]}``.
    """
    _mid, vid = version_row_id(uow, model, version)
    monitors = uow.monitors.search(version_id=vid)
    if not monitors:
        return None
    runs = {m.id: _all_runs(uow, m.id, CARD_RUNS) for m in monitors}
    alerts = {m.id: _alerts(uow, m.id) for m in monitors}
    counts = ComplianceRepository(uow.conn).monitor_run_counts([m.id for m in monitors])
    every_alert = [a for m in monitors for a in alerts[m.id]]
    open_alerts = [a for a in every_alert if a.status is AlertStatus.OPEN]
    newest = max((r for rs in runs.values() for r in rs), key=lambda r: r.finished_at, default=None)
    facts: dict[str, str] = {
        "Monitors": "; ".join(
            f"{m.name} ({m.id}): {m.config.window.value} windows, {_schedule(m)}, "
            f"{len(m.config.rules)} rules{'' if m.active else ', paused'}"
            for m in monitors
        ),
        "Runs": ", ".join(f"{m.name}: {counts.get(m.id, 0)}" for m in monitors),
    }
    if newest is None:
        facts["Latest run"] = "none yet: the monitor has not received a batch"
    else:
        top = most_drifted(newest.results)
        facts["Latest run"] = (
            f"{newest.finished_at.isoformat()[:16].replace('T', ' ')} UTC ({newest.id}): "
            f"{newest.rows} rows, drift share {_pct(newest.drift_share)}"
            + (f"; most drifted: {', '.join(top)}" if top else "")
        )
    facts["Alerts"] = f"{len(open_alerts)} open, {len(every_alert) - len(open_alerts)} resolved" + (
        "; open: " + ", ".join(f"{a.id} {a.rule} ({a.severity})" for a in open_alerts)
        if open_alerts
        else ""
    )
    labelled = [r for rs in runs.values() for r in rs if r.labelled_rows > 0]
    if labelled:
        latest = max(labelled, key=lambda r: r.finished_at)
        facts["Label coverage"] = (
            f"{len(labelled)} of the last {sum(len(rs) for rs in runs.values())} runs have "
            f"labels; latest labelled window {latest.window_start.date().isoformat()}: "
            f"{latest.labelled_rows} of {latest.rows} predictions "
            f"({_pct(_value(latest, 'label_coverage'))})"
        )
    else:
        facts["Label coverage"] = "no labels received yet, so no production performance"
    tables = [
        _monitor_table(monitors, counts),
        _rules_table(monitors),
        _runs_table(monitors, runs),
    ]
    if every_alert:
        tables.append(_alerts_table(every_alert))
    if labelled:
        tables.append(_performance_table(monitors, runs))
        fairness = _fairness_table(monitors, runs)
        if fairness is not None:
            tables.append(fairness)
    return {"facts": facts, "tables": tables}


def _table(columns: list[str], rows: list[list[Any]], caption: str) -> dict[str, Any]:
    return {"columns": columns, "rows": rows, "caption": caption}


def _monitor_table(monitors: list[Monitor], counts: dict[str, int]) -> dict[str, Any]:
    return _table(
        ["monitor", "name", "window", "schedule", "reference", "watched columns", "runs", "state"],
        [
            [
                m.id,
                m.name,
                m.config.window.value,
                _schedule(m),
                f"{m.reference.source} ({m.reference.rows} rows)",
                ", ".join(m.watched),
                counts.get(m.id, 0),
                "active" if m.active else "paused",
            ]
            for m in monitors
        ],
        "Monitors of this version",
    )


def _rules_table(monitors: list[Monitor]) -> dict[str, Any]:
    return _table(
        ["monitor", "rule", "metric", "column", "fires when", "severity", "consecutive"],
        [
            [
                m.name,
                r.id,
                r.metric,
                r.column or "(dataset)",
                f"{r.op} {r.threshold:g}",
                r.severity,
                r.consecutive,
            ]
            for m in monitors
            for r in m.config.rules
        ],
        "Alert rules",
    )


def _runs_table(monitors: list[Monitor], runs: dict[str, list[MonitorRun]]) -> dict[str, Any]:
    return _table(
        ["monitor", "window", "run", "rows", "drift share", "most drifted columns", "alerts"],
        [
            [
                m.name,
                r.window_start.date().isoformat(),
                r.id,
                r.rows,
                _pct(r.drift_share),
                ", ".join(most_drifted(r.results)) or "—",
                ", ".join(r.alerts) or "—",
            ]
            for m in monitors
            for r in sorted(runs[m.id], key=lambda r: (r.window_start, r.finished_at))
        ],
        f"Latest runs (up to {CARD_RUNS} per monitor, oldest first)",
    )


def _alerts_table(alerts: list[Alert]) -> dict[str, Any]:
    return _table(
        [
            "alert",
            "rule",
            "column",
            "severity",
            "value",
            "threshold",
            "raised",
            "status",
            "finding",
            "lifecycle effect",
            "resolution",
        ],
        [
            [
                a.id,
                a.rule,
                a.column or "(dataset)",
                a.severity,
                _num(a.value),
                f"{a.op} {a.threshold:g}",
                a.raised_at.isoformat()[:16].replace("T", " "),
                a.status.value,
                "—" if a.finding_id is None else f"#{a.finding_id}",
                f"moved to {a.transition}" if a.transition else "—",
                "—" if a.resolved_by is None else f"{a.resolved_by}: {a.resolution}",
            ]
            for a in sorted(alerts, key=lambda a: (a.raised_at, a.id))
        ],
        "Alerts (open and resolved)",
    )


def _performance_table(
    monitors: list[Monitor], runs: dict[str, list[MonitorRun]]
) -> dict[str, Any]:
    return _table(
        ["monitor", "window", "labelled rows", "label coverage", *PERFORMANCE_COLUMNS],
        [
            [
                m.name,
                r.window_start.date().isoformat(),
                r.labelled_rows,
                _pct(_value(r, "label_coverage")),
                *[_num(_value(r, metric)) for metric in PERFORMANCE_COLUMNS],
            ]
            for m in monitors
            for r in sorted(runs[m.id], key=lambda r: (r.window_start, r.finished_at))
            if r.labelled_rows > 0
        ],
        "Production performance over the labelled windows",
    )


def _fairness_table(
    monitors: list[Monitor], runs: dict[str, list[MonitorRun]]
) -> dict[str, Any] | None:
    rows = [
        [
            m.name,
            r.window_start.date().isoformat(),
            res.column,
            res.metric,
            _num(res.value),
            ", ".join(f"{k}: {n}" for k, n in sorted(res.details.get("groups", {}).items())),
        ]
        for m in monitors
        for r in sorted(runs[m.id], key=lambda r: (r.window_start, r.finished_at))
        for res in r.results
        if res.metric in FAIRNESS_METRICS
    ]
    if not rows:
        return None
    return _table(
        ["monitor", "window", "sensitive column", "metric", "value", "group sizes"],
        rows,
        "Fairness over the labelled windows",
    )


# -- evidence pack -----------------------------------------------------------------------


def pack_history_in_uow(uow: UnitOfWork, mid: int) -> dict[str, Any]:
    """Pack path -> JSON-able content: every monitor of the model with its full history.

    ``monitoring/<monitor>/monitor.json`` (configuration, rules, reference summary, whether
    it was deleted), ``reference-profile.json`` (what every run was compared with),
    ``runs.json`` (every run, oldest first, with every per-column result and its method,
    binning and sample sizes) and ``alerts.json`` (every alert with its finding, lifecycle
    effect and resolution).
    """
    files: dict[str, Any] = {}
    for monitor in uow.monitors.search(model_id=mid, include_deleted=True):
        base = f"monitoring/{monitor.id}"
        row = uow.monitors.row(monitor.id)
        deleted = None if row is None else row.get("deleted_at")
        files[f"{base}/monitor.json"] = {"monitor": monitor, "deleted_at": deleted}
        files[f"{base}/reference-profile.json"] = json.loads(uow.monitors.reference(monitor.id))
        files[f"{base}/runs.json"] = list(reversed(_all_runs(uow, monitor.id)))
        files[f"{base}/alerts.json"] = sorted(
            _alerts(uow, monitor.id), key=lambda a: (a.raised_at, a.id)
        )
    return files
