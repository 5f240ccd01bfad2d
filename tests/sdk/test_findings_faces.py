"""Findings, waivers and reviews through the SDK, embedded and over HTTP (real server)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from steward.domain.errors import Conflict, InvalidInput, NotFound
from steward.domain.findings import FindingStatus, Severity
from steward.domain.reviews import DueStatus
from steward.sdk.client import Steward
from steward.services.context import Context, model_id

MakeFile = Callable[[bytes, str], Path]


def _setup(client: Steward, ctx: Context, make_file: MakeFile) -> int:
    client.create_model("credit", owner="bob", team="risk")
    with ctx.uow.write() as uow:  # the tier normally comes from the risk assessment
        uow.models.update(model_id(uow, "credit"), {"risk_tier": "high"})
        uow.commit()
    return client.log_version(
        "credit", artifact=make_file(b"weights", "m.bin"), capture_git=False
    ).version


def test_findings_through_both_backends(client: Steward, ctx: Context, make_file: MakeFile) -> None:
    v = _setup(client, ctx, make_file)
    f = client.open_finding(
        "credit",
        title="Calibration drift",
        severity="high",
        version=v,
        due_date="2099-01-31",
        evidence={"ece": 0.08},
    )
    assert (f.model, f.version, f.severity, f.owner, f.due_date, f.evidence) == (
        "credit",
        v,
        Severity.HIGH,
        "bob",
        date(2099, 1, 31),
        {"ece": 0.08},
    )
    assert client.finding(f.id) == f
    c = client.comment_finding(f.id, "looking into it")
    assert client.finding_comments(f.id) == [c]
    moved = client.update_finding(f.id, status="in_remediation", severity="critical")
    assert (moved.status, moved.severity, moved.comments) == (
        FindingStatus.IN_REMEDIATION,
        Severity.CRITICAL,
        1,
    )
    assert [x.id for x in client.findings("credit").items] == [f.id]
    assert client.findings(severity_at_least="critical").items == [moved]
    with pytest.raises(InvalidInput, match="needs a note"):
        client.update_finding(f.id, status="resolved")
    with pytest.raises(Conflict, match="already in_remediation"):
        client.update_finding(f.id, status="in_remediation")
    with pytest.raises(NotFound, match="steward finding list"):
        client.finding(999)
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        client.open_finding("credit", title="t", severity="low", due_date="soon")
    done = client.update_finding(f.id, status="resolved", note="recalibrated in v2")
    assert done.status is FindingStatus.RESOLVED and client.findings("credit").items == []


def test_waivers_and_reviews_through_both_backends(
    client: Steward, ctx: Context, make_file: MakeFile
) -> None:
    v = _setup(client, ctx, make_file)
    expires = datetime.now(UTC).date() + timedelta(days=30)
    w = client.grant_waiver(
        "credit", v, requirement="checks.fairness", reason="vendor model", expires=expires
    )
    assert (w.model, w.version, w.requirement) == ("credit", v, "checks.fairness")
    assert w.expires_at == datetime.combine(expires + timedelta(days=1), datetime.min.time(), UTC)
    assert client.waiver(w.id) == w
    assert client.waivers("credit", active_only=True).items == [w]
    with pytest.raises(InvalidInput, match="future"):
        client.grant_waiver(
            "credit", v, requirement="checks.other", reason="r", expires="2000-01-01"
        )
    revoked = client.revoke_waiver(w.id, reason="fixed")
    assert revoked.revoked_by == client.actor and client.waivers(active_only=True).items == []

    due = client.reviews_due(within_days=30)
    assert [(d.model, d.status) for d in due] == [("credit", DueStatus.UNSCHEDULED)]
    r = client.complete_review("credit", outcome="needs_improvement", notes="docs incomplete")
    assert r.cadence_months == 12 and r.finding_id is not None
    assert client.reviews("credit") == [r]
    assert client.finding(r.finding_id).severity is Severity.MEDIUM
    assert client.reviews_due(within_days=30) == []


def test_http_errors_are_problems(live_server: object, token: str) -> None:
    url = live_server.url  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers) as http:
        missing = http.get("/api/v1/findings/12345")
        assert missing.status_code == 404 and missing.json()["code"] == "not-found"
        extra = http.post(
            "/api/v1/models/x/findings", json={"title": "t", "severity": "low", "colour": "red"}
        )
        assert extra.status_code == 422
        bad = http.get("/api/v1/reviews/due", params={"within_days": -3})
        assert bad.status_code == 422 and "--within" in bad.json()["detail"]
