"""Personal data in datasets: the scan of a dataset version's columns (at every snapshot,
and again on request), a person's confirmation or override of each column's
classification, the masking of rule-result samples, and what the
``personal_data_reviewed`` gate requirement judges (docs/datasets.md, "Personal data").

Who decides a column's classification is judged like every dataset write: its owner, a
member of its steward team, a data steward or an admin (``dataset:write`` on the object).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from steward.domain import datasets as rules
from steward.domain import personal_data as pd_rules
from steward.domain.audit import Action
from steward.domain.datasets import Classification as Level
from steward.domain.datasets import RuleResult
from steward.domain.errors import Conflict, InvalidInput, NotFound
from steward.domain.gate import PersonalDataFact
from steward.domain.permissions import Permission, Principal, ensure
from steward.domain.personal_data import ColumnClass, ColumnScan, PersonalData
from steward.services import datasets
from steward.services.context import Context
from steward.store.uow import UnitOfWork


def scan_frame(frame: Any, now: datetime) -> list[ColumnScan]:
    """The scan of a frame's columns (DuckDB over a sample; numpy for check digits)."""
    from steward.validation import personal_data as engine

    return engine.scan(frame, now)


def personal_columns(uow: UnitOfWork, dataset_id: int, scans: list[ColumnScan]) -> set[str]:
    """Columns whose values are personal data: as reviewed, else as this scan detected."""
    reviews = uow.personal_data.reviews([dataset_id], {dataset_id: ""})[dataset_id]
    out = {s.column for s in scans if ColumnClass(s, reviews.get(s.column)).personal}
    out |= {c for c, r in reviews.items() if r.categories}
    return out


def mask_results(results: list[RuleResult], personal: set[str]) -> list[RuleResult]:
    """Rule-result samples with every personal-data column's values masked."""
    if not personal:
        return results
    return [
        replace(
            r,
            samples=[
                {
                    k: (pd_rules.mask(v) if k in personal and v is not None else v)
                    for k, v in s.items()
                }
                for s in r.samples
            ],
        )
        for r in results
    ]


def _snapshot(uow: UnitOfWork, ref: str) -> tuple[Any, int, int]:
    """(dataset row, version, snapshot id) of ``NAME@V``."""
    name, version = rules.parse_ref(ref)
    row = datasets.dataset_row(uow, name)
    snapshot_id = uow.datasets.snapshot_id(row["id"], version)
    if snapshot_id is None:
        raise NotFound(
            f"Dataset {name!r} has no version {version}; it has {row['latest_version']} "
            f"(`steward dataset show {name}`).",
            dataset=name,
        )
    return row, version, snapshot_id


def _classification(uow: UnitOfWork, row: Any, version: int, snapshot_id: int) -> PersonalData:
    scans = uow.personal_data.scans([snapshot_id])[snapshot_id]
    reviews = uow.personal_data.reviews([row["id"]], {row["id"]: row["name"]})[row["id"]]
    return PersonalData(
        dataset=row["name"],
        version=version,
        columns=[ColumnClass(s, reviews.get(s.column)) for s in scans],
    )


def classification(ctx: Context, principal: Principal, ref: str) -> PersonalData:
    """A dataset version's columns: what the scan detected and what a person decided."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        return classification_in_uow(uow, ref)


def classification_in_uow(uow: UnitOfWork, ref: str) -> PersonalData:
    row, version, snapshot_id = _snapshot(uow, ref)
    return _classification(uow, row, version, snapshot_id)


def scan(
    ctx: Context, principal: Principal, ref: str, data: Any = None, *, rescan: bool = False
) -> PersonalData:
    """The version's stored scan; or, when it has none (snapshot before scans existed), or
    ``rescan``, or ``data`` is given, a new scan of its rows — which must be the version's
    rows (same fingerprint), read from ``data`` or the dataset's recorded source."""
    from steward.lineage import datasets as lineage
    from steward.services.data_quality import _read_source
    from steward.validation.loading import load_data

    name, _ = rules.parse_ref(ref)
    with ctx.uow.read() as uow:
        row, version, snapshot_id = _snapshot(uow, ref)
        found = _classification(uow, row, version, snapshot_id)
        fingerprint = uow.datasets.snapshots(row["id"], version, details=False)[0].fingerprint
    if found.columns and not rescan and data is None:
        ensure(principal, Permission.GOVERNANCE_READ)
        return found
    datasets.check_first(ctx, principal, Permission.DATASET_WRITE, name)
    frame = _read_source(ctx, principal, row["source"]) if data is None else load_data(data, "data")
    if lineage.fingerprint(frame) != fingerprint:
        raise Conflict(
            f"These rows are not {name}@{version}'s (fingerprint {fingerprint[:12]}…): the "
            f"source changed since. Scan the rows that were snapshot (--data FILE), or snapshot "
            f"the current rows as a new version (`steward dataset snapshot {name}`).",
            dataset=name,
        )
    scans = scan_frame(frame, ctx.uow.clock())
    with ctx.uow.write() as uow:
        row = datasets.ensure_dataset(uow, principal, Permission.DATASET_WRITE, name)
        uow.datasets.lock(row["id"])
        uow.personal_data.replace_scans(snapshot_id, scans)
        result = _classification(uow, row, version, snapshot_id)
        uow.record(
            principal.name,
            Action.DATASET_SCANNED,
            "dataset",
            f"{name}@{version}",
            {
                "fingerprint": fingerprint,
                "sampled": max((s.sampled for s in scans), default=0),
                "personal": {
                    c.column: c.scan.categories for c in result.columns if c.scan.detections
                },
            },
        )
        uow.commit()
    return result


