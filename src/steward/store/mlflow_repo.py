"""The MLflow link tables: which MLflow model/version each Steward model/version came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from steward.store import tables as t

_m = t.mlflow_models.c
_v = t.mlflow_versions.c
_w = t.mlflow_writebacks.c
_r = t.mlflow_sync_requests.c


@dataclass(frozen=True)
class ModelLink:
    source: str
    mlflow_name: str
    model: str  # the Steward model name
    description: str
    tags: dict[str, str]


@dataclass(frozen=True)
class VersionLink:
    source: str
    mlflow_name: str
    mlflow_version: int
    model: str
    version: int  # the Steward version number
    run_id: str | None
    mlflow_stage: str
    stage: str  # the Steward version's stage now
    artifact_sha256: str


@dataclass(frozen=True)
class WriteBack:
    """What Steward last wrote to one MLflow target, and the retry state of the last try."""

    source: str
    mlflow_name: str
    target: str  # "version:N" or "alias:NAME"
    written: dict[str, Any] | None
    attempts: int
    next_at: datetime | None
    last_error: str | None
    updated_at: datetime


class MlflowLinkRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def model_link(self, source: str, mlflow_name: str) -> ModelLink | None:
        rows = self.models(source, mlflow_name)
        return rows[0] if rows else None

    def models(self, source: str | None = None, mlflow_name: str | None = None) -> list[ModelLink]:
        query = select(t.mlflow_models, t.models.c.name.label("model")).join(
            t.models, t.models.c.id == _m.model_id
        )
        if source is not None:
            query = query.where(_m.source == source)
        if mlflow_name is not None:
            query = query.where(_m.mlflow_name == mlflow_name)
        return [
            ModelLink(r.source, r.mlflow_name, r.model, r.description, dict(r.tags or {}))
            for r in self.conn.execute(query.order_by(_m.source, _m.mlflow_name))
        ]

    def link_model(
        self,
        source: str,
        mlflow_name: str,
        model_id: int,
        description: str,
        tags: dict[str, str],
        now: datetime,
        actor: str,
    ) -> None:
        self.conn.execute(
            insert(t.mlflow_models).values(
                source=source,
                mlflow_name=mlflow_name,
                model_id=model_id,
                description=description,
                tags=tags,
                linked_at=now,
                linked_by=actor,
            )
        )

    def update_model(
        self, source: str, mlflow_name: str, description: str, tags: dict[str, str]
    ) -> None:
        self.conn.execute(
            update(t.mlflow_models)
            .where(_m.source == source, _m.mlflow_name == mlflow_name)
            .values(description=description, tags=tags)
        )

    def versions(
        self, source: str | None = None, mlflow_name: str | None = None
    ) -> list[VersionLink]:
        mv = t.model_versions.c
        query = (
            select(
                t.mlflow_versions,
                t.models.c.name.label("model"),
                mv.version,
                mv.stage,
                mv.artifact_sha256,
            )
            .join(t.model_versions, mv.id == _v.version_id)
            .join(t.models, t.models.c.id == mv.model_id)
        )
        if source is not None:
            query = query.where(_v.source == source)
        if mlflow_name is not None:
            query = query.where(_v.mlflow_name == mlflow_name)
        query = query.order_by(_v.source, _v.mlflow_name, _v.mlflow_version)
        return [_version_link(r) for r in self.conn.execute(query)]

    def link_version(
        self,
        source: str,
        mlflow_name: str,
        mlflow_version: int,
        version_id: int,
        run_id: str | None,
        mlflow_stage: str,
        now: datetime,
    ) -> None:
        self.conn.execute(
            insert(t.mlflow_versions).values(
                source=source,
                mlflow_name=mlflow_name,
                mlflow_version=mlflow_version,
                version_id=version_id,
                run_id=run_id,
                mlflow_stage=mlflow_stage,
                imported_at=now,
            )
        )

    def set_version_stage(
        self, source: str, mlflow_name: str, mlflow_version: int, stage: str
    ) -> None:
        self.conn.execute(
            update(t.mlflow_versions)
            .where(
                _v.source == source,
                _v.mlflow_name == mlflow_name,
                _v.mlflow_version == mlflow_version,
            )
            .values(mlflow_stage=stage)
        )

    # -- write-back state ----------------------------------------------------------------------

    def writebacks(self, source: str | None = None) -> dict[tuple[str, str], WriteBack]:
        """Keyed by (MLflow name, target)."""
        query = select(t.mlflow_writebacks)
        if source is not None:
            query = query.where(_w.source == source)
        return {
            (r.mlflow_name, r.target): WriteBack(
                r.source,
                r.mlflow_name,
                r.target,
                r.written,
                int(r.attempts),
                r.next_at,
                r.last_error,
                r.updated_at,
            )
            for r in self.conn.execute(query)
        }

    def _upsert(
        self,
        source: str,
        mlflow_name: str,
        target: str,
        values: dict[str, Any],
        new_only: dict[str, Any] | None = None,
    ) -> None:
        """Update the row, or insert it with ``values`` and ``new_only``."""
        where = (_w.source == source, _w.mlflow_name == mlflow_name, _w.target == target)
        done = self.conn.execute(update(t.mlflow_writebacks).where(*where).values(**values))
        if not done.rowcount:
            self.conn.execute(
                insert(t.mlflow_writebacks).values(
                    source=source,
                    mlflow_name=mlflow_name,
                    target=target,
                    **values,
                    **(new_only or {}),
                )
            )

    def wrote(
        self,
        source: str,
        mlflow_name: str,
        target: str,
        written: dict[str, Any],
        now: datetime,
    ) -> None:
        values = {"written": written, "attempts": 0, "next_at": None, "last_error": None}
        self._upsert(source, mlflow_name, target, {**values, "updated_at": now})

    def write_failed(
        self,
        source: str,
        mlflow_name: str,
        target: str,
        attempts: int,
        error: str,
        next_at: datetime,
        now: datetime,
    ) -> None:
        """Record a failed write; what was last written (``written``) stays as it was."""
        values = {"attempts": attempts, "next_at": next_at, "last_error": error[:2000]}
        self._upsert(
            source, mlflow_name, target, {**values, "updated_at": now}, new_only={"written": None}
        )

    # -- webhook-requested syncs ---------------------------------------------------------------

    def request_sync(
        self, delivery_id: str, event: str, mlflow_name: str | None, now: datetime
    ) -> bool:
        """False when this delivery id was accepted before (a replay)."""
        if self.conn.execute(select(_r.delivery_id).where(_r.delivery_id == delivery_id)).first():
            return False
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(t.mlflow_sync_requests).values(
                        delivery_id=delivery_id,
                        event=event,
                        mlflow_name=mlflow_name,
                        received_at=now,
                    )
                )
        except IntegrityError:  # the same delivery, accepted by another process meanwhile
            return False
        return True

    def sync_requested(self) -> int:
        """Webhook deliveries no sync has taken yet."""
        query = (
            select(func.count()).select_from(t.mlflow_sync_requests).where(_r.taken_at.is_(None))
        )
        return int(self.conn.execute(query).scalar_one())

    def take_sync_requests(self, now: datetime) -> int:
        done = self.conn.execute(
            update(t.mlflow_sync_requests).where(_r.taken_at.is_(None)).values(taken_at=now)
        )
        return int(done.rowcount or 0)


def _version_link(r: Any) -> VersionLink:
    return VersionLink(
        source=r.source,
        mlflow_name=r.mlflow_name,
        mlflow_version=int(r.mlflow_version),
        model=r.model,
        version=int(r.version),
        run_id=r.run_id,
        mlflow_stage=r.mlflow_stage,
        stage=r.stage,
        artifact_sha256=r.artifact_sha256,
    )
