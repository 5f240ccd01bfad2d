"""The compliance programme: readiness per framework week by week, and the next actions
that would raise it most.

Pure functions. ``facts_as_of`` turns today's :class:`ModelFacts` of a model back to a
past moment using what the journal says happened when (:class:`ModelJournal`: when the
model was registered, each version's stage over time, when each monitor, finding and
waiver came into being and when a waiver was revoked) and the timestamps the records
carry (check runs, approvals, risk assessment, review). What the journal does not replay
is said here, not hidden: the version in scope is today's (at the stage it had then); a
finding closed since, a monitor run later than the moment and a risk assessment replaced
since are not brought back — a past week can only look worse than it was, never better.

``readiness`` ranks, for every model, each missing or stale evidence kind by how many
unmet (missing or stale) controls would become current if that one kind were current —
the controls for which it is the only thing missing.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from steward.compliance.coverage import (
    ControlCoverage,
    FrameworkSummary,
    ModelFacts,
    State,
    Status,
    control_rows,
    evidence_states,
    summarise_weighted,
)
from steward.compliance.mapping import EvidenceKind, EvidenceMapping

WEEK = timedelta(days=7)


@dataclass
class ModelJournal:
    """What the journal says about one model, each entry with its time."""

    registered_at: datetime | None = None
    stages: dict[int, list[tuple[datetime, str]]] = field(default_factory=dict)
    monitors: dict[str, datetime] = field(default_factory=dict)  # id -> created
    findings: dict[int, datetime] = field(default_factory=dict)  # id -> opened
    waivers: dict[int, datetime] = field(default_factory=dict)  # id -> granted
    waivers_revoked: dict[int, datetime] = field(default_factory=dict)

    def revoked_by(self, waiver: int, at: datetime) -> bool:
        revoked = self.waivers_revoked.get(waiver)
        return revoked is not None and revoked <= at

    def stage_at(self, version: int, at: datetime) -> str | None:
        """The version's stage at ``at`` (None: it did not exist yet)."""
        found = None
        for when, stage in self.stages.get(version, []):
            if when > at:
                break
            found = stage
        return found


def facts_as_of(facts: ModelFacts, journal: ModelJournal, at: datetime) -> ModelFacts | None:
    """The model's facts as they stood at ``at``; None when it was not registered yet."""
    if journal.registered_at is not None and journal.registered_at > at:
        return None
    version, stage = facts.version, facts.stage
    if version is not None and journal.stages.get(version):
        stage = journal.stage_at(version, at)
        if stage is None:
            version = None
    if version is None:
        stage = None
    assessed = facts.risk_assessed_at is not None and facts.risk_assessed_at <= at
    reviewed = facts.last_review_at is not None and facts.last_review_at <= at
    journal_last = facts.journal_last
    if journal_last is not None and journal_last > at:
        journal_last = at
    return replace(
        facts,
        version=version,
        stage=stage,
        artifact_sha256=facts.artifact_sha256 if version is not None else None,
        training_dataset=facts.training_dataset if version is not None else None,
        evaluation_dataset=facts.evaluation_dataset if version is not None else None,
        risk_assessment=facts.risk_assessment if assessed else None,
        risk_assessed_at=facts.risk_assessed_at if assessed else None,
        risk_problem=facts.risk_problem if assessed else None,
        approvals=tuple(a for a in facts.approvals if a.at <= at),
        check_runs=tuple(c for c in facts.check_runs if c.finished_at <= at),
        monitors=tuple(
            replace(m, last_run_at=m.last_run_at if m.last_run_at and m.last_run_at <= at else None)
            for m in facts.monitors
            if journal.monitors.get(m.id, at) <= at
        ),
        journal_last=journal_last,
        last_review_at=facts.last_review_at if reviewed else None,
        last_review_outcome=facts.last_review_outcome if reviewed else None,
        open_findings=tuple(f for f in facts.open_findings if journal.findings.get(f.id, at) <= at),
        waivers=tuple(
            replace(w, in_force=w.expires_at > at and not journal.revoked_by(w.id, at))
            for w in facts.waivers
            if journal.waivers.get(w.id, at) <= at
        ),
    )


@dataclass(frozen=True)
class Point:
    """Readiness at one moment: per framework, the share of scored cells that are current."""

    at: datetime
    models: int
    frameworks: tuple[FrameworkSummary, ...]


@dataclass(frozen=True)
class Action:
    """Make one evidence kind of one model current; ``controls`` it alone would satisfy."""

    model: str
    kind: EvidenceKind
    state: State
    controls: int
    frameworks: tuple[str, ...]
    detail: str


@dataclass(frozen=True)
class Programme:
    computed_at: datetime
    weeks: tuple[Point, ...]  # oldest first, the last one is now
    actions: tuple[Action, ...]  # most controls first


def week_starts(now: datetime, weeks: int) -> list[datetime]:
    """``weeks`` past moments a week apart, oldest first, then ``now``."""
    return [now - WEEK * k for k in range(weeks, 0, -1)] + [now]


