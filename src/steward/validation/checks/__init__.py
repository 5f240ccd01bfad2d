"""The check registry: built-in families plus third-party checks.

A package adds checks by declaring an entry point in the ``steward.checks`` group whose
object is a :class:`~steward.validation.checks.base.Check` subclass (or a list of them)::

    [project.entry-points."steward.checks"]
    my_checks = "my_package.checks:ALL"
"""

from __future__ import annotations

import re
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from steward.domain.errors import InvalidInput
from steward.validation.checks.base import Check

ENTRY_POINT_GROUP = "steward.checks"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.[a-z0-9][a-z0-9_:-]*$")


def builtin() -> list[type[Check]]:
    from steward.validation.checks import (
        data_quality,
        explainability,
        fairness,
        performance,
        robustness,
    )

    return [
        *performance.CHECKS,
        *fairness.CHECKS,
        *explainability.CHECKS,
        *robustness.CHECKS,
        *data_quality.CHECKS,
    ]


def _validate(cls: Any, origin: str) -> type[Check]:
    if not (isinstance(cls, type) and issubclass(cls, Check)):
        raise InvalidInput(
            f"{origin} provides {cls!r}, which is not a steward Check subclass; see "
            "docs/validation.md 'Writing a custom check'."
        )
    name = getattr(cls, "name", "")
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"{origin}: check {cls.__name__} has name {name!r}; names are "
            "'<family>.<metric>' in lower case, e.g. 'custom.max_score'."
        )
    if not hasattr(cls, "family"):
        raise InvalidInput(f"{origin}: check {name} declares no family.")
    return cls


@cache
def registry() -> dict[str, type[Check]]:
    """Every known check by name; a third-party check may not shadow a built-in one."""
    found: dict[str, type[Check]] = {}
    for cls in builtin():
        found[cls.name] = _validate(cls, "steward")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        loaded = ep.load()
        items = loaded if isinstance(loaded, (list, tuple)) else [loaded]
        for cls in items:
            checked = _validate(cls, f"entry point {ep.name!r} ({ep.value})")
            if checked.name in found:
                raise InvalidInput(
                    f"Entry point {ep.name!r} ({ep.value}) defines check {checked.name!r}, "
                    "which already exists; choose another name."
                )
            found[checked.name] = checked
    return found
