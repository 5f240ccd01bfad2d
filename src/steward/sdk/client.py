"""The public SDK client: ``steward.connect()`` returns one of these.

Client-side work (serialising the model, fingerprinting and profiling data,
capturing git lineage) happens here, identically for both backends; only the
final calls differ, and they raise the same :mod:`steward.errors` exceptions.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from steward.artifacts import packaging
from steward.domain.audit import AuditEvent, Verification
from steward.domain.entities import (
    HistoryEntry,
    Model,
    ModelVersion,
    NewToken,
    Page,
    Signature,
    TokenInfo,
    Transition,
    TransitionResult,
)
from steward.domain.lifecycle import Decision
from steward.domain.specs import VersionSpec
from steward.sdk.backend import Backend
from steward.store.audit_repo import AuditFilter

MODEL_FILTERS = ("owner", "team", "risk_tier", "regulatory_category", "status", "stage", "tag", "q")


class Steward:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    @property
    def actor(self) -> str:
        return self._backend.actor

    # -- inventory ----------------------------------------------------------------
    def create_model(self, name: str, **fields: Any) -> Model:
        """Register a model: title, description, purpose, business_unit, owner, team, tags..."""
        return self._backend.create_model(name, fields)

    def update_model(self, name: str, **fields: Any) -> Model:
        return self._backend.update_model(name, fields)

    def get_model(self, name: str) -> Model:
        return self._backend.get_model(name)

    def list_models(
        self, *, limit: int = 100, cursor: str | None = None, **filters: Any
    ) -> Page[Model]:
        """Filters: owner, team, risk_tier, regulatory_category, status, stage, tag, q."""
        unknown = sorted(set(filters) - set(MODEL_FILTERS))
        if unknown:
            # Checked here so both backends refuse alike (a server ignores unknown
            # query parameters, which would silently return everything).
            from steward.domain.errors import InvalidInput

            raise InvalidInput(
                f"Unknown model filter(s): {', '.join(unknown)}. "
                f"Filter by: {', '.join(MODEL_FILTERS)}."
            )
        return self._backend.list_models({**filters, "limit": limit, "cursor": cursor})

    # -- versions -----------------------------------------------------------------
    def log_version(
        self,
        model_name: str,
        model: Any = None,
        *,
        artifact: str | Path | None = None,
        flavor: str | None = None,
        training_data: Any = None,
        evaluation_data: Any = None,
        target: str | None = None,
        params: dict[str, Any] | None = None,
        metrics: dict[str, float] | None = None,
        tags: dict[str, str] | None = None,
        description: str = "",
        parent_version: int | None = None,
        capture_git: bool = True,
        code_path: str | Path | None = None,
    ) -> ModelVersion:
        """Store a new version: the model object (or an artifact file/folder) plus lineage."""
        from steward.lineage import datasets, git

        if (model is None) == (artifact is None):
            from steward.domain.errors import InvalidInput

            raise InvalidInput("Pass either a model object or an artifact path (exactly one).")
        source = artifact if artifact is not None else model
        training = (
            datasets.describe(training_data, name=f"{model_name}-training")
            if training_data is not None
            else None
        )
        evaluation = (
            datasets.describe(evaluation_data, name=f"{model_name}-evaluation")
            if evaluation_data is not None
            else None
        )
        signature = None
        if training_data is not None:
            inputs, outputs = datasets.infer_signature_columns(training_data, target, model)
            signature = Signature(inputs=inputs, outputs=outputs)
        code = git.capture(Path(code_path) if code_path else _caller_dir()) if capture_git else None
        prepared = packaging.prepare(source, flavor=flavor)
        try:
            spec = VersionSpec(
                flavor=prepared.flavor,
                filename=prepared.filename,
                is_directory=prepared.is_directory,
                description=description,
                params=params or {},
                metrics=metrics or {},
                tags=tags or {},
                signature=signature,
                code=code,
                training_data=training,
                evaluation_data=evaluation,
                parent_version=parent_version,
            )
            return self._backend.create_version(model_name, spec, prepared.path, prepared.sha256)
        finally:
            prepared.cleanup()

    def get_version(self, model: str, version: int | str) -> ModelVersion:
        """``version`` is a number or an alias such as ``"champion"``."""
        if isinstance(version, str) and not version.isdigit():
            return self._backend.get_by_alias(model, version)
        return self._backend.get_version(model, int(version))

    def list_versions(
        self,
        model: str,
        *,
        stage: str | None = None,
        tag: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[ModelVersion]:
        return self._backend.list_versions(
            model, {"stage": stage, "tag": tag, "limit": limit, "cursor": cursor}
        )

    def search_versions(
        self,
        *,
        tag: str | None = None,
        stage: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[ModelVersion]:
        """Across all models; ``tag`` is ``key`` or ``key=value``."""
        return self._backend.list_versions(
            None, {"stage": stage, "tag": tag, "limit": limit, "cursor": cursor}
        )

    def download(self, model: str, version: int | str, dest: str | Path) -> Path:
        """Write the exact stored bytes (verified against the hash); folders are unpacked.

        Into an existing folder, a file artifact is written under its own name; so is a
        folder artifact unless that folder is empty (then it is unpacked right there).
        """
        found = self.get_version(model, version)
        # absolute(): "." (the CLI's default) has no name to derive a temporary file from.
        target = Path(dest).absolute()
        if target.is_dir() and (not found.artifact.is_directory or any(target.iterdir())):
            target = target / found.artifact.filename
        if found.artifact.is_directory:
            tar = target.with_name(f".{target.name}.tar")
            try:
                self._backend.download(model, found.version, tar)
                packaging.extract_directory(tar, target)
            finally:
                tar.unlink(missing_ok=True)
        else:
            self._backend.download(model, found.version, target)
        return target

    def load_model(
        self, model: str, version: int | str, *, trusted: list[str] | None = None
    ) -> Any:
        """Load a scikit-learn (skops) version. Unknown types must be listed in ``trusted``."""
        import tempfile

        import skops.io as sio

        found = self.get_version(model, version)
        if found.artifact.flavor.value != "sklearn":
            from steward.domain.errors import ArtifactError

            raise ArtifactError(
                f"Version {found.version} of {model!r} is a {found.artifact.flavor.value} "
                "artifact; use download() and that framework's loader."
            )
        with tempfile.TemporaryDirectory() as tmp:
            path = self.download(model, found.version, Path(tmp) / found.artifact.filename)
            data = path.read_bytes()
        untrusted = sio.get_untrusted_types(data=data)
        refused = sorted(set(untrusted) - set(trusted or []))
        if refused:
            from steward.domain.errors import ArtifactError

            raise ArtifactError(
                "This artifact contains types skops does not trust by default: "
                f"{', '.join(refused)}. Review them and pass trusted=[...] to load it."
            )
        return sio.loads(data, trusted=untrusted)

    # -- aliases and lifecycle -----------------------------------------------------
    def set_alias(self, model: str, alias: str, version: int) -> ModelVersion:
        return self._backend.set_alias(model, alias, version)

    def delete_alias(self, model: str, alias: str) -> None:
        self._backend.delete_alias(model, alias)

    def transition(
        self, model: str, version: int, *, to: str, justification: str
    ) -> TransitionResult:
        return self._backend.transition(model, version, to, justification)

    def check_transition(self, model: str, version: int, *, to: str) -> Decision:
        return self._backend.check_transition(model, version, to)

    def transitions(self, model: str, version: int) -> list[Transition]:
        return self._backend.transitions(model, version)

    def history(
        self, model: str | None = None, *, at: datetime | None = None
    ) -> list[HistoryEntry]:
        """What each model had in production and under each alias at ``at`` (default now)."""
        return self._backend.history(at or datetime.now(UTC), model)

    # -- audit and tokens -----------------------------------------------------------
    def audit_events(self, *, limit: int = 100, **filters: Any) -> list[AuditEvent]:
        return self._backend.audit_events(AuditFilter(**filters), limit)

    def verify_audit(self, *, workers: int = 1, anchors: Sequence[str] = ()) -> Verification:
        """Recompute the chain; ``workers`` > 1 checks segments in parallel (embedded only).

        ``anchors`` are ``"SEQ:HASH"`` heads recorded earlier outside the database; they
        reveal deleted newest events or a rewritten tail, which the chain alone cannot.
        """
        return self._backend.verify_audit(workers, anchors)

    def export_audit(self, dest: str | Path) -> int:
        return self._backend.export_audit(Path(dest))

    def create_token(
        self, user: str, *, name: str = "", expires_in_days: int | None = None
    ) -> NewToken:
        return self._backend.create_token(user, name, expires_in_days)

    def list_tokens(self, user: str | None = None) -> list[TokenInfo]:
        return self._backend.list_tokens(user)

    def revoke_token(self, token_id: str) -> TokenInfo:
        return self._backend.revoke_token(token_id)

    # -- lifetime --------------------------------------------------------------------
    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> Steward:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _caller_dir() -> Path:
    """The folder of the script that called the SDK (falls back to the working dir)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return Path(path).resolve().parent if path else Path.cwd()
