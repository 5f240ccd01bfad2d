"""The exceptions Steward raises, importable as ``steward.errors``."""

from steward.domain.errors import (
    AlreadyExists,
    ArtifactError,
    ArtifactTooLarge,
    Conflict,
    Forbidden,
    IllegalTransition,
    IntegrityError,
    InvalidInput,
    NotFound,
    SchemaOutOfDate,
    StewardError,
    Unauthenticated,
)

__all__ = [
    "AlreadyExists",
    "ArtifactError",
    "ArtifactTooLarge",
    "Conflict",
    "Forbidden",
    "IllegalTransition",
    "IntegrityError",
    "InvalidInput",
    "NotFound",
    "SchemaOutOfDate",
    "StewardError",
    "Unauthenticated",
]
