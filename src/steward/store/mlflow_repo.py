"""The MLflow link tables: which MLflow model/version each Steward model/version came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from steward.store import tables as t

_m = t.mlflow_models.c
_v = t.mlflow_versions.c


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
