"""YAML documents whose errors name the file, the line and what is wrong.

Questionnaires and policy packs are written by people; "invalid policy" is no
help, "default-pack.yaml line 42: approvals.count must be a positive integer"
is. :func:`load` keeps each mapping's and sequence's line so validators can
point at the offending entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from steward.domain.errors import InvalidInput


class LineMap(dict[str, Any]):
    """A mapping that remembers the line of each of its keys (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list[Any]):
    line: int = 0


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str


class DocumentError(InvalidInput):
    """One or more problems in a YAML document, each with its line."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        lines = [
            f"{source} line {p.line}: {p.message}" if p.line else f"{source}: {p.message}"
            for p in problems
        ]
        super().__init__(
            "; ".join(lines),
            source=source,
            problems=[{"line": p.line, "message": p.message} for p in problems],
        )
        self.problems = problems


# Documents people write are shallow and small. Limits keep a hostile one from exhausting
# the stack (a list nested 20 000 deep) or memory (a "billion laughs" of aliases).
MAX_DEPTH = 64
MAX_CHARS = 2 * 1024 * 1024


class _Loader(yaml.SafeLoader):
    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.MarkedYAMLError(
                problem="aliases (*name) are not allowed: write the value out in full",
                problem_mark=event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(
                    problem=f"the document is nested more than {MAX_DEPTH} levels deep",
                    problem_mark=self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineMap:
    result = LineMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            raise yaml.MarkedYAMLError(
                problem=f"keys must be text, not {key!r}", problem_mark=key_node.start_mark
            )
        if key in result:
            raise yaml.MarkedYAMLError(
                problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load(text: str, source: str) -> Any:
    """Parse ``text``; syntax errors become a :class:`DocumentError` with the line."""
    if len(text) > MAX_CHARS:
        raise DocumentError(
            source, [Problem(None, f"the document is longer than {MAX_CHARS} characters")]
        )
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise DocumentError(source, [Problem(line, str(exc.problem or exc))]) from None
    except yaml.YAMLError as exc:
        raise DocumentError(source, [Problem(None, str(exc))]) from None


def line_of(node: Any, key: str | None = None) -> int | None:
    """The line of ``node`` (or of ``node[key]`` when it is a LineMap key)."""
    if key is not None and isinstance(node, LineMap):
        return node.key_lines.get(key, node.line)
    return getattr(node, "line", None) or None


def unknown_keys(
    node: LineMap, allowed: set[str] | frozenset[str], what: str, problems: list[Problem]
) -> None:
    """Note every key of ``node`` outside ``allowed`` (typos must not be ignored)."""
    for key in node:
        if key not in allowed:
            problems.append(
                Problem(
                    line_of(node, key),
                    f"unknown key {key!r} in {what}; expected one of: {', '.join(sorted(allowed))}",
                )
            )


def text(node: LineMap, key: str, problems: list[Problem], *, required: bool) -> str | None:
    """``node[key]`` as stripped text, noting a missing or non-text value."""
    value = node.get(key)
    if value is None:
        if required:
            problems.append(Problem(node.line, f"'{key}' is required"))
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.append(Problem(line_of(node, key), f"'{key}' must be text"))
        return None
    return str(value).strip()
