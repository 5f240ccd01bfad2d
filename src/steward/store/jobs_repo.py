"""Rows of the ``jobs`` table (domain/jobs.py).

Claiming is one conditional UPDATE — ``WHERE id = :id AND status = 'queued'`` — whose row
count says who won: on PostgreSQL the second of two concurrent updates waits for the first
one's row lock and then finds the row no longer queued; on SQLite writers are serialised
(``BEGIN IMMEDIATE``). Either way exactly one claimer gets the job.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from steward.domain.jobs import Job, JobFilter, JobKind, JobStatus
from steward.store import tables as t

_j = t.jobs
_c = _j.c
_SELECT = select(_j, t.models.c.name.label("model_name")).join(
    t.models, t.models.c.id == _c.model_id
)


def _job(row: RowMapping) -> Job:
    return Job(
        id=row["id"],
        kind=JobKind(row["kind"]),
        model=row["model_name"],
        version=row["version"],
        requested_by=row["requested_by"],
        params=dict(row["params"] or {}),
        status=JobStatus(row["status"]),
        progress=float(row["progress"]),
        stage=row["stage"],
        result=dict(row["result"] or {}),
        error=row["error"],
        attempts=int(row["attempts"]),
        cancel_requested=bool(row["cancel_requested"]),
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        lease_until=row["lease_until"],
        worker=row["worker"],
    )


class JobRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        job_id: str,
        kind: JobKind,
        model_id: int,
        version: int | None,
        requested_by: str,
        params: dict[str, Any],
        remote: bool,
        now: datetime,
    ) -> None:
        self.conn.execute(
            insert(_j).values(
                id=job_id,
                kind=kind.value,
                model_id=model_id,
                version=version,
                requested_by=requested_by,
                params=params,
                remote=remote,
                status=JobStatus.QUEUED.value,
                progress=0.0,
                stage="queued",
                result={},
                error="",
                attempts=0,
                cancel_requested=False,
                worker="",
                created_at=now,
            )
        )

    def get(self, job_id: str) -> Job | None:
        row = self.conn.execute(_SELECT.where(_c.id == job_id)).mappings().first()
        return None if row is None else _job(row)

    def remote(self, job_id: str) -> bool:
        return bool(self.conn.execute(select(_c.remote).where(_c.id == job_id)).scalar())

    def search(self, flt: JobFilter, model_id: int | None) -> list[Job]:
        query = _SELECT
        if model_id is not None:
            query = query.where(_c.model_id == model_id)
        if flt.status is not None:
            query = query.where(_c.status == flt.status.value)
        if flt.kind is not None:
            query = query.where(_c.kind == flt.kind.value)
        query = query.order_by(_c.created_at.desc(), _c.id.desc()).limit(flt.limit)
        return [_job(r) for r in self.conn.execute(query).mappings()]

    def queued(self, limit: int) -> list[str]:
        """Ids of queued jobs, oldest first."""
        query = (
            select(_c.id)
            .where(_c.status == JobStatus.QUEUED.value)
            .order_by(_c.created_at, _c.id)
            .limit(limit)
        )
        return [str(r) for r in self.conn.execute(query).scalars()]

    def claim(self, job_id: str, worker: str, now: datetime, lease_until: datetime) -> bool:
        """Take a queued job for ``worker``; False when another claimer got it first."""
        done = self.conn.execute(
            update(_j)
            .where(and_(_c.id == job_id, _c.status == JobStatus.QUEUED.value))
            .values(
                status=JobStatus.RUNNING.value,
                worker=worker,
                started_at=now,
                lease_until=lease_until,
                attempts=_c.attempts + 1,
                stage="starting",
                error="",
            )
        )
        return done.rowcount == 1

    def report(
        self, job_id: str, worker: str, progress: float, stage: str, lease_until: datetime
    ) -> bool:
        """Record progress and extend the lease while ``worker`` still holds the job;
        False when it does not (its lease was taken away)."""
        done = self.conn.execute(
            update(_j)
            .where(
                and_(
                    _c.id == job_id,
                    _c.worker == worker,
                    _c.status == JobStatus.RUNNING.value,
                )
            )
            .values(progress=progress, stage=stage, lease_until=lease_until)
        )
        return done.rowcount == 1

    def cancel_requested(self, job_id: str) -> bool:
        return bool(self.conn.execute(select(_c.cancel_requested).where(_c.id == job_id)).scalar())

    def finish(
        self,
        job_id: str,
        worker: str | None,
        status: JobStatus,
        now: datetime,
        *,
        result: dict[str, Any] | None = None,
        error: str = "",
        stage: str = "",
    ) -> bool:
        """End a job (held by ``worker``, or, with None, a queued one); False if it was not
        in that state any more."""
        condition = (
            and_(_c.id == job_id, _c.worker == worker, _c.status == JobStatus.RUNNING.value)
            if worker is not None
            else and_(_c.id == job_id, _c.status == JobStatus.QUEUED.value)
        )
        values: dict[str, Any] = {
            "status": status.value,
            "finished_at": now,
            "lease_until": None,
            "error": error,
            "stage": stage or status.value,
        }
        if status is JobStatus.SUCCEEDED:
            values["progress"] = 1.0
        if result is not None:
            values["result"] = result
        return self.conn.execute(update(_j).where(condition).values(**values)).rowcount == 1

    def request_cancel(self, job_id: str) -> bool:
        done = self.conn.execute(
            update(_j)
            .where(and_(_c.id == job_id, _c.status == JobStatus.RUNNING.value))
            .values(cancel_requested=True)
        )
        return done.rowcount == 1

    def expired(self, now: datetime, limit: int) -> list[Job]:
        query = _SELECT.where(
            and_(_c.status == JobStatus.RUNNING.value, _c.lease_until < now)
        ).limit(limit)
        return [_job(r) for r in self.conn.execute(query).mappings()]

    def release(
        self, job_id: str, worker: str, now: datetime, status: JobStatus, error: str
    ) -> bool:
        """Take a job whose lease ran out from ``worker``: queue it again or fail it."""
        values: dict[str, Any] = {
            "status": status.value,
            "worker": "",
            "lease_until": None,
            "error": error,
            "stage": status.value,
        }
        if status is JobStatus.QUEUED:
            values["progress"] = 0.0
        else:
            values["finished_at"] = now
        done = self.conn.execute(
            update(_j)
            .where(
                and_(
                    _c.id == job_id,
                    _c.worker == worker,
                    _c.status == JobStatus.RUNNING.value,
                    _c.lease_until < now,
                )
            )
            .values(**values)
        )
        return done.rowcount == 1
