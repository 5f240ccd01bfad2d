"""Policy packs: versioned YAML saying what must be true for each move and risk tier.

A pack is a list of requirements. Each names the stages it guards (``to``), the
risk tiers it applies to, the framework controls it serves and its kind-specific
parameters. Parsing collects *every* problem with its line, so a person fixes
a pack in one pass; two requirements with the same id guarding the same move
for the same tier contradict each other and are refused.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from steward.domain import yamldoc
from steward.domain.entities import TIERS
from steward.domain.findings import SEVERITIES
from steward.domain.identity import LINES
from steward.domain.lifecycle import Stage
from steward.domain.yamldoc import DocumentError, LineMap, Problem

ROLES = ("admin", "owner", "validator", "risk_officer", "approver", "auditor")
DOCUMENT_FIELDS = ("title", "description", "purpose", "business_unit", "owner", "team")
INDEPENDENCE_RULES = ("not_version_creator", "not_model_owner", "not_requester")
_PACK_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_REQ_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,39}$")
_CHECK_PATTERN = re.compile(r"^[a-z0-9_*?\[\]-]+(\.[a-z0-9_*?\[\]-]+)*$")


class Kind:
    RISK_ASSESSED = "risk_assessed"
    NOT_PROHIBITED = "not_prohibited"
    DOCUMENTATION = "documentation"
    CHECKS_PASSED = "checks_passed"
    APPROVALS = "approvals"
    NO_OPEN_FINDINGS = "no_open_findings"
    REVIEW_CURRENT = "review_current"
    MONITOR_CONFIGURED = "monitor_configured"
    # data governance (docs/datasets.md): the version's training and evaluation data
    DATA_REGISTERED = "data_registered"  # are registered dataset versions
    DATA_QUALITY_PASSED = "data_quality_passed"  # ... whose quality rules passed
    DATA_APPROVED = "data_approved"  # ... approved by a data steward
    PERSONAL_DATA_REVIEWED = "personal_data_reviewed"  # ... whose personal data was reviewed
    IMPACT_ASSESSED = "impact_assessed"  # an approved, current AI impact assessment


# kind -> (required parameters, optional parameters)
_PARAMS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    Kind.RISK_ASSESSED: (frozenset(), frozenset()),
    Kind.NOT_PROHIBITED: (frozenset(), frozenset()),
    Kind.DOCUMENTATION: (frozenset({"fields"}), frozenset()),
    Kind.CHECKS_PASSED: (
        frozenset(),
        frozenset({"checks", "suite", "within_days", "data", "uncertain"}),
    ),
    Kind.APPROVALS: (
        frozenset({"count", "roles"}),
        frozenset({"distinct_teams", "independence", "lines", "forbid_lines"}),
    ),
    Kind.NO_OPEN_FINDINGS: (frozenset({"severity_at_least"}), frozenset()),
    Kind.REVIEW_CURRENT: (frozenset(), frozenset()),
    Kind.MONITOR_CONFIGURED: (frozenset(), frozenset()),
    Kind.DATA_REGISTERED: (frozenset(), frozenset()),
    Kind.DATA_QUALITY_PASSED: (frozenset(), frozenset()),
    Kind.DATA_APPROVED: (frozenset(), frozenset()),
    Kind.PERSONAL_DATA_REVIEWED: (frozenset(), frozenset()),
    Kind.IMPACT_ASSESSED: (frozenset(), frozenset()),
}
KINDS = tuple(_PARAMS)
_COMMON = frozenset({"id", "kind", "to", "tiers", "controls", "description"})


@dataclass(frozen=True)
class RequirementSpec:
    id: str
    kind: str
    to: frozenset[Stage]
    tiers: frozenset[str]
    controls: tuple[str, ...]
    description: str
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    line: int | None = None

    def applies(self, target: Stage, tier: str) -> bool:
        return target in self.to and tier in self.tiers


@dataclass(frozen=True)
class PolicyPack:
    name: str
    version: str
    description: str
    review_cadence_months: dict[str, int]
    requirements: tuple[RequirementSpec, ...]
    # monitoring: alert severities that move a production version to under_review
    under_review_on: tuple[str, ...] = ()
    # evidence: registered witness cosignatures an evidence pack's checkpoint must carry
    evidence_witnesses: int = 0

    @property
    def ref(self) -> str:
        """``name@version``: what approvals and gate decisions bind to."""
        return f"{self.name}@{self.version}"

    def applicable(self, target: Stage, tier: str) -> list[RequirementSpec]:
        return [r for r in self.requirements if r.applies(target, tier)]

    def requirement_ids(self) -> set[str]:
        return {r.id for r in self.requirements}

    def review_months(self, tier: str) -> int | None:
        return self.review_cadence_months.get(tier)


@cache
def known_controls() -> dict[str, frozenset[str]]:
    """Framework -> control ids a requirement may cite (``framework:id``)."""
    text = resources.files("steward.policies").joinpath("control_ids.json").read_text("utf-8")
    data = json.loads(text)
    return {name: frozenset(entry["ids"]) for name, entry in data["frameworks"].items()}


def default_pack_text() -> str:
    return resources.files("steward.policies").joinpath("default-pack.yaml").read_text("utf-8")


def parse(text: str, source: str = "policy pack") -> PolicyPack:
    """Parse and validate a pack; raise :class:`DocumentError` listing every problem."""
    doc = yamldoc.load(text, source)
    problems: list[Problem] = []
    if not isinstance(doc, LineMap):
        raise DocumentError(
            source,
            [Problem(1, "a policy pack is a mapping with 'pack', 'version' and 'requirements'")],
        )
    yamldoc.unknown_keys(
        doc,
        {
            "pack",
            "version",
            "description",
            "review_cadence_months",
            "requirements",
            "monitoring",
            "evidence",
        },
        "the pack",
        problems,
    )
    name = yamldoc.text(doc, "pack", problems, required=True)
    if name and not _PACK_NAME.match(name):
        problems.append(
            Problem(
                yamldoc.line_of(doc, "pack"),
                f"pack name {name!r} must be lower-case letters, digits, '.', '_' or '-'",
            )
        )
    version = yamldoc.text(doc, "version", problems, required=True)
    if version and not _VERSION.match(version):
        problems.append(
            Problem(
                yamldoc.line_of(doc, "version"),
                f"version {version!r} must be "
                "1-40 letters, digits, '.', '_', '+' or '-' (e.g. 2026.11)",
            )
        )
    cadence = _cadence(doc, problems)
    under_review_on = _monitoring(doc, problems)
    evidence_witnesses = _evidence(doc, problems)
    raw = doc.get("requirements")
    requirements: list[RequirementSpec] = []
    if not isinstance(raw, list) or not raw:
        problems.append(
            Problem(
                yamldoc.line_of(doc, "requirements") or doc.line,
                "'requirements' must be a non-empty list",
            )
        )
    else:
        for entry in raw:
            spec = _requirement(entry, problems)
            if spec is not None:
                requirements.append(spec)
        _contradictions(requirements, problems)
    if problems:
        raise DocumentError(source, sorted(problems, key=lambda p: p.line or 0))
    return PolicyPack(
        name=name or "",
        version=version or "",
        description=str(doc.get("description") or ""),
        review_cadence_months=cadence,
        under_review_on=under_review_on,
        evidence_witnesses=evidence_witnesses,
        requirements=tuple(requirements),
    )


def _evidence(doc: LineMap, problems: list[Problem]) -> int:
    """``evidence: {witnesses: k}`` — cosignatures an evidence pack's checkpoint needs."""
    raw = doc.get("evidence")
    if raw is None:
        return 0
    line = yamldoc.line_of(doc, "evidence")
    if not isinstance(raw, LineMap):
        problems.append(Problem(line, "'evidence' is a mapping, e.g. {witnesses: 2}"))
        return 0
    yamldoc.unknown_keys(raw, {"witnesses"}, "evidence", problems)
    value = raw.get("witnesses", 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        problems.append(
            Problem(
                yamldoc.line_of(raw, "witnesses") or line,
                "'evidence.witnesses' must be a whole number from 0 to 100",
            )
        )
        return 0
    return value


def _monitoring(doc: LineMap, problems: list[Problem]) -> tuple[str, ...]:
    """``monitoring: {under_review_on: [critical]}`` — alerts that send a version to review."""
    raw = doc.get("monitoring")
    if raw is None:
        return ()
    line = yamldoc.line_of(doc, "monitoring")
    if not isinstance(raw, LineMap):
        problems.append(
            Problem(line, "'monitoring' is a mapping, e.g. {under_review_on: [critical]}")
        )
        return ()
    yamldoc.unknown_keys(raw, {"under_review_on"}, "monitoring", problems)
    values = raw.get("under_review_on", [])
    where = yamldoc.line_of(raw, "under_review_on") or line
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        problems.append(Problem(where, "'under_review_on' is a list of alert severities"))
        return ()
    bad = [v for v in values if v not in SEVERITIES]
    if bad:
        problems.append(
            Problem(
                where,
                f"unknown severity(ies) {', '.join(bad)} in under_review_on; severities are "
                f"{', '.join(SEVERITIES)}",
            )
        )
        return ()
    return tuple(values)


def _cadence(doc: LineMap, problems: list[Problem]) -> dict[str, int]:
    raw = doc.get("review_cadence_months")
    if raw is None:
        return {}
    line = yamldoc.line_of(doc, "review_cadence_months")
    if not isinstance(raw, LineMap):
        problems.append(Problem(line, "'review_cadence_months' maps a tier to a number of months"))
        return {}
    cadence: dict[str, int] = {}
    for tier, months in raw.items():
        where = yamldoc.line_of(raw, tier)
        if tier not in TIERS:
            problems.append(Problem(where, f"unknown tier {tier!r}; tiers are {', '.join(TIERS)}"))
        elif isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 120:
            problems.append(Problem(where, f"review cadence for {tier} must be 1-120 months"))
        else:
            cadence[tier] = months
    return cadence


def _requirement(entry: Any, problems: list[Problem]) -> RequirementSpec | None:
    if not isinstance(entry, LineMap):
        line = getattr(entry, "line", None)
        problems.append(Problem(line, "each requirement is a mapping with id, kind, to, tiers"))
        return None
    before = len(problems)
    rid = yamldoc.text(entry, "id", problems, required=True) or ""
    if rid and not _REQ_ID.match(rid):
        problems.append(
            Problem(
                yamldoc.line_of(entry, "id"),
                f"requirement id {rid!r} must be "
                "dotted lower-case words, e.g. 'approvals.independent'",
            )
        )
    kind = yamldoc.text(entry, "kind", problems, required=True) or ""
    if kind and kind not in _PARAMS:
        problems.append(
            Problem(
                yamldoc.line_of(entry, "kind"),
                f"unknown kind {kind!r}; kinds are {', '.join(KINDS)}",
            )
        )
    required, optional = _PARAMS.get(kind, (frozenset(), frozenset()))
    yamldoc.unknown_keys(
        entry, _COMMON | required | optional, f"requirement {rid or '?'}", problems
    )
    for key in sorted(required - set(entry)):
        problems.append(
            Problem(entry.line, f"requirement {rid}: '{key}' is required for kind {kind}")
        )
    to = _stages(entry, rid, problems)
    tiers = _tiers(entry, rid, problems)
    controls = _controls(entry, rid, problems)
    params = {k: entry[k] for k in entry if k in required | optional}
    _check_params(entry, rid, kind, params, problems)
    if len(problems) > before:
        return None
    return RequirementSpec(
        id=rid,
        kind=kind,
        to=to,
        tiers=tiers,
        controls=controls,
        description=str(entry.get("description") or ""),
        params=_plain(params),
        line=entry.line,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _string_list(entry: LineMap, key: str, rid: str, problems: list[Problem]) -> list[str] | None:
    raw = entry.get(key)
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
        problems.append(
            Problem(
                yamldoc.line_of(entry, key),
                f"requirement {rid}: '{key}' must be a non-empty list of text",
            )
        )
        return None
    return [x.strip() for x in raw]


def _stages(entry: LineMap, rid: str, problems: list[Problem]) -> frozenset[Stage]:
    if "to" not in entry:
        problems.append(
            Problem(entry.line, f"requirement {rid}: 'to' (the stages it guards) is required")
        )
        return frozenset()
    values = _string_list(entry, "to", rid, problems) or []
    stages: set[Stage] = set()
    for value in values:
        try:
            stages.add(Stage(value))
        except ValueError:
            problems.append(
                Problem(
                    yamldoc.line_of(entry, "to"),
                    f"requirement {rid}: unknown "
                    f"stage {value!r}; stages are "
                    f"{', '.join(s.value for s in Stage)}",
                )
            )
    return frozenset(stages)


def _tiers(entry: LineMap, rid: str, problems: list[Problem]) -> frozenset[str]:
    if "tiers" not in entry or entry.get("tiers") == "any":
        return frozenset(TIERS)
    values = _string_list(entry, "tiers", rid, problems) or []
    bad = [v for v in values if v not in TIERS]
    if bad:
        problems.append(
            Problem(
                yamldoc.line_of(entry, "tiers"),
                f"requirement {rid}: unknown "
                f"tier(s) {', '.join(bad)}; tiers are {', '.join(TIERS)} "
                "or 'any'",
            )
        )
    return frozenset(v for v in values if v in TIERS)


def _controls(entry: LineMap, rid: str, problems: list[Problem]) -> tuple[str, ...]:
    if "controls" not in entry:
        problems.append(
            Problem(
                entry.line,
                f"requirement {rid}: 'controls' must cite the "
                "framework controls it serves, e.g. 'nist-ai-rmf:MEASURE 2.11'",
            )
        )
        return ()
    values = _string_list(entry, "controls", rid, problems) or []
    catalogs = known_controls()
    for value in values:
        framework, sep, control = value.partition(":")
        if not sep or framework not in catalogs:
            problems.append(
                Problem(
                    yamldoc.line_of(entry, "controls"),
                    f"requirement {rid}: "
                    f"control {value!r} must be '<framework>:<id>' with framework "
                    f"one of {', '.join(sorted(catalogs))}",
                )
            )
        elif control not in catalogs[framework]:
            problems.append(
                Problem(
                    yamldoc.line_of(entry, "controls"),
                    f"requirement {rid}: {framework} has no control {control!r}",
                )
            )
    return tuple(values)


def _positive_int(
    entry: LineMap, key: str, rid: str, problems: list[Problem], upper: int = 100000
) -> None:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper:
        problems.append(
            Problem(
                yamldoc.line_of(entry, key),
                f"requirement {rid}: '{key}' must be a whole number from 1 to {upper}",
            )
        )


def _check_params(
    entry: LineMap, rid: str, kind: str, params: dict[str, Any], problems: list[Problem]
) -> None:
    if kind == Kind.DOCUMENTATION and "fields" in params:
        fields = _string_list(entry, "fields", rid, problems) or []
        bad = [f for f in fields if f not in DOCUMENT_FIELDS]
        if bad:
            problems.append(
                Problem(
                    yamldoc.line_of(entry, "fields"),
                    f"requirement {rid}: "
                    f"unknown model field(s) {', '.join(bad)}; documentation "
                    f"fields are {', '.join(DOCUMENT_FIELDS)}",
                )
            )
    elif kind == Kind.CHECKS_PASSED:
        if "checks" not in params and "suite" not in params:
            problems.append(
                Problem(
                    entry.line,
                    f"requirement {rid}: name the 'checks' "
                    "(patterns like 'fairness.*') and/or the 'suite' that must "
                    "have passed",
                )
            )
        if "checks" in params:
            for pattern in _string_list(entry, "checks", rid, problems) or []:
                if not _CHECK_PATTERN.match(pattern):
                    problems.append(
                        Problem(
                            yamldoc.line_of(entry, "checks"),
                            f"requirement "
                            f"{rid}: check pattern {pattern!r} is not "
                            "'<family>.<check>' (wildcards * and ? allowed)",
                        )
                    )
        if "suite" in params:
            yamldoc.text(entry, "suite", problems, required=True)
        if "within_days" in params:
            _positive_int(entry, "within_days", rid, problems, 3650)
        if "data" in params and params["data"] not in ("evaluation", "any"):
            problems.append(
                Problem(
                    yamldoc.line_of(entry, "data"),
                    f"requirement {rid}: 'data' "
                    "is 'evaluation' (results on the version's evaluation "
                    "dataset only) or 'any'",
                )
            )
        if "uncertain" in params and params["uncertain"] not in ("allow", "block"):
            problems.append(
                Problem(
                    yamldoc.line_of(entry, "uncertain"),
                    f"requirement {rid}: 'uncertain' is 'allow' (a pass whose confidence "
                    "interval straddles the threshold counts as a pass) or 'block' (it does not)",
                )
            )
    elif kind == Kind.APPROVALS:
        if "count" in params:
            _positive_int(entry, "count", rid, problems, 20)
        if "roles" in params:
            roles = _string_list(entry, "roles", rid, problems) or []
            bad = [r for r in roles if r not in ROLES]
            if bad:
                problems.append(
                    Problem(
                        yamldoc.line_of(entry, "roles"),
                        f"requirement {rid}: "
                        f"unknown role(s) {', '.join(bad)}; roles are "
                        f"{', '.join(ROLES)}",
                    )
                )
        if "distinct_teams" in params:
            _positive_int(entry, "distinct_teams", rid, problems, 20)
            count, teams = params.get("count"), params.get("distinct_teams")
            if isinstance(count, int) and isinstance(teams, int) and teams > count:
                problems.append(
                    Problem(
                        yamldoc.line_of(entry, "distinct_teams"),
                        f"requirement {rid}: distinct_teams ({teams}) cannot "
                        f"exceed count ({count}): that gate could never pass",
                    )
                )
        for key in ("lines", "forbid_lines"):
            if key not in params:
                continue
            named = _string_list(entry, key, rid, problems) or []
            bad = [x for x in named if x not in LINES]
            if bad:
                problems.append(
                    Problem(
                        yamldoc.line_of(entry, key),
                        f"requirement {rid}: unknown line(s) of defence {', '.join(bad)} in "
                        f"{key}; lines are {', '.join(LINES)}",
                    )
                )
        overlap = set(params.get("lines") or []) & set(params.get("forbid_lines") or [])
        if overlap and all(isinstance(x, str) for x in overlap):
            problems.append(
                Problem(
                    yamldoc.line_of(entry, "forbid_lines"),
                    f"requirement {rid}: line(s) {', '.join(sorted(overlap))} are both "
                    "required and forbidden: that gate could never pass",
                )
            )
        if "independence" in params:
            rules = _string_list(entry, "independence", rid, problems) or []
            bad = [r for r in rules if r not in INDEPENDENCE_RULES]
            if bad:
                problems.append(
                    Problem(
                        yamldoc.line_of(entry, "independence"),
                        f"requirement {rid}: unknown independence rule(s) "
                        f"{', '.join(bad)}; rules are "
                        f"{', '.join(INDEPENDENCE_RULES)}",
                    )
                )
    elif (
        kind == Kind.NO_OPEN_FINDINGS
        and "severity_at_least" in params
        and params["severity_at_least"] not in SEVERITIES
    ):
        problems.append(
            Problem(
                yamldoc.line_of(entry, "severity_at_least"),
                f"requirement {rid}: severity_at_least must be one of {', '.join(SEVERITIES)}",
            )
        )


def _contradictions(requirements: list[RequirementSpec], problems: list[Problem]) -> None:
    seen: dict[tuple[str, Stage, str], RequirementSpec] = {}
    for spec in requirements:
        for stage in sorted(spec.to):
            for tier in sorted(spec.tiers):
                other = seen.get((spec.id, stage, tier))
                if other is not None:
                    problems.append(
                        Problem(
                            spec.line,
                            f"requirement {spec.id} contradicts the "
                            f"one at line {other.line}: both guard moves to "
                            f"{stage.value} for {tier} models; give them "
                            "different ids or disjoint tiers",
                        )
                    )
                    return
                seen[(spec.id, stage, tier)] = spec


def check_matches(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern)
