"""The SDK's dataset methods (a mixin of :class:`steward.sdk.client.Steward`).

Data the caller passes to :meth:`DatasetMethods.snapshot_dataset` is read here, on the
caller's machine: embedded, the frame goes to the service; over HTTP it is uploaded as
Parquet and the server fingerprints, profiles and checks it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from steward.compliance.modelcard import RenderedCard
    from steward.domain.datasets import (
        DataFinding,
        DataLineage,
        Dataset,
        DatasetSnapshot,
        Impact,
        Recall,
        RuleSet,
    )
    from steward.domain.discovery import Discovery
    from steward.domain.entities import Page
    from steward.sdk.backend import Backend

DATASET_FILTERS = ("owner", "steward_team", "classification", "status")


class DatasetMethods:
    _backend: Backend

    def create_dataset(self, name: str, **fields: Any) -> Dataset:
        """Register a dataset: title, description, owner, steward_team, source
        (``conn:NAME#table=…``, ``s3://…`` or a file path), classification, legal_basis,
        consent_ref, retention, licence, tags, status."""
        return self._backend.create_dataset(name, fields)

    def update_dataset(self, name: str, **fields: Any) -> Dataset:
        return self._backend.update_dataset(name, fields)

    def get_dataset(self, name: str) -> Dataset:
        return self._backend.get_dataset(name)

    def list_datasets(
        self, *, limit: int = 100, cursor: str | None = None, **filters: Any
    ) -> Page[Dataset]:
        """Filters: owner, steward_team, classification, status."""
        unknown = sorted(set(filters) - set(DATASET_FILTERS))
        if unknown:
            from steward.domain.errors import InvalidInput

            raise InvalidInput(
                f"Unknown dataset filter(s) {', '.join(unknown)}; filters are "
                f"{', '.join(DATASET_FILTERS)}."
            )
        return self._backend.list_datasets({**filters, "limit": limit, "cursor": cursor})

    def dataset_versions(self, name: str) -> list[DatasetSnapshot]:
        return self._backend.dataset_versions(name)

    def get_dataset_version(self, ref: str) -> DatasetSnapshot:
        """``NAME@VERSION``: its fingerprint, schema, profile, rule results and approvals."""
        from steward.domain.datasets import parse_ref

        name, version = parse_ref(ref)
        return self._backend.dataset_version(name, version)

    def snapshot_dataset(
        self, name: str, data: Any = None, *, source: str | None = None
    ) -> DatasetSnapshot:
        """A new dataset version from ``data`` (a frame, Arrow table or CSV/Parquet path),
        or — without data — from the dataset's recorded source."""
        frame = None
        label = source
        if data is not None:
            from steward.lineage.datasets import to_frame

            if label is None and isinstance(data, (str, Path)):
                label = Path(data).name
            frame = to_frame(data)
        return self._backend.snapshot_dataset(name, frame, label or "")

    def set_dataset_rules(self, name: str, rules: str | Path) -> RuleSet:
        """Store a new revision of the dataset's quality rules (a YAML file or its text)."""
        if isinstance(rules, Path) or (isinstance(rules, str) and "\n" not in rules):
            path = Path(rules)
            return self._backend.set_dataset_rules(
                name, path.read_text(encoding="utf-8"), path.name
            )
        return self._backend.set_dataset_rules(name, rules, "rules.yaml")

    def dataset_rules(self, name: str) -> list[RuleSet]:
        return self._backend.dataset_rules(name)

    def dataset_findings(self, name: str) -> list[DataFinding]:
        return self._backend.dataset_findings(name)

    def data_findings(
        self,
        dataset: str | None = None,
        *,
        status: str | None = None,
        severity_at_least: str | None = None,
        limit: int = 100,
    ) -> list[DataFinding]:
        """Data findings (failed quality rules) of every dataset or of ``dataset``
        (``NAME`` or ``NAME@V``), newest first; ``status``: active (default: open),
        closed (resolved) or all."""
        return self._backend.list_data_findings(
            {
                "dataset": dataset,
                "status": status,
                "severity_at_least": severity_at_least,
                "limit": limit,
            }
        )

    def approve_dataset(self, ref: str, comment: str = "") -> DatasetSnapshot:
        """A data steward approves ``NAME@VERSION`` for use (not its owner)."""
        from steward.domain.datasets import parse_ref

        name, version = parse_ref(ref)
        return self._backend.approve_dataset(name, version, comment)

    def dataset_impact(self, ref: str) -> Impact:
        """Model versions (and their deployments) built on ``NAME@VERSION``."""
        from steward.domain.datasets import parse_ref

        name, version = parse_ref(ref)
        return self._backend.dataset_impact(name, version)

    def dataset_card(
        self, name: str, format: str = "html", *, out: str | Path | None = None
    ) -> RenderedCard:
        """The dataset's card (datasheet) as ``md``, ``html`` or ``pdf`` bytes; written to
        ``out`` if given."""
        from steward.sdk.client import _written

        return _written(self._backend.dataset_card(name, format), out)

    def discover_datasets(self, connection: str) -> Discovery:
        """Tables and files behind ``conn:NAME`` that no registered dataset covers, with row
        counts (a data steward or an admin allowed on the connection)."""
        return self._backend.discover_datasets(connection)

    def recall_dataset(self, ref: str, reason: str, severity: str = "high") -> Recall:
        """A data recall: open a finding on every model version built on ``NAME@VERSION``
        (a data steward or an admin; one transaction, journalled ``dataset.recalled``)."""
        from steward.domain.datasets import parse_ref

        name, version = parse_ref(ref)
        return self._backend.recall_dataset(name, version, severity, reason)

    def version_datasets(self, model: str, version: int) -> DataLineage:
        """The registered dataset versions a model version was trained and evaluated on."""
        return self._backend.version_datasets(model, version)
