"""Policy packs, check runs, transition requests and approvals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, case, cast, func, insert, null, select, update
from sqlalchemy.engine import Connection, RowMapping

from steward.domain.checks import (
    CheckFamily,
    CheckResult,
    CheckRun,
    EvidenceFile,
    RunSource,
    Threshold,
)
from steward.domain.lifecycle import Stage
from steward.domain.requests import (
    Approval,
    PolicyPackInfo,
    RequestStatus,
    TransitionRequest,
    Verdict,
)
from steward.store import tables as t


class PolicyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def find(self, name: str, version: str) -> RowMapping | None:
        p = t.policy_packs
        return (
            self.conn.execute(select(p).where(p.c.name == name, p.c.version == version))
            .mappings()
            .first()
        )

    def active(self) -> RowMapping | None:
        p = t.policy_packs
        return self.conn.execute(select(p).where(p.c.active.is_(True))).mappings().first()

    def insert(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(t.policy_packs).values(**values))

    def activate(self, name: str, version: str) -> None:
        p = t.policy_packs
        self.conn.execute(update(p).where(p.c.active.is_(True)).values(active=False))
        self.conn.execute(
            update(p).where(p.c.name == name, p.c.version == version).values(active=True)
        )

    def deactivate_all(self) -> None:
        p = t.policy_packs
        self.conn.execute(update(p).where(p.c.active.is_(True)).values(active=False))

    def all(self) -> list[RowMapping]:
        p = t.policy_packs
        return list(
            self.conn.execute(select(p).order_by(p.c.loaded_at.desc(), p.c.id.desc())).mappings()
        )


def pack_info(row: RowMapping, description: str, requirements: int) -> PolicyPackInfo:
    return PolicyPackInfo(
        name=row["name"],
        version=row["version"],
        sha256=row["sha256"],
        description=description,
        requirements=requirements,
        loaded_by=row["loaded_by"],
        loaded_at=row["loaded_at"],
        active=bool(row["active"]),
    )


class CheckRunRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def evidence_in_use(self, sha256: str) -> bool:
        """Whether a stored run lists this blob among its evidence files."""
        listed = cast(t.check_runs.c.evidence, Text).like(f'%"{sha256}"%')
        return (
            self.conn.execute(select(t.check_runs.c.id).where(listed).limit(1)).first() is not None
        )

    def insert(self, values: dict[str, Any], results: Sequence[CheckResult]) -> None:
        self.conn.execute(insert(t.check_runs).values(**values))
        if results:
            self.conn.execute(
                insert(t.check_results),
                [
                    {
                        "run_id": values["id"],
                        "name": r.name,
                        "family": r.family.value,
                        "passed": r.passed,
                        "value": r.value,
                        "threshold": (
                            {"op": r.threshold.op, "limit": r.threshold.limit}
                            if r.threshold
                            else None
                        ),
                        "message": r.message,
                        "details": r.details,
                    }
                    for r in results
                ],
            )

    def runs(
        self, *, version_id: int | None = None, run_id: str | None = None, limit: int = 200
    ) -> list[CheckRun]:
        r, v, m = t.check_runs, t.model_versions, t.models
        query = (
            select(r, v.c.version, m.c.name.label("model"))
            .join(v, v.c.id == r.c.version_id)
            .join(m, m.c.id == v.c.model_id)
            .order_by(r.c.finished_at.desc(), r.c.id.desc())
            .limit(limit)
        )
        if version_id is not None:
            query = query.where(r.c.version_id == version_id)
        if run_id is not None:
            query = query.where(r.c.id == run_id)
        rows = list(self.conn.execute(query).mappings())
        results = self._results([row["id"] for row in rows])
        return [_to_run(row, results.get(row["id"], [])) for row in rows]

    def _results(self, run_ids: list[str]) -> dict[str, list[CheckResult]]:
        if not run_ids:
            return {}
        c = t.check_results
        found: dict[str, list[CheckResult]] = {}
        for row in self.conn.execute(
            select(c).where(c.c.run_id.in_(run_ids)).order_by(c.c.run_id, c.c.name)
        ).mappings():
            threshold = row["threshold"]
            found.setdefault(row["run_id"], []).append(
                CheckResult(
                    name=row["name"],
                    family=CheckFamily(row["family"]),
                    passed=row["passed"],
                    value=row["value"],
                    threshold=Threshold(threshold["op"], threshold["limit"]) if threshold else None,
                    message=row["message"],
                    details=row["details"],
                )
            )
        return found

    def facts(self, version_id: int) -> list[RowMapping]:
        """Every result of the version's runs, newest first: what the gate reads."""
        r, c = t.check_runs, t.check_results
        query = (
            select(
                r.c.id.label("run_id"),
                r.c.suite,
                r.c.finished_at,
                r.c.artifact_sha256,
                r.c.data_fingerprint,
                c.c.name,
                c.c.passed,
                # Only fairness results carry confidence intervals: read their details only.
                case((c.c.family == "fairness", c.c.details), else_=null()).label("details"),
            )
            .join(c, c.c.run_id == r.c.id)
            .where(r.c.version_id == version_id)
            .order_by(r.c.finished_at.desc())
        )
        return list(self.conn.execute(query).mappings())