def classify(
    ctx: Context,
    principal: Principal,
    ref: str,
    column: str,
    categories: list[str] | str | None,
    reason: str = "",
) -> ColumnClass:
    """Confirm (``categories`` None: as detected) or override a column's classification;
    an override needs a reason. Holds for the dataset's later versions until a scan
    detects a category this decision did not see."""
    name, _ = rules.parse_ref(ref)
    datasets.check_first(ctx, principal, Permission.DATASET_WRITE, name)
    column = str(column or "")
    with ctx.uow.write() as uow:
        row = datasets.ensure_dataset(uow, principal, Permission.DATASET_WRITE, name)
        uow.datasets.lock(row["id"])
        row, version, snapshot_id = _snapshot(uow, ref)
        current = _classification(uow, row, version, snapshot_id)
        target = next((c for c in current.columns if c.column == column), None)
        if target is None:
            listed = ", ".join(c.column for c in current.columns) or "none: scan it first"
            raise InvalidInput(
                f"{name}@{version} has no scanned column {column!r}; its columns: {listed} "
                f"(`steward dataset scan {name}@{version}`).",
                field="column",
            )
        detected = target.scan.categories
        decided = detected if categories is None else pd_rules.parse_categories(categories)
        decision, why = pd_rules.check_review(decided, detected, reason)
        before = (
            {"decision": target.review.decision, "categories": target.review.categories}
            if target.review
            else None
        )
        uow.personal_data.save_review(
            row["id"],
            {
                "column": column,
                "decision": decision,
                "categories": decided,
                "detected": detected,
                "reason": why,
                "reviewed_by": principal.name,
                "reviewed_at": uow.now,
            },
        )
        uow.record(
            principal.name,
            Action.DATASET_COLUMN_CLASSIFIED,
            "dataset",
            name,
            {
                "version": version,
                "column": column,
                "decision": decision,
                "before": before,
                "after": decided,
                "detected": detected,
                "reason": why,
            },
        )
        result = _classification(uow, row, version, snapshot_id)
        uow.commit()
    return next(c for c in result.columns if c.column == column)


def gate_facts(uow: UnitOfWork, version_row: Any) -> list[PersonalDataFact]:
    """Per registered dataset version sharing the model version's training fingerprint: is
    it scanned, which personal-data columns are unreviewed, is it restricted, on what basis."""
    content = version_row["training_dataset_id"]
    if content is None:
        return []
    out = []
    for snap in uow.datasets.registered([content]).get(content, []):
        row = datasets.dataset_row(uow, snap.dataset)
        snapshot_id = uow.datasets.snapshot_id(row["id"], snap.version)
        assert snapshot_id is not None
        found = _classification(uow, row, snap.version, snapshot_id)
        out.append(
            PersonalDataFact(
                ref=snap.ref,
                scanned=bool(found.columns),
                unreviewed=tuple(
                    f"{c.column} ({', '.join(c.scan.categories)})" for c in found.unreviewed
                ),
                restricted=row["classification"] == Level.RESTRICTED.value
                or any(c.special for c in found.columns),
                legal_basis=str(row["legal_basis"] or ""),
            )
        )
    return out