def readiness(
    facts: list[ModelFacts],
    mapping: EvidenceMapping,
    at: datetime,
    frameworks: tuple[str, ...] | None = None,
    *,
    actions: bool = False,
) -> tuple[Point, list[Action]]:
    """The readiness point at ``at`` (and, with ``actions``, the ranked next actions).

    A control's status depends only on the states of the evidence kinds it needs (and
    whether it applies, which only a model being generative changes), so models are
    grouped by those and each group's controls are evaluated
    once (``coverage.control_rows``) and counted with the group's size: the same figures as
    evaluating every model (``coverage.for_model``), at the cost of the evidence states."""
    groups: dict[
        tuple[bool, tuple[State, ...]], tuple[list[ControlCoverage], list[tuple[str, Any]]]
    ] = {}
    for f in facts:
        states = evidence_states(f, mapping, at)
        # Which controls apply differs for generative models (NIST AI 600-1): part of the key.
        key = (f.generative, tuple(states[k].state for k in EvidenceKind))
        if key not in groups:
            groups[key] = (
                control_rows(states, mapping, frameworks, generative=f.generative),
                [],
            )
        groups[key][1].append((f.model, states))
    point = Point(
        at, len(facts), summarise_weighted([(rows, len(m)) for rows, m in groups.values()])
    )
    return point, (_actions(list(groups.values())) if actions else [])


def _actions(groups: list[tuple[list[ControlCoverage], list[tuple[str, Any]]]]) -> list[Action]:
    """Every (model, evidence kind) that is the only thing a missing or stale control lacks,
    ranked by how many such controls it would satisfy (then by model and kind)."""
    out = []
    for rows, members in groups:
        satisfied: Counter[EvidenceKind] = Counter()
        frameworks: dict[EvidenceKind, set[str]] = {}
        for row in rows:
            if row.status not in (Status.MISSING, Status.STALE):
                continue
            lacking = {e.kind for e in row.evidence if e.state in (State.MISSING, State.STALE)}
            if len(lacking) == 1:
                (kind,) = lacking
                satisfied[kind] += 1
                frameworks.setdefault(kind, set()).add(row.framework)
        for model, states in members:
            for kind, n in satisfied.items():
                evidence = states[kind]
                out.append(
                    Action(
                        model,
                        kind,
                        evidence.state,
                        n,
                        tuple(sorted(frameworks[kind])),
                        evidence.detail,
                    )
                )
    out.sort(key=lambda a: (-a.controls, a.model, a.kind.value))
    return out


def plan_csv(programme: Programme) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["rank", "model", "evidence", "state", "controls", "frameworks", "to do"])
    for rank, a in enumerate(programme.actions, 1):
        writer.writerow(
            [
                rank,
                a.model,
                a.kind.value,
                a.state.value,
                a.controls,
                " ".join(a.frameworks),
                a.detail,
            ]
        )
    return buffer.getvalue()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def plan_markdown(programme: Programme) -> str:
    lines = [
        "# Compliance programme plan",
        "",
        f"Computed {programme.computed_at.isoformat(timespec='seconds')}.",
        "",
        "## Readiness per framework (% of scored control cells current)",
        "",
    ]
    frameworks = sorted({f.framework for p in programme.weeks for f in p.frameworks})
    lines.append("| week of | " + " | ".join(frameworks) + " |")
    lines.append("|---|" + "---|" * len(frameworks))
    for p in programme.weeks:
        by = {f.framework: f.percent_current for f in p.frameworks}
        shown = [f"{by[f]:.1f}" if by.get(f) is not None else "—" for f in frameworks]
        lines.append(f"| {p.at.date().isoformat()} | " + " | ".join(shown) + " |")
    lines += [
        "",
        "## Next actions (most unmet controls satisfied first)",
        "",
        "| # | model | evidence | state | controls | frameworks | to do |",
        "|---|---|---|---|---|---|---|",
    ]
    for rank, a in enumerate(programme.actions, 1):
        lines.append(
            f"| {rank} | {_cell(a.model)} | {a.kind.value} | {a.state.value} | {a.controls} | "
            f"{' '.join(a.frameworks)} | {_cell(a.detail)} |"
        )
    return "\n".join(lines) + "\n"


# --- the programme as stored (``programme_snapshots``) ------------------------------------


def summary_json(programme: Programme, actions: int) -> dict[str, Any]:
    """The weeks and the first ``actions`` actions as JSON (:func:`from_summary` reads it
    back equal); the count of all actions rides along."""
    return {
        "computed_at": programme.computed_at.isoformat(),
        "weeks": [
            {
                "at": p.at.isoformat(),
                "models": p.models,
                "frameworks": [
                    {
                        "framework": f.framework,
                        "controls": f.controls,
                        "counts": dict(f.counts),
                        "percent_current": f.percent_current,
                    }
                    for f in p.frameworks
                ],
            }
            for p in programme.weeks
        ],
        "actions": [
            {
                "model": a.model,
                "kind": a.kind.value,
                "state": a.state.value,
                "controls": a.controls,
                "frameworks": list(a.frameworks),
                "detail": a.detail,
            }
            for a in programme.actions[:actions]
        ],
        "action_count": len(programme.actions),
    }


def from_summary(data: dict[str, Any]) -> tuple[Programme, int]:
    """The programme :func:`summary_json` stored (its first actions) and how many actions
    the whole plan has."""
    weeks = tuple(
        Point(
            datetime.fromisoformat(p["at"]),
            int(p["models"]),
            tuple(
                FrameworkSummary(
                    f["framework"],
                    int(f["controls"]),
                    {k: int(v) for k, v in f["counts"].items()},
                    None if f["percent_current"] is None else float(f["percent_current"]),
                )
                for f in p["frameworks"]
            ),
        )
        for p in data["weeks"]
    )
    actions = tuple(
        Action(
            a["model"],
            EvidenceKind(a["kind"]),
            State(a["state"]),
            int(a["controls"]),
            tuple(a["frameworks"]),
            a["detail"],
        )
        for a in data["actions"]
    )
    return (
        Programme(datetime.fromisoformat(data["computed_at"]), weeks, actions),
        int(data["action_count"]),
    )
