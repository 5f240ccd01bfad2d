"""What a caller chooses for a validation run (plain data: no numpy or pandas import)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Predictions:
    """Predictions mode: names of the columns holding labels, predictions and scores."""

    y_true: str = "y_true"
    y_pred: str = "y_pred"
    y_score: str | None = None
    # Row identifiers (case id, application number): never features, so never counted as
    # duplicates, leakage or drift.
    id_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValidateOptions:
    """Every face (SDK, CLI, REST) builds one of these."""

    target: str | None = None
    sensitive: tuple[str, ...] = ()
    suite: str | None = None  # a shipped suite name (or, embedded only, a .yaml path)
    suite_yaml: str | None = None  # the text of a suite file (how a file travels over HTTP)
    predictions: Predictions | None = None
    features: tuple[str, ...] | None = None
    trusted_types: tuple[str, ...] = ()
    trust_pickle: bool = False
    baseline: int | None = None  # compare with this version (default: parent, else champion)
    settings: dict[str, Any] = field(default_factory=dict)
    # "favourable" | "adverse": what a positive prediction means (default: the model's own).
    positive_means: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "sensitive": list(self.sensitive),
            "suite": self.suite,
            "suite_yaml": self.suite_yaml,
            "predictions": None
            if self.predictions is None
            else {
                "y_true": self.predictions.y_true,
                "y_pred": self.predictions.y_pred,
                "y_score": self.predictions.y_score,
                "id_columns": list(self.predictions.id_columns),
            },
            "features": None if self.features is None else list(self.features),
            "trusted_types": list(self.trusted_types),
            "trust_pickle": self.trust_pickle,
            "baseline": self.baseline,
            "settings": self.settings,
            "positive_means": self.positive_means,
        }