def _to_run(row: RowMapping, results: list[CheckResult]) -> CheckRun:
    return CheckRun(
        id=row["id"],
        model=row["model"],
        version=row["version"],
        suite=row["suite"],
        suite_version=row["suite_version"],
        source=RunSource(row["source"]),
        artifact_sha256=row["artifact_sha256"],
        data_fingerprint=row["data_fingerprint"],
        passed=bool(row["passed"]),
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        created_by=row["created_by"],
        audit_seq=int(row["audit_seq"]),
        results=tuple(results),
        summary=row["summary"],
        evidence=tuple(EvidenceFile(**e) for e in row["evidence"]),
    )


class RequestRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(t.transition_requests).values(**values))

    def open_for(self, version_id: int, to: Stage) -> str | None:
        q = t.transition_requests
        found = self.conn.execute(
            select(q.c.id).where(
                q.c.version_id == version_id,
                q.c.to_stage == to.value,
                q.c.status == RequestStatus.OPEN.value,
            )
        ).scalar()
        return None if found is None else str(found)

    def open_ids_for_version(self, version_id: int) -> list[str]:
        q = t.transition_requests
        return [
            str(x)
            for x in self.conn.execute(
                select(q.c.id).where(
                    q.c.version_id == version_id, q.c.status == RequestStatus.OPEN.value
                )
            ).scalars()
        ]

    def open_ids_for_model(self, model_id: int) -> list[str]:
        q, v = t.transition_requests, t.model_versions
        return [
            str(x)
            for x in self.conn.execute(
                select(q.c.id)
                .join(v, v.c.id == q.c.version_id)
                .where(v.c.model_id == model_id, q.c.status == RequestStatus.OPEN.value)
                .order_by(q.c.id)
            ).scalars()
        ]

    def row(self, request_id: str) -> RowMapping | None:
        q = t.transition_requests
        return self.conn.execute(select(q).where(q.c.id == request_id)).mappings().first()

    def close(
        self, request_id: str, status: RequestStatus, actor: str, at: datetime, reason: str
    ) -> None:
        q = t.transition_requests
        self.conn.execute(
            update(q)
            .where(q.c.id == request_id)
            .values(status=status.value, closed_by=actor, closed_at=at, close_reason=reason)
        )

    def add_approval(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(t.approvals).values(**values))

    def has_decided(self, request_id: str, approver: str) -> bool:
        a = t.approvals
        found = self.conn.execute(
            select(func.count())
            .select_from(a)
            .where(a.c.request_id == request_id, a.c.approver == approver)
        ).scalar()
        return bool(found)

    def approvals(self, request_ids: list[str]) -> dict[str, list[Approval]]:
        if not request_ids:
            return {}
        a = t.approvals
        found: dict[str, list[Approval]] = {}
        for row in self.conn.execute(
            select(a).where(a.c.request_id.in_(request_ids)).order_by(a.c.id)
        ).mappings():
            found.setdefault(row["request_id"], []).append(
                Approval(
                    id=int(row["id"]),
                    request=row["request_id"],
                    approver=row["approver"],
                    decision=Verdict(row["decision"]),
                    comment=row["comment"],
                    roles=list(row["roles"]),
                    teams=list(row["teams"]),
                    artifact_sha256=row["artifact_sha256"],
                    training_fingerprint=row["training_fingerprint"],
                    evaluation_fingerprint=row["evaluation_fingerprint"],
                    policy=row["policy"],
                    at=row["at"],
                    audit_seq=int(row["audit_seq"]),
                )
            )
        return found

    def search(
        self,
        *,
        request_id: str | None = None,
        status: RequestStatus | None = None,
        model_id: int | None = None,
        version_id: int | None = None,
        limit: int = 200,
    ) -> list[TransitionRequest]:
        q, v, m = t.transition_requests, t.model_versions, t.models
        query = (
            select(q, v.c.version, m.c.name.label("model"))
            .join(v, v.c.id == q.c.version_id)
            .join(m, m.c.id == v.c.model_id)
            .order_by(q.c.requested_at.desc(), q.c.id)
            .limit(limit)
        )
        conditions = []
        if request_id is not None:
            conditions.append(q.c.id == request_id)
        if status is not None:
            conditions.append(q.c.status == status.value)
        if model_id is not None:
            conditions.append(v.c.model_id == model_id)
        if version_id is not None:
            conditions.append(q.c.version_id == version_id)
        if conditions:
            query = query.where(and_(*conditions))
        rows = list(self.conn.execute(query).mappings())
        approvals = self.approvals([row["id"] for row in rows])
        return [
            TransitionRequest(
                id=row["id"],
                model=row["model"],
                version=int(row["version"]),
                from_stage=Stage(row["from_stage"]),
                to_stage=Stage(row["to_stage"]),
                justification=row["justification"],
                requested_by=row["requested_by"],
                requested_at=row["requested_at"],
                status=RequestStatus(row["status"]),
                closed_by=row["closed_by"],
                closed_at=row["closed_at"],
                close_reason=row["close_reason"],
                approvals=approvals.get(row["id"], []),
            )
            for row in rows
        ]
