"""Embedded backend: calls the service layer in-process."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from steward.domain.audit import AuditEvent, Verification
from steward.domain.entities import (
    HistoryEntry,
    Model,
    ModelVersion,
    NewToken,
    Page,
    TokenInfo,
    Transition,
    TransitionResult,
)
from steward.domain.lifecycle import Decision
from steward.domain.permissions import OPERATOR, Principal
from steward.domain.specs import VersionSpec
from steward.services import audit, lifecycle, models, tokens, versions
from steward.services.context import Context
from steward.store.audit_repo import AuditFilter


class LocalBackend:
    def __init__(self, ctx: Context, actor: str) -> None:
        self.ctx = ctx
        self._actor = actor
        self.principal = Principal(name=actor, roles=frozenset({OPERATOR}))

    @property
    def actor(self) -> str:
        return self._actor

    def create_model(self, name: str, fields: dict[str, Any]) -> Model:
        return models.create_model(self.ctx, self.principal, name, **fields)

    def update_model(self, name: str, fields: dict[str, Any]) -> Model:
        return models.update_model(self.ctx, self.principal, name, **fields)

    def get_model(self, name: str) -> Model:
        return models.get_model(self.ctx, self.principal, name)

    def list_models(self, filters: dict[str, Any]) -> Page[Model]:
        return models.list_models(self.ctx, self.principal, **filters)

    def create_version(
        self, model: str, spec: VersionSpec, artifact: Path, sha256: str
    ) -> ModelVersion:
        return versions.create_version(
            self.ctx, self.principal, model, spec, artifact, sha256=sha256
        )

    def get_version(self, model: str, version: int) -> ModelVersion:
        return versions.get_version(self.ctx, self.principal, model, version)

    def list_versions(self, model: str | None, filters: dict[str, Any]) -> Page[ModelVersion]:
        return versions.list_versions(self.ctx, self.principal, model, **filters)

    def download(self, model: str, version: int, dest: Path) -> ModelVersion:
        return versions.download_artifact(self.ctx, self.principal, model, version, dest)

    def set_alias(self, model: str, alias: str, version: int) -> ModelVersion:
        return versions.set_alias(self.ctx, self.principal, model, alias, version)

    def get_by_alias(self, model: str, alias: str) -> ModelVersion:
        return versions.get_by_alias(self.ctx, self.principal, model, alias)

    def delete_alias(self, model: str, alias: str) -> None:
        versions.delete_alias(self.ctx, self.principal, model, alias)

    def transition(self, model: str, version: int, to: str, justification: str) -> TransitionResult:
        return lifecycle.transition(self.ctx, self.principal, model, version, to, justification)

    def check_transition(self, model: str, version: int, to: str) -> Decision:
        return lifecycle.check_transition(self.ctx, self.principal, model, version, to)

    def transitions(self, model: str, version: int) -> list[Transition]:
        return lifecycle.transitions(self.ctx, self.principal, model, version)

    def history(self, at: datetime, model: str | None) -> list[HistoryEntry]:
        return lifecycle.history(self.ctx, self.principal, at=at, model=model)

    def audit_events(self, flt: AuditFilter, limit: int) -> list[AuditEvent]:
        return audit.list_events(self.ctx, self.principal, flt, limit)

    def verify_audit(self, workers: int = 1, anchors: Sequence[str] = ()) -> Verification:
        return audit.verify(self.ctx, self.principal, workers=workers, anchors=anchors)

    def export_audit(self, dest: Path) -> int:
        count = 0
        with dest.open("w", encoding="utf-8") as out:
            for line in audit.export_lines(self.ctx, self.principal):
                out.write(line)
                count += 1
        return count

    def create_token(self, user: str, name: str, expires_in_days: int | None) -> NewToken:
        return tokens.create_token(
            self.ctx, self.principal, user=user, name=name, expires_in_days=expires_in_days
        )

    def list_tokens(self, user: str | None) -> list[TokenInfo]:
        return tokens.list_tokens(self.ctx, self.principal, user)

    def revoke_token(self, token_id: str) -> TokenInfo:
        return tokens.revoke_token(self.ctx, self.principal, token_id)

    def close(self) -> None:
        self.ctx.uow.engine.dispose()
