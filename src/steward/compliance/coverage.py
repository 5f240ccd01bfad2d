"""Coverage: for each control, is the evidence that satisfies it there, current or stale?

Pure functions over a :class:`ModelFacts` snapshot (gathered from live data by
``steward.services.compliance`` in one read transaction) and the evidence
mapping. Each evidence kind gets one state per model:

- ``current`` — it exists and counts now;
- ``stale`` — it exists but does not count now (older than its freshness window,
  bound to another artifact or policy, incomplete, overdue, or failing);
- ``missing`` — there is none;
- ``not_applicable`` — nothing is due yet (e.g. monitoring of a version that is
  not in production, a first review not yet due, no waivers needed).

A control's status is the worst state of the kinds it needs (missing > stale >
current; all not-applicable → not_applicable); "organisational" controls are
reported with their reason and never computed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from steward.compliance import catalogs
from steward.compliance.mapping import DEFAULT_FRESHNESS_DAYS, EvidenceKind, EvidenceMapping
from steward.compliance.obligations import Obligation
from steward.compliance.obligations import for_model as obligations_for
from steward.domain.findings import SEVERITIES
from steward.domain.gate import (
    DATA_APPROVED,
    DATA_QUALITY_PASSED,
    DATA_REGISTERED,
    Binding,
    DataFact,
    PersonalDataFact,
    judge_data,
    judge_personal_data,
    lapse_reason,
)

PRODUCTION_STAGES = ("production", "under_review")
DOCUMENTED_FIELDS = ("title", "description", "purpose")
INVENTORY_FIELDS = ("title", "purpose", "owner", "business_unit")
# Owner-written model card fields documentation needs for the version in scope: what the
# model is for and not for, where it falls short, and how people oversee it (EU AI Act
# Art. 13(3)(b), Art. 14, Annex IV 1-3). Other narrative fields are listed when written.
REQUIRED_NARRATIVES = ("intended_use", "out_of_scope", "limitations", "human_oversight")


class State(StrEnum):
    CURRENT = "current"
    STALE = "stale"
    MISSING = "missing"
    NOT_APPLICABLE = "not_applicable"


class Status(StrEnum):
    CURRENT = "current"
    STALE = "stale"
    MISSING = "missing"
    NOT_APPLICABLE = "not_applicable"
    ORGANISATIONAL = "organisational"


# --- the snapshot ---------------------------------------------------------------------


@dataclass(frozen=True)
class CheckRunFact:
    id: str
    suite: str
    passed: bool
    finished_at: datetime
    artifact_sha256: str


@dataclass(frozen=True)
class ApprovalFact:
    request_id: str
    approver: str
    decision: str
    policy: str
    artifact_sha256: str
    at: datetime
    fingerprints: tuple[str | None, str | None] = (None, None)  # (training, evaluation)


@dataclass(frozen=True)
class MonitorFact:
    id: str
    name: str
    version: int
    last_run_at: datetime | None
    open_alerts: int


@dataclass(frozen=True)
class FindingFact:
    id: int
    severity: str
    due_date: date | None


@dataclass(frozen=True)
class WaiverFact:
    id: int
    requirement: str
    expires_at: datetime
    in_force: bool


@dataclass(frozen=True)
class ModelFacts:
    """Everything coverage depends on for one model, read in one transaction."""

    model: str
    fields: dict[str, str]  # title, description, purpose, business_unit, owner, team
    risk_tier: str
    status: str
    next_review_date: date | None
    # The version in scope: production (newest), else approved, validation, newest.
    version: int | None = None
    stage: str | None = None
    artifact_sha256: str | None = None
    version_description: str = ""
    training_dataset: str | None = None
    evaluation_dataset: str | None = None
    risk_assessment: str | None = None  # its id
    risk_assessed_at: datetime | None = None
    risk_problem: str | None = None  # why the current assessment no longer counts
    active_policy: str | None = None  # name@version
    approvals: tuple[ApprovalFact, ...] = ()
    check_runs: tuple[CheckRunFact, ...] = ()
    monitoring_available: bool = True  # False while the monitoring tables do not exist
    monitors: tuple[MonitorFact, ...] = ()
    journal_events: int = 0
    journal_last: datetime | None = None
    last_review_at: datetime | None = None
    last_review_outcome: str | None = None
    open_findings: tuple[FindingFact, ...] = ()
    waivers: tuple[WaiverFact, ...] = ()
    # Current model card narrative fields shown for the version in scope: field -> the
    # version the text was written for (an earlier one when carried over).
    narratives: dict[str, int] = field(default_factory=dict)
    # From the current risk assessment: the EU AI Act category and whether the system is
    # generative (which decides if NIST AI 600-1 applies).
    eu_category: str | None = None
    generative: bool = False
    transparency_duties: bool = False  # an Art. 50 transparency answer other than "none"
    # The registered dataset versions sharing the version's data fingerprints.
    data: tuple[DataFact, ...] = ()
    # The registered versions of the training data, as their personal data was reviewed.
    personal_data: tuple[PersonalDataFact, ...] = ()
    training_fingerprint: str | None = None


def answer_values(answer: str | list[str] | None) -> list[str]:
    """A questionnaire answer as a list (a ``multi`` answer may be stored as one value)."""
    return [] if answer is None else [answer] if isinstance(answer, str) else list(answer)


def is_generative(answers: dict[str, str | list[str]]) -> bool:
    """A risk assessment says generative: the ``generative`` question, or Art. 50(2)
    synthetic content among the transparency answers."""
    synthetic = "synthetic_content" in answer_values(answers.get("transparency"))
    return answers.get("generative") == "yes" or synthetic


def applies(control: catalogs.Control, generative: bool) -> bool:
    """Whether ``control`` concerns a model at all (NIST AI 600-1: generative models only)."""
    return control.applies_to != "generative" or generative


# --- results --------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    kind: EvidenceKind
    state: State
    detail: str
    refs: tuple[str, ...] = ()  # ids of the records that are the evidence
    as_of: datetime | None = None  # when the newest of them was made


@dataclass(frozen=True)
class ControlCoverage:
    framework: str
    control: str
    title: str
    status: Status
    evidence: tuple[Evidence, ...]  # one per kind the control needs
    reason: str = ""  # why it is organisational, or what to do about it
    # Catalog entries that address the control (NIST AI 600-1: the suggested actions
    # tagged with a GAI risk); guidance, not evidence, so they do not change the status.
    actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class FrameworkSummary:
    framework: str
    controls: int
    counts: dict[str, int]  # status -> number of (model, control) cells
    percent_current: float | None  # current / (current + stale + missing), None when no cell counts


@dataclass(frozen=True)
class ModelCoverage:
    model: str
    version: int | None
    stage: str | None
    risk_tier: str
    computed_at: datetime
    evidence: tuple[Evidence, ...]  # every kind, once
    controls: tuple[ControlCoverage, ...]
    frameworks: tuple[FrameworkSummary, ...]
    # Which obligations apply to the model and from when (steward.compliance.obligations).
    obligations: tuple[Obligation, ...] = ()


@dataclass(frozen=True)
class ControlRollup:
    framework: str
    control: str
    title: str
    counts: dict[str, int]  # status -> models
    organisational: str | None = None
    gaps: tuple[str, ...] = ()  # models where it is missing or stale (first 20)


@dataclass(frozen=True)
class OrganisationCoverage:
    computed_at: datetime
    models: int
    frameworks: tuple[FrameworkSummary, ...]
    controls: tuple[ControlRollup, ...] = field(default=())


# --- evaluation -----------------------------------------------------------------------


def evidence_states(
    facts: ModelFacts, mapping: EvidenceMapping, now: datetime
) -> dict[EvidenceKind, Evidence]:
    fresh = {**DEFAULT_FRESHNESS_DAYS, **mapping.freshness_days}
    return {
        EvidenceKind.INVENTORY: _inventory(facts),
        EvidenceKind.RISK_ASSESSMENT: _risk(facts, now, fresh[EvidenceKind.RISK_ASSESSMENT]),
        EvidenceKind.POLICY_APPROVALS: _approvals(facts),
        EvidenceKind.CHECK_RESULTS: _checks(facts, now, fresh[EvidenceKind.CHECK_RESULTS]),
        EvidenceKind.MONITORING: _monitoring(facts, now, fresh[EvidenceKind.MONITORING]),
        EvidenceKind.AUDIT_JOURNAL: _journal(facts),
        EvidenceKind.DOCUMENTATION: _documentation(facts),
        EvidenceKind.REVIEWS: _reviews(facts, now.date()),
        EvidenceKind.FINDINGS: _findings(facts, now.date()),
        EvidenceKind.WAIVERS: _waivers(facts),
        EvidenceKind.DATA_REGISTERED: _data(facts, EvidenceKind.DATA_REGISTERED, DATA_REGISTERED),
        EvidenceKind.DATA_QUALITY: _data(facts, EvidenceKind.DATA_QUALITY, DATA_QUALITY_PASSED),
        EvidenceKind.DATA_APPROVED: _data(facts, EvidenceKind.DATA_APPROVED, DATA_APPROVED),
        EvidenceKind.PERSONAL_DATA: _personal_data(facts),
    }


def _data(f: ModelFacts, kind: EvidenceKind, judged: tuple[str, str, str]) -> Evidence:
    """Judged exactly as the gate's data requirements judge the version in scope."""
    if f.version is None:
        return Evidence(kind, State.MISSING, f"{f.model!r} has no version yet.")
    met, detail, refs = judge_data(f.data, f.model, f.version, *judged)
    return Evidence(kind, State.CURRENT if met else State.MISSING, detail, tuple(refs))


