"""Compliance use cases: catalogs, controls, crosswalks, coverage and the dashboard.

All read-only. Coverage is computed from live data each time it is asked for:
the facts of every model in scope are gathered in one read transaction
(``store.compliance_repo``: a fixed number of queries per 500 models) and
evaluated by the pure functions of ``steward.compliance.coverage`` against the
evidence mapping (shipped, extended by ``STEWARD_COMPLIANCE_MAPPING``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from steward.compliance import catalogs, coverage, dashboard, mapping, programme
from steward.compliance.coverage import (
    ApprovalFact,
    CheckRunFact,
    FindingFact,
    ModelCoverage,
    ModelFacts,
    MonitorFact,
    OrganisationCoverage,
    WaiverFact,
    answer_values,
    is_generative,
)
from steward.compliance.dashboard import Dashboard
from steward.compliance.mapping import CatalogInfo, ControlInfo, Crosswalk, EvidenceMapping
from steward.compliance.programme import ModelJournal, Programme
from steward.domain.audit import Action, AuditFilter
from steward.domain.errors import InvalidInput
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import datasets, personal_data, policies
from steward.services.context import Context, model_id
from steward.services.risk import assessment_status
from steward.store.compliance_repo import (
    ComplianceRepository,
    ProgrammeSnapshots,
    RawFacts,
    as_date,
)
from steward.store.uow import UnitOfWork


def evidence_mapping(ctx: Context) -> EvidenceMapping:
    return mapping.load(ctx.settings.compliance_mapping)


def list_catalogs(ctx: Context, principal: Principal) -> list[CatalogInfo]:
    # The evidence mapping is this organisation's configuration: reading it needs a role,
    # like every governance record (anonymous reads cover the inventory only).
    ensure(principal, Permission.GOVERNANCE_READ)
    mp = evidence_mapping(ctx)
    return [mapping.catalog_info(cat, mp) for cat in catalogs.catalogs()]


def list_controls(
    ctx: Context, principal: Principal, framework: str, *, all_levels: bool = False
) -> list[ControlInfo]:
    """The controls of a catalog with their evidence: the assessable ones and the entries
    that address them (NIST AI 600-1 suggested actions), or every level with ``all_levels``."""
    ensure(principal, Permission.GOVERNANCE_READ)
    cat = catalogs.catalog(framework)
    mp = evidence_mapping(ctx)
    return [
        mapping.control_info(c, mp)
        for c in cat.controls
        if all_levels or c.assessable or c.addresses
    ]


def get_control(ctx: Context, principal: Principal, framework: str, control: str) -> ControlInfo:
    ensure(principal, Permission.GOVERNANCE_READ)
    return mapping.control_info(catalogs.catalog(framework).control(control), evidence_mapping(ctx))


def crosswalk(ctx: Context, principal: Principal, source: str, target: str) -> Crosswalk:
    ensure(principal, Permission.GOVERNANCE_READ)
    return mapping.crosswalk(evidence_mapping(ctx), source, target)


def _frameworks(frameworks: list[str] | None) -> tuple[str, ...] | None:
    if not frameworks:
        return None
    for name in frameworks:
        catalogs.catalog(name)  # NotFound names the catalogs
    return tuple(frameworks)


def model_coverage(
    ctx: Context, principal: Principal, model: str, frameworks: list[str] | None = None
) -> ModelCoverage:
    """Coverage of every assessable control for one model, from live data."""
    ensure(principal, Permission.GOVERNANCE_READ)
    selected = _frameworks(frameworks)
    mp = evidence_mapping(ctx)
    with ctx.uow.read() as uow:
        model_id(uow, model)  # NotFound with the fix
        facts = facts_in_uow(uow, model)
        now = uow.now
    return coverage.for_model(facts, mp, now, selected)


def organisation_coverage(
    ctx: Context,
    principal: Principal,
    frameworks: list[str] | None = None,
    *,
    controls: bool = True,
) -> OrganisationCoverage:
    """Coverage over every model that is not retired, per framework and per control."""
    ensure(principal, Permission.GOVERNANCE_READ)
    selected = _frameworks(frameworks)
    mp = evidence_mapping(ctx)
    with ctx.uow.read() as uow:
        facts = _facts(uow)
        now = uow.now
    result = coverage.for_organisation(
        [coverage.for_model(f, mp, now, selected) for f in facts], now
    )
    if not controls:
        return OrganisationCoverage(result.computed_at, result.models, result.frameworks)
    return result


def organisation_dashboard(ctx: Context, principal: Principal) -> Dashboard:
    ensure(principal, Permission.GOVERNANCE_READ)
    mp = evidence_mapping(ctx)
    with ctx.uow.read() as uow:
        facts = _facts(uow)
        now = uow.now
    per_model = [coverage.for_model(f, mp, now) for f in facts]
    summary = coverage.summarise([list(c.controls) for c in per_model])
    return dashboard.build(facts, per_model, summary, now)


MAX_WEEKS = 52
_PROGRAMME_ACTIONS = (
    Action.MODEL_CREATED,
    Action.VERSION_CREATED,
    Action.VERSION_TRANSITIONED,
    Action.MONITOR_CREATED,
    Action.FINDING_OPENED,
    Action.WAIVER_GRANTED,
    Action.WAIVER_REVOKED,
)


def compliance_programme(
    ctx: Context, principal: Principal, weeks: int = 12, frameworks: list[str] | None = None
) -> Programme:
    """Readiness per framework now and at each of the past ``weeks`` weeks (replayed from
    the journal, ``compliance.programme.facts_as_of``), and the next actions that would
    satisfy most unmet controls now — computed from live data on every call (what
    :func:`programme_view` stores and serves)."""
    ensure(principal, Permission.GOVERNANCE_READ)
    _check_weeks(weeks)
    selected = _frameworks(frameworks)
    return _compute_programme(ctx, weeks, selected)[0]


def _check_weeks(weeks: int) -> None:
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput(f"weeks must be between 1 and {MAX_WEEKS}.", field="weeks")


def _compute_programme(
    ctx: Context, weeks: int, selected: tuple[str, ...] | None
) -> tuple[Programme, int]:
    """The programme and the journal's last event it saw (one read snapshot)."""
    mp = evidence_mapping(ctx)
    with ctx.uow.read() as uow:
        head = uow.audit.max_seq()
        facts = _facts(uow)
        now = uow.now
        journals = _journals(uow)
    moments = programme.week_starts(now, weeks)
    points = []
    actions: list[programme.Action] = []
    for at in moments:
        past = [programme.facts_as_of(f, journals.get(f.model, ModelJournal()), at) for f in facts]
        point, found = programme.readiness(
            [f for f in past if f is not None], mp, at, selected, actions=at == now
        )
        points.append(point)
        actions = found or actions
    return Programme(now, tuple(points), tuple(actions)), head


