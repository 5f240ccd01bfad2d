"""The anonymous-read attack: a caller without a token on a server started with
``--allow-anonymous-read`` walks every GET route of the OpenAPI schema.

The security campaign read the whole journal this way, and check-run results stayed
readable after the journal was closed. Anonymous read covers the inventory and
version metadata only (docs/security.md); everything else must answer 401. The
store holds a real object behind every path parameter (a check run, a finding, a
narrative, a risk assessment, a request, a review, a waiver...), so a route that forgot its
permission would answer 200 with that object here, not 404.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.conftest import TEST_OUTBOUND_ALLOW, ensure_user

from steward import bootstrap
from steward.api.app import create_app
from steward.domain.permissions import OPERATOR, Principal
from steward.services import tokens
from steward.services.context import Context
from steward.settings import Settings

OPERATOR_P = Principal(name="admin", roles=frozenset({OPERATOR}))

# The reviewed allow-list: what an anonymous caller may read. Inventory and version
# metadata, the server's health, who the caller is ("anonymous") and the public half of
# the signing key (public by design). Nothing else may answer 2xx without a token.
ALLOWED = {
    "GET /api/v1/health",
    "GET /api/v1/me",
    "GET /api/v1/models",
    "GET /api/v1/models/{name}",
    "GET /api/v1/models/{name}/versions",
    "GET /api/v1/versions",
    "GET /api/v1/models/{name}/versions/{version}",
    "GET /api/v1/models/{name}/aliases",
    "GET /api/v1/models/{name}/aliases/{alias}",
    "GET /api/v1/signing/key",
    # the same inventory and version metadata in MLflow's registry API (docs/mlflow.md)
    "GET /mlflow/api/2.0/mlflow/registered-models/get",
    "GET /mlflow/api/2.0/mlflow/registered-models/search",
    "GET /mlflow/api/2.0/mlflow/registered-models/alias",
    "GET /mlflow/api/2.0/mlflow/model-versions/get",
    "GET /mlflow/api/2.0/mlflow/model-versions/search",
    # operators' probes and Prometheus: no model, user or journal content (route templates
    # and counts only; /metrics takes STEWARD_METRICS_TOKEN when set, docs/deployment.md)
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
}

# Words written into governance records below: none may reach an anonymous caller.
SECRETS = (
    "finding-kept-from-strangers",
    "narrative-kept-from-strangers",
    "justification-kept-from-strangers",
    "review-notes-kept-from-strangers",
)
RISK_ANSWERS = {
    "decision_impact": "significant",
    "autonomy": "human_oversight",
    "personal_data": "personal",
    "vulnerable_groups": "no",
    "scale": "under_100k",
    "financial_exposure": "material",
    "regulated_domain": ["credit"],
    "annex_iii": ["credit_scoring"],
    "prohibited_practices": ["none"],
    "transparency": ["none"],
    "third_party": "in_house",
}


def _ok(response: Any) -> Any:
    assert response.status_code < 300, (response.request.url, response.text)
    return response.json()


def seed(client: TestClient, tmp: Path) -> dict[str, str]:
    """A model with a version and a real governance record of each kind, made by an admin
    over REST; returns the values to put in each path parameter."""
    m = "/api/v1/models/credit-scoring"
    _ok(client.post("/api/v1/teams", json={"name": "retail"}))
    _ok(client.post("/api/v1/users", json={"name": "olive", "roles": ["owner"]}))
    # olive owns it, so alice (an admin) may complete its periodic review independently
    _ok(
        client.post(
            "/api/v1/models", json={"name": "credit-scoring", "team": "retail", "owner": "olive"}
        )
    )
    _ok(client.post(f"{m}/versions", files={"artifact": ("m.bin", b"weights")}))
    _ok(client.put(f"{m}/aliases/champion", json={"version": 1}))
    run = _ok(
        client.post(
            f"{m}/versions/1/check-runs",
            json={
                "suite": "anonymous-read",
                "suite_version": "1",
                "source": "external",
                "data_fingerprint": None,
                "results": [
                    {
                        "name": "performance.auc",
                        "family": "performance",
                        "passed": True,
                        "value": 0.81,
                        "threshold": None,
                        "message": "",
                        "details": {},
                    }
                ],
                "started_at": "2026-01-01T00:00:00Z",
                "finished_at": "2026-01-01T00:00:01Z",
            },
        )
    )
    finding = _ok(client.post(f"{m}/findings", json={"title": SECRETS[0], "severity": "high"}))
    _ok(client.put(f"{m}/versions/1/narratives", json={"fields": {"intended_use": SECRETS[1]}}))
    assessment = _ok(client.post(f"{m}/risk-assessments", json={"answers": RISK_ANSWERS}))
    request = _ok(
        client.post(
            f"{m}/versions/1/requests", json={"to": "validation", "justification": SECRETS[2]}
        )
    )
    review = _ok(client.post(f"{m}/reviews", json={"outcome": "satisfactory", "notes": SECRETS[3]}))
    waiver = _ok(
        client.post(
            f"{m}/versions/1/waivers",
            json={"requirement": "approvals.production", "reason": "r", "expires": "2099-01-01"},
        )
    )
    _ok(client.post(f"{m}/deployments", json={"environment": "prod", "sha256": "0" * 64}))
    hook = _ok(
        client.post(
            "/api/v1/webhooks",
            json={"url": "http://127.0.0.1:9/hook", "events": ["finding.opened"]},
        )
    )
    (tmp / "lake").mkdir()
    _ok(
        client.post(
            "/api/v1/connections",
            json={"name": "lake", "kind": "folder", "location": str(tmp / "lake")},
        )
    )
    _ok(client.post("/api/v1/datasets", json={"name": "loans", "owner": "olive"}))
    _ok(
        client.post(
            "/api/v1/datasets/loans/versions",
            files={"data": ("d.csv", b"id,amount\n1,2\n2,3\n")},
        )
    )
    token = _ok(client.post("/api/v1/tokens", json={"user": "alice", "name": "spare"}))
    return {
        "name": "credit-scoring",
        "version": "1",
        "alias": "champion",
        "run_id": str(run["id"]),
        "finding_id": str(finding["id"]),
        "assessment_id": str(assessment["id"]),
        "request_id": str(request["request"]["id"]),
        "review_id": str(review["id"]),
        "waiver_id": str(waiver["id"]),
        "webhook_id": str(hook["webhook"]["id"]),
        # a monitor watches a production version only; these routes are refused
        # before anything is looked up, so a made-up id tests them as well
        "ref": "mon_none",
        "token_id": str(token["info"]["id"]),
        "user": "alice",
        "role": "admin",
        "framework": "nist-ai-rmf",
        "control": "GOVERN 1.1",
        "alert_id": "alrt_none",
        "run_id_monitor": "mrun_none",
        # jobs answer 401 before their id is looked up: a made-up one tests them as well
        "job_id": "job_none",
        "seq": "1",
    }


# ``{name}`` means a user, a team, a connection or a policy pack under those prefixes.
NAME_BY_PREFIX = {
    "/api/v1/users/": "alice",
    "/api/v1/teams/": "retail",
    "/api/v1/connections/": "lake",
    "/api/v1/datasets/": "loans",
    "/api/v1/policies/": "default",
}
QUERY = {
    "GET /api/v1/audit/proofs/consistency": {"old": "1", "new": "1"},
    "GET /api/v1/models/{name}/versions/{version}/gate": {"to": "production"},
    "GET /api/v1/compliance/crosswalk": {"source": "nist-ai-rmf", "target": "iso-42001"},
    # /mlflow takes MLflow's arguments in the query string (its client's GET convention)
    "GET /mlflow/api/2.0/mlflow/registered-models/get": {"name": "credit-scoring"},
    "GET /mlflow/api/2.0/mlflow/registered-models/alias": {
        "name": "credit-scoring",
        "alias": "champion",
    },
    "GET /mlflow/api/2.0/mlflow/model-versions/get": {"name": "credit-scoring", "version": "1"},
    "GET /mlflow/api/2.0/mlflow/model-versions/get-download-uri": {
        "name": "credit-scoring",
        "version": "1",
    },
    "GET /mlflow/api/2.0/mlflow-artifacts/artifacts": {"path": "credit-scoring/1"},
    "GET /api/v1/compliance/export": {"format": "oscal-profile"},
}


def fill(path: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        param = match.group(1)
        if param == "name":
            for prefix, name in NAME_BY_PREFIX.items():
                if path.startswith(prefix):
                    return name
        if param == "run_id" and path.startswith("/api/v1/monitor-runs/"):
            return values["run_id_monitor"]
        if param == "version" and path.startswith("/api/v1/policies/"):
            return "1"
        if param == "artifact_path":  # /mlflow's artifact proxy: MODEL/VERSION/FILE
            return f"{values['name']}/{values['version']}/m.bin"
        assert param in values, f"give {param!r} of {path} a real value in seed()"
        return values[param]

    return re.sub(r"\{([^}]+)\}", one, path)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Context, TestClient]]:
    home: Path = tmp_path_factory.mktemp("anonymous-read")
    ctx = bootstrap.build(
        Settings(
            home=home,
            database_url=f"sqlite:///{home / 'steward.db'}",
            artifacts_url=str(home / "artifacts"),
            allow_anonymous_read=True,
            outbound_allow=TEST_OUTBOUND_ALLOW,
        ),
        migrate=True,
    )
    ensure_user(ctx, "alice", "admin")
    with TestClient(create_app(ctx)) as client:
        yield ctx, client
    ctx.uow.engine.dispose()


@pytest.fixture(scope="module")
def values(served: tuple[Context, TestClient], tmp_path_factory: pytest.TempPathFactory) -> Any:
    ctx, client = served
    secret = tokens.create_token(ctx, OPERATOR_P, user="alice", name="seed").token
    client.headers["Authorization"] = f"Bearer {secret}"
    try:
        return seed(client, tmp_path_factory.mktemp("data"))
    finally:
        del client.headers["Authorization"]


def get_routes(client: TestClient) -> list[tuple[str, dict[str, Any]]]:
    schema = client.get("/openapi.json").json()
    return [
        (path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method == "get"
    ]


def test_anonymous_callers_read_only_the_allow_list(
    served: tuple[Context, TestClient], values: dict[str, str]
) -> None:
    _ctx, client = served
    assert "Authorization" not in client.headers
    routes = get_routes(client)
    keys = {f"GET {path}" for path, _op in routes}
    assert not ALLOWED - keys, f"allow-listed routes that no longer exist: {ALLOWED - keys}"
    wrong: list[str] = []
    for path, operation in routes:
        key = f"GET {path}"
        required = [
            p["name"]
            for p in operation.get("parameters", [])
            if p["in"] == "query" and p.get("required")
        ]
        query = QUERY.get(key, {})
        assert set(required) <= set(query), f"give {key} its required query {required} in QUERY"
        response = client.get(fill(path, values), params=query)
        if key in ALLOWED:
            if response.status_code != 200:
                wrong.append(f"{key}: HTTP {response.status_code}, expected 200: {response.text}")
            leaked = [s for s in SECRETS if s in response.text]
            if leaked:
                wrong.append(f"{key} leaks {leaked}")
        elif response.status_code != 401:
            wrong.append(f"{key}: HTTP {response.status_code}, expected 401: {response.text[:300]}")
        elif path.startswith("/mlflow/"):
            # MLflow's client reads MLflow's error body, not problem+json (docs/mlflow.md).
            if response.json().get("error_code") != "UNAUTHENTICATED":
                wrong.append(f"{key}: 401 without MLflow's error_code UNAUTHENTICATED")
        elif not response.headers["content-type"].startswith("application/problem+json"):
            wrong.append(f"{key}: 401 without problem+json")
    assert wrong == [], "\n".join(wrong)


def test_an_anonymous_caller_cannot_read_a_check_run_it_knows_the_id_of(
    served: tuple[Context, TestClient], values: dict[str, str]
) -> None:
    """The gap this file was written for: check-run results were version:read."""
    _ctx, client = served
    by_id = client.get(f"/api/v1/check-runs/{values['run_id']}")
    listed = client.get("/api/v1/models/credit-scoring/versions/1/check-runs")
    for response in (by_id, listed):
        assert response.status_code == 401, response.text
        assert response.json()["permission"] == "governance:read"
    # ... while the version's metadata stays readable.
    version = client.get("/api/v1/models/credit-scoring/versions/1")
    assert version.status_code == 200 and version.json()["version"] == 1