def _personal_data(f: ModelFacts) -> Evidence:
    """Judged exactly as the gate's ``personal_data_reviewed`` judges the version in scope."""
    kind = EvidenceKind.PERSONAL_DATA
    if f.version is None:
        return Evidence(kind, State.MISSING, f"{f.model!r} has no version yet.")
    met, detail, refs = judge_personal_data(
        f.personal_data, f.training_fingerprint, f.model, f.version
    )
    return Evidence(kind, State.CURRENT if met else State.MISSING, detail, tuple(refs))


def _inventory(f: ModelFacts) -> Evidence:
    kind = EvidenceKind.INVENTORY
    absent = [name for name in INVENTORY_FIELDS if not f.fields.get(name, "").strip()]
    if f.risk_tier == "unassessed":
        absent.append("risk tier")
    if absent:
        return Evidence(
            kind,
            State.STALE,
            f"The inventory record lacks {', '.join(absent)}; fill it in with "
            f"`steward model update {f.model}` (tier: `steward risk assess {f.model}`).",
            (f.model,),
        )
    return Evidence(kind, State.CURRENT, "Inventory record complete.", (f.model,))


def _risk(f: ModelFacts, now: datetime, days: int) -> Evidence:
    kind = EvidenceKind.RISK_ASSESSMENT
    if f.risk_assessment is None or f.risk_assessed_at is None:
        return Evidence(
            kind, State.MISSING, f"No risk assessment; run `steward risk assess {f.model}`."
        )
    refs, at = (f.risk_assessment,), f.risk_assessed_at
    if f.risk_problem:
        return Evidence(kind, State.STALE, f.risk_problem, refs, at)
    if now - at > timedelta(days=days):
        return Evidence(
            kind,
            State.STALE,
            f"Risk assessment {f.risk_assessment} is {(now - at).days} days old (more than "
            f"{days}); assess again with `steward risk assess {f.model}`.",
            refs,
            at,
        )
    return Evidence(kind, State.CURRENT, f"Current assessment, tier {f.risk_tier}.", refs, at)


