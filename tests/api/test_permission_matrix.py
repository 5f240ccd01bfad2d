"""Every API route x every role, against the reviewed table in docs/permissions.md.

The expected answers are parsed from ``docs/permissions.md`` (roles x actions, and
the object-level table: own, team and other models), written by hand and reviewed;
nothing here asks the code under test (``authorize()``) what the answer should be,
so a wrong role table or a missing object-level check fails.

``ROWS`` lists each ``/api/v1`` route once, with the action it needs (or
``PUBLIC`` / ``AUTHENTICATED``) and a sample request that passes request
validation — so the only thing that can stop a caller before the use case is
authorisation. Path parameters name things that do not exist (``ghost``, 999),
so a permitted caller gets 404 or 200 and nothing real is touched; the service
layer must check the permission *before* it looks anything up. ``OBJECT_ROWS``
then act on real models that are the caller's own, their team's and someone
else's.

Adding a route? Add one ``Row`` below (keep the groups); the first test fails,
naming the missing ``METHOD path``, until you do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import LiveServer, ensure_user
from tests.risk_answers import CREDIT as ANSWERS
from tests.risk_answers import IMPACT as IMPACT_ANSWERS

from steward import bootstrap
from steward.api.app import create_app
from steward.domain.permissions import OPERATOR, Permission, Principal, Role
from steward.domain.specs import VersionSpec
from steward.services import identity, models, tokens, versions
from steward.services.context import Context
from steward.settings import Settings

P = Permission
PUBLIC = "public"  # no token needed
AUTHENTICATED = "any authenticated"  # any valid token, whatever the roles
# A user's own things (notifications): any user's token, never an anonymous caller, who is
# nobody to notify even where a server allows anonymous reads.
A_USER = "a user"
NO_ROLE = "norole"  # the user without any role
CALLERS = [r.value for r in Role] + [NO_ROLE]
LOGIN_PASSWORD = "correct horse battery staple"
Body = dict[str, Any] | Callable[[str], dict[str, Any]]  # a callable gets the caller's name


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # the template exactly as in OpenAPI
    needs: Permission | str
    params: dict[str, str] = field(default_factory=dict)  # path parameters
    json: Body | None = None
    query: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] | None = None  # multipart upload
    form: dict[str, str] | None = None  # multipart fields

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


MODEL = {"name": "ghost"}
VERSION = {"name": "ghost", "version": "999"}
RUN_RECORD: dict[str, Any] = {
    "suite": "matrix",
    "suite_version": "1",
    "source": "external",
    "data_fingerprint": None,
    "results": [],
    "started_at": "2026-01-01T00:00:00Z",
    "finished_at": "2026-01-01T00:00:01Z",
}
ARTIFACT = {"artifact": ("m.bin", b"weights")}

ROWS: list[Row] = [
    # system
    Row("GET", "/api/v1/health", PUBLIC),
    Row("GET", "/api/v1/me", AUTHENTICATED),
    # inventory
    Row("POST", "/api/v1/models", P.MODEL_WRITE, json=lambda me: {"name": f"m-{me}"}),
    Row("GET", "/api/v1/models", P.MODEL_READ),
    Row("GET", "/api/v1/models/{name}", P.MODEL_READ, MODEL),
    Row("PATCH", "/api/v1/models/{name}", P.MODEL_WRITE, MODEL, json={"title": "t"}),
    Row("GET", "/api/v1/models/{name}/history", P.AUDIT_READ, MODEL),
    Row("GET", "/api/v1/history", P.AUDIT_READ),
    # versions, aliases, transitions
    Row("POST", "/api/v1/models/{name}/versions", P.VERSION_WRITE, MODEL, files=ARTIFACT),
    Row("GET", "/api/v1/models/{name}/versions", P.VERSION_READ, MODEL),
    Row("GET", "/api/v1/versions", P.VERSION_READ),
    Row("GET", "/api/v1/models/{name}/versions/{version}", P.VERSION_READ, VERSION),
    Row("GET", "/api/v1/models/{name}/versions/{version}/artifact", P.ARTIFACT_READ, VERSION),
    Row(
        "POST",
        "/api/v1/models/{name}/versions/{version}/amend",
        P.VERSION_WRITE,
        VERSION,
        form={"metadata": '{"description": "d", "justification": "matrix"}'},
        files=ARTIFACT,
    ),
    Row(
        "PUT",
        "/api/v1/models/{name}/aliases/{alias}",
        P.ALIAS_WRITE,
        {"name": "ghost", "alias": "champion"},
        json={"version": 1},
    ),
    Row(
        "GET",
        "/api/v1/models/{name}/aliases/{alias}",
        P.VERSION_READ,
        {"name": "ghost", "alias": "champion"},
    ),
    Row(
        "DELETE",
        "/api/v1/models/{name}/aliases/{alias}",
        P.ALIAS_WRITE,
        {"name": "ghost", "alias": "champion"},
    ),
    Row("GET", "/api/v1/models/{name}/aliases", P.VERSION_READ, MODEL),
    Row(
        "POST",
        "/api/v1/models/{name}/versions/{version}/transitions",
        P.VERSION_TRANSITION,
        VERSION,
        json={"to": "validation", "justification": "matrix"},
    ),
    Row("GET", "/api/v1/models/{name}/versions/{version}/transitions", P.GOVERNANCE_READ, VERSION),
    Row(
        "GET",
        "/api/v1/models/{name}/versions/{version}/gate",
        P.GOVERNANCE_READ,
        VERSION,
        query={"to": "production"},
    ),
    # audit journal
    Row("GET", "/api/v1/audit/events", P.AUDIT_READ),
    Row("GET", "/api/v1/audit/verify", P.AUDIT_READ),
    Row("GET", "/api/v1/audit/reconcile", P.AUDIT_READ),
    Row("GET", "/api/v1/audit/export", P.AUDIT_READ),
    Row("GET", "/api/v1/audit/checkpoints", P.AUDIT_READ),
    Row("POST", "/api/v1/audit/checkpoints", P.AUDIT_CHECKPOINT),
    Row("GET", "/api/v1/audit/proofs/inclusion/{seq}", P.AUDIT_READ, {"seq": "999"}),
    Row(
        "GET",
        "/api/v1/audit/proofs/consistency",
        P.AUDIT_READ,
        query={"old": "998", "new": "999"},
    ),
    Row(
        "POST",
        "/api/v1/audit/checkpoints/{checkpoint_id}/cosignatures",
        P.AUDIT_CHECKPOINT,
        {"checkpoint_id": "999"},
        json={"note": "not a note"},
    ),
    Row("GET", "/api/v1/audit/witnesses", P.AUDIT_READ),
    Row(
        "POST",
        "/api/v1/audit/witnesses",
        P.WITNESS_MANAGE,
        json={"name": "w", "public_key": "not-a-key"},
    ),
    Row("DELETE", "/api/v1/audit/witnesses/{name}", P.WITNESS_MANAGE, {"name": "ghost"}),
    # API tokens (one's own; other users' need user:manage)
    Row("POST", "/api/v1/tokens", P.TOKEN_MANAGE, json=lambda me: {"user": me, "name": "m"}),
    Row("GET", "/api/v1/tokens", P.TOKEN_MANAGE),
    Row("DELETE", "/api/v1/tokens/{token_id}", P.TOKEN_MANAGE, {"token_id": "tok_ghost"}),
    # one's own notifications (the outbox is the admin's)
    Row("GET", "/api/v1/notifications", A_USER),
    Row("GET", "/api/v1/notifications/unread", A_USER),
    Row("POST", "/api/v1/notifications/read-all", A_USER),
    Row(
        "POST",
        "/api/v1/notifications/{notification_id}/read",
        A_USER,
        {"notification_id": "999"},
    ),
    Row("GET", "/api/v1/notifications/preferences", A_USER),
    Row("PUT", "/api/v1/notifications/preferences", A_USER, json={"delivery": "digest"}),
    Row("POST", "/api/v1/notifications/test-email", A_USER),
    Row("GET", "/api/v1/notifications/outbox", P.USER_MANAGE),
    # users, teams, roles, login
    Row("POST", "/api/v1/users", P.USER_MANAGE, json=lambda me: {"name": f"made-by-{me}"}),
    Row("POST", "/api/v1/system/doctor", P.USER_MANAGE, json={"fix": False}),
    Row("GET", "/api/v1/users", P.GOVERNANCE_READ),
    Row("GET", "/api/v1/users/{name}", P.GOVERNANCE_READ, MODEL),
    Row("PATCH", "/api/v1/users/{name}", P.USER_MANAGE, MODEL, json={"display_name": "G"}),
    Row("POST", "/api/v1/users/{name}/disable", P.USER_MANAGE, MODEL, json={"reason": "r"}),
    Row("POST", "/api/v1/users/{name}/enable", P.USER_MANAGE, MODEL),
    Row(
        "PUT",
        "/api/v1/users/{name}/password",
        P.USER_MANAGE,
        MODEL,
        json={"password": "a long enough passphrase"},
    ),
    Row(
        "PUT",
        "/api/v1/users/{name}/roles/{role}",
        P.USER_MANAGE,
        {"name": "ghost", "role": "owner"},
    ),
    Row(
        "DELETE",
        "/api/v1/users/{name}/roles/{role}",
        P.USER_MANAGE,
        {"name": "ghost", "role": "owner"},
    ),
    Row(
        "POST",
        "/api/v1/auth/login",
        PUBLIC,
        json={"user": "matrix-login", "password": LOGIN_PASSWORD},
    ),
    # Single sign-on is not configured here: both answer 404 saying so, to anyone.
    Row("POST", "/api/v1/auth/sso/device", PUBLIC),
    Row("POST", "/api/v1/auth/sso/device/token", PUBLIC, json={"device_code": "ghost"}),
    Row("POST", "/api/v1/auth/sso/backchannel-logout", PUBLIC),
    Row("POST", "/api/v1/teams", P.USER_MANAGE, json=lambda me: {"name": f"team-{me}"}),
    Row("GET", "/api/v1/teams", P.GOVERNANCE_READ),
    Row("GET", "/api/v1/teams/{name}", P.GOVERNANCE_READ, MODEL),
    Row("PATCH", "/api/v1/teams/{name}", P.USER_MANAGE, MODEL, json={"line": "second"}),
    Row("DELETE", "/api/v1/teams/{name}", P.USER_MANAGE, MODEL),
    Row(
        "PUT",
        "/api/v1/teams/{name}/members/{user}",
        P.USER_MANAGE,
        {"name": "ghost", "user": "ghost"},
    ),
    Row(
        "DELETE",
        "/api/v1/teams/{name}/members/{user}",
        P.USER_MANAGE,
        {"name": "ghost", "user": "ghost"},
    ),
    # risk assessment
    Row("GET", "/api/v1/risk/questionnaire", P.GOVERNANCE_READ),
    Row(
        "POST",
        "/api/v1/models/{name}/risk-assessments",
        P.RISK_ASSESS,
        MODEL,
        json={"answers": {}},
    ),
    Row("GET", "/api/v1/models/{name}/risk-assessments", P.GOVERNANCE_READ, MODEL),
    Row("GET", "/api/v1/models/{name}/risk-assessment", P.GOVERNANCE_READ, MODEL),
    Row(
        "GET",
        "/api/v1/risk-assessments/{assessment_id}",
        P.GOVERNANCE_READ,
        {"assessment_id": "ra_ghost"},
    ),
    # AI impact assessments
    Row("GET", "/api/v1/impact/form", P.GOVERNANCE_READ),
    Row(
        "POST",
        "/api/v1/models/{name}/impact-assessments",
        P.RISK_ASSESS,
        MODEL,
        json={"answers": {}},
    ),
    Row(
        "POST",
        "/api/v1/models/{name}/impact-assessment/decision",
        P.APPROVAL_DECIDE,
        MODEL,
        json={"approve": True, "comment": "matrix"},
    ),
    Row("GET", "/api/v1/models/{name}/impact-assessment", P.GOVERNANCE_READ, MODEL),
    Row("GET", "/api/v1/models/{name}/impact-assessments", P.GOVERNANCE_READ, MODEL),
    # policy packs
    Row("GET", "/api/v1/policies", P.GOVERNANCE_READ),
    Row("POST", "/api/v1/policies", P.POLICY_MANAGE, json={"source": "name: [unclosed"}),
    Row("GET", "/api/v1/policies/active", P.GOVERNANCE_READ),
    Row("DELETE", "/api/v1/policies/active", P.POLICY_MANAGE),
    Row(
        "GET",
        "/api/v1/policies/{name}/{version}",
        P.GOVERNANCE_READ,
        {"name": "ghost", "version": "1"},
    ),
    Row(
        "POST",
        "/api/v1/policies/{name}/{version}/activate",
        P.POLICY_MANAGE,
        {"name": "ghost", "version": "1"},
    ),
    # transition requests and approvals
    Row(
        "POST",
        "/api/v1/models/{name}/versions/{version}/requests",
        P.APPROVAL_REQUEST,
        VERSION,
        json={"to": "production", "justification": "matrix"},
    ),
    Row("GET", "/api/v1/requests", P.GOVERNANCE_READ),
    Row("GET", "/api/v1/requests/inbox", P.GOVERNANCE_READ),
    Row("GET", "/api/v1/requests/{request_id}", P.GOVERNANCE_READ, {"request_id": "req_ghost"}),
    Row(
        "POST",
        "/api/v1/requests/{request_id}/approve",
        P.APPROVAL_DECIDE,
        {"request_id": "req_ghost"},
        json={"comment": "ok"},
    ),
    Row(
        "POST",
        "/api/v1/requests/{request_id}/reject",
        P.APPROVAL_DECIDE,
        {"request_id": "req_ghost"},
        json={"comment": "no"},
    ),
    Row(
        "POST",
        "/api/v1/requests/{request_id}/withdraw",
        P.APPROVAL_REQUEST,
        {"request_id": "req_ghost"},
        json={"reason": "r"},
    ),
    Row(
        "POST",
        "/api/v1/requests/{request_id}/apply",
        P.APPROVAL_REQUEST,
        {"request_id": "req_ghost"},
    ),
    # check runs and validation
    Row(
        "POST",
        "/api/v1/models/{name}/versions/{version}/check-runs",
        P.CHECK_RUN,
        VERSION,
        json=RUN_RECORD,
    ),
    Row("GET", "/api/v1/models/{name}/versions/{version}/check-runs", P.GOVERNANCE_READ, VERSION),
    Row("GET", "/api/v1/check-runs/{run_id}", P.GOVERNANCE_READ, {"run_id": "run_ghost"}),
    Row(
        "POST",
        "/api/v1/models/{name}/versions/{version}/validate",
        P.CHECK_RUN,
        VERSION,
        form={"options": "{}"},
        files={"data": ("eval.csv", b"x,y\n1,0\n")},
    ),
    Row("GET", "/api/v1/validation/suites", P.GOVERNANCE_READ),
    # background jobs
    Row(
        "POST",
        "/api/v1/jobs",
        P.GOVERNANCE_READ,
        json={"kind": "model_card_pdf", "model": "ghost", "version": 1},
    ),
    Row(
        "POST",
        "/api/v1/models/{name}/versions/{version}/validation-jobs",
        P.CHECK_RUN,
        VERSION,
        form={"options": "{}"},
        files={"data": ("eval.csv", b"x,y\n1,0\n")},
    ),
    Row("GET", "/api/v1/jobs", P.GOVERNANCE_READ),
    Row("GET", "/api/v1/jobs/{job_id}", P.GOVERNANCE_READ, {"job_id": "job_ghost"}),
    Row("POST", "/api/v1/jobs/{job_id}/cancel", P.GOVERNANCE_READ, {"job_id": "job_ghost"}),
    Row("GET", "/api/v1/jobs/{job_id}/result", P.GOVERNANCE_READ, {"job_id": "job_ghost"}),
    # findings, waivers, periodic reviews
    Row(
        "POST",
        "/api/v1/models/{name}/findings",
        P.FINDING_WRITE,
        MODEL,
        json={"title": "t", "severity": "low"},
    ),
    Row("GET", "/api/v1/findings", P.GOVERNANCE_READ),
    Row("GET", "/api/v1/findings/data", P.GOVERNANCE_READ),
    Row("GET", "/api/v1/findings/{finding_id}", P.GOVERNANCE_READ, {"finding_id": "999"}),
    Row(
        "PATCH",
        "/api/v1/findings/{finding_id}",
        P.FINDING_WRITE,
        {"finding_id": "999"},
        json={"note": "n"},
    ),
    Row(
        "POST",
        "/api/v1/findings/{finding_id}/comments",
        P.FINDING_WRITE,
        {"finding_id": "999"},
        json={"body": "b"},
    ),
    Row("GET", "/api/v1/findings/{finding_id}/comments", P.GOVERNANCE_READ, {"finding_id": "999"}),
    Row(
        "POST",
        "/api/v1/models/{name}/versions/{version}/waivers",
        P.WAIVER_GRANT,
        VERSION,
        json={"requirement": "approvals.production", "reason": "r", "expires": "2099-01-01"},
    ),
    Row("GET", "/api/v1/waivers", P.GOVERNANCE_READ),
    Row("GET", "/api/v1/waivers/{waiver_id}", P.GOVERNANCE_READ, {"waiver_id": "999"}),
    Row(
        "POST",
        "/api/v1/waivers/{waiver_id}/revoke",
        P.WAIVER_GRANT,
        {"waiver_id": "999"},
        json={"reason": "r"},
    ),
    Row(
        "POST",
        "/api/v1/models/{name}/reviews",
        P.REVIEW_COMPLETE,
        MODEL,
        json={"outcome": "satisfactory", "notes": "n"},
    ),
    Row("GET", "/api/v1/models/{name}/reviews", P.GOVERNANCE_READ, MODEL),
    Row("GET", "/api/v1/reviews/due", P.GOVERNANCE_READ),
    Row("GET", "/api/v1/reviews/{review_id}", P.GOVERNANCE_READ, {"review_id": "999"}),
    # model cards and evidence packs
    Row("GET", "/api/v1/models/{name}/versions/{version}/model-card", P.GOVERNANCE_READ, VERSION),
    Row("GET", "/api/v1/models/{name}/versions/{version}/bom", P.GOVERNANCE_READ, VERSION),
    Row("GET", "/api/v1/models/{name}/versions/{version}/narratives", P.GOVERNANCE_READ, VERSION),
    Row(
        "PUT",
        "/api/v1/models/{name}/versions/{version}/narratives",
        P.MODEL_WRITE,
        VERSION,
        json={"fields": {"intended_use": "u"}},
    ),
    Row(
        "GET",
        "/api/v1/models/{name}/versions/{version}/narratives/history",
        P.GOVERNANCE_READ,
        VERSION,
    ),
    Row("POST", "/api/v1/models/{name}/evidence-pack", P.EVIDENCE_EXPORT, MODEL, json={}),
    Row(
        "POST",
        "/api/v1/evidence/verify",
        P.GOVERNANCE_READ,
        files={"pack": ("pack.zip", b"not a zip")},
    ),
    # compliance: catalogs, coverage, organisation dashboard
    Row("GET", "/api/v1/compliance/catalogs", P.GOVERNANCE_READ),
    Row(
        "GET",
        "/api/v1/compliance/catalogs/{framework}/controls",
        P.GOVERNANCE_READ,
        {"framework": "ghost"},
    ),
    Row(
        "GET",
        "/api/v1/compliance/catalogs/{framework}/controls/{control}",
        P.GOVERNANCE_READ,
        {"framework": "ghost", "control": "ghost"},
    ),
    Row(
        "GET",
        "/api/v1/compliance/crosswalk",
        P.GOVERNANCE_READ,
        query={"source": "nist-ai-rmf", "target": "iso-42001"},
    ),
    Row("GET", "/api/v1/compliance/coverage", P.GOVERNANCE_READ),
    Row("GET", "/api/v1/compliance/coverage/{name}", P.GOVERNANCE_READ, MODEL),
    Row("GET", "/api/v1/compliance/dashboard", P.GOVERNANCE_READ),
    Row(
        "GET",
        "/api/v1/compliance/export",
        P.GOVERNANCE_READ,
        query={"format": "oscal-catalog", "framework": "tw-fsc"},
    ),
    # signing, deploy records, webhooks
    Row("GET", "/api/v1/signing/key", P.VERSION_READ),
    Row("GET", "/api/v1/models/{name}/versions/{version}/signatures", P.GOVERNANCE_READ, VERSION),
    Row("GET", "/api/v1/models/{name}/versions/{version}/signature", P.GOVERNANCE_READ, VERSION),
    Row(
        "POST",
        "/api/v1/models/{name}/deployments",
        P.DEPLOY_RECORD,
        MODEL,
        json={"environment": "prod", "sha256": "0" * 64},
    ),
    Row("GET", "/api/v1/deployments", P.GOVERNANCE_READ),
    Row(
        "POST",
        "/api/v1/webhooks",
        P.WEBHOOK_MANAGE,
        json={"url": "http://127.0.0.1:9/hook", "events": ["finding.opened"]},
    ),
    Row("GET", "/api/v1/webhooks", P.WEBHOOK_MANAGE),
    Row("POST", "/api/v1/webhooks/deliver", P.WEBHOOK_MANAGE, json={"limit": 1}),
    Row("GET", "/api/v1/webhooks/{webhook_id}", P.WEBHOOK_MANAGE, {"webhook_id": "wh_ghost"}),
    Row("DELETE", "/api/v1/webhooks/{webhook_id}", P.WEBHOOK_MANAGE, {"webhook_id": "wh_ghost"}),
    Row(
        "GET",
        "/api/v1/webhooks/{webhook_id}/deliveries",
        P.WEBHOOK_MANAGE,
        {"webhook_id": "wh_ghost"},
    ),
    # data connections (admin only)
    Row(
        "POST",
        "/api/v1/connections",
        P.CONNECTION_MANAGE,
        json=lambda me: {
            "name": f"c-{me}".replace("_", "-"),
            "kind": "folder",
            "location": "/srv/data",
        },
    ),
    Row("GET", "/api/v1/connections", P.CONNECTION_MANAGE),
    Row("GET", "/api/v1/connections/{name}", P.CONNECTION_MANAGE, {"name": "ghost"}),
    Row("DELETE", "/api/v1/connections/{name}", P.CONNECTION_MANAGE, {"name": "ghost"}),
    # datasets as governed assets
    Row(
        "POST",
        "/api/v1/datasets",
        P.DATASET_WRITE,
        json=lambda me: {"name": f"d-{me}".replace("_", "-")},
    ),
    Row("GET", "/api/v1/datasets", P.GOVERNANCE_READ),
    Row("GET", "/api/v1/datasets/{name}", P.GOVERNANCE_READ, MODEL),
    Row("PATCH", "/api/v1/datasets/{name}", P.DATASET_WRITE, MODEL, json={"title": "t"}),
    Row("GET", "/api/v1/datasets/{name}/versions", P.GOVERNANCE_READ, MODEL),
    Row(
        "POST",
        "/api/v1/datasets/{name}/versions",
        P.DATASET_WRITE,
        MODEL,
        files={"data": ("d.csv", b"a\n1\n")},
    ),
    Row("GET", "/api/v1/datasets/{name}/versions/{version}", P.GOVERNANCE_READ, VERSION),
    Row(
        "POST",
        "/api/v1/datasets/{name}/versions/{version}/approvals",
        P.DATASET_APPROVE,
        VERSION,
        json={"comment": "c"},
    ),
    Row("GET", "/api/v1/datasets/{name}/versions/{version}/impact", P.GOVERNANCE_READ, VERSION),
    Row("GET", "/api/v1/datasets/{name}/card", P.GOVERNANCE_READ, MODEL),
    Row(
        "GET",
        "/api/v1/datasets/{name}/versions/{version}/personal-data",
        P.GOVERNANCE_READ,
        VERSION,
    ),
    Row(
        "POST",
        "/api/v1/datasets/{name}/versions/{version}/personal-data/scan",
        P.DATASET_WRITE,
        VERSION,
        files={"data": ("d.csv", b"a\n1\n")},
    ),
    Row(
        "POST",
        "/api/v1/datasets/{name}/versions/{version}/personal-data/reviews",
        P.DATASET_WRITE,
        VERSION,
        json={"column": "a"},
    ),
    Row(
        "POST",
        "/api/v1/datasets/{name}/versions/{version}/recall",
        P.DATASET_APPROVE,
        VERSION,
        json={"reason": "r"},
    ),
    Row("GET", "/api/v1/connections/{name}/discovery", P.DATASET_APPROVE, {"name": "ghost"}),
    Row(
        "PUT",
        "/api/v1/datasets/{name}/rules",
        P.DATASET_WRITE,
        MODEL,
        json={"text": "rules:\n  - kind: row_count\n    min: 1\n"},
    ),
    Row("GET", "/api/v1/datasets/{name}/rules", P.GOVERNANCE_READ, MODEL),
    Row("GET", "/api/v1/datasets/{name}/findings", P.GOVERNANCE_READ, MODEL),
    Row("GET", "/api/v1/models/{name}/versions/{version}/datasets", P.GOVERNANCE_READ, VERSION),
    # production monitoring
    Row(
        "POST",
        "/api/v1/models/{name}/versions/{version}/monitors",
        P.MONITOR_MANAGE,
        VERSION,
        json={
            "reference": {
                "profile": "{}",
                "source": "matrix",
                "fingerprint": None,
                "rows": 1,
                "columns": ["x"],
                "numeric": ["x"],
                "categorical": [],
            }
        },
    ),
    Row("GET", "/api/v1/monitors", P.GOVERNANCE_READ),
    Row("POST", "/api/v1/monitors/run-due", P.MONITOR_RUN, json={"limit": 1}),
    Row("GET", "/api/v1/monitors/{ref}", P.GOVERNANCE_READ, {"ref": "mon_ghost"}),
    Row("GET", "/api/v1/monitors/{ref}/reference", P.GOVERNANCE_READ, {"ref": "mon_ghost"}),
    Row("GET", "/api/v1/monitors/{ref}/reference/exact", P.GOVERNANCE_READ, {"ref": "mon_ghost"}),
    Row("PATCH", "/api/v1/monitors/{ref}", P.MONITOR_MANAGE, {"ref": "mon_ghost"}, json={}),
    Row("DELETE", "/api/v1/monitors/{ref}", P.MONITOR_MANAGE, {"ref": "mon_ghost"}),
    Row(
        "POST",
        "/api/v1/monitors/{ref}/runs",
        P.MONITOR_RUN,
        {"ref": "mon_ghost"},
        json={"aggregate": {}, "rows": 1, "source": "matrix", "engine": "numpy"},
    ),
    Row("GET", "/api/v1/monitors/{ref}/runs", P.GOVERNANCE_READ, {"ref": "mon_ghost"}),
    Row("GET", "/api/v1/monitor-runs/{run_id}", P.GOVERNANCE_READ, {"run_id": "mrun_ghost"}),
    Row("GET", "/api/v1/monitors/{ref}/history", P.GOVERNANCE_READ, {"ref": "mon_ghost"}),
    Row(
        "POST",
        "/api/v1/monitors/{ref}/labels",
        P.MONITOR_RUN,
        {"ref": "mon_ghost"},
        json={"labels": {"p1": 1}},
    ),
    Row("GET", "/api/v1/alerts", P.GOVERNANCE_READ),
    Row("GET", "/api/v1/alerts/{alert_id}", P.GOVERNANCE_READ, {"alert_id": "alrt_ghost"}),
    Row(
        "POST",
        "/api/v1/alerts/{alert_id}/resolve",
        P.ALERT_RESOLVE,
        {"alert_id": "alrt_ghost"},
        json={"note": "n"},
    ),
]


def api_routes() -> set[str]:
    schema = create_app(None).openapi()  # type: ignore[arg-type]  # routes need no context
    return {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1")
        for method in operations
    }


def test_every_api_route_has_exactly_one_row() -> None:
    keys = [row.key for row in ROWS]
    assert len(keys) == len(set(keys)), "a route is listed twice"
    routes = api_routes()
    missing = sorted(routes - set(keys))
    assert missing == [], f"add a Row to ROWS in {__file__} for: {missing}"
    gone = sorted(set(keys) - routes)
    assert gone == [], f"these rows name routes that no longer exist: {gone}"


DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
ANONYMOUS = "anonymous"
COLUMNS = {"no role": NO_ROLE, "anonymous": ANONYMOUS}  # doc heading -> caller


def _table(heading: str) -> list[list[str]]:
    """The rows of the first Markdown table under ``heading`` in docs/permissions.md."""
    text = DOC.read_text(encoding="utf-8").split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|")]
    rows = [[c.strip().strip("`") for c in ln.strip("|").split("|")] for ln in lines]
    return [r for r in rows if not all(re.fullmatch(r"-+", c) for c in r)]


def reviewed_matrix() -> dict[str, dict[str, str]]:
    """{action: {caller: "yes" | "own" | "no"}} as docs/permissions.md states it."""
    header, *rows = _table("Roles and actions")
    callers = [COLUMNS.get(c, c) for c in header[1:]]
    return {row[0]: dict(zip(callers, row[1:], strict=True)) for row in rows}


def reviewed_reach() -> dict[str, dict[str, bool]]:
    """{cell value: {"own model" | "team model" | "other model": allowed}}."""
    header, *rows = _table("Object level: own, team and other models")
    return {
        row[0]: {h: c == "allowed" for h, c in zip(header[1:], row[1:], strict=True)}
        for row in rows
    }


MATRIX = reviewed_matrix()
REACH = reviewed_reach()


def test_the_reviewed_table_names_every_action_and_role() -> None:
    assert sorted(MATRIX) == sorted(p.value for p in Permission), "docs/permissions.md rows"
    for action, cells in MATRIX.items():
        assert sorted(cells) == sorted([*CALLERS, ANONYMOUS]), action
        assert set(cells.values()) <= {"yes", "own", "no"}, action
    assert set(REACH) == {"yes", "own", "no"}


def expected_allowed(caller: str, needs: Permission | str) -> bool:
    """With a model that does not exist: only the role decides (``own`` counts)."""
    if needs in (PUBLIC, AUTHENTICATED, A_USER):
        return True
    assert isinstance(needs, Permission)
    return MATRIX[needs.value][caller] != "no"


@pytest.fixture
def callers(ctx: Context) -> dict[str, str]:
    """A user per role (plus one with no role) and their API tokens."""
    operator = Principal(name="admin", roles=frozenset({OPERATOR}))
    found: dict[str, str] = {}
    for caller in CALLERS:
        roles = [] if caller == NO_ROLE else [caller]
        identity.create_user(ctx, operator, caller, roles=roles)
        found[caller] = tokens.create_token(ctx, operator, user=caller, name="matrix").token
    identity.create_user(ctx, operator, "matrix-login", password=LOGIN_PASSWORD)
    return found


def send(client: httpx.Client, row: Row, caller: str) -> httpx.Response:
    path = row.path.format(**row.params)
    kwargs: dict[str, Any] = {"params": row.query}
    if row.json is not None:
        kwargs["json"] = row.json(caller) if callable(row.json) else row.json
    if row.files is not None or row.form is not None:
        kwargs["files"] = row.files or {}
        kwargs["data"] = row.form or {}
    return client.request(row.method, path, **kwargs)


@pytest.fixture
def server(ctx: Context) -> Iterator[LiveServer]:
    with LiveServer(ctx) as live:
        yield live


def test_each_role_gets_403_exactly_when_it_lacks_the_permission(
    server: LiveServer, callers: dict[str, str]
) -> None:
    wrong: list[str] = []
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for row in ROWS:
            for caller, token in callers.items():
                client.headers["Authorization"] = f"Bearer {token}"
                response = send(client, row, caller)
                allowed = expected_allowed(caller, row.needs)
                denied = response.status_code == 403
                if allowed == denied or response.status_code in (401, 405, 500):
                    wrong.append(
                        f"{row.key} as {caller}: HTTP {response.status_code} "
                        f"(expected {'not ' if allowed else ''}403): {response.text[:200]}"
                    )
                elif denied:
                    body = response.json()
                    assert body["permission"] == row.needs, row.key
                    assert "steward user grant" in body["detail"], row.key
    assert wrong == [], "\n".join(wrong)


def test_without_a_token_only_public_routes_answer(
    server: LiveServer, callers: dict[str, str]
) -> None:
    wrong: list[str] = []
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for row in ROWS:
            status = send(client, row, "anonymous").status_code
            if (row.needs == PUBLIC) != (status != 401):
                wrong.append(f"{row.key} without a token: HTTP {status}")
    assert wrong == [], "\n".join(wrong)


@pytest.fixture
def anonymous_server(settings: Settings, callers: dict[str, str]) -> Iterator[LiveServer]:
    """The same store served with anonymous reads allowed."""
    context = bootstrap.build(settings.with_(allow_anonymous_read=True), migrate=True)
    with LiveServer(context) as live:
        yield live
    context.uow.engine.dispose()


def test_anonymous_callers_get_exactly_what_the_table_allows(
    anonymous_server: LiveServer,
) -> None:
    wrong: list[str] = []
    with httpx.Client(base_url=anonymous_server.url, timeout=60) as client:
        for row in ROWS:
            if row.needs in (PUBLIC, AUTHENTICATED):
                allowed = True
            elif row.needs == A_USER:
                allowed = False
            else:
                assert isinstance(row.needs, Permission)
                allowed = MATRIX[row.needs.value][ANONYMOUS] == "yes"
            status = send(client, row, ANONYMOUS).status_code
            if allowed == (status == 401) or status in (403, 405, 500):
                wrong.append(
                    f"{row.key} anonymously: HTTP {status} (expected "
                    f"{'not ' if allowed else ''}401)"
                )
    assert wrong == [], "\n".join(wrong)


# -- object level: the caller's own model, their team's, someone else's ---------------------

RELATIONS = ("own model", "team model", "other model")
REFERENCE = ROWS[
    [r.key for r in ROWS].index("POST /api/v1/models/{name}/versions/{version}/monitors")
].json
# Acts on a real model; the order matters where one act changes the next one's subject
# (the request moves version 1; reassigning goes last).
OBJECT_ROWS: list[Row] = [
    Row("PATCH", "/api/v1/models/{name}", P.MODEL_WRITE, json={"title": "t"}),
    Row("POST", "/api/v1/models/{name}/versions", P.VERSION_WRITE, files=ARTIFACT),
    Row("PUT", "/api/v1/models/{name}/aliases/champion", P.ALIAS_WRITE, json={"version": 1}),
    Row(
        "PUT",
        "/api/v1/models/{name}/versions/1/narratives",
        P.MODEL_WRITE,
        json={"fields": {"intended_use": "u"}},
    ),
    Row(
        "POST",
        "/api/v1/models/{name}/findings",
        P.FINDING_WRITE,
        json={"title": "t", "severity": "low"},
    ),
    Row("POST", "/api/v1/models/{name}/risk-assessments", P.RISK_ASSESS, json={"answers": ANSWERS}),
    Row(
        "POST",
        "/api/v1/models/{name}/impact-assessments",
        P.RISK_ASSESS,
        json={"answers": IMPACT_ANSWERS},
    ),
    Row(
        "POST",
        "/api/v1/models/{name}/deployments",
        P.DEPLOY_RECORD,
        json={"environment": "prod", "sha256": "0" * 64},
    ),
    Row("POST", "/api/v1/models/{name}/versions/1/check-runs", P.CHECK_RUN, json=RUN_RECORD),
    Row(
        "POST",
        "/api/v1/models/{name}/versions/1/validation-jobs",
        P.CHECK_RUN,
        form={"options": "{}"},
        files={"data": ("eval.csv", b"x,y\n1,0\n")},
    ),
    Row("POST", "/api/v1/models/{name}/versions/1/monitors", P.MONITOR_MANAGE, json=REFERENCE),
    Row(
        "POST",
        "/api/v1/models/{name}/versions/1/requests",
        P.APPROVAL_REQUEST,
        json={"to": "validation", "justification": "matrix"},
    ),
    Row(
        "POST",
        "/api/v1/models/{name}/versions/1/transitions",
        P.VERSION_TRANSITION,
        json={"to": "validation", "justification": "matrix"},
    ),
    Row("PATCH", "/api/v1/models/{name}", P.MODEL_REASSIGN, json={"owner": "someone-else"}),
]


def _slug(caller: str) -> str:
    return caller.replace("_", "-")


@pytest.fixture
def estate(ctx: Context, callers: dict[str, str], tmp_path: Path) -> dict[tuple[str, str], str]:
    """Per caller: a model they own, one their team holds, one that is someone else's."""
    ensure_user(ctx, "stranger", "owner")
    identity.create_team(ctx, OPERATOR_P, "elsewhere")
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"weights")
    found: dict[tuple[str, str], str] = {}
    for caller in CALLERS:
        team = f"team-{_slug(caller)}"
        identity.create_team(ctx, OPERATOR_P, team, members=[caller])
        for relation, owner, holder in (
            ("own model", caller, ""),
            ("team model", "stranger", team),
            ("other model", "stranger", "elsewhere"),
        ):
            name = f"{relation.split()[0]}-{_slug(caller)}"
            models.create_model(ctx, OPERATOR_P, name, owner=owner, team=holder)
            versions.create_version(ctx, OPERATOR_P, name, VersionSpec(), weights)
            found[caller, relation] = name
    return found


OPERATOR_P = Principal(name="admin", roles=frozenset({OPERATOR}))


def test_each_role_reaches_exactly_the_models_the_table_says(
    server: LiveServer, callers: dict[str, str], estate: dict[tuple[str, str], str]
) -> None:
    wrong: list[str] = []
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for (caller, relation), model in estate.items():
            client.headers["Authorization"] = f"Bearer {callers[caller]}"
            for row in OBJECT_ROWS:
                assert isinstance(row.needs, Permission)
                allowed = REACH[MATRIX[row.needs.value][caller]][relation]
                response = send(
                    client,
                    Row(
                        row.method,
                        row.path,
                        row.needs,
                        {"name": model},
                        row.json,
                        row.query,
                        row.files,
                        row.form,
                    ),
                    caller,
                )
                if allowed == (response.status_code == 403) or response.status_code in (
                    401,
                    405,
                    500,
                ):
                    wrong.append(
                        f"{row.method} {row.path} on {relation} as {caller}: HTTP "
                        f"{response.status_code} (expected {'not ' if allowed else ''}403): "
                        f"{response.text[:160]}"
                    )
    assert wrong == [], "\n".join(wrong)