# --- the programme as stored: what the page serves ----------------------------------------

# At most this many models, a visit recomputes a programme the journal has moved past (or
# that is older than REFRESH_AFTER); above it the worker does, and the page says how old
# what it shows is. Replaying the journal costs about 4 ms per model and week count.
LIVE_MODELS = 1000
# The worker recomputes every stored programme at least this often (evidence also goes
# stale with time alone, so a quiet journal does not keep a programme current for ever).
REFRESH_AFTER = timedelta(hours=1)
# Actions kept in the stored summary (the page shows the first 25; the downloads all).
STORED_ACTIONS = 100


@dataclass(frozen=True)
class ProgrammeView:
    """What the programme page shows: the programme as last computed, or None while the
    worker has yet to compute it (it has been asked to)."""

    programme: Programme | None
    actions: int  # how many actions the whole plan has (``programme.actions``: the first)
    events_since: int  # journal events written after the computation
    live: bool  # computed for this request
    seconds: float | None  # how long the computation took
    requested_at: datetime | None = None


def _key(weeks: int, selected: tuple[str, ...] | None) -> tuple[str, str]:
    framework = ",".join(selected) if selected else ""
    return f"{weeks}:{framework or '*'}", framework


def programme_view(
    ctx: Context, principal: Principal, weeks: int = 12, frameworks: list[str] | None = None
) -> ProgrammeView:
    """The compliance programme for the page: the stored one while it is current (same
    journal head, younger than REFRESH_AFTER); recomputed now in an organisation of at most
    LIVE_MODELS models; otherwise the stored one with its age, or — when none is stored yet —
    a request the worker (``Job.PROGRAMME``) takes on its next pass."""
    ensure(principal, Permission.GOVERNANCE_READ)
    _check_weeks(weeks)
    selected = _frameworks(frameworks)
    key, framework = _key(weeks, selected)
    with ctx.uow.read() as uow:
        repo = ProgrammeSnapshots(uow.conn)
        row = repo.get(key)
        head = uow.audit.max_seq()
        now = uow.now
        fresh = (
            row is not None
            and row.computed_at is not None
            and row.journal_seq == head
            and now - row.computed_at < REFRESH_AFTER
        )
        small = not fresh and repo.models_up_to(LIVE_MODELS) <= LIVE_MODELS
    if fresh or not small:
        if row is not None and row.summary is not None:
            found, count = programme.from_summary(row.summary)
            return ProgrammeView(
                found, count, head - (row.journal_seq or 0), False, row.seconds, row.requested_at
            )
        with ctx.uow.write() as uow:
            ProgrammeSnapshots(uow.conn).request(key, weeks, framework, uow.now)
            uow.commit()
        return ProgrammeView(None, 0, 0, False, None, now)
    found, seconds = _refresh(ctx, weeks, selected)
    return ProgrammeView(
        replace(found, actions=found.actions[:STORED_ACTIONS]),
        len(found.actions),
        0,
        True,
        seconds,
    )


