"""The SDK's personal-data methods (a mixin of :class:`steward.sdk.client.Steward`):
a dataset version's scan per column and the review of each column's classification."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from steward.domain.datasets import parse_ref
from steward.domain.personal_data import ColumnClass, PersonalData

if TYPE_CHECKING:
    from steward.sdk.backend import Backend


class PersonalDataMethods:
    _backend: Backend

    def dataset_personal_data(self, ref: str) -> PersonalData:
        """``NAME@VERSION``'s columns: detected personal-data categories and reviews."""
        name, version = parse_ref(ref)
        return self._backend.dataset_personal_data(name, version)

    def scan_dataset(self, ref: str, data: Any = None, *, rescan: bool = False) -> PersonalData:
        """The version's stored scan, or a new one of ``data`` (its rows: a frame, Arrow
        table or CSV/Parquet path) or — with ``rescan`` — of its recorded source."""
        name, version = parse_ref(ref)
        frame = None
        if data is not None:
            from steward.lineage.datasets import to_frame

            frame = to_frame(data)
        return self._backend.scan_dataset(name, version, frame, rescan or frame is not None)

    def classify_column(
        self,
        ref: str,
        column: str,
        categories: list[str] | None = None,
        reason: str = "",
    ) -> ColumnClass:
        """Confirm what the scan detected (``categories`` None) or override it with the
        categories the column really holds (``[]``: none) and a reason."""
        name, version = parse_ref(ref)
        return self._backend.classify_column(name, version, column, categories, reason)
