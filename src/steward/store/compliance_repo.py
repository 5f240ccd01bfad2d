"""Read-only queries that gather compliance facts for many models at once.

One query per table for a batch of models (``IN`` lists in chunks), so the
organisation view costs a fixed number of round trips per 500 models rather
than a dozen per model. Monitoring rows are read only when the monitoring
tables exist (they arrive with migration 0008); before that coverage reports
"no monitor".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, func, inspect, select
from sqlalchemy.engine import RowMapping

from steward.domain.findings import OPEN_STATUSES
from steward.store import tables as t

_CHUNK = 500
_SCOPE_ORDER = ("production", "under_review", "approved", "validation", "development")
_OPEN = tuple(s.value for s in OPEN_STATUSES)


@dataclass
class RawFacts:
    """Rows for one model, before the service turns them into ``ModelFacts``."""

    model: RowMapping
    version: RowMapping | None = None
    training: str | None = None
    evaluation: str | None = None
    approvals: list[RowMapping] = field(default_factory=list)
    check_runs: list[RowMapping] = field(default_factory=list)
    monitors: list[dict[str, Any]] = field(default_factory=list)
    journal_events: int = 0
    journal_last: str | None = None
    last_review: RowMapping | None = None
    open_findings: list[RowMapping] = field(default_factory=list)
    waivers: list[RowMapping] = field(default_factory=list)
    # Current narrative fields of the version in scope: field -> version number written for.
    narratives: dict[str, int] = field(default_factory=dict)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def scope_rank(stage: str) -> int:
    return _SCOPE_ORDER.index(stage) if stage in _SCOPE_ORDER else len(_SCOPE_ORDER)


class ComplianceRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def monitoring_available(self) -> bool:
        if "monitors" not in t.metadata.tables or "monitor_alerts" not in t.metadata.tables:
            return False
        return bool(inspect(self.conn).has_table("monitors"))

    def model_rows(self, name: str | None = None) -> list[RowMapping]:
        """One model by name, or every model that is not retired, by name."""
        query = select(t.models).order_by(t.models.c.name)
        if name is not None:
            query = query.where(t.models.c.name == name)
        else:
            query = query.where(t.models.c.status != "retired")
        return list(self.conn.execute(query).mappings())

    def gather(self, models: list[RowMapping]) -> list[RawFacts]:
        facts = {int(m["id"]): RawFacts(model=m) for m in models}
        ids = list(facts)
        self._versions(facts, ids)
        vids = {int(f.version["id"]): mid for mid, f in facts.items() if f.version is not None}
        self._approvals(facts, vids)
        self._check_runs(facts, vids)
        self._waivers(facts, vids)
        self._narratives(facts)
        self._findings(facts, ids)
        self._reviews(facts, ids)
        self._journal(facts)
        if self.monitoring_available():
            self._monitors(facts, ids)
        return [facts[int(m["id"])] for m in models]

    def _versions(self, facts: dict[int, RawFacts], ids: list[int]) -> None:
        v = t.model_versions
        best: dict[int, RowMapping] = {}
        for chunk in _chunks(ids):
            rows = self.conn.execute(
                select(
                    v.c.id,
                    v.c.model_id,
                    v.c.version,
                    v.c.stage,
                    v.c.artifact_sha256,
                    v.c.description,
                    v.c.training_dataset_id,
                    v.c.evaluation_dataset_id,
                ).where(v.c.model_id.in_(chunk), v.c.stage.in_(_SCOPE_ORDER))
            ).mappings()
            for row in rows:
                mid = int(row["model_id"])
                held = best.get(mid)
                # In scope: the most advanced stage, newest version within it.
                key = (scope_rank(str(row["stage"])), -int(row["version"]))
                if held is None or key < (scope_rank(str(held["stage"])), -int(held["version"])):
                    best[mid] = row
        dataset_ids = {
            int(x)
            for row in best.values()
            for x in (row["training_dataset_id"], row["evaluation_dataset_id"])
            if x is not None
        }
        fingerprints: dict[int, str] = {}
        for chunk in _chunks(sorted(dataset_ids)):
            d = t.dataset_versions
            for did, fp in self.conn.execute(
                select(d.c.id, d.c.fingerprint).where(d.c.id.in_(chunk))
            ):
                fingerprints[int(did)] = str(fp)
        for mid, row in best.items():
            f = facts[mid]
            f.version = row
            if row["training_dataset_id"] is not None:
                f.training = fingerprints.get(int(row["training_dataset_id"]))
            if row["evaluation_dataset_id"] is not None:
                f.evaluation = fingerprints.get(int(row["evaluation_dataset_id"]))

    def _approvals(self, facts: dict[int, RawFacts], vids: dict[int, int]) -> None:
        a, r = t.approvals, t.transition_requests
        for chunk in _chunks(sorted(vids)):
            rows = self.conn.execute(
                select(
                    r.c.version_id,
                    a.c.request_id,
                    a.c.approver,
                    a.c.decision,
                    a.c.policy,
                    a.c.artifact_sha256,
                    a.c.training_fingerprint,
                    a.c.evaluation_fingerprint,
                    a.c.at,
                )
                .join(r, r.c.id == a.c.request_id)
                .where(r.c.version_id.in_(chunk), r.c.status == "applied")
                .order_by(a.c.id)
            ).mappings()
            for row in rows:
                facts[vids[int(row["version_id"])]].approvals.append(row)

    def _check_runs(self, facts: dict[int, RawFacts], vids: dict[int, int]) -> None:
        c = t.check_runs
        for chunk in _chunks(sorted(vids)):
            rows = self.conn.execute(
                select(
                    c.c.id,
                    c.c.version_id,
                    c.c.suite,
                    c.c.passed,
                    c.c.finished_at,
                    c.c.artifact_sha256,
                )
                .where(c.c.version_id.in_(chunk))
                .order_by(c.c.finished_at)
            ).mappings()
            for row in rows:
                facts[vids[int(row["version_id"])]].check_runs.append(row)

    def _waivers(self, facts: dict[int, RawFacts], vids: dict[int, int]) -> None:
        w = t.waivers
        for chunk in _chunks(sorted(vids)):
            rows = self.conn.execute(
                select(w.c.id, w.c.version_id, w.c.requirement, w.c.expires_at, w.c.revoked_at)
                .where(w.c.version_id.in_(chunk))
                .order_by(w.c.id)
            ).mappings()
            for row in rows:
                facts[vids[int(row["version_id"])]].waivers.append(row)

    def _narratives(self, facts: dict[int, RawFacts]) -> None:
        """Current narrative fields written for the version in scope or carried from earlier.

        A field counts for the version it was written for; an earlier version's text (what
        the card shows when the version has none of its own) is recorded with that earlier
        version's number, so coverage can tell carried-over text from text confirmed now.
        """
        n, v = t.card_narratives, t.model_versions
        scope = {mid: int(f.version["version"]) for mid, f in facts.items() if f.version}
        for chunk in _chunks(sorted(scope)):
            rows = self.conn.execute(
                select(v.c.model_id, v.c.version, n.c.field)
                .join(v, v.c.id == n.c.version_id)
                .where(v.c.model_id.in_(chunk), n.c.superseded_at.is_(None))
            ).mappings()
            for row in rows:
                mid, no = int(row["model_id"]), int(row["version"])
                if no > scope[mid]:
                    continue
                held = facts[mid].narratives
                held[str(row["field"])] = max(held.get(str(row["field"]), 0), no)

    def monitor_run_counts(self, monitor_ids: Sequence[str]) -> dict[str, int]:
        """Number of runs of each monitor (monitors without runs are absent)."""
        runs = t.metadata.tables["monitor_runs"]
        out: dict[str, int] = {}
        for chunk in _chunks(list(monitor_ids)):
            query = (
                select(runs.c.monitor_id, func.count())
                .where(runs.c.monitor_id.in_(chunk))
                .group_by(runs.c.monitor_id)
            )
            for monitor_id, count in self.conn.execute(query):
                out[str(monitor_id)] = int(count)
        return out

    def _findings(self, facts: dict[int, RawFacts], ids: list[int]) -> None:
        f = t.findings
        for chunk in _chunks(ids):
            rows = self.conn.execute(
                select(f.c.id, f.c.model_id, f.c.severity, f.c.due_date)
                .where(f.c.model_id.in_(chunk), f.c.status.in_(_OPEN))
                .order_by(f.c.id)
            ).mappings()
            for row in rows:
                facts[int(row["model_id"])].open_findings.append(row)

    def _reviews(self, facts: dict[int, RawFacts], ids: list[int]) -> None:
        rv = t.reviews
        for chunk in _chunks(ids):
            newest = (
                select(rv.c.model_id, func.max(rv.c.id).label("id"))
                .where(rv.c.model_id.in_(chunk))
                .group_by(rv.c.model_id)
                .subquery()
            )
            rows = self.conn.execute(
                select(rv.c.model_id, rv.c.completed_at, rv.c.outcome).join(
                    newest, newest.c.id == rv.c.id
                )
            ).mappings()
            for row in rows:
                facts[int(row["model_id"])].last_review = row

    def _journal(self, facts: dict[int, RawFacts]) -> None:
        a = t.audit_events
        subjects: dict[tuple[str, str], int] = {}
        for mid, f in facts.items():
            name = str(f.model["name"])
            subjects[("model", name)] = mid
        # Version subjects are "<model>/<n>"; list them from the versions table.
        v = t.model_versions
        ids = list(facts)
        for chunk in _chunks(ids):
            for model_id, version in self.conn.execute(
                select(v.c.model_id, v.c.version).where(v.c.model_id.in_(chunk))
            ):
                name = str(facts[int(model_id)].model["name"])
                subjects[("version", f"{name}/{version}")] = int(model_id)
        counts: dict[int, int] = defaultdict(int)
        last: dict[int, str] = {}
        for kind in ("model", "version"):
            keys = sorted(s for (k, s) in subjects if k == kind)
            for chunk in _chunks(keys):
                rows = self.conn.execute(
                    select(a.c.subject_id, func.count(), func.max(a.c.time))
                    .where(a.c.subject_type == kind, a.c.subject_id.in_(chunk))
                    .group_by(a.c.subject_id)
                )
                for subject, n, newest in rows:
                    mid = subjects[(kind, str(subject))]
                    counts[mid] += int(n)
                    if newest is not None and str(newest) > last.get(mid, ""):
                        last[mid] = str(newest)
        for mid, f in facts.items():
            f.journal_events = counts.get(mid, 0)
            f.journal_last = last.get(mid)

    def _monitors(self, facts: dict[int, RawFacts], ids: list[int]) -> None:
        mon = t.metadata.tables["monitors"]
        alerts = t.metadata.tables["monitor_alerts"]
        v = t.model_versions
        open_alerts = (
            select(alerts.c.monitor_id, func.count().label("n"))
            .where(alerts.c.status == "open")
            .group_by(alerts.c.monitor_id)
            .subquery()
        )
        for chunk in _chunks(ids):
            rows = self.conn.execute(
                select(
                    mon.c.id,
                    mon.c.model_id,
                    mon.c.name,
                    mon.c.last_run_at,
                    v.c.version,
                    func.coalesce(open_alerts.c.n, 0).label("open_alerts"),
                )
                .join(v, v.c.id == mon.c.version_id)
                .outerjoin(open_alerts, open_alerts.c.monitor_id == mon.c.id)
                .where(
                    mon.c.model_id.in_(chunk),
                    mon.c.deleted_at.is_(None),
                    mon.c.active.is_(True),
                )
                .order_by(mon.c.id)
            ).mappings()
            for row in rows:
                facts[int(row["model_id"])].monitors.append(dict(row))


def as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@dataclass(frozen=True)
class SnapshotRow:
    """A stored compliance programme (``computed_at`` None: asked for, not computed yet)."""

    key: str
    weeks: int
    framework: str
    requested_at: datetime
    computed_at: datetime | None
    journal_seq: int | None
    seconds: float | None
    summary: dict[str, Any] | None


class ProgrammeSnapshots:
    """The ``programme_snapshots`` table: the compliance programme as last computed."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    _COLS = (
        t.programme_snapshots.c.key,
        t.programme_snapshots.c.weeks,
        t.programme_snapshots.c.framework,
        t.programme_snapshots.c.requested_at,
        t.programme_snapshots.c.computed_at,
        t.programme_snapshots.c.journal_seq,
        t.programme_snapshots.c.seconds,
        t.programme_snapshots.c.summary,
    )

    @staticmethod
    def _row(r: Any) -> SnapshotRow:
        return SnapshotRow(
            str(r.key),
            int(r.weeks),
            str(r.framework),
            r.requested_at,
            r.computed_at,
            int(r.journal_seq) if r.journal_seq is not None else None,
            float(r.seconds) if r.seconds is not None else None,
            r.summary,
        )

    def get(self, key: str) -> SnapshotRow | None:
        s = t.programme_snapshots.c
        found = self.conn.execute(select(*self._COLS).where(s.key == key)).first()
        return None if found is None else self._row(found)

    def all(self) -> list[SnapshotRow]:
        s = t.programme_snapshots.c
        return [self._row(r) for r in self.conn.execute(select(*self._COLS).order_by(s.key))]

    def plan(self, key: str, kind: str) -> str | None:
        s = t.programme_snapshots.c
        column = s.plan_csv if kind == "csv" else s.plan_md
        return self.conn.execute(select(column).where(s.key == key)).scalar_one_or_none()

    def request(self, key: str, weeks: int, framework: str, at: datetime) -> None:
        """Ask for ``key`` to be computed (nothing when it is already there)."""
        if self.get(key) is None:
            self.conn.execute(
                t.programme_snapshots.insert().values(
                    key=key, weeks=weeks, framework=framework, requested_at=at
                )
            )

    def store(
        self,
        key: str,
        weeks: int,
        framework: str,
        *,
        at: datetime,
        journal_seq: int,
        seconds: float,
        summary: dict[str, Any],
        plan_csv: str,
        plan_md: str,
    ) -> None:
        values = {
            "computed_at": at,
            "journal_seq": journal_seq,
            "seconds": seconds,
            "summary": summary,
            "plan_csv": plan_csv,
            "plan_md": plan_md,
        }
        s = t.programme_snapshots.c
        done = self.conn.execute(
            t.programme_snapshots.update().where(s.key == key).values(**values)
        )
        if done.rowcount == 0:
            self.conn.execute(
                t.programme_snapshots.insert().values(
                    key=key, weeks=weeks, framework=framework, requested_at=at, **values
                )
            )

    def models_up_to(self, limit: int) -> int:
        """How many models are not retired, counting no further than ``limit + 1``."""
        some = (
            select(t.models.c.id).where(t.models.c.status != "retired").limit(limit + 1).subquery()
        )
        return int(self.conn.execute(select(func.count()).select_from(some)).scalar_one())
