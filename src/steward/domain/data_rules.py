"""Quality rules of a dataset, written in YAML by its owner or a data steward.

```yaml
rules:
  - kind: not_null
    column: applicant_id
  - kind: unique
    column: applicant_id
  - kind: range
    column: amount
    min: 0
    max: 1000000
  - kind: allowed_values
    column: purpose
    values: [car, education, business]
  - kind: regex
    column: email
    pattern: '^[^@ ]+@[^@ ]+$'
  - kind: freshness
    column: updated_at
    max_age: 7d
  - kind: row_count
    min: 1000
```

Each rule has an ``id`` (default ``KIND:COLUMN``) and a ``severity`` for the finding its
failure opens (default ``high``). Parsing keeps every rule's line, so an error and a
failing result both name the file and the line. Compiling to SQL and running it is the
engine's business (``steward.validation.data_rules``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from steward.domain import yamldoc
from steward.domain.errors import InvalidInput
from steward.domain.findings import parse_severity
from steward.domain.yamldoc import LineList, LineMap, Problem

KINDS = ("not_null", "unique", "range", "allowed_values", "regex", "freshness", "row_count")
_COMMON = {"id", "kind", "severity", "description"}
_KEYS: dict[str, set[str]] = {
    "not_null": {"column"},
    "unique": {"column"},
    "range": {"column", "min", "max"},
    "allowed_values": {"column", "values"},
    "regex": {"column", "pattern"},
    "freshness": {"column", "max_age"},
    "row_count": {"min", "max"},
}
_AGE = re.compile(r"^(\d{1,6})([hdw])$")
_AGE_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
MAX_RULES = 500
MAX_VALUES = 1_000


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    column: str | None
    line: int | None
    severity: str = "high"
    params: dict[str, Any] = field(default_factory=dict)


def parse_age(text: str) -> timedelta | None:
    match = _AGE.match(text.strip().lower())
    if not match:
        return None
    return timedelta(**{_AGE_UNITS[match.group(2)]: int(match.group(1))})


def _number(value: Any) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(float(value))
    )


def _rule(node: Any, where: int | None, problems: list[Problem]) -> Rule | None:
    if not isinstance(node, LineMap):
        problems.append(Problem(where, "each rule is a mapping with a kind (and a column)"))
        return None
    kind = yamldoc.text(node, "kind", problems, required=True)
    if kind is None:
        return None
    if kind not in _KEYS:
        problems.append(
            Problem(
                yamldoc.line_of(node, "kind"), f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}"
            )
        )
        return None
    before = len(problems)
    yamldoc.unknown_keys(node, _KEYS[kind] | _COMMON, f"a {kind} rule", problems)
    column = None
    if "column" in _KEYS[kind]:
        column = yamldoc.text(node, "column", problems, required=True)
    params: dict[str, Any] = {}
    line = yamldoc.line_of(node)
    if kind in ("range", "row_count"):
        for key in ("min", "max"):
            if key in node:
                if not _number(node[key]):
                    problems.append(Problem(yamldoc.line_of(node, key), f"{key} must be a number"))
                else:
                    params[key] = node[key]
        if not params:
            problems.append(Problem(line, f"a {kind} rule needs min, max or both"))
        elif "min" in params and "max" in params and params["min"] > params["max"]:
            problems.append(Problem(line, "min is greater than max"))
    elif kind == "allowed_values":
        values = node.get("values")
        if not isinstance(values, LineList) or not values or len(values) > MAX_VALUES:
            problems.append(
                Problem(
                    yamldoc.line_of(node, "values"),
                    f"values must be a list of 1-{MAX_VALUES} allowed values",
                )
            )
        elif not all(isinstance(v, str) or _number(v) for v in values):
            problems.append(
                Problem(yamldoc.line_of(node, "values"), "values must be text or numbers")
            )
        else:
            params["values"] = list(values)
    elif kind == "regex":
        pattern = yamldoc.text(node, "pattern", problems, required=True)
        if pattern is not None:
            try:
                re.compile(pattern)
                params["pattern"] = pattern
            except re.error as exc:
                problems.append(
                    Problem(yamldoc.line_of(node, "pattern"), f"pattern does not compile: {exc}")
                )
    elif kind == "freshness":
        age = yamldoc.text(node, "max_age", problems, required=True)
        if age is not None:
            if parse_age(age) is None:
                problems.append(
                    Problem(
                        yamldoc.line_of(node, "max_age"),
                        f"max_age {age!r}: write a number and h, d or w (for example 7d)",
                    )
                )
            else:
                params["max_age"] = age
    severity = "high"
    if "severity" in node:
        try:
            severity = parse_severity(str(node["severity"])).value
        except InvalidInput as exc:
            problems.append(Problem(yamldoc.line_of(node, "severity"), str(exc)))
    if len(problems) > before:
        return None
    rule_id = yamldoc.text(node, "id", problems, required=False) or (
        f"{kind}:{column}" if column else kind
    )
    return Rule(rule_id, kind, column, line, severity, params)


def parse_rules(text: str, source: str) -> list[Rule]:
    """The rules of ``text``; every problem at once, each as "FILE line N: …"."""
    document = yamldoc.load(text, source)
    problems: list[Problem] = []
    if not isinstance(document, LineMap) or "rules" not in document:
        raise yamldoc.DocumentError(source, [Problem(None, "write a mapping with a 'rules' list")])
    yamldoc.unknown_keys(document, {"rules", "version", "description"}, "the rules file", problems)
    items = document["rules"]
    if not isinstance(items, LineList) or not items:
        raise yamldoc.DocumentError(
            source,
            [Problem(yamldoc.line_of(document, "rules"), "'rules' must be a non-empty list")],
        )
    if len(items) > MAX_RULES:
        problems.append(Problem(items.line, f"at most {MAX_RULES} rules"))
    rules: list[Rule] = []
    seen: dict[str, int | None] = {}
    for item in items:
        rule = _rule(item, getattr(item, "line", items.line), problems)
        if rule is None:
            continue
        if rule.id in seen:
            problems.append(
                Problem(
                    rule.line, f"rule id {rule.id!r} is used twice (first at line {seen[rule.id]})"
                )
            )
            continue
        seen[rule.id] = rule.line
        rules.append(rule)
    if problems:
        raise yamldoc.DocumentError(source, problems)
    return rules


def missing_columns(rules: list[Rule], columns: list[str], source: str) -> list[Problem]:
    """Rules that name a column the data does not have, each with its line."""
    present = set(columns)
    return [
        Problem(
            r.line,
            f"rule {r.id!r} names column {r.column!r}, which the data does not have "
            f"(it has {', '.join(columns[:20])})",
        )
        for r in rules
        if r.column is not None and r.column not in present
    ]