def _approvals(f: ModelFacts) -> Evidence:
    kind = EvidenceKind.POLICY_APPROVALS
    if f.active_policy is None:
        return Evidence(
            kind,
            State.MISSING,
            "No policy pack is active; load one with `steward policy load FILE --activate`.",
        )
    granted = [a for a in f.approvals if a.decision == "approve"]
    if f.version is None or not granted:
        return Evidence(
            kind,
            State.MISSING,
            f"Policy {f.active_policy} is active but "
            + (
                "the model has no version."
                if f.version is None
                else f"version {f.version} has no approvals; request one with "
                f"`steward approvals request {f.model} {f.version} --to approved`."
            ),
            (f.active_policy,),
        )
    refs = (f.active_policy, *sorted({a.request_id for a in granted}))
    newest = max(a.at for a in granted)
    # The gate's lapse rule, so coverage and gates never disagree about an approval.
    now = Binding(
        f.artifact_sha256 or "", (f.training_dataset, f.evaluation_dataset), f.active_policy
    )
    lapses = {
        a: lapse_reason(a.approver, Binding(a.artifact_sha256, a.fingerprints, a.policy), now)
        for a in granted
    }
    current = [a for a in granted if lapses[a] is None]
    if not current:
        latest = max(granted, key=lambda a: a.at)
        return Evidence(
            kind,
            State.STALE,
            f"Approvals of version {f.version} no longer count: {lapses[latest]}; request "
            f"them again with `steward approvals request {f.model} {f.version} --to approved`.",
            refs,
            newest,
        )
    who = sorted({a.approver for a in current})
    return Evidence(
        kind,
        State.CURRENT,
        f"Version {f.version} approved by {', '.join(who)} under {f.active_policy}.",
        refs,
        max(a.at for a in current),
    )


