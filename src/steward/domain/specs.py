"""What a caller asks for: validated inputs for creating and updating records."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from steward.domain import names
from steward.domain.entities import (
    EDITABLE_MODEL_FIELDS,
    CodeRef,
    DatasetVersion,
    Flavor,
    ModelStatus,
    PositiveMeans,
    RegulatoryCategory,
    RiskTier,
    Signature,
)
from steward.domain.errors import InvalidInput

MAX_TEXT = 10_000
MAX_SHORT = 200
MAX_PARAMS_BYTES = 256 * 1024


@dataclass(frozen=True)
class VersionSpec:
    """Metadata of a new version; the artifact bytes travel separately."""

    flavor: Flavor = Flavor.OTHER
    filename: str = "artifact.bin"
    is_directory: bool = False
    description: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    signature: Signature | None = None
    code: CodeRef | None = None
    training_data: DatasetVersion | None = None
    evaluation_data: DatasetVersion | None = None
    parent_version: int | None = None


def validate_version_spec(spec: VersionSpec) -> VersionSpec:
    if len(spec.description) > MAX_TEXT:
        raise InvalidInput(f"The description is longer than {MAX_TEXT} characters.")
    if not isinstance(spec.params, dict):
        raise InvalidInput("params must be a JSON object of name -> value.", field="params")
    try:
        encoded = json.dumps(spec.params, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"params must be JSON values (strings, numbers, booleans, lists, objects): {exc}.",
            field="params",
        ) from None
    if len(encoded) > MAX_PARAMS_BYTES:
        raise InvalidInput(f"params are larger than {MAX_PARAMS_BYTES} bytes.", field="params")
    metrics: dict[str, float] = {}
    for key, value in spec.metrics.items():
        names.tag_key(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(
                f"Metric {key!r} must be a number, got {type(value).__name__}.", field="metrics"
            )
        if not math.isfinite(value):
            raise InvalidInput(f"Metric {key!r} is {value}; metrics must be finite.")
        metrics[key] = float(value)
    tags = {names.tag_key(k): names.tag_value(k, v) for k, v in spec.tags.items()}
    if spec.parent_version is not None and (
        isinstance(spec.parent_version, bool)
        or not isinstance(spec.parent_version, int)
        or spec.parent_version < 1
    ):
        raise InvalidInput("parent_version must be a positive integer.", field="parent_version")
    if (
        not spec.filename
        or len(spec.filename) > 255
        or spec.filename in (".", "..")
        or any(c in spec.filename for c in '/\\"')
        or any(ord(c) < 32 or ord(c) == 127 for c in spec.filename)
    ):
        raise InvalidInput(
            f"Invalid artifact file name {spec.filename!r}: use 1-255 characters without "
            "slashes, quotes or control characters.",
            field="filename",
        )
    return VersionSpec(
        flavor=spec.flavor,
        filename=spec.filename,
        is_directory=spec.is_directory,
        description=spec.description,
        params=spec.params,
        metrics=metrics,
        tags=tags,
        signature=spec.signature,
        code=spec.code,
        training_data=spec.training_data,
        evaluation_data=spec.evaluation_data,
        parent_version=spec.parent_version,
    )


def _text(name: str, value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text, got {type(value).__name__}.", field=name)
    if len(value) > limit:
        raise InvalidInput(f"{name} is longer than {limit} characters.", field=name)
    return value


def _enum(name: str, cls: type[Any], value: Any) -> Any:
    try:
        return cls(value)
    except ValueError:
        options = ", ".join(m.value for m in cls)
        raise InvalidInput(
            f"Invalid {name} {value!r}; use one of: {options}.", field=name
        ) from None


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(
        f"next_review_date {value!r} is not a date; use YYYY-MM-DD.", field="next_review_date"
    )


_SHORT = {"title", "business_unit", "owner", "team"}
_LONG = {"description", "purpose"}


def model_fields(changes: dict[str, Any]) -> dict[str, Any]:
    """Validate model fields; returns the normalised values (tags sorted, enums parsed)."""
    unknown = sorted(set(changes) - set(EDITABLE_MODEL_FIELDS))
    if unknown:
        raise InvalidInput(
            f"Unknown model field(s): {', '.join(unknown)}. "
            f"Editable fields: {', '.join(EDITABLE_MODEL_FIELDS)}."
        )
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key in _SHORT:
            out[key] = _text(key, value, MAX_SHORT).strip()
        elif key in _LONG:
            out[key] = _text(key, value, MAX_TEXT)
        elif key == "risk_tier":
            out[key] = _enum(key, RiskTier, value)
        elif key == "regulatory_category":
            out[key] = _enum(key, RegulatoryCategory, value)
        elif key == "status":
            out[key] = _enum(key, ModelStatus, value)
        elif key == "tags":
            if isinstance(value, str) or not isinstance(value, list | tuple):
                raise InvalidInput("tags must be a list of labels.", field="tags")
            out[key] = names.labels(value)
        elif key == "next_review_date":
            out[key] = _date(value)
        elif key == "positive_means":
            out[key] = _enum(key, PositiveMeans, value)
        elif key == "allow_multiple_production":
            if not isinstance(value, bool):
                raise InvalidInput("allow_multiple_production must be true or false.")
            out[key] = value
    return out
