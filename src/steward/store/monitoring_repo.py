"""Monitors, runs, results (time series), alerts and late-label predictions: rows <-> domain."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from steward.domain.monitoring import (
    Alert,
    AlertStatus,
    HistoryPoint,
    Monitor,
    MonitorRun,
    ReferenceInfo,
    Result,
    parse_config,
)
from steward.store import tables as t

_mo = t.monitors.c
_ru = t.monitor_runs.c
_re = t.monitor_results.c
_al = t.monitor_alerts.c
_pr = t.monitor_predictions.c
_m = t.models.c
_v = t.model_versions.c

# Monitors with their model's name and version number, built once.
_MONITORS = select(
    *[c for c in t.monitors.c if c.name != "reference"],
    _m.name.label("model_name"),
    _v.version.label("version_no"),
).select_from(
    t.monitors.join(t.model_versions, _v.id == _mo.version_id).join(t.models, _m.id == _mo.model_id)
)
_OPEN_ALERT_COUNTS = (
    select(_al.monitor_id, func.count().label("n"))
    .where(_al.status == AlertStatus.OPEN.value)
    .group_by(_al.monitor_id)
)
_RUNS = select(
    *t.monitor_runs.c,
    _m.name.label("model_name"),
    _v.version.label("version_no"),
).select_from(
    t.monitor_runs.join(t.monitors, _mo.id == _ru.monitor_id)
    .join(t.model_versions, _v.id == _mo.version_id)
    .join(t.models, _m.id == _mo.model_id)
)
_ALERTS = select(
    *t.monitor_alerts.c, _m.name.label("model_name"), _v.version.label("version_no")
).select_from(
    t.monitor_alerts.join(t.monitors, _mo.id == _al.monitor_id)
    .join(t.model_versions, _v.id == _mo.version_id)
    .join(t.models, _m.id == _mo.model_id)
)
_OPEN_ALERT = _ALERTS.where(
    _al.monitor_id == bindparam("monitor_id"),
    _al.rule_id == bindparam("rule_id"),
    _al.column == bindparam("column"),
    _al.status == AlertStatus.OPEN.value,
)


def to_monitor(row: RowMapping, open_alerts: int = 0) -> Monitor:
    info = row["reference_info"]
    return Monitor(
        id=row["id"],
        name=row["name"],
        model=row["model_name"],
        version=int(row["version_no"]),
        # monitors stored before drift modes existed have no exact reference: sketch
        config=parse_config({"mode": "sketch", **row["config"]}),
        reference=ReferenceInfo(
            source=info["source"],
            fingerprint=info.get("fingerprint"),
            rows=int(info["rows"]),
            columns=tuple(info["columns"]),
            numeric=tuple(info.get("numeric", ())),
            categorical=tuple(info.get("categorical", ())),
            exact=(info.get("exact") or {}).get("sha256"),
        ),
        active=bool(row["active"]) and row["deleted_at"] is None,
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_run_at=row["last_run_at"],
        next_run_at=row["next_run_at"],
        open_alerts=open_alerts,
        failures=int((row["failure"] or {}).get("count", 0)),
        last_error=(row["failure"] or {}).get("error"),
        last_failed_at=_time((row["failure"] or {}).get("at")),
    )


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def to_run(
    row: RowMapping, results: Sequence[Result] = (), alerts: Sequence[str] = ()
) -> MonitorRun:
    summary = row["summary"]
    return MonitorRun(
        id=row["id"],
        monitor_id=row["monitor_id"],
        model=row["model_name"],
        version=int(row["version_no"]),
        window_start=row["window_start"],
        rows=int(row["rows"]),
        source=row["source"],
        engine=row["engine"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        created_by=row["created_by"],
        drift_share=summary.get("drift_share"),
        drifted_columns=tuple(summary.get("drifted_columns", ())),
        problems=tuple(summary.get("problems", ())),
        labelled_rows=int(summary.get("labelled_rows", 0)),
        alerts=tuple(alerts),
        results=tuple(results),
        mode=str(summary.get("mode", "sketch")),
    )


def to_alert(row: RowMapping) -> Alert:
    return Alert(
        id=row["id"],
        monitor_id=row["monitor_id"],
        model=row["model_name"],
        version=int(row["version_no"]),
        rule=row["rule_id"],
        metric=row["metric"],
        column=row["column"],
        severity=row["severity"],
        status=AlertStatus(row["status"]),
        op=row["op"],
        threshold=float(row["threshold"]),
        value=row["value"],
        message=row["message"],
        first_run=row["first_run_id"],
        last_run=row["last_run_id"],
        breaches=int(row["breaches"]),
        raised_at=row["raised_at"],
        updated_at=row["updated_at"],
        finding_id=row["finding_id"],
        transition=row["transition"],
        resolved_by=row["resolved_by"],
        resolved_at=row["resolved_at"],
        resolution=row["resolution"],
    )


class MonitorRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- monitors --------------------------------------------------------------------
    def insert(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(t.monitors), values)

    def update(self, monitor_id: str, values: dict[str, Any]) -> None:
        self.conn.execute(update(t.monitors).where(_mo.id == monitor_id).values(**values))

    def row(self, monitor_id: str) -> RowMapping | None:
        return self.conn.execute(_MONITORS.where(_mo.id == monitor_id)).mappings().first()

    def reference(self, monitor_id: str) -> str:
        text = self.conn.execute(select(_mo.reference).where(_mo.id == monitor_id)).scalar_one()
        return str(text)

    def get(self, monitor_id: str) -> Monitor | None:
        row = self.row(monitor_id)
        return None if row is None else self._hydrate([row])[0]

    def search(
        self,
        *,
        model_id: int | None = None,
        version_id: int | None = None,
        name: str | None = None,
        include_deleted: bool = False,
    ) -> list[Monitor]:
        query = _MONITORS.order_by(_m.name, _v.version, _mo.name, _mo.id)
        if model_id is not None:
            query = query.where(_mo.model_id == model_id)
        if version_id is not None:
            query = query.where(_mo.version_id == version_id)
        if name is not None:
            query = query.where(_mo.name == name)
        if not include_deleted:
            query = query.where(_mo.deleted_at.is_(None))
        return self._hydrate(list(self.conn.execute(query).mappings()))

    def _hydrate(self, rows: list[RowMapping]) -> list[Monitor]:
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        query = _OPEN_ALERT_COUNTS.where(_al.monitor_id.in_(ids))
        counts = {row.monitor_id: row.n for row in self.conn.execute(query)}
        return [to_monitor(r, int(counts.get(r["id"], 0))) for r in rows]

    def due(self, now: datetime, limit: int) -> list[str]:
        query = (
            select(_mo.id)
            .where(
                _mo.active.is_(True),
                _mo.deleted_at.is_(None),
                _mo.next_run_at.is_not(None),
                _mo.next_run_at <= now,
            )
            .order_by(_mo.next_run_at, _mo.id)
            .limit(limit)
        )
        return [str(x) for x in self.conn.execute(query).scalars()]

    def count_scheduled(self) -> int:
        query = select(func.count()).where(
            _mo.active.is_(True), _mo.deleted_at.is_(None), _mo.next_run_at.is_not(None)
        )
        return int(self.conn.execute(query).scalar_one())

    def lock(self, monitor_id: str) -> None:
        """Serialise runs of one monitor (a row lock on PostgreSQL; SQLite has one writer)."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(select(_mo.id).where(_mo.id == monitor_id).with_for_update())

    # -- runs and results ------------------------------------------------------------
    def insert_run(self, values: dict[str, Any], results: Iterable[dict[str, Any]]) -> None:
        self.conn.execute(insert(t.monitor_runs), values)
        self.insert_results(list(results))

    def insert_results(self, results: list[dict[str, Any]]) -> None:
        if results:
            self.conn.execute(insert(t.monitor_results), results)

    def delete_results(self, run_id: str, metrics: Sequence[str]) -> None:
        self.conn.execute(
            delete(t.monitor_results).where(_re.run_id == run_id, _re.metric.in_(list(metrics)))
        )

    def update_run_summary(self, run_id: str, summary: dict[str, Any]) -> None:
        self.conn.execute(update(t.monitor_runs).where(_ru.id == run_id).values(summary=summary))

    def update_run(self, run_id: str, values: dict[str, Any]) -> None:
        self.conn.execute(update(t.monitor_runs).where(_ru.id == run_id).values(**values))

    def window_runs(
        self, monitor_id: str, *, since: datetime | None, windows: int
    ) -> list[RowMapping]:
        """The runs of the latest ``windows`` windows (their aggregates and confusion counts),
        oldest window first, runs in the order they finished."""
        starts = select(_ru.window_start).where(_ru.monitor_id == monitor_id)
        if since is not None:
            starts = starts.where(_ru.finished_at >= since)
        latest = starts.distinct().order_by(_ru.window_start.desc()).limit(windows).subquery()
        query = (
            select(
                _ru.id,
                _ru.window_start,
                _ru.finished_at,
                _ru.rows,
                _ru.aggregate,
                _ru.confusion,
                _ru.summary,
            )
            .where(
                _ru.monitor_id == monitor_id,
                _ru.window_start.in_(select(latest.c.window_start)),
            )
            .order_by(_ru.window_start, _ru.finished_at, _ru.id)
        )
        if since is not None:
            query = query.where(_ru.finished_at >= since)
        return list(self.conn.execute(query).mappings())

    def run_row(self, run_id: str) -> RowMapping | None:
        return self.conn.execute(_RUNS.where(_ru.id == run_id)).mappings().first()

    def runs(
        self,
        monitor_id: str,
        *,
        limit: int = 100,
        before: tuple[datetime, str] | None = None,
        with_results: bool = False,
    ) -> list[MonitorRun]:
        """Newest first; ``before`` = (finished_at, id) of a run to page after."""
        query = _RUNS.where(_ru.monitor_id == monitor_id)
        if before is not None:
            at, rid = before
            query = query.where((_ru.finished_at < at) | and_(_ru.finished_at == at, _ru.id < rid))
        rows = list(
            self.conn.execute(query.order_by(_ru.finished_at.desc(), _ru.id.desc()).limit(limit))
            .mappings()
            .all()
        )
        results = self.results([r["id"] for r in rows]) if with_results else {}
        alerts = self.alerts_by_run([r["id"] for r in rows])
        return [to_run(r, results.get(r["id"], ()), alerts.get(r["id"], ())) for r in rows]

    def get_run(self, run_id: str) -> MonitorRun | None:
        row = self.run_row(run_id)
        if row is None:
            return None
        results = self.results([run_id]).get(run_id, [])
        return to_run(row, results, self.alerts_by_run([run_id]).get(run_id, ()))

    def results(self, run_ids: Sequence[str]) -> dict[str, list[Result]]:
        out: dict[str, list[Result]] = {}
        if not run_ids:
            return out
        query = (
            select(_re.run_id, _re.column, _re.metric, _re.value, _re.details)
            .where(_re.run_id.in_(list(run_ids)))
            .order_by(_re.run_id, _re.column, _re.metric)
        )
        for row in self.conn.execute(query):
            out.setdefault(row.run_id, []).append(
                Result(row.column, row.metric, row.value, row.details)
            )
        return out

    def values_before(
        self, monitor_id: str, run_id: str, count: int
    ) -> list[dict[tuple[str, str], float | None]]:
        """Result values of the ``count`` runs before ``run_id`` (newest first)."""
        if count <= 0:
            return []
        row = self.run_row(run_id)
        assert row is not None
        earlier = [
            r.id for r in self.runs(monitor_id, limit=count, before=(row["finished_at"], run_id))
        ]
        results = self.results(earlier)
        return [{(r.column, r.metric): r.value for r in results.get(rid, [])} for rid in earlier]

    def series(
        self,
        monitor_id: str,
        *,
        column: str | None,
        metric: str | None,
        since: datetime | None,
        limit: int,
    ) -> list[HistoryPoint]:
        query: Select[Any] = (
            select(
                _re.run_id, _ru.window_start, _re.at, _re.column, _re.metric, _re.value, _re.details
            )
            .select_from(t.monitor_results.join(t.monitor_runs, _ru.id == _re.run_id))
            .where(_re.monitor_id == monitor_id)
        )
        if column is not None:
            query = query.where(_re.column == column)
        if metric is not None:
            query = query.where(_re.metric == metric)
        if since is not None:
            query = query.where(_re.at >= since)
        query = query.order_by(_re.at.desc(), _re.column, _re.metric).limit(limit)
        points = [HistoryPoint(*row) for row in self.conn.execute(query)]
        points.reverse()  # oldest first: a time series
        return points

    # -- alerts ----------------------------------------------------------------------
    def insert_alert(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(t.monitor_alerts), values)

    def update_alert(self, alert_id: str, values: dict[str, Any]) -> None:
        self.conn.execute(update(t.monitor_alerts).where(_al.id == alert_id).values(**values))

    def open_alert(self, monitor_id: str, rule_id: str, column: str) -> Alert | None:
        row = (
            self.conn.execute(
                _OPEN_ALERT, {"monitor_id": monitor_id, "rule_id": rule_id, "column": column}
            )
            .mappings()
            .first()
        )
        return None if row is None else to_alert(row)

    def get_alert(self, alert_id: str) -> Alert | None:
        row = self.conn.execute(_ALERTS.where(_al.id == alert_id)).mappings().first()
        return None if row is None else to_alert(row)

    def alerts(
        self,
        *,
        model_id: int | None = None,
        version_id: int | None = None,
        monitor_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        query = _ALERTS
        if model_id is not None:
            query = query.where(_mo.model_id == model_id)
        if version_id is not None:
            query = query.where(_mo.version_id == version_id)
        if monitor_id is not None:
            query = query.where(_al.monitor_id == monitor_id)
        if status is not None:
            query = query.where(_al.status == status)
        query = query.order_by(_al.raised_at.desc(), _al.id.desc()).limit(limit)
        return [to_alert(r) for r in self.conn.execute(query).mappings()]

    def alerts_by_run(self, run_ids: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        if not run_ids:
            return out
        query = (
            select(_al.id, _al.first_run_id, _al.last_run_id)
            .where(_al.first_run_id.in_(list(run_ids)) | _al.last_run_id.in_(list(run_ids)))
            .order_by(_al.id)
        )
        for row in self.conn.execute(query):
            for rid in {row.first_run_id, row.last_run_id}:
                if rid in run_ids:
                    out.setdefault(rid, []).append(row.id)
        return out

    # -- predictions awaiting labels ---------------------------------------------------
    def insert_predictions(self, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), 5000):
            self.conn.execute(insert(t.monitor_predictions), rows[start : start + 5000])

    def known_predictions(
        self, monitor_id: str, ids: Sequence[str]
    ) -> dict[str, tuple[str, float | None]]:
        """prediction id -> (run id, current label) for the ids that exist."""
        out: dict[str, tuple[str, float | None]] = {}
        for start in range(0, len(ids), 5000):
            chunk = list(ids[start : start + 5000])
            query = select(_pr.prediction_id, _pr.run_id, _pr.label).where(
                _pr.monitor_id == monitor_id, _pr.prediction_id.in_(chunk)
            )
            for row in self.conn.execute(query):
                out[row.prediction_id] = (row.run_id, row.label)
        return out

    def set_labels(
        self, monitor_id: str, labels: Sequence[tuple[str, float]], at: datetime
    ) -> None:
        statement = (
            update(t.monitor_predictions)
            .where(_pr.monitor_id == bindparam("m"), _pr.prediction_id == bindparam("pid"))
            .values(label=bindparam("lab"), labelled_at=bindparam("at"))
        )
        self.conn.execute(
            statement,
            [{"m": monitor_id, "pid": pid, "lab": label, "at": at} for pid, label in labels],
        )

    def labelled(self, run_id: str) -> list[RowMapping]:
        query = select(_pr.prediction, _pr.score, _pr.groups, _pr.label).where(
            _pr.run_id == run_id, _pr.label.is_not(None)
        )
        return list(self.conn.execute(query).mappings())

    def prediction_count(self, run_id: str) -> int:
        query = select(func.count()).where(_pr.run_id == run_id)
        return int(self.conn.execute(query).scalar_one())