def _checks(f: ModelFacts, now: datetime, days: int) -> Evidence:
    kind = EvidenceKind.CHECK_RESULTS
    runs = [r for r in f.check_runs if r.artifact_sha256 == f.artifact_sha256]
    if f.version is None or not runs:
        return Evidence(
            kind,
            State.MISSING,
            "No check results"
            + ("" if f.version is None else f" on version {f.version}'s artifact")
            + f"; run a suite with `steward check run {f.model} {f.version or 'VERSION'}`.",
        )
    latest: dict[str, CheckRunFact] = {}
    for run in sorted(runs, key=lambda r: r.finished_at):
        latest[run.suite] = run
    newest = max(r.finished_at for r in latest.values())
    refs = tuple(r.id for r in sorted(latest.values(), key=lambda r: r.suite))
    age = (now - newest).days
    if now - newest > timedelta(days=days):
        return Evidence(
            kind,
            State.STALE,
            f"The newest check run of version {f.version} is {age} days old (freshness "
            f"window {days} days); validate again.",
            refs,
            newest,
        )
    failed = sorted(s for s, r in latest.items() if not r.passed)
    if failed:
        return Evidence(
            kind,
            State.STALE,
            f"The latest run of suite {', '.join(failed)} on version {f.version} failed.",
            refs,
            newest,
        )
    return Evidence(
        kind,
        State.CURRENT,
        f"Suites {', '.join(sorted(latest))} passed on version {f.version}, newest {age} days ago.",
        refs,
        newest,
    )


def _monitoring(f: ModelFacts, now: datetime, days: int) -> Evidence:
    kind = EvidenceKind.MONITORING
    if f.stage not in PRODUCTION_STAGES:
        return Evidence(
            kind,
            State.NOT_APPLICABLE,
            "No version in production; monitoring applies from production on.",
        )
    if not f.monitoring_available:
        return Evidence(kind, State.MISSING, "No monitor (monitoring is not set up in this store).")
    mine = [m for m in f.monitors if m.version == f.version]
    if not mine:
        return Evidence(
            kind,
            State.MISSING,
            f"No monitor on production version {f.version}; create one with "
            f"`steward monitor create {f.model} {f.version}`.",
        )
    refs = tuple(m.id for m in mine)
    runs = [m.last_run_at for m in mine if m.last_run_at is not None]
    if not runs:
        return Evidence(kind, State.STALE, "The monitor has never run.", refs)
    newest = max(runs)
    alerts = sum(m.open_alerts for m in mine)
    suffix = f"; {alerts} open alert(s)" if alerts else ""
    if now - newest > timedelta(days=days):
        return Evidence(
            kind,
            State.STALE,
            f"The newest monitor run is {(now - newest).days} days old (freshness window "
            f"{days} days){suffix}.",
            refs,
            newest,
        )
    return Evidence(
        kind,
        State.CURRENT,
        f"Monitored; last run {(now - newest).days} days ago{suffix}.",
        refs,
        newest,
    )


def _journal(f: ModelFacts) -> Evidence:
    kind = EvidenceKind.AUDIT_JOURNAL
    if not f.journal_events:
        return Evidence(kind, State.MISSING, "No journal events name this model.")
    return Evidence(
        kind,
        State.CURRENT,
        f"{f.journal_events} journal events; verify the chain with `steward audit verify`.",
        (),
        f.journal_last,
    )


