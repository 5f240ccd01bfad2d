"""Findings, waivers and periodic reviews through the service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from tests.conftest import Clock

from steward import bootstrap
from steward.domain.audit import Action, AuditFilter
from steward.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from steward.domain.findings import FindingStatus, Severity
from steward.domain.permissions import OPERATOR, Permission, Principal, authorize
from steward.domain.reviews import DueStatus
from steward.domain.specs import VersionSpec
from steward.services import audit, findings, models, reviews, versions, waivers
from steward.services.context import Context, model_id, version_row_id
from steward.settings import Settings

MakeFile = Callable[[bytes, str], Path]
ALICE = Principal(name="alice", roles=frozenset({OPERATOR}))
VAL = Principal(name="val", roles=frozenset({OPERATOR}))
START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def timed(settings: Settings, clock: Clock) -> Iterator[Context]:
    context = bootstrap.build(settings, migrate=True, clock=clock)
    yield context
    context.uow.engine.dispose()


def _model(
    ctx: Context, name: str = "credit", tier: str | None = "high", owner: str = "bob"
) -> None:
    models.create_model(ctx, ALICE, name, owner=owner, team="risk")
    if tier is not None:
        # The tier normally comes from the risk assessment; set it in the store directly so
        # these tests do not depend on how direct tier edits are governed.
        with ctx.uow.write() as uow:
            uow.models.update(model_id(uow, name), {"risk_tier": tier})
            uow.commit()


def _version(ctx: Context, make_file: MakeFile, model: str = "credit") -> int:
    path = make_file(f"{model} weights {datetime.now(UTC).isoformat()}".encode(), "m.bin")
    return versions.create_version(ctx, ALICE, model, VersionSpec(), path).version


def _events(ctx: Context, action: Action) -> list[dict[str, object]]:
    found = audit.list_events(ctx, ALICE, AuditFilter(action=action.value), 1000)
    return [json.loads(e.payload) for e in found]


# -- the interfaces other engineers call ------------------------------------------------


def test_open_in_uow_joins_the_callers_transaction(timed: Context, make_file: MakeFile) -> None:
    _model(timed)
    v = _version(timed, make_file)
    with timed.uow.write() as uow:
        mid = model_id(uow, "credit")
        made = findings.open_in_uow(
            uow,
            "deployer",
            model_id=mid,
            model="credit",
            version=v,
            title="Deployed artifact is not the approved one",
            description="sha256 abc... loaded in prod",
            severity="critical",
            source="deploy",
            source_ref="prod:abc",
            evidence={"sha256": "abc"},
        )
        assert made.status is FindingStatus.OPEN and made.severity is Severity.CRITICAL
        assert made.owner == "bob"  # the model's owner remediates by default
        assert made.due_date == (START + timedelta(days=14)).date()
        # not committed: the caller's failure takes the finding and its event with it
    with timed.uow.read() as uow:
        assert uow.findings.open_for_model(model_id(uow, "credit")) == []
    assert _events(timed, Action.FINDING_OPENED) == []

    with timed.uow.write() as uow:
        mid = model_id(uow, "credit")
        kwargs = dict(
            model_id=mid,
            model="credit",
            version=v,
            title="Deployed artifact is not the approved one",
            description="",
            severity="critical",
            source="deploy",
            source_ref="prod:abc",
            evidence={"sha256": "abc"},
        )
        first = findings.open_in_uow(uow, "deployer", **kwargs)  # type: ignore[arg-type]
        again = findings.open_in_uow(uow, "deployer", **kwargs)  # type: ignore[arg-type]
        uow.commit()
    assert again.id == first.id  # the same automatic finding is not opened twice
    with timed.uow.read() as uow:
        found = uow.findings.open_for_model(model_id(uow, "credit"))
    assert [(f.id, f.model, f.version, f.source) for f in found] == [
        (first.id, "credit", v, "deploy")
    ]
    (event,) = _events(timed, Action.FINDING_OPENED)
    assert event["severity"] == "critical" and event["source_ref"] == "prod:abc"


def test_open_for_model_counts_open_and_in_remediation_only(timed: Context) -> None:
    _model(timed)
    _model(timed, "other")
    ids = [
        findings.open_finding(timed, ALICE, "credit", title=f"issue {i}", severity="medium").id
        for i in range(4)
    ]
    findings.open_finding(timed, ALICE, "other", title="elsewhere", severity="low")
    findings.update_finding(timed, ALICE, ids[1], status="in_remediation")
    findings.update_finding(timed, ALICE, ids[2], status="resolved", note="fixed in v2")
    findings.update_finding(timed, ALICE, ids[3], status="accepted", note="risk accepted")
    with timed.uow.read() as uow:
        found = uow.findings.open_for_model(model_id(uow, "credit"))
    assert [(f.id, f.status.value) for f in found] == [
        (ids[0], "open"),
        (ids[1], "in_remediation"),
    ]


def test_active_for_version_drops_expired_and_revoked(
    timed: Context, clock: Clock, make_file: MakeFile
) -> None:
    _model(timed)
    v1, v2 = _version(timed, make_file), _version(timed, make_file)
    short = waivers.grant_waiver(
        timed, ALICE, "credit", v1, requirement="checks.fairness", reason="r", expires="2026-01-10"
    )
    long = waivers.grant_waiver(
        timed,
        ALICE,
        "credit",
        v1,
        requirement="approvals.independent",
        reason="r",
        expires="2026-12-31",
    )
    waivers.grant_waiver(
        timed, ALICE, "credit", v2, requirement="checks.fairness", reason="r", expires="2026-12-31"
    )
    with timed.uow.read() as uow:
        _mid, vid = version_row_id(uow, "credit", v1)
        assert [w.id for w in uow.waivers.active_for_version(vid, uow.now)] == [short.id, long.id]
    clock.advance(days=10)  # now 2026-01-11: the short waiver expired at the end of the 10th
    with timed.uow.read() as uow:
        active = uow.waivers.active_for_version(vid, uow.now)
        assert [(w.id, w.model, w.version, w.requirement) for w in active] == [
            (long.id, "credit", v1, "approvals.independent")
        ]
    waivers.revoke_waiver(timed, ALICE, long.id, "model retrained")
    with timed.uow.read() as uow:
        assert uow.waivers.active_for_version(vid, uow.now) == []
    page = waivers.list_waivers(timed, ALICE, model="credit", version=v1)
    assert [w.state(clock.now) for w in page.items] == ["expired", "revoked"]
    assert [w.id for w in waivers.list_waivers(timed, ALICE, active_only=True).items] != []


# -- findings -------------------------------------------------------------------------


def test_finding_lifecycle_is_audited(timed: Context) -> None:
    _model(timed)
    f = findings.open_finding(
        timed,
        ALICE,
        "credit",
        title="Gap in approval rates",
        severity="high",
        description="age < 25 approved far less",
        due_date=date(2026, 3, 1),
        evidence={"run": 3},
    )
    assert (f.owner, f.due_date, f.source, f.evidence) == (
        "bob",
        date(2026, 3, 1),
        "manual",
        {"run": 3},
    )
    moved = findings.update_finding(timed, ALICE, f.id, status="in_remediation", owner="carol")
    assert (moved.status, moved.owner) == (FindingStatus.IN_REMEDIATION, "carol")
    comment = findings.comment_finding(timed, ALICE, f.id, "retraining with reweighting")
    assert findings.finding_comments(timed, ALICE, f.id) == [comment]
    with pytest.raises(InvalidInput, match="needs a note"):
        findings.update_finding(timed, ALICE, f.id, status="resolved")
    done = findings.update_finding(timed, ALICE, f.id, status="resolved", note="fixed in v2")
    assert (done.resolution, done.closed_by, done.comments) == ("fixed in v2", "alice", 1)
    with pytest.raises(Conflict, match="from resolved it may go to: open"):
        findings.update_finding(timed, ALICE, f.id, status="accepted", note="x")
    reopened = findings.update_finding(timed, ALICE, f.id, status="open", note="came back")
    assert reopened.resolution is None and reopened.closed_at is None
    updates = _events(timed, Action.FINDING_UPDATED)
    assert [u["after"] for u in updates] == [
        {"status": "in_remediation", "owner": "carol"},
        {"status": "resolved"},
        {"status": "open"},
    ]
    assert _events(timed, Action.FINDING_COMMENTED)[0]["body"] == "retraining with reweighting"
    assert audit.verify(timed, ALICE).ok


def test_bad_finding_input_is_refused_and_nothing_written(timed: Context) -> None:
    _model(timed)
    with pytest.raises(InvalidInput, match="severity"):
        findings.open_finding(timed, ALICE, "credit", title="t", severity="huge")
    with pytest.raises(InvalidInput, match="title"):
        findings.open_finding(timed, ALICE, "credit", title="  ", severity="low")
    with pytest.raises(NotFound, match="steward model list"):
        findings.open_finding(timed, ALICE, "nope", title="t", severity="low")
    with pytest.raises(NotFound, match="no version 9"):
        findings.open_finding(timed, ALICE, "credit", title="t", severity="low", version=9)
    with pytest.raises(InvalidInput, match="in the past"):
        findings.open_finding(
            timed, ALICE, "credit", title="t", severity="low", due_date=date(2025, 1, 1)
        )
    with pytest.raises(NotFound, match="steward finding list"):
        findings.update_finding(timed, ALICE, 404, status="resolved", note="x")
    # whose finding it is (here: none) is judged before the input (#12: 404, not 422)
    with pytest.raises(NotFound, match="steward finding list"):
        findings.update_finding(timed, ALICE, 1)
    assert findings.list_findings(timed, ALICE, status="all").items == []
    assert _events(timed, Action.FINDING_OPENED) == []


def test_listing_filters_and_pages(timed: Context, make_file: MakeFile) -> None:
    _model(timed)
    v = _version(timed, make_file)
    made = [
        findings.open_finding(timed, ALICE, "credit", title=f"f{i}", severity=sev, version=ver)
        for i, (sev, ver) in enumerate(
            [("low", None), ("high", v), ("critical", v), ("medium", None)]
        )
    ]
    findings.update_finding(timed, ALICE, made[0].id, status="resolved", note="done")
    active = findings.list_findings(timed, ALICE, model="credit")
    assert [f.title for f in active.items] == ["f1", "f2", "f3"]
    high = findings.list_findings(timed, ALICE, severity_at_least="high")
    assert [f.title for f in high.items] == ["f1", "f2"]
    assert [f.title for f in findings.list_findings(timed, ALICE, status="closed").items] == ["f0"]
    on_v = findings.list_findings(timed, ALICE, model="credit", version=v, status="all")
    assert [f.title for f in on_v.items] == ["f1", "f2"]
    first = findings.list_findings(timed, ALICE, status="all", limit=3)
    assert len(first.items) == 3 and first.next_cursor is not None
    rest = findings.list_findings(timed, ALICE, status="all", limit=3, cursor=first.next_cursor)
    assert [f.title for f in rest.items] == ["f3"] and rest.next_cursor is None
    with pytest.raises(InvalidInput, match=r"active .* closed, all"):
        findings.list_findings(timed, ALICE, status="pending")


def test_anonymous_and_role_limits(timed: Context) -> None:
    _model(timed)
    anon = Principal(name="anonymous", anonymous=True)
    # anonymous callers are told to authenticate (401), never given governance records
    with pytest.raises(Unauthenticated):
        findings.open_finding(timed, anon, "credit", title="t", severity="low")
    with pytest.raises(Unauthenticated):
        reviews.reviews_due(timed, anon)
    auditor = Principal(name="audrey", roles=frozenset({"auditor"}))
    if authorize(auditor, Permission.WAIVER_GRANT).allowed:
        pytest.skip("the role table (identity) is not in this tree yet")
    with pytest.raises(Forbidden):
        findings.open_finding(timed, auditor, "credit", title="t", severity="low")
    validator = Principal(name="vic", roles=frozenset({"validator"}))
    f = findings.open_finding(timed, ALICE, "credit", title="t", severity="low")
    if authorize(validator, Permission.FINDING_WRITE).allowed:
        with pytest.raises(Forbidden, match="risk officer"):
            findings.update_finding(timed, validator, f.id, status="accepted", note="fine")


# -- waivers --------------------------------------------------------------------------


def test_waiver_rules(timed: Context, make_file: MakeFile) -> None:
    _model(timed)
    v = _version(timed, make_file)
    with pytest.raises(InvalidInput, match="future"):
        waivers.grant_waiver(
            timed,
            ALICE,
            "credit",
            v,
            requirement="checks.fairness",
            reason="r",
            expires="2025-12-31",
        )
    with pytest.raises(InvalidInput, match="requirement id"):
        waivers.grant_waiver(
            timed, ALICE, "credit", v, requirement="fairness", reason="r", expires="2026-02-01"
        )
    with pytest.raises(InvalidInput, match="reason"):
        waivers.grant_waiver(
            timed,
            ALICE,
            "credit",
            v,
            requirement="checks.fairness",
            reason=" ",
            expires="2026-02-01",
        )
    with pytest.raises(NotFound, match="no version 7"):
        waivers.grant_waiver(
            timed,
            ALICE,
            "credit",
            7,
            requirement="checks.fairness",
            reason="r",
            expires="2026-02-01",
        )
    w = waivers.grant_waiver(
        timed,
        ALICE,
        "credit",
        v,
        requirement="checks.fairness",
        reason="vendor model",
        expires="2026-02-01",
    )
    with pytest.raises(Conflict, match=f"steward waiver revoke {w.id}"):
        waivers.grant_waiver(
            timed,
            ALICE,
            "credit",
            v,
            requirement="checks.fairness",
            reason="again",
            expires="2026-03-01",
        )
    waivers.revoke_waiver(timed, ALICE, w.id, "no longer needed")
    with pytest.raises(Conflict, match="already revoked"):
        waivers.revoke_waiver(timed, ALICE, w.id, "twice")
    (granted,) = _events(timed, Action.WAIVER_GRANTED)
    assert granted["requirement"] == "checks.fairness"
    assert granted["expires_at"] == "2026-02-02T00:00:00.000000Z"
    assert _events(timed, Action.WAIVER_REVOKED)[0]["reason"] == "no longer needed"


# -- reviews --------------------------------------------------------------------------


def test_completing_a_review_schedules_the_next_from_the_tier(timed: Context) -> None:
    _model(timed, "credit", "high")
    _model(timed, "fraud", "critical")
    r = reviews.complete_review(timed, VAL, "credit", outcome="satisfactory", notes="all good")
    assert (r.next_review_date, r.cadence_months, r.finding_id) == (date(2027, 1, 1), 12, None)
    assert models.get_model(timed, ALICE, "credit").next_review_date == date(2027, 1, 1)
    r2 = reviews.complete_review(
        timed, VAL, "fraud", outcome="unsatisfactory", notes="drift not addressed"
    )
    assert r2.next_review_date == date(2026, 7, 1)
    assert r2.finding_id is not None
    finding = findings.get_finding(timed, ALICE, r2.finding_id)
    assert (finding.severity, finding.source, finding.source_ref) == (
        Severity.HIGH,
        "review",
        f"reviews/{r2.id}",
    )
    assert [x.id for x in reviews.list_reviews(timed, ALICE, "credit")] == [r.id]
    (event, _second) = _events(timed, Action.REVIEW_COMPLETED)
    assert event["before"] == {"next_review_date": None}
    assert event["after"] == {"next_review_date": "2027-01-01"}


def test_review_refusals(timed: Context) -> None:
    _model(timed, "credit", "high", owner="val")
    _model(timed, "fresh", None)
    with pytest.raises(Forbidden, match="independent"):
        reviews.complete_review(timed, VAL, "credit", outcome="satisfactory", notes="mine")
    with pytest.raises(InvalidInput, match="steward risk assess"):
        reviews.complete_review(timed, ALICE, "fresh", outcome="satisfactory", notes="n")
    with pytest.raises(InvalidInput, match="outcome"):
        reviews.complete_review(timed, ALICE, "credit", outcome="fine", notes="n")
    with pytest.raises(InvalidInput, match="notes"):
        reviews.complete_review(timed, ALICE, "credit", outcome="satisfactory", notes="")
    assert _events(timed, Action.REVIEW_COMPLETED) == []


def test_overdue_reviews_are_journalled_once_per_due_date_by_the_report_not_the_list(
    timed: Context, clock: Clock
) -> None:
    _model(timed, "credit", "critical")
    _model(timed, "scoring", "low")
    _model(timed, "unassessed", None)
    reviews.complete_review(timed, VAL, "credit", outcome="satisfactory", notes="ok")
    reviews.complete_review(timed, VAL, "scoring", outcome="satisfactory", notes="ok")
    _model(timed, "never", "medium")

    due = reviews.reviews_due(timed, ALICE, within_days=30)
    assert [(d.model, d.status) for d in due] == [("never", DueStatus.UNSCHEDULED)]

    clock.advance(days=170)  # 2026-06-20: credit (critical, 6 months) is due on 2026-07-01
    due = reviews.reviews_due(timed, ALICE, within_days=30)
    assert [(d.model, d.status, d.days) for d in due] == [
        ("credit", DueStatus.DUE, 11),
        ("never", DueStatus.UNSCHEDULED, None),
    ]
    assert _events(timed, Action.REVIEW_OVERDUE) == []

    clock.advance(days=15)  # overdue since 2026-07-01
    for _ in range(3):  # asking is a read: it journals nothing
        due = reviews.reviews_due(timed, ALICE, within_days=0)
        assert (due[0].model, due[0].status, due[0].days) == ("credit", DueStatus.OVERDUE, -4)
    assert _events(timed, Action.REVIEW_OVERDUE) == []
    # the worker's report journals it once, however often it runs
    assert [d.model for d in reviews.report_overdue(timed, ALICE)] == ["credit"]
    assert reviews.report_overdue(timed, ALICE) == []
    assert reviews.report_overdue(timed, ALICE) == []
    (notice,) = _events(timed, Action.REVIEW_OVERDUE)
    assert notice == {
        "model": "credit",
        "risk_tier": "critical",
        "owner": "bob",
        "due_date": "2026-07-01",
        "days_overdue": 4,
    }
    # completing the review clears it; missing the next due date is reported again
    reviews.complete_review(timed, VAL, "credit", outcome="satisfactory", notes="late but done")
    assert [d.model for d in reviews.reviews_due(timed, ALICE, within_days=0)] == ["never"]
    clock.advance(days=200)
    reviews.report_overdue(timed, ALICE)
    assert [e["due_date"] for e in _events(timed, Action.REVIEW_OVERDUE)] == [
        "2026-07-01",
        "2027-01-05",
    ]
    with pytest.raises(InvalidInput, match="--within"):
        reviews.reviews_due(timed, ALICE, within_days=-1)


# -- finding scope: model-wide findings hold every version (issue 12, item 3) -----------


def _in_validation(ctx: Context, model: str, version: int) -> None:
    """Put a version in validation directly: these tests are about the findings gate only."""
    from steward.domain.lifecycle import Stage

    with ctx.uow.write() as uow:
        uow.versions.set_stage(version_row_id(uow, model, version)[1], Stage.VALIDATION, uow.now)
        uow.commit()


def _findings_outcome(ctx: Context, model: str, version: int) -> tuple[bool, str]:
    from steward.domain.policy import default_pack_text
    from steward.services import gates, policies

    if not policies.list_packs(ctx, ALICE):
        policies.load_pack(ctx, ALICE, default_pack_text(), activate=True)
    report = gates.check_gate(ctx, ALICE, model, version, "approved")
    (outcome,) = [o for o in report.outcomes if o.requirement == "findings.none-open"]
    return outcome.met, outcome.reason


def test_a_critical_drift_finding_on_v2_blocks_v3(timed: Context, make_file: MakeFile) -> None:
    # The attack: v3 passed "no open findings at or above high" while a critical drift finding
    # on v2 - the same population - was open.
    _model(timed)
    _version(timed, make_file)
    v2, v3 = _version(timed, make_file), _version(timed, make_file)
    _in_validation(timed, "credit", v3)
    drift = findings.open_finding(
        timed,
        ALICE,
        "credit",
        title="PSI 0.41 on income",
        severity="critical",
        version=v2,
        source="monitor",
    )
    assert drift.scope == "model"  # drift findings are about the population by default
    met, reason = _findings_outcome(timed, "credit", v3)
    assert not met
    assert f"finding:{drift.id} (critical, model-wide, opened on version {v2})" in reason
    # resolving it frees v3
    findings.update_finding(timed, ALICE, drift.id, status="resolved", note="retrained")
    assert _findings_outcome(timed, "credit", v3)[0]


def test_finding_scope_is_stated_by_hand_and_defaults_by_version(
    timed: Context, make_file: MakeFile
) -> None:
    _model(timed)
    v1, v2 = _version(timed, make_file), _version(timed, make_file)
    _in_validation(timed, "credit", v2)
    local = findings.open_finding(
        timed, ALICE, "credit", title="Wrong threshold", severity="high", version=v1
    )
    assert local.scope == "version"
    assert _findings_outcome(timed, "credit", v2)[0]  # a version finding stays on v1
    wide = findings.open_finding(
        timed,
        ALICE,
        "credit",
        title="Training data leaks the label",
        severity="high",
        version=v1,
        scope="model",
    )
    assert (wide.scope, findings.get_finding(timed, ALICE, wide.id).scope) == ("model", "model")
    met, reason = _findings_outcome(timed, "credit", v2)
    assert not met and f"finding:{wide.id}" in reason and f"finding:{local.id}" not in reason
    assert _events(timed, Action.FINDING_OPENED)[-1]["scope"] == "model"
    assert findings.open_finding(timed, ALICE, "credit", title="t", severity="low").scope == "model"
    for bad, kwargs in (("sideways", {"version": v1}), ("version", {})):
        with pytest.raises(InvalidInput) as refused:
            findings.open_finding(
                timed, ALICE, "credit", title="t", severity="low", scope=bad, **kwargs
            )
        assert refused.value.extra["field"] == "scope"
