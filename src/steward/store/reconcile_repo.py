"""What verify and reconcile read beyond the chain: MACs, copies, and the state tables."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from steward.domain.audit import AuditEvent
from steward.domain.audit_auth import AuthRow
from steward.domain.reconcile import REPLAYED_ACTIONS, State
from steward.store import tables as t
from steward.store.audit_repo import stream_raw

_BATCH = 10_000


class ReconcileRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def consistent_snapshot(self) -> None:
        """Make every later read of this transaction see one moment (PostgreSQL).

        SQLite's WAL already gives a read transaction one snapshot; PostgreSQL's default
        READ COMMITTED would let a concurrent write land between the journal and the tables.
        """
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))

    def auth_rows(self, batch: int = 20_000) -> Iterator[AuthRow]:
        """(seq, time, hash, mac) of every event in seq order, straight off the driver's cursor.

        Like ``AuditRepository.stream_rows``: verify reads every event, so row objects
        would cost more than the MACs; PostgreSQL streams through a server-side cursor.
        """
        return stream_raw(
            self.conn,
            "steward_audit_auth",
            "SELECT seq, time, hash, mac FROM audit_events ORDER BY seq",
            batch,
        )

    def earlier_copy(self, seq: int) -> int | None:
        """The first earlier event with the same actor, action, subject and payload."""
        e = t.audit_events.c
        row = self.conn.execute(
            select(e.actor, e.action, e.subject_type, e.subject_id, e.payload).where(e.seq == seq)
        ).first()
        if row is None:
            return None
        found = self.conn.execute(
            select(e.seq)
            .where(
                e.seq < seq,
                e.actor == row.actor,
                e.action == row.action,
                e.subject_type == row.subject_type,
                e.subject_id == row.subject_id,
                e.payload == row.payload,
            )
            .order_by(e.seq)
            .limit(1)
        ).scalar_one_or_none()
        return None if found is None else int(found)

    def replayed_events(self) -> Iterator[AuditEvent]:
        """The events reconcile replays, in seq order."""
        e = t.audit_events.c
        cols = (
            e.seq,
            e.time,
            e.actor,
            e.action,
            e.subject_type,
            e.subject_id,
            e.payload,
            e.prev_hash,
            e.hash,
        )
        after = 0
        while True:
            rows = self.conn.execute(
                select(*cols)
                .where(e.seq > after, e.action.in_(REPLAYED_ACTIONS))
                .order_by(e.seq)
                .limit(_BATCH)
            ).all()
            for row in rows:
                yield AuditEvent(*row)
            if len(rows) < _BATCH:
                return
            after = int(rows[-1][0])

    def state_rows(self) -> int:
        """How many rows the governed tables hold (verify: an empty journal explains none)."""
        total = 0
        for table in (t.models, t.users, t.teams, t.user_roles, t.model_versions):
            total += int(self.conn.execute(select(func.count()).select_from(table)).scalar_one())
        return total

    def snapshot(self) -> State:
        """The governed tables as they are now."""
        m, v, a = t.models.c, t.model_versions.c, t.aliases.c
        state = State()
        for name, owner, team in self.conn.execute(select(m.name, m.owner, m.team)):
            state.models[name] = (owner or "", team or "")
        for name, number, stage in self.conn.execute(
            select(m.name, v.version, v.stage).join(t.model_versions, v.model_id == m.id)
        ):
            state.versions[(name, int(number))] = stage
        for name, alias, number in self.conn.execute(
            select(m.name, a.alias, v.version)
            .select_from(t.aliases)
            .join(t.models, a.model_id == m.id)
            .join(t.model_versions, a.version_id == v.id)
        ):
            state.aliases[(name, alias)] = int(number)
        state.users = {r[0] for r in self.conn.execute(select(t.users.c.name))}
        state.roles = {
            (r[0], r[1])
            for r in self.conn.execute(select(t.user_roles.c.user, t.user_roles.c.role))
        }
        state.teams = {r[0] for r in self.conn.execute(select(t.teams.c.name))}
        state.members = {
            (r[0], r[1])
            for r in self.conn.execute(select(t.team_members.c.team, t.team_members.c.user))
        }
        r = t.transition_requests.c
        for rid, name, number, target in self.conn.execute(
            select(r.id, m.name, v.version, r.to_stage)
            .select_from(t.transition_requests)
            .join(t.model_versions, r.version_id == v.id)
            .join(t.models, v.model_id == m.id)
        ):
            state.requests[rid] = (name, int(number), target)
        p = t.approvals.c
        for rid, approver, decision in self.conn.execute(
            select(p.request_id, p.approver, p.decision)
        ):
            state.approvals[(rid, approver)] = decision
        return state
