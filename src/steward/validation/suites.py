"""Named, versioned YAML suites: which checks to run, with which thresholds and settings.

A suite file::

    suite: credit-default
    version: "1"
    task: classification
    description: Credit scoring models before approval.
    settings:                       # defaults the caller may override
      positive_label: 1
      min_group_size: 20
      bands: {age_in_years: [25, 35, 50]}
      privileged: {foreign_worker: "no"}
    checks:
      - check: performance.roc_auc
        threshold: ">= 0.70"
        tiers: {high: ">= 0.75", critical: ">= 0.80"}   # stricter per risk tier
        severity: high                                   # of the finding a failure opens
        params: {}

Suites ship in ``steward/policies/suites/``; a path to a ``.yaml`` file works too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward.domain.checks import Threshold
from steward.domain.entities import ASSESSED_TIERS
from steward.domain.errors import InvalidInput, NotFound
from steward.domain.findings import SEVERITIES
from steward.domain.yamldoc import DocumentError, LineMap, Problem, line_of, load

if TYPE_CHECKING:
    from steward.validation.checks.base import Check

SUITES_DIR = Path(__file__).resolve().parent.parent / "policies" / "suites"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_THRESHOLD = re.compile(r"^\s*(>=|<=|==|>|<)\s*(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*$")
TIERS = ASSESSED_TIERS
SETTINGS = (
    "positive_label",
    "favorable_label",
    "positive_means",
    "min_group_size",
    "small_groups",
    "bands",
    "privileged",
    "seed",
    "interval_level",
    "bootstrap_replicates",
)
TASKS = ("classification", "regression")


@dataclass(frozen=True)
class SuiteCheck:
    check: str
    threshold: Threshold | None
    tiers: dict[str, Threshold] = field(default_factory=dict)
    severity: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def threshold_for(self, tier: str | None) -> Threshold | None:
        if tier and tier in self.tiers:
            return self.tiers[tier]
        return self.threshold


@dataclass(frozen=True)
class Suite:
    name: str
    version: str
    task: str
    description: str
    checks: tuple[SuiteCheck, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    source: str = ""


def parse_threshold(value: Any) -> Threshold:
    """``">= 0.8"`` or ``{op: ">=", limit: 0.8}``."""
    if isinstance(value, dict):
        op, limit = value.get("op"), value.get("limit")
        text = f"{op} {limit}"
    else:
        text = str(value)
    match = _THRESHOLD.match(text)
    if not match:
        raise ValueError(f"threshold {value!r} must look like '>= 0.8' (ops: >=, >, <=, <, ==)")
    return Threshold(match.group(1), float(match.group(2)))


def shipped() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.yaml"))


def load_suite(name_or_path: str, *, allow_path: bool = True) -> Suite:
    """A shipped suite by name, or (``allow_path``) a suite file by path."""
    path = Path(name_or_path)
    if allow_path and path.suffix in (".yaml", ".yml") and path.is_file():
        return parse_suite(path.read_text(encoding="utf-8"), path.name)
    if not _NAME.match(name_or_path):
        raise InvalidInput(
            f"Suite {name_or_path!r} is neither a shipped suite name nor a .yaml file.",
            field="suite",
        )
    candidate = SUITES_DIR / f"{name_or_path}.yaml"
    if not candidate.is_file():
        raise NotFound(
            f"No suite {name_or_path!r}. Shipped suites: {', '.join(shipped())}; or pass the "
            "path of a suite .yaml file.",
            suite=name_or_path,
        )
    return parse_suite(candidate.read_text(encoding="utf-8"), candidate.name)


def parse_suite(text: str, source: str) -> Suite:
    """Parse and validate a suite; every problem is reported with its line."""
    from steward.validation.checks import registry

    known_checks = registry()
    doc = load(text, source)
    problems: list[Problem] = []
    if not isinstance(doc, LineMap):
        raise DocumentError(
            source, [Problem(1, "a suite is a mapping with suite, version, checks")]
        )
    for key in sorted(set(doc) - {"suite", "version", "task", "description", "settings", "checks"}):
        problems.append(
            Problem(
                line_of(doc, key),
                f"unknown key {key!r} (known: suite, version, task, description, settings, checks)",
            )
        )
    name = doc.get("suite")
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(
            Problem(line_of(doc, "suite"), "suite: a name of letters, digits, '.', '_' or '-'")
        )
    version = doc.get("version")
    if not isinstance(version, (str, int)) or not str(version) or len(str(version)) > 40:
        problems.append(Problem(line_of(doc, "version"), 'version: required, e.g. "1"'))
    task = doc.get("task", "classification")
    if task not in TASKS:
        problems.append(Problem(line_of(doc, "task"), f"task must be one of {', '.join(TASKS)}"))
    settings = doc.get("settings") or {}
    if not isinstance(settings, dict):
        problems.append(Problem(line_of(doc, "settings"), "settings must be a mapping"))
        settings = {}
    for key in sorted(set(settings) - set(SETTINGS)):
        problems.append(
            Problem(
                line_of(settings, key),
                f"unknown setting {key!r} (known: {', '.join(SETTINGS)})",
            )
        )
    checks: list[SuiteCheck] = []
    entries = doc.get("checks")
    if not isinstance(entries, list) or not entries:
        problems.append(Problem(line_of(doc, "checks"), "checks: a non-empty list is required"))
        entries = []
    seen: set[str] = set()
    for entry in entries:
        parsed = _check_entry(entry, known_checks, seen, problems)
        if parsed is not None:
            checks.append(parsed)
    if problems:
        raise DocumentError(source, problems)
    return Suite(
        name=str(name),
        version=str(version),
        task=str(task),
        description=str(doc.get("description") or ""),
        checks=tuple(checks),
        settings=dict(settings),
        source=source,
    )


def _check_entry(
    entry: Any, known: Mapping[str, type[Check]], seen: set[str], problems: list[Problem]
) -> SuiteCheck | None:
    if isinstance(entry, str):
        entry = LineMap(check=entry)
    if not isinstance(entry, dict):
        problems.append(Problem(line_of(entry), "each check is a mapping with 'check:'"))
        return None
    line = line_of(entry)
    for key in sorted(set(entry) - {"check", "threshold", "tiers", "severity", "params"}):
        problems.append(
            Problem(
                line_of(entry, key),
                f"unknown key {key!r} (known: check, threshold, tiers, severity, params)",
            )
        )
    check = entry.get("check")
    if check not in known:
        hint = _closest(str(check), set(known))
        problems.append(
            Problem(
                line_of(entry, "check"),
                f"unknown check {check!r}" + (f" (did you mean {hint!r}?)" if hint else ""),
            )
        )
        return None
    if check in seen:
        problems.append(Problem(line, f"check {check!r} is listed twice"))
    seen.add(str(check))
    threshold: Threshold | None = None
    if entry.get("threshold") is not None:
        try:
            threshold = parse_threshold(entry["threshold"])
        except ValueError as exc:
            problems.append(Problem(line_of(entry, "threshold"), str(exc)))
    tiers: dict[str, Threshold] = {}
    raw_tiers = entry.get("tiers") or {}
    if not isinstance(raw_tiers, dict):
        problems.append(
            Problem(line_of(entry, "tiers"), "tiers must map a risk tier to a threshold")
        )
        raw_tiers = {}
    for tier, value in raw_tiers.items():
        if tier not in TIERS:
            problems.append(
                Problem(line_of(raw_tiers, tier), f"unknown tier {tier!r} ({', '.join(TIERS)})")
            )
            continue
        try:
            tiers[tier] = parse_threshold(value)
        except ValueError as exc:
            problems.append(Problem(line_of(raw_tiers, tier), str(exc)))
    severity = entry.get("severity")
    if severity is not None and severity not in SEVERITIES:
        problems.append(
            Problem(line_of(entry, "severity"), f"severity must be one of {', '.join(SEVERITIES)}")
        )
    params = entry.get("params") or {}
    if not isinstance(params, dict):
        problems.append(Problem(line_of(entry, "params"), "params must be a mapping"))
        params = {}
    allowed = set(known[str(check)].default_params)
    for key in sorted(set(params) - allowed):
        problems.append(
            Problem(
                line_of(params, key),
                f"{check} has no parameter {key!r}"
                + (f" (it takes: {', '.join(sorted(allowed))})" if allowed else " (it takes none)"),
            )
        )
    return SuiteCheck(str(check), threshold, tiers, severity, dict(params))


def _closest(name: str, known: set[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(name, sorted(known), n=1)
    return matches[0] if matches else None