def _documentation(f: ModelFacts) -> Evidence:
    kind = EvidenceKind.DOCUMENTATION
    present = {name: bool(f.fields.get(name, "").strip()) for name in DOCUMENTED_FIELDS}
    carried: list[str] = []
    if f.version is not None:
        present["version description"] = bool(f.version_description.strip())
        present["training dataset"] = f.training_dataset is not None
        for name in REQUIRED_NARRATIVES:
            written_for = f.narratives.get(name)
            present[f"narrative {name}"] = written_for == f.version
            if written_for is not None and written_for != f.version:
                carried.append(f"{name} (from v{written_for})")
    absent = [name for name, ok in present.items() if not ok]
    refs = tuple(x for x in (f.training_dataset, f.evaluation_dataset) if x) + tuple(
        f"narrative:{name}@v{no}" for name, no in sorted(f.narratives.items())
    )
    if len(absent) == len(present) and not f.narratives:
        return Evidence(kind, State.MISSING, "Neither the model nor its version is documented.")
    if absent:
        detail = f"Documentation lacks {', '.join(absent)}."
        if carried:
            detail += (
                f" Carried over from an earlier version, not confirmed for v{f.version}: "
                f"{', '.join(carried)}."
            )
        if any(name.startswith("narrative ") for name in absent):
            detail += (
                f" Write the model card narrative with `steward report narrative {f.model} "
                f"{f.version} --set FIELD=TEXT`."
            )
        return Evidence(kind, State.STALE, detail, refs)
    return Evidence(
        kind,
        State.CURRENT,
        f"Model and version documented with datasets; the model card narrative "
        f"({', '.join(REQUIRED_NARRATIVES)}) is written for v{f.version}.",
        refs,
    )


def _reviews(f: ModelFacts, today: date) -> Evidence:
    kind = EvidenceKind.REVIEWS
    due = f.next_review_date
    if due is not None and due < today:
        return Evidence(
            kind,
            State.STALE if f.last_review_at else State.MISSING,
            f"Periodic review overdue since {due.isoformat()}; complete it with "
            f"`steward review complete {f.model}`.",
            (),
            f.last_review_at,
        )
    if f.last_review_at is None:
        if due is None:
            return Evidence(
                kind,
                State.MISSING,
                f"No periodic review completed yet; record one with "
                f"`steward review complete {f.model}`.",
            )
        return Evidence(kind, State.NOT_APPLICABLE, f"First periodic review due {due.isoformat()}.")
    return Evidence(
        kind,
        State.CURRENT,
        f"Last review {f.last_review_at:%Y-%m-%d} ({f.last_review_outcome}); next due "
        f"{due.isoformat() if due else 'unscheduled'}.",
        (),
        f.last_review_at,
    )


def _by_severity(findings: tuple[FindingFact, ...]) -> str:
    """'1 critical, 11 high': open findings counted per severity, most severe first."""
    counts = Counter(x.severity for x in findings)
    order = [*reversed(SEVERITIES), *sorted(set(counts) - set(SEVERITIES))]
    return ", ".join(f"{counts[s]} {s}" for s in order if counts.get(s))


def _ids(findings: list[FindingFact]) -> str:
    ids = sorted(str(x.id) for x in findings)
    return f"id {ids[0]}" if len(ids) == 1 else f"ids {', '.join(sorted(ids, key=int))}"


def _findings(f: ModelFacts, today: date) -> Evidence:
    kind = EvidenceKind.FINDINGS
    overdue = [x for x in f.open_findings if x.due_date is not None and x.due_date < today]
    critical = [x for x in f.open_findings if x.severity == "critical"]
    refs = tuple(str(x.id) for x in f.open_findings)
    if overdue or critical:
        # Counted by severity first, so "1 critical" is not read as all of them.
        parts = [f"{_by_severity(f.open_findings)} open"]
        if critical:
            parts.append(f"critical: {_ids(critical)}")
        if overdue:
            parts.append(f"{len(overdue)} past their due date ({_ids(overdue)})")
        return Evidence(kind, State.STALE, f"Findings: {'; '.join(parts)}.", refs)
    if f.open_findings:
        return Evidence(
            kind,
            State.CURRENT,
            f"Findings: {_by_severity(f.open_findings)} open, all within their due dates.",
            refs,
        )
    return Evidence(kind, State.CURRENT, "Findings are tracked; none open.")


def _waivers(f: ModelFacts) -> Evidence:
    kind = EvidenceKind.WAIVERS
    if not f.waivers:
        return Evidence(kind, State.NOT_APPLICABLE, "No waivers granted for this version.")
    live = [w for w in f.waivers if w.in_force]
    refs = tuple(str(w.id) for w in f.waivers)
    if live:
        soonest = min(w.expires_at for w in live)
        return Evidence(
            kind,
            State.CURRENT,
            f"{len(live)} waiver(s) in force with reasons, the first expiring {soonest:%Y-%m-%d}.",
            refs,
        )
    return Evidence(kind, State.CURRENT, f"{len(f.waivers)} past waiver(s), none in force.", refs)


def _status(states: list[State]) -> Status:
    if State.MISSING in states:
        return Status.MISSING
    if State.STALE in states:
        return Status.STALE
    if states and all(s is State.NOT_APPLICABLE for s in states):
        return Status.NOT_APPLICABLE
    return Status.CURRENT


