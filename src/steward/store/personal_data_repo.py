"""Personal-data scans of dataset versions and the reviews of dataset columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from steward.domain.personal_data import Category, ColumnReview, ColumnScan, Detection
from steward.store import tables as t

_cs = t.dataset_column_scans.c
_cr = t.dataset_column_reviews.c


class PersonalDataRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def replace_scans(self, snapshot_id: int, scans: Sequence[ColumnScan]) -> None:
        self.conn.execute(delete(t.dataset_column_scans).where(_cs.snapshot_id == snapshot_id))
        if not scans:
            return
        self.conn.execute(
            insert(t.dataset_column_scans),
            [
                {
                    "snapshot_id": snapshot_id,
                    "column": s.column,
                    "sampled": s.sampled,
                    "rows": s.rows,
                    "detections": [
                        {
                            "category": d.category.value,
                            "share": d.share,
                            "matches": d.matches,
                            "evidence": d.evidence,
                        }
                        for d in s.detections
                    ],
                    "examples": list(s.examples),
                }
                for s in scans
            ],
        )

    def scans(self, snapshot_ids: Sequence[int]) -> dict[int, list[ColumnScan]]:
        """Per snapshot, its column scans in column order of the scan (empty: never scanned)."""
        out: dict[int, list[ColumnScan]] = {i: [] for i in snapshot_ids}
        if not snapshot_ids:
            return out
        rows = self.conn.execute(
            select(t.dataset_column_scans)
            .where(_cs.snapshot_id.in_(list(snapshot_ids)))
            .order_by(_cs.snapshot_id, _cs.id)
        ).mappings()
        for row in rows:
            out[row["snapshot_id"]].append(
                ColumnScan(
                    column=row["column"],
                    sampled=int(row["sampled"]),
                    rows=int(row["rows"]),
                    detections=[
                        Detection(
                            Category(d["category"]),
                            float(d["share"]),
                            int(d["matches"]),
                            str(d["evidence"]),
                        )
                        for d in row["detections"]
                    ],
                    examples=[str(e) for e in row["examples"]],
                )
            )
        return out

    def reviews(
        self, dataset_ids: Sequence[int], names: dict[int, str]
    ) -> dict[int, dict[str, ColumnReview]]:
        out: dict[int, dict[str, ColumnReview]] = {i: {} for i in dataset_ids}
        if not dataset_ids:
            return out
        rows = self.conn.execute(
            select(t.dataset_column_reviews).where(_cr.dataset_id.in_(list(dataset_ids)))
        ).mappings()
        for row in rows:
            out[row["dataset_id"]][row["column"]] = ColumnReview(
                dataset=names[row["dataset_id"]],
                column=row["column"],
                decision=row["decision"],
                categories=list(row["categories"]),
                detected=list(row["detected"]),
                reason=row["reason"],
                reviewed_by=row["reviewed_by"],
                reviewed_at=row["reviewed_at"],
            )
        return out

    def save_review(self, dataset_id: int, values: dict[str, Any]) -> None:
        found = self.conn.execute(
            update(t.dataset_column_reviews)
            .where(_cr.dataset_id == dataset_id, _cr.column == values["column"])
            .values(**values)
        )
        if not found.rowcount:
            self.conn.execute(
                insert(t.dataset_column_reviews).values(dataset_id=dataset_id, **values)
            )
