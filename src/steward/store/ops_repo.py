"""Counts an operator watches: journal size, outbox backlog, monitor activity."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from steward.store import tables as t


class OpsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def journal_size(self) -> int:
        return int(
            self.conn.execute(select(func.coalesce(func.max(t.audit_events.c.seq), 0))).scalar_one()
        )

    def deliveries_by_status(self) -> dict[str, int]:
        d = t.webhook_deliveries
        rows = self.conn.execute(select(d.c.status, func.count()).group_by(d.c.status))
        return {str(status): int(n) for status, n in rows}

    def monitor_runs(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.monitor_runs)).scalar_one())

    def open_alerts_by_severity(self) -> dict[str, int]:
        a = t.monitor_alerts
        rows = self.conn.execute(
            select(a.c.severity, func.count()).where(a.c.status == "open").group_by(a.c.severity)
        )
        return {str(severity): int(n) for severity, n in rows}