def for_model(
    facts: ModelFacts,
    mapping: EvidenceMapping,
    now: datetime,
    frameworks: tuple[str, ...] | None = None,
) -> ModelCoverage:
    states = evidence_states(facts, mapping, now)
    rows = control_rows(states, mapping, frameworks, generative=facts.generative)
    return ModelCoverage(
        model=facts.model,
        version=facts.version,
        stage=facts.stage,
        risk_tier=facts.risk_tier,
        computed_at=now,
        evidence=tuple(states[k] for k in EvidenceKind),
        controls=tuple(rows),
        frameworks=summarise([rows]),
        obligations=obligations_for(facts, now.date()),
    )


def control_rows(
    states: dict[EvidenceKind, Evidence],
    mapping: EvidenceMapping,
    frameworks: tuple[str, ...] | None = None,
    *,
    generative: bool,
) -> list[ControlCoverage]:
    """Every assessable control's status from one model's evidence states (``generative``:
    whether controls that concern only generative models apply, see :func:`applies`)."""
    rows: list[ControlCoverage] = []
    for cat in catalogs.catalogs():
        if frameworks is not None and cat.id not in frameworks:
            continue
        for control in cat.assessable:
            entry = mapping.entry(cat.id, control.id)
            if entry is None or not applies(control, generative):
                # A user mapping can only add; the shipped one covers every control (tested).
                continue
            if entry.organisational is not None:
                rows.append(
                    ControlCoverage(
                        cat.id,
                        control.id,
                        control.title,
                        Status.ORGANISATIONAL,
                        (),
                        entry.organisational,
                        catalogs.addressed_by(cat.id, control.id),
                    )
                )
                continue
            needed = tuple(states[k] for k in entry.evidence)
            status = _status([e.state for e in needed])
            todo = "; ".join(e.detail for e in needed if e.state in (State.MISSING, State.STALE))
            rows.append(
                ControlCoverage(
                    cat.id,
                    control.id,
                    control.title,
                    status,
                    needed,
                    todo,
                    catalogs.addressed_by(cat.id, control.id),
                )
            )
    return rows


def summarise(
    per_model: list[list[ControlCoverage]] | list[tuple[ControlCoverage, ...]],
) -> tuple[FrameworkSummary, ...]:
    return summarise_weighted([(rows, 1) for rows in per_model])


def summarise_weighted(
    groups: Sequence[tuple[Sequence[ControlCoverage], int]],
) -> tuple[FrameworkSummary, ...]:
    """``summarise`` where each list of control rows stands for ``weight`` models with the
    same statuses (the compliance programme groups models by their evidence states)."""
    counts: dict[str, Counter[str]] = {}
    controls: dict[str, set[str]] = {}
    for rows, weight in groups:
        for row in rows:
            counts.setdefault(row.framework, Counter())[row.status.value] += weight
            controls.setdefault(row.framework, set()).add(row.control)
    out = []
    for cat in catalogs.catalogs():
        if cat.id not in counts:
            continue
        c = counts[cat.id]
        scored = c[Status.CURRENT] + c[Status.STALE] + c[Status.MISSING]
        out.append(
            FrameworkSummary(
                framework=cat.id,
                controls=len(controls[cat.id]),
                counts={s.value: c[s.value] for s in Status},
                percent_current=round(100.0 * c[Status.CURRENT] / scored, 1) if scored else None,
            )
        )
    return tuple(out)


def for_organisation(coverages: list[ModelCoverage], now: datetime) -> OrganisationCoverage:
    rollup: dict[tuple[str, str], tuple[str, Counter[str], str | None, list[str]]] = {}
    for cov in coverages:
        for row in cov.controls:
            key = (row.framework, row.control)
            if key not in rollup:
                organisational = row.reason if row.status is Status.ORGANISATIONAL else None
                rollup[key] = (row.title, Counter(), organisational, [])
            _title, counter, _org, gaps = rollup[key]
            counter[row.status.value] += 1
            if row.status in (Status.MISSING, Status.STALE) and len(gaps) < 20:
                gaps.append(cov.model)
    return OrganisationCoverage(
        computed_at=now,
        models=len(coverages),
        frameworks=summarise([list(c.controls) for c in coverages]),
        controls=tuple(
            ControlRollup(fw, ctl, title, dict(counter), org, tuple(gaps))
            for (fw, ctl), (title, counter, org, gaps) in rollup.items()
        ),
    )