def programme_plan(
    ctx: Context, principal: Principal, kind: str, weeks: int = 12
) -> tuple[str, datetime] | None:
    """The whole plan (``csv`` or ``md``) of the programme :func:`programme_view` serves for
    ``weeks`` (every framework), with when it was computed; None while not computed yet."""
    view = programme_view(ctx, principal, weeks)
    if view.programme is None:
        return None
    key, _ = _key(weeks, None)
    with ctx.uow.read() as uow:
        text = ProgrammeSnapshots(uow.conn).plan(key, kind)
    return (text or "", view.programme.computed_at)


def _refresh(ctx: Context, weeks: int, selected: tuple[str, ...] | None) -> tuple[Programme, float]:
    """Compute the programme and store it; returns it whole and the seconds it took."""
    key, framework = _key(weeks, selected)
    start = time.perf_counter()
    found, head = _compute_programme(ctx, weeks, selected)
    seconds = time.perf_counter() - start
    summary = programme.summary_json(found, STORED_ACTIONS)
    csv_text, md_text = programme.plan_csv(found), programme.plan_markdown(found)
    try:
        with ctx.uow.write() as uow:
            ProgrammeSnapshots(uow.conn).store(
                key,
                weeks,
                framework,
                at=found.computed_at,
                journal_seq=head,
                seconds=seconds,
                summary=summary,
                plan_csv=csv_text,
                plan_md=md_text,
            )
            uow.commit()
    except IntegrityError:  # another visit or the worker stored the same one first
        pass
    return found, seconds


def refresh_programmes(ctx: Context, principal: Principal, *, force: bool = False) -> list[str]:
    """Recompute every stored programme that was never computed or is older than
    REFRESH_AFTER (``force``: all of them), and the default one (12 weeks, every framework)
    when none is stored; returns the keys recomputed. Run by the worker (``Job.PROGRAMME``)."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        rows = ProgrammeSnapshots(uow.conn).all()
        now = uow.now
    default, _ = _key(12, None)
    due = [
        r for r in rows if force or r.computed_at is None or now - r.computed_at >= REFRESH_AFTER
    ]
    wanted = [(r.weeks, tuple(r.framework.split(",")) if r.framework else None) for r in due]
    if default not in {r.key for r in rows}:
        wanted.append((12, None))
    done = []
    for weeks, selected in wanted:
        _refresh(ctx, weeks, selected)
        done.append(_key(weeks, selected)[0])
    return done


def _journals(uow: UnitOfWork) -> dict[str, ModelJournal]:
    """Per model, what the journal says happened when (one pass over the chosen actions)."""
    out: dict[str, ModelJournal] = {}
    wanted = AuditFilter(actions=tuple(a.value for a in _PROGRAMME_ACTIONS))
    for event in uow.audit.stream(wanted):
        data = event.payload_dict()
        at = _utc(event.time)
        name = event.subject_id if event.action == Action.MODEL_CREATED else data.get("model")
        if not isinstance(name, str):
            continue
        j = out.setdefault(name, ModelJournal())
        if event.action == Action.MODEL_CREATED:
            j.registered_at = at
        elif event.action == Action.VERSION_CREATED:
            j.stages.setdefault(int(data["version"]), []).append((at, str(data["stage"])))
        elif event.action == Action.VERSION_TRANSITIONED:
            j.stages.setdefault(int(data["version"]), []).append((at, str(data["to"])))
        elif event.action == Action.MONITOR_CREATED:
            j.monitors[event.subject_id] = at
        elif event.action == Action.FINDING_OPENED:
            j.findings[int(data["id"])] = at
        elif event.action == Action.WAIVER_GRANTED:
            j.waivers[int(data["id"])] = at
        else:
            j.waivers_revoked[int(data["id"])] = at
    return out


# --- turning rows into facts ------------------------------------------------------------


def _utc(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise InvalidInput(f"Unexpected timestamp {value!r} in the store.")


def facts_in_uow(uow: UnitOfWork, model: str) -> ModelFacts:
    """The coverage facts of one model, in the caller's snapshot (the model exists)."""
    return _facts(uow, model)[0]


