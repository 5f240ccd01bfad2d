"""Read queries behind the web UI's inventory page (no writes).

The models come from the inventory query every face shares (``ModelRepository.rows``:
filters, search, keyset paging in three orders), then four grouped queries over the
page's model ids only: production versions, the latest check run, monitors and open
alerts, and the number of open findings. The cost of a page is therefore independent of
the size of the inventory beyond the indexed scan.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from steward.store import tables as t
from steward.store.models_repo import ModelFilter, ModelRepository

_v = t.model_versions.c


@dataclass(frozen=True)
class InventoryRow:
    name: str
    title: str
    owner: str
    team: str
    risk_tier: str
    regulatory_category: str
    status: str
    next_review_date: date | None
    latest_version: int
    production_versions: tuple[int, ...]
    last_validation_at: datetime | None
    last_validation_passed: bool | None
    open_findings: int
    # "not_in_production", "unmonitored" (a production version without an active monitor),
    # "alerting" (open monitoring alerts) or "monitored"
    monitoring: str = "not_in_production"
    open_alerts: int = 0
    # which version the last validation ran on (a model has several)
    last_validation_version: int | None = None


class InventoryRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def page(self, flt: ModelFilter, sort: str, limit: int) -> list[InventoryRow]:
        rows = ModelRepository(self.conn).rows(flt, limit, sort)
        ids = [int(r["id"]) for r in rows]
        production = self._production(ids)
        runs = self._last_runs(ids)
        findings = self._open_findings(ids)
        watched = self._monitoring(ids)
        return [
            InventoryRow(
                name=r["name"],
                title=r["title"],
                owner=r["owner"],
                team=r["team"],
                risk_tier=r["risk_tier"],
                regulatory_category=r["regulatory_category"],
                status=r["status"],
                next_review_date=r["next_review_date"],
                latest_version=int(r["latest_version"]),
                production_versions=tuple(production.get(int(r["id"]), ())),
                last_validation_at=runs.get(int(r["id"]), (None, None, None))[0],
                last_validation_passed=runs.get(int(r["id"]), (None, None, None))[1],
                last_validation_version=runs.get(int(r["id"]), (None, None, None))[2],
                open_findings=findings.get(int(r["id"]), 0),
                **_monitoring_state(
                    production.get(int(r["id"]), []), *watched.get(int(r["id"]), (set(), 0))
                ),
            )
            for r in rows
        ]

    def _production(self, ids: list[int]) -> dict[int, list[int]]:
        found: dict[int, list[int]] = defaultdict(list)
        if ids:
            query = (
                select(_v.model_id, _v.version)
                .where(_v.model_id.in_(ids), _v.stage == "production")
                .order_by(_v.model_id, _v.version)
            )
            for mid, number in self.conn.execute(query):
                found[int(mid)].append(int(number))
        return found

    def _last_runs(self, ids: list[int]) -> dict[int, tuple[datetime, bool, int]]:
        if not ids:
            return {}
        r = t.check_runs.c
        latest = (
            select(_v.model_id, func.max(r.finished_at).label("at"))
            .join(t.check_runs, r.version_id == _v.id)
            .where(_v.model_id.in_(ids))
            .group_by(_v.model_id)
            .subquery()
        )
        query = (
            select(_v.model_id, r.finished_at, r.passed, _v.version)
            .join(t.check_runs, r.version_id == _v.id)
            .join(latest, and_(latest.c.model_id == _v.model_id, latest.c.at == r.finished_at))
        )
        return {
            int(mid): (at, bool(passed), int(number))
            for mid, at, passed, number in self.conn.execute(query)
        }

    def _monitoring(self, ids: list[int]) -> dict[int, tuple[set[int], int]]:
        """Per model: production versions with an active monitor, and open alerts."""
        if not ids:
            return {}
        m, a = t.monitors.c, t.monitor_alerts.c
        open_alerts = (
            select(func.count()).where(a.monitor_id == m.id, a.status == "open").scalar_subquery()
        )
        query = (
            select(m.model_id, _v.version, _v.stage, open_alerts)
            .join(t.model_versions, _v.id == m.version_id)
            .where(m.model_id.in_(ids), m.active.is_(True), m.deleted_at.is_(None))
        )
        found: dict[int, tuple[set[int], int]] = {}
        for mid, number, stage, alerts in self.conn.execute(query):
            versions, count = found.get(int(mid), (set(), 0))
            if stage == "production":
                versions.add(int(number))
            found[int(mid)] = (versions, count + int(alerts))
        return found

    def _open_findings(self, ids: list[int]) -> dict[int, int]:
        if not ids:
            return {}
        f = t.findings.c
        query = (
            select(f.model_id, func.count())
            .where(f.model_id.in_(ids), f.status.in_(("open", "in_remediation")))
            .group_by(f.model_id)
        )
        return {int(mid): int(n) for mid, n in self.conn.execute(query)}


def _monitoring_state(
    production: list[int], monitored: set[int], open_alerts: int
) -> dict[str, Any]:
    if open_alerts:
        state = "alerting"
    elif not production:
        state = "not_in_production"
    elif set(production) - monitored:
        state = "unmonitored"
    else:
        state = "monitored"
    return {"monitoring": state, "open_alerts": open_alerts}
