"""Validation of the identifiers users type: model names, aliases, tags."""

from __future__ import annotations

import re

from steward.domain.errors import InvalidInput

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_ALIAS = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_TAG_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")
MAX_TAG_VALUE = 5000


def model_name(value: str) -> str:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise InvalidInput(
            f"Invalid model name {value!r}: use 1-100 lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (for example 'credit-scoring').",
            field="name",
        )
    return value


def alias(value: str) -> str:
    if not isinstance(value, str) or not _ALIAS.match(value) or value.isdigit():
        raise InvalidInput(
            f"Invalid alias {value!r}: use 1-63 lowercase letters, digits, '_' or '-', "
            "starting with a letter (for example 'champion').",
            field="alias",
        )
    if value in {"latest"}:
        raise InvalidInput(f"Alias {value!r} is reserved; choose another name.", field="alias")
    return value


def tag_key(value: str) -> str:
    if not isinstance(value, str) or not _TAG_KEY.match(value):
        raise InvalidInput(
            f"Invalid tag {value!r}: use 1-128 letters, digits, '.', '_', ':', '/' or '-', "
            "starting with a letter or digit.",
            field="tags",
        )
    return value


def tag_value(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"Tag {key!r} must have a string value, got {type(value).__name__}.")
    if len(value) > MAX_TAG_VALUE:
        raise InvalidInput(f"Tag {key!r} is longer than {MAX_TAG_VALUE} characters.")
    return value


def labels(values: list[str] | tuple[str, ...]) -> list[str]:
    """Model tags are labels: validated, de-duplicated and sorted."""
    return sorted({tag_key(v) for v in values})
