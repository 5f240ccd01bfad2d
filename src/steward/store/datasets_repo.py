"""Datasets, their versions (snapshots), quality rules and results, approvals, findings,
and the lineage queries between dataset versions and model versions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, RowMapping

from steward.domain.datasets import (
    Classification,
    DataApproval,
    DataFinding,
    Dataset,
    DatasetSnapshot,
    DatasetStatus,
    ImpactedVersion,
    Quality,
    RuleResult,
    RuleSet,
)
from steward.store import tables as t
from steward.store.versions_repo import _columns

_d = t.datasets.c
_s = t.dataset_snapshots.c
_v = t.dataset_versions.c
_r = t.dataset_rules.c
_res = t.dataset_rule_results.c
_a = t.dataset_approvals.c
_f = t.dataset_findings.c
_mv = t.model_versions.c


def _dataset(row: RowMapping, tags: list[str]) -> Dataset:
    return Dataset(
        name=row["name"],
        title=row["title"],
        description=row["description"],
        owner=row["owner"],
        steward_team=row["steward_team"],
        source=row["source"],
        classification=Classification(row["classification"]),
        legal_basis=row["legal_basis"],
        consent_ref=row["consent_ref"],
        retention=row["retention"],
        licence=row["licence"],
        tags=tags,
        status=DatasetStatus(row["status"]),
        latest_version=row["latest_version"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        updated_at=row["updated_at"],
    )


def _result(row: RowMapping) -> RuleResult:
    return RuleResult(
        rule=row["rule"],
        kind=row["kind"],
        column=row["column"],
        passed=bool(row["passed"]),
        failing_rows=int(row["failing_rows"]),
        rows=int(row["rows"]),
        samples=list(row["samples"]),
        sql=row["sql"],
        detail=row["detail"],
        line=row["line"],
    )


def _snapshot(
    r: RowMapping,
    results: list[RuleResult],
    approvals: list[DataApproval],
    profile: dict[str, Any],
) -> DatasetSnapshot:
    return DatasetSnapshot(
        dataset=r["dataset"],
        version=r["version"],
        fingerprint=r["fingerprint"],
        source=r["source"],
        rows=int(r["rows"]),
        columns=int(r["columns"]),
        schema=_columns(r["schema"]),
        profile=profile,
        quality=Quality(r["quality"]),
        rules_revision=r["rules_revision"],
        results=results,
        approvals=approvals,
        created_at=r["created_at"],
        created_by=r["created_by"],
    )


_SNAPSHOT_COLUMNS = (
    _s.id,
    _s.version,
    _s.source,
    _s.quality,
    _s.rules_revision,
    _s.created_at,
    _s.created_by,
    _v.fingerprint,
    _v.rows,
    _v.columns,
    _v.schema,
    _v.profile,
    _d.name.label("dataset"),
)


_m = t.models.c
_dc = t.deployments.c
_BUILT_ON = (
    select(_mv.id, _mv.version, _mv.stage, _mv.training_dataset_id, _m.name)
    .join(t.models, _m.id == _mv.model_id)
    .where(
        or_(
            _mv.training_dataset_id == bindparam("content"),
            _mv.evaluation_dataset_id == bindparam("content"),
        )
    )
    .order_by(_m.name, _mv.version)
)
_BUILT_IDS = select(_mv.id).where(
    or_(
        _mv.training_dataset_id == bindparam("content"),
        _mv.evaluation_dataset_id == bindparam("content"),
    )
)
_LATEST = (
    select(_dc.version_id, _dc.environment, func.max(_dc.id).label("last"))
    .where(_dc.version_id.in_(_BUILT_IDS.scalar_subquery()))
    .group_by(_dc.version_id, _dc.environment)
    .subquery()
)
_DEPLOYED = (
    select(_LATEST.c.version_id, _LATEST.c.environment, _dc.status)
    .join(t.deployments, _dc.id == _LATEST.c.last)
    .order_by(_LATEST.c.environment)
)
_DATASET = select(t.datasets).where(_d.name == bindparam("name"))
_CONTENT = select(_s.dataset_version_id).where(
    _s.dataset_id == bindparam("dataset"), _s.version == bindparam("version")
)
_FINGERPRINT = select(_v.fingerprint).where(_v.id == bindparam("content"))


class DatasetRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- inventory --------------------------------------------------------------------
    def row(self, name: str) -> RowMapping | None:
        return self.conn.execute(_DATASET, {"name": name}).mappings().first()

    def lock(self, dataset_id: int) -> None:
        """Serialise versions and approvals per dataset (SQLite locks the file anyway)."""
        self.conn.execute(select(_d.id).where(_d.id == dataset_id).with_for_update())

    def _tags(self, ids: Sequence[int]) -> dict[int, list[str]]:
        found: dict[int, list[str]] = defaultdict(list)
        if ids:
            c = t.dataset_tags.c
            query = select(c.dataset_id, c.tag).where(c.dataset_id.in_(ids)).order_by(c.tag)
            for dataset_id, tag in self.conn.execute(query):
                found[dataset_id].append(tag)
        return found

    def get(self, name: str) -> Dataset | None:
        row = self.row(name)
        return None if row is None else _dataset(row, self._tags([row["id"]])[row["id"]])

    def insert(self, values: dict[str, Any], tags: list[str]) -> int:
        dataset_id = int(
            self.conn.execute(insert(t.datasets).values(**values).returning(_d.id)).scalar_one()
        )
        self.set_tags(dataset_id, tags)
        return dataset_id

    def update(self, dataset_id: int, values: dict[str, Any]) -> None:
        self.conn.execute(update(t.datasets).where(_d.id == dataset_id).values(**values))

    def set_tags(self, dataset_id: int, tags: list[str]) -> None:
        c = t.dataset_tags.c
        self.conn.execute(delete(t.dataset_tags).where(c.dataset_id == dataset_id))
        if tags:
            self.conn.execute(
                insert(t.dataset_tags), [{"dataset_id": dataset_id, "tag": tag} for tag in tags]
            )

    def search(
        self,
        *,
        owner: str | None,
        steward_team: str | None,
        classification: str | None,
        status: str | None,
        after_name: str | None,
        limit: int,
    ) -> list[Dataset]:
        query = select(t.datasets)
        for column, value in (
            (_d.owner, owner),
            (_d.steward_team, steward_team),
            (_d.classification, classification),
            (_d.status, status),
        ):
            if value is not None:
                query = query.where(column == value)
        if after_name is not None:
            query = query.where(_d.name > after_name)
        rows = self.conn.execute(query.order_by(_d.name).limit(limit)).mappings().all()
        tags = self._tags([r["id"] for r in rows])
        return [_dataset(r, tags.get(r["id"], [])) for r in rows]

    def sources_on(self, connection: str) -> list[tuple[str, str]]:
        """``(name, source)`` of the datasets whose source names this connection."""
        prefix = f"conn:{connection}#"
        query = (
            select(_d.name, _d.source)
            .where(_d.source.startswith(prefix, autoescape=True))
            .order_by(_d.name)
        )
        return [(str(n), str(s)) for n, s in self.conn.execute(query)]

    def next_version(self, dataset_id: int, now: datetime) -> int:
        statement = (
            update(t.datasets)
            .where(_d.id == dataset_id)
            .values(latest_version=_d.latest_version + 1, updated_at=now)
            .returning(_d.latest_version)
        )
        return int(self.conn.execute(statement).scalar_one())

    # -- versions (snapshots) -----------------------------------------------------------
    def insert_snapshot(self, values: dict[str, Any]) -> int:
        statement = insert(t.dataset_snapshots).values(**values).returning(_s.id)
        return int(self.conn.execute(statement).scalar_one())

    def _snapshot_query(self) -> Any:
        return (
            select(*_SNAPSHOT_COLUMNS)
            .join(t.dataset_versions, _v.id == _s.dataset_version_id)
            .join(t.datasets, _d.id == _s.dataset_id)
        )

    def snapshot_id(self, dataset_id: int, version: int) -> int | None:
        found = self.conn.execute(
            select(_s.id).where(_s.dataset_id == dataset_id, _s.version == version)
        ).scalar_one_or_none()
        return None if found is None else int(found)

    def snapshots(
        self, dataset_id: int, version: int | None = None, *, details: bool = True
    ) -> list[DatasetSnapshot]:
        """A dataset's versions, newest first (or the one ``version``)."""
        query = self._snapshot_query().where(_s.dataset_id == dataset_id)
        if version is not None:
            query = query.where(_s.version == version)
        rows = self.conn.execute(query.order_by(_s.version.desc())).mappings().all()
        ids = [int(r["id"]) for r in rows]
        results: dict[int, list[RuleResult]] = defaultdict(list)
        if details and ids:
            found = self.conn.execute(
                select(t.dataset_rule_results)
                .where(_res.snapshot_id.in_(ids))
                .order_by(_res.snapshot_id, _res.id)
            ).mappings()
            for r in found:
                results[int(r["snapshot_id"])].append(_result(r))
        approvals = self._approvals(ids)
        return [
            _snapshot(
                r,
                results.get(int(r["id"]), []),
                approvals.get(int(r["id"]), []),
                r["profile"] if details else {},
            )
            for r in rows
        ]

    def insert_results(self, snapshot_id: int, results: Sequence[RuleResult]) -> None:
        if not results:
            return
        self.conn.execute(
            insert(t.dataset_rule_results),
            [
                {
                    "snapshot_id": snapshot_id,
                    "rule": r.rule,
                    "kind": r.kind,
                    "column": r.column,
                    "passed": r.passed,
                    "failing_rows": r.failing_rows,
                    "rows": r.rows,
                    "samples": r.samples,
                    "sql": r.sql,
                    "detail": r.detail,
                    "line": r.line,
                }
                for r in results
            ],
        )

    # -- rules ---------------------------------------------------------------------------
    def rules(self, dataset_id: int, name: str) -> list[RuleSet]:
        rows = self.conn.execute(
            select(t.dataset_rules).where(_r.dataset_id == dataset_id).order_by(_r.revision.desc())
        ).mappings()
        return [
            RuleSet(
                dataset=name,
                revision=r["revision"],
                filename=r["filename"],
                text=r["text"],
                sha256=r["sha256"],
                rules=r["rules"],
                created_at=r["created_at"],
                created_by=r["created_by"],
            )
            for r in rows
        ]

    def insert_rules(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(t.dataset_rules).values(**values))

    # -- approvals -------------------------------------------------------------------------
    def _approvals(self, snapshot_ids: Sequence[int]) -> dict[int, list[DataApproval]]:
        found: dict[int, list[DataApproval]] = defaultdict(list)
        if not snapshot_ids:
            return found
        rows = self.conn.execute(
            select(t.dataset_approvals, _s.version, _d.name)
            .join(t.dataset_snapshots, _s.id == _a.snapshot_id)
            .join(t.datasets, _d.id == _s.dataset_id)
            .where(_a.snapshot_id.in_(snapshot_ids))
            .order_by(_a.id)
        ).mappings()
        for r in rows:
            found[int(r["snapshot_id"])].append(
                DataApproval(
                    dataset=r["name"],
                    version=r["version"],
                    approver=r["approver"],
                    comment=r["comment"],
                    roles=list(r["roles"]),
                    at=r["at"],
                )
            )
        return found

    def has_approval(self, snapshot_id: int, approver: str) -> bool:
        found = self.conn.execute(
            select(_a.id).where(_a.snapshot_id == snapshot_id, _a.approver == approver)
        ).first()
        return found is not None

    def insert_approval(self, values: dict[str, Any]) -> None:
        self.conn.execute(insert(t.dataset_approvals).values(**values))

    # -- findings --------------------------------------------------------------------------
    def open_finding_rules(self, dataset_id: int) -> set[str]:
        rows = self.conn.execute(
            select(_f.rule).where(_f.dataset_id == dataset_id, _f.status == "open")
        )
        return {r[0] for r in rows}

    def insert_finding(self, values: dict[str, Any]) -> int:
        return int(
            self.conn.execute(
                insert(t.dataset_findings).values(**values).returning(_f.id)
            ).scalar_one()
        )

    def resolve_findings(
        self, dataset_id: int, rules: Sequence[str], version: int, now: datetime
    ) -> list[int]:
        if not rules:
            return []
        where = (_f.dataset_id == dataset_id, _f.status == "open", _f.rule.in_(list(rules)))
        ids = [int(r[0]) for r in self.conn.execute(select(_f.id).where(*where))]
        if ids:
            self.conn.execute(
                update(t.dataset_findings)
                .where(_f.id.in_(ids))
                .values(status="resolved", resolved_at=now, resolved_by_version=version)
            )
        return ids

    def findings(self, dataset_id: int, name: str) -> list[DataFinding]:
        rows = self.conn.execute(
            select(t.dataset_findings).where(_f.dataset_id == dataset_id).order_by(_f.id.desc())
        ).mappings()
        return [_data_finding(r, name) for r in rows]

    def search_findings(
        self,
        *,
        dataset_id: int | None,
        version: int | None,
        statuses: Sequence[str],
        severities: Sequence[str] | None,
        limit: int,
    ) -> list[DataFinding]:
        """Data findings of every dataset (or one, or one version of it), newest first."""
        query = (
            select(t.dataset_findings, _d.name.label("dataset_name"))
            .join(t.datasets, _d.id == _f.dataset_id)
            .where(_f.status.in_(list(statuses)))
            .order_by(_f.id.desc())
            .limit(limit)
        )
        if dataset_id is not None:
            query = query.where(_f.dataset_id == dataset_id)
        if version is not None:
            query = query.where(_f.version == version)
        if severities is not None:
            query = query.where(_f.severity.in_(list(severities)))
        return [_data_finding(r, r["dataset_name"]) for r in self.conn.execute(query).mappings()]

    # -- lineage ---------------------------------------------------------------------------
    def content_id(self, fingerprint: str) -> int | None:
        found = self.conn.execute(
            select(_v.id).where(_v.fingerprint == fingerprint)
        ).scalar_one_or_none()
        return None if found is None else int(found)

    def fingerprint_of(self, content_id: int) -> str:
        return str(self.conn.execute(_FINGERPRINT, {"content": content_id}).scalar_one())

    def registered(self, content_ids: Sequence[int]) -> dict[int, list[DatasetSnapshot]]:
        """The registered dataset versions of each content row (without profiles)."""
        found: dict[int, list[DatasetSnapshot]] = defaultdict(list)
        ids = [i for i in content_ids if i is not None]
        if not ids:
            return found
        query = (
            self._snapshot_query()
            .add_columns(_s.dataset_version_id)
            .where(_s.dataset_version_id.in_(ids))
            .order_by(_d.name, _s.version)
        )
        rows = self.conn.execute(query).mappings().all()
        approvals = self._approvals([int(r["id"]) for r in rows])
        for r in rows:
            found[int(r["dataset_version_id"])].append(
                _snapshot(r, [], approvals.get(int(r["id"]), []), {})
            )
        return found

    def content_of_snapshot(self, dataset_id: int, version: int) -> int | None:
        found = self.conn.execute(
            _CONTENT, {"dataset": dataset_id, "version": version}
        ).scalar_one_or_none()
        return None if found is None else int(found)

    def built_on(self, content_id: int) -> list[ImpactedVersion]:
        """Model versions trained or evaluated on a content row, with their deployments:
        index lookups on model_versions and deployments, plain tuples (thousands of rows for
        a widely used table), statements built once at import."""
        params = {"content": content_id}
        rows = self.conn.execute(_BUILT_ON, params).all()
        deployed: dict[int, list[str]] = defaultdict(list)
        if rows:
            for version_id, environment, status in self.conn.execute(_DEPLOYED, params):
                deployed[version_id].append(f"{environment} ({status})")
        return [
            ImpactedVersion(
                model=name,
                version=version,
                stage=stage,
                role="training" if training == content_id else "evaluation",
                deployments=deployed.get(vid, []),
            )
            for vid, version, stage, training, name in rows
        ]


def _data_finding(r: Any, dataset: str) -> DataFinding:
    return DataFinding(
        id=r["id"],
        dataset=dataset,
        version=r["version"],
        rule=r["rule"],
        title=r["title"],
        severity=r["severity"],
        status=r["status"],
        opened_at=r["opened_at"],
        resolved_at=r["resolved_at"],
        resolved_by_version=r["resolved_by_version"],
        message_key=r["message_key"],
        message_params=r["message_params"],
    )