def _facts(uow: UnitOfWork, model: str | None = None) -> list[ModelFacts]:
    """Facts of one model, or of every model that is not retired."""
    repo = ComplianceRepository(uow.conn)
    raw = repo.gather(repo.model_rows(model))
    pack = policies.active_pack(uow)
    active = pack.ref if pack is not None else None
    available = repo.monitoring_available()
    now = uow.now
    return [_to_facts(uow, r, active, available, now) for r in raw]


def _to_facts(
    uow: UnitOfWork, r: RawFacts, active: str | None, available: bool, now: datetime
) -> ModelFacts:
    m = r.model
    mid = int(m["id"])
    assessment, problem = assessment_status(uow, mid)
    v = r.version
    review = r.last_review
    return ModelFacts(
        model=str(m["name"]),
        fields={
            k: str(m[k] or "")
            for k in ("title", "description", "purpose", "business_unit", "owner", "team")
        },
        risk_tier=str(m["risk_tier"]),
        status=str(m["status"]),
        next_review_date=as_date(m["next_review_date"]),
        version=int(v["version"]) if v is not None else None,
        stage=str(v["stage"]) if v is not None else None,
        artifact_sha256=str(v["artifact_sha256"]) if v is not None else None,
        version_description=str(v["description"] or "") if v is not None else "",
        training_dataset=r.training,
        evaluation_dataset=r.evaluation,
        risk_assessment=assessment.id if assessment is not None else None,
        risk_assessed_at=assessment.assessed_at if assessment is not None else None,
        risk_problem=problem if assessment is not None else None,
        eu_category=assessment.category if assessment is not None else None,
        generative=assessment is not None and is_generative(assessment.answers),
        transparency_duties=assessment is not None
        and any(a != "none" for a in answer_values(assessment.answers.get("transparency"))),
        active_policy=active,
        approvals=tuple(
            ApprovalFact(
                str(a["request_id"]),
                str(a["approver"]),
                str(a["decision"]),
                str(a["policy"]),
                str(a["artifact_sha256"]),
                _utc(a["at"]),
                (a["training_fingerprint"], a["evaluation_fingerprint"]),
            )
            for a in r.approvals
        ),
        check_runs=tuple(
            CheckRunFact(
                str(c["id"]),
                str(c["suite"]),
                bool(c["passed"]),
                _utc(c["finished_at"]),
                str(c["artifact_sha256"]),
            )
            for c in r.check_runs
        ),
        monitoring_available=available,
        monitors=tuple(
            MonitorFact(
                str(x["id"]),
                str(x["name"]),
                int(x["version"]),
                _utc(x["last_run_at"]) if x["last_run_at"] is not None else None,
                int(x["open_alerts"]),
            )
            for x in r.monitors
        ),
        journal_events=r.journal_events,
        journal_last=_utc(r.journal_last) if r.journal_last else None,
        last_review_at=_utc(review["completed_at"]) if review is not None else None,
        last_review_outcome=str(review["outcome"]) if review is not None else None,
        open_findings=tuple(
            FindingFact(int(f["id"]), str(f["severity"]), as_date(f["due_date"]))
            for f in r.open_findings
        ),
        waivers=tuple(
            WaiverFact(
                int(w["id"]),
                str(w["requirement"]),
                _utc(w["expires_at"]),
                w["revoked_at"] is None and _utc(w["expires_at"]) > now,
            )
            for w in r.waivers
        ),
        narratives=dict(r.narratives),
        data=tuple(datasets.gate_facts(uow, v)) if v is not None else (),
        personal_data=tuple(personal_data.gate_facts(uow, v)) if v is not None else (),
        training_fingerprint=(
            uow.datasets.fingerprint_of(v["training_dataset_id"])
            if v is not None and v["training_dataset_id"] is not None
            else None
        ),
    )
