"""Parsing the small syntaxes the CLI accepts (key=value, times)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import typer


def pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{what} {item!r} must look like key=value.")
        out[key] = value
    return out


def params(items: list[str] | None) -> dict[str, Any]:
    """Values that parse as JSON (numbers, true, lists) keep their type; others are text."""
    out: dict[str, Any] = {}
    for key, value in pairs(items, "Parameter").items():
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def metrics(items: list[str] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in pairs(items, "Metric").items():
        try:
            out[key] = float(value)
        except ValueError:
            raise typer.BadParameter(f"Metric {key!r} must be a number, got {value!r}.") from None
    return out


def moment(text: str | None) -> datetime | None:
    """ISO 8601; 'Z' or an offset is required so the moment is unambiguous."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 time; use e.g. 2026-03-01T00:00Z."
        ) from None
    if value.tzinfo is None:
        raise typer.BadParameter(f"{text!r} has no time zone; add Z for UTC or an offset.")
    return value.astimezone(UTC)


def version_ref(text: str) -> int | str:
    return int(text) if text.isdigit() else text
