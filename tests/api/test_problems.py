"""Every API error is RFC 9457 problem+json that names the problem and the fix.

Through the real server (uvicorn in a thread, httpx). After each refused
mutation the store is compared with a snapshot taken before: no new audit
event, no new row in any table, no new blob in the artifact store.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from tests.conftest import Clock, LiveServer, ensure_user

from steward import bootstrap
from steward.domain.permissions import OPERATOR, Principal
from steward.services import tokens
from steward.services.context import Context
from steward.settings import Settings
from steward.store import tables

PROBLEM = "application/problem+json"
OPERATOR_PRINCIPAL = Principal(name="admin", roles=frozenset({OPERATOR}))
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


# -- helpers -------------------------------------------------------------------------


def assert_problem(response: httpx.Response, status: int, code: str, *needles: str) -> Any:
    """The response is a problem+json body with this status and code, naming each needle."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"https://steward.dev/problems/{code}"
    assert body["title"]
    for needle in needles:
        assert needle in body["detail"], (needle, body["detail"])
    return body


def snapshot(ctx: Context) -> dict[str, Any]:
    """Every row of every table (bar token usage times), the journal head and the blobs."""
    with ctx.uow.engine.connect() as conn:
        rows = {
            table.name: sorted(
                (
                    tuple(row)
                    for row in conn.execute(
                        select(*(c for c in table.c if c.name != "last_used_at"))
                    )
                ),
                key=repr,
            )
            for table in tables.metadata.sorted_tables
        }
        head = conn.execute(select(func.max(tables.audit_events.c.seq))).scalar_one()
    root = Path(ctx.settings.artifacts_url)
    blobs = sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return {"rows": rows, "audit_head": head, "blobs": blobs}


def seed(api: httpx.Client) -> None:
    """A model 'credit': version 1 (development), version 2 (rejected), version 3 tagged."""
    assert api.post("/api/v1/models", json={"name": "credit"}).status_code == 201
    for content, tags in ((b"one", {}), (b"two", {}), (b"three", {"query": "a=b"})):
        r = api.post(
            "/api/v1/models/credit/versions",
            data={"metadata": json.dumps({"tags": tags})},
            files={"artifact": ("m.bin", content)},
        )
        assert r.status_code == 201, r.text
    for stage in ("validation", "rejected"):
        r = api.post(
            "/api/v1/models/credit/versions/2/transitions",
            json={"to": stage, "justification": "poor recall"},
        )
        assert r.status_code == 200, r.text


@dataclass
class Shared:
    ctx: Context
    url: str
    api: httpx.Client


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """One seeded SQLite server for the whole module.

    Tests using it only make requests that are refused (or read), and compare
    the store before and after each refusal, so they cannot disturb each other.
    """
    root = tmp_path_factory.mktemp("problems")
    settings = Settings(
        home=root, database_url=f"sqlite:///{root / 'steward.db'}", artifacts_url=str(root / "a")
    )
    context = bootstrap.build(settings, migrate=True)
    ensure_user(context, "alice", "owner")  # may not manage other users' tokens
    made = tokens.create_token(context, OPERATOR_PRINCIPAL, user="alice", name="tests")
    with (
        LiveServer(context) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {made.token}"}, timeout=30
        ) as client,
    ):
        seed(client)
        yield Shared(context, server.url, client)
    context.uow.engine.dispose()


@pytest.fixture
def seeded(api: httpx.Client) -> httpx.Client:
    seed(api)
    return api


@pytest.fixture
def api(live_server: LiveServer, token: str) -> Iterator[httpx.Client]:
    """A fresh server per test (on SQLite and PostgreSQL), as alice."""
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


# -- input validation ------------------------------------------------------------------


def test_invalid_model_name_is_422_naming_the_rule_and_an_example(shared: Shared) -> None:
    api, ctx = shared.api, shared.ctx
    before = snapshot(ctx)
    body = assert_problem(
        api.post("/api/v1/models", json={"name": "Credit Scoring"}),
        422,
        "invalid-input",
        "Invalid model name 'Credit Scoring'",
        "lowercase letters",
        "for example 'credit-scoring'",
    )
    assert body["field"] == "name"
    assert snapshot(ctx) == before


def test_duplicate_model_is_409_and_writes_nothing(api: httpx.Client, ctx: Context) -> None:
    assert api.post("/api/v1/models", json={"name": "credit"}).status_code == 201
    before = snapshot(ctx)
    body = assert_problem(
        api.post("/api/v1/models", json={"name": "credit", "title": "again"}),
        409,
        "already-exists",
        "A model named 'credit' already exists",
    )
    assert body["model"] == "credit"
    assert snapshot(ctx) == before
    assert api.get("/api/v1/models/credit").json()["title"] == ""


def test_an_unknown_finding_scope_is_422_and_nothing_written(shared: Shared) -> None:
    api, ctx = shared.api, shared.ctx
    before = snapshot(ctx)
    body = assert_problem(
        api.post(
            "/api/v1/models/credit/findings",
            json={"title": "Drift", "severity": "high", "version": 1, "scope": "sideways"},
        ),
        422,
        "invalid-input",
        "Unknown finding scope 'sideways'",
        "'model' (the model and every version",
    )
    assert body["field"] == "scope"
    assert snapshot(ctx) == before


def test_malformed_json_body_is_422_saying_it_is_not_json(shared: Shared) -> None:
    api, ctx = shared.api, shared.ctx
    before = snapshot(ctx)
    response = api.post(
        "/api/v1/models",
        content=b'{"name": "credit", ',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(
        response, 422, "invalid-input", "not valid JSON", "Content-Type: application/json"
    )
    assert snapshot(ctx) == before


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "credit", "title": 5}, "title", "valid string"),
        ({"name": "credit", "tags": "retail"}, "tags", "valid list"),
        (
            {"name": "credit", "allow_multiple_production": "maybe"},
            "allow_multiple_production",
            "valid boolean",
        ),
        ({"name": "credit", "risk_tier": "extreme"}, "risk_tier", "'low'"),
        ({"name": "credit", "next_review_date": "soon"}, "next_review_date", "valid date"),
        ({"title": "no name"}, "name", "required field is missing"),
    ],
)
def test_wrong_field_types_are_422_naming_the_field(
    shared: Shared, body: dict[str, Any], field: str, message: str
) -> None:
    api, ctx = shared.api, shared.ctx
    before = snapshot(ctx)
    problem = assert_problem(
        api.post("/api/v1/models", json=body), 422, "invalid-input", field, message, "/docs"
    )
    assert [e["field"] for e in problem["errors"]] == [field]
    assert message in problem["errors"][0]["message"]
    assert snapshot(ctx) == before


def test_unknown_fields_are_422_and_name_each_one(shared: Shared) -> None:
    api, ctx = shared.api, shared.ctx
    before = snapshot(ctx)
    problem = assert_problem(
        api.post("/api/v1/models", json={"name": "credit", "colour": "red", "size": 3}),
        422,
        "invalid-input",
        "colour: unknown field; remove it",
        "size: unknown field",
    )
    assert sorted(e["field"] for e in problem["errors"]) == ["colour", "size"]
    assert snapshot(ctx) == before


def test_unknown_field_in_a_patch_changes_nothing(shared: Shared) -> None:
    api, ctx = shared.api, shared.ctx
    before = snapshot(ctx)
    assert_problem(
        api.patch("/api/v1/models/credit", json={"title": "New", "colour": "red"}),
        422,
        "invalid-input",
        "colour: unknown field",
    )
    assert_problem(
        api.patch("/api/v1/models/credit", json={}),
        422,
        "invalid-input",
        "Nothing to update: give at least one field",
    )
    assert snapshot(ctx) == before
    assert api.get("/api/v1/models/credit").json()["title"] == ""


def test_non_integer_path_and_query_values_are_422_naming_them(shared: Shared) -> None:
    api = shared.api
    assert_problem(
        api.get("/api/v1/models/credit/versions/first"),
        422,
        "invalid-input",
        "path.version",
        "valid integer",
    )
    assert_problem(
        api.get("/api/v1/models", params={"limit": "ten"}),
        422,
        "invalid-input",
        "query.limit",
    )


# -- not found ---------------------------------------------------------------------------


def test_unknown_model_is_404_pointing_to_model_list(shared: Shared) -> None:
    api, ctx = shared.api, shared.ctx
    for response in (
        api.get("/api/v1/models/nope"),
        api.get("/api/v1/models/nope/versions"),
        api.get("/api/v1/models/nope/aliases"),
        api.get("/api/v1/models/nope/history"),
    ):
        body = assert_problem(
            response, 404, "not-found", "Model 'nope' does not exist", "`steward model list`"
        )
        assert body["model"] == "nope"
    before = snapshot(ctx)
    assert_problem(api.patch("/api/v1/models/nope", json={"title": "x"}), 404, "not-found")
    assert_problem(
        api.post("/api/v1/models/nope/versions", files={"artifact": ("m.bin", b"bytes")}),
        404,
        "not-found",
        "Model 'nope' does not exist",
    )
    assert snapshot(ctx) == before  # no orphan blob either


def test_unknown_version_is_404_pointing_to_version_list(shared: Shared) -> None:
    api, ctx = shared.api, shared.ctx
    for response in (
        api.get("/api/v1/models/credit/versions/9"),
        api.get("/api/v1/models/credit/versions/9/artifact"),
        api.get("/api/v1/models/credit/versions/9/transitions"),
        api.get("/api/v1/models/credit/versions/9/gate", params={"to": "validation"}),
    ):
        body = assert_problem(
            response,
            404,
            "not-found",
            "Model 'credit' has no version 9",
            "`steward version list credit`",
        )
        assert (body["model"], body["version"]) == ("credit", 9)
    before = snapshot(ctx)
    assert_problem(
        api.put("/api/v1/models/credit/aliases/champion", json={"version": 9}),
        404,
        "not-found",
        "has no version 9",
    )
    assert_problem(
        api.post(
            "/api/v1/models/credit/versions/9/transitions",
            json={"to": "validation", "justification": "x"},
        ),
        404,
        "not-found",
    )
    assert_problem(
        api.put("/api/v1/models/credit/aliases/champion", json={"version": 0}),
        404,
        "not-found",
        "has no version 0",
    )
    assert snapshot(ctx) == before


def test_unknown_alias_is_404(shared: Shared) -> None:
    api, ctx = shared.api, shared.ctx
    body = assert_problem(
        api.get("/api/v1/models/credit/aliases/champion"),
        404,
        "not-found",
        "Model 'credit' has no alias 'champion'",
    )
    assert body["alias"] == "champion"
    before = snapshot(ctx)
    assert_problem(
        api.delete("/api/v1/models/credit/aliases/champion"),
        404,
        "not-found",
        "has no alias 'champion'",
    )
    assert snapshot(ctx) == before


def test_invalid_alias_name_is_422(shared: Shared) -> None:
    api, ctx = shared.api, shared.ctx
    before = snapshot(ctx)
    body = assert_problem(
        api.put("/api/v1/models/credit/aliases/Champion", json={"version": 1}),
        422,
        "invalid-input",
        "Invalid alias 'Champion'",
        "for example 'champion'",
    )
    assert body["field"] == "alias"
    assert_problem(
        api.put("/api/v1/models/credit/aliases/latest", json={"version": 1}),
        422,
        "invalid-input",
        "reserved",
    )
    assert snapshot(ctx) == before


def test_unknown_routes_and_methods_are_problems_too(shared: Shared) -> None:
    api = shared.api
    assert_problem(api.get("/api/v1/nothing-here"), 404, "not-found", "/api/v1/nothing-here")
    assert_problem(
        api.delete("/api/v1/models/credit"), 405, "method-not-allowed", "DELETE /api/v1/models"
    )


# -- authentication and authorisation ------------------------------------------------------


def test_missing_authorization_is_401_with_www_authenticate(shared: Shared) -> None:
    ctx = shared.ctx
    before = snapshot(ctx)
    for response in (
        httpx.get(f"{shared.url}/api/v1/models"),
        httpx.post(f"{shared.url}/api/v1/models", json={"name": "credit"}),
    ):
        assert_problem(
            response,
            401,
            "unauthenticated",
            "needs an API token",
            "Authorization: Bearer <token>",
            "steward token create --user NAME",
        )
        assert response.headers["www-authenticate"] == "Bearer"
    assert snapshot(ctx) == before


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        ("Bearer stw_" + "x" * 43, "Unknown API token"),
        ("Bearer not-a-steward-token", "not a Steward API token (they start with 'stw_')"),
        ("Basic YWxpY2U6c2VjcmV0", "Use the header 'Authorization: Bearer <token>'"),
        ("Bearer", "Use the header 'Authorization: Bearer <token>'"),
    ],
)
def test_unknown_or_malformed_tokens_are_401(shared: Shared, header: str, needle: str) -> None:
    ctx = shared.ctx
    before = snapshot(ctx)
    response = httpx.post(
        f"{shared.url}/api/v1/models",
        json={"name": "credit"},
        headers={"Authorization": header},
    )
    assert_problem(response, 401, "unauthenticated", needle)
    assert response.headers["www-authenticate"] == "Bearer"
    assert snapshot(ctx) == before


def test_revoked_token_is_401(shared: Shared) -> None:
    ctx = shared.ctx
    ensure_user(ctx, "bob", "owner")
    made = tokens.create_token(ctx, OPERATOR_PRINCIPAL, user="bob", name="laptop")
    headers = {"Authorization": f"Bearer {made.token}"}
    assert httpx.get(f"{shared.url}/api/v1/me", headers=headers).json()["user"] == "bob"
    tokens.revoke_token(ctx, OPERATOR_PRINCIPAL, made.info.id)
    response = httpx.get(f"{shared.url}/api/v1/me", headers=headers)
    assert_problem(response, 401, "unauthenticated", f"API token {made.info.id} was revoked")
    assert response.headers["www-authenticate"] == "Bearer"


@sqlite_only
def test_expired_token_is_401(settings: Settings, clock: Clock) -> None:
    context = bootstrap.build(settings, migrate=True, clock=clock)
    ensure_user(context, "bob", "owner")
    made = tokens.create_token(
        context, OPERATOR_PRINCIPAL, user="bob", name="ci", expires_in_days=1
    )
    with LiveServer(context) as server:
        headers = {"Authorization": f"Bearer {made.token}"}
        assert httpx.get(f"{server.url}/api/v1/me", headers=headers).status_code == 200
        clock.advance(days=1, seconds=1)
        response = httpx.get(f"{server.url}/api/v1/me", headers=headers)
    context.uow.engine.dispose()
    assert_problem(response, 401, "unauthenticated", f"API token {made.info.id} expired")


@pytest.fixture
def anonymous(settings: Settings) -> Iterator[tuple[Context, LiveServer]]:
    context = bootstrap.build(settings.with_(allow_anonymous_read=True), migrate=True)
    with LiveServer(context) as server:
        yield context, server
    context.uow.engine.dispose()


@sqlite_only
def test_anonymous_reads_the_inventory_only_and_everything_else_is_401(
    anonymous: tuple[Context, LiveServer],
) -> None:
    """The campaign read the whole journal (finding titles, risk answers, the user roster,
    text typed into failed logins) and downloaded artifacts without a token."""
    context, server = anonymous
    ensure_user(context, "alice", "owner")
    made = tokens.create_token(context, OPERATOR_PRINCIPAL, user="alice")
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {made.token}"}
    ) as alice:
        assert alice.post("/api/v1/models", json={"name": "credit"}).status_code == 201
        r = alice.post("/api/v1/models/credit/versions", files={"artifact": ("m.bin", b"v1")})
        assert r.status_code == 201
        finding = {"title": "Secret weakness", "severity": "high"}
        assert alice.post("/api/v1/models/credit/findings", json=finding).status_code == 201
    with httpx.Client(base_url=server.url) as anon:
        assert anon.get("/api/v1/me").json() == {
            "user": "anonymous",
            "anonymous": True,
            "roles": [],
            "teams": [],
        }
        assert [m["name"] for m in anon.get("/api/v1/models").json()["items"]] == ["credit"]
        assert anon.get("/api/v1/models/credit/versions/1").json()["version"] == 1
        before = snapshot(context)
        refused = [
            (anon.get("/api/v1/audit/events"), "audit:read"),
            (anon.get("/api/v1/audit/export"), "audit:read"),
            (anon.get("/api/v1/audit/verify"), "audit:read"),
            (anon.get("/api/v1/models/credit/history"), "audit:read"),
            (anon.get("/api/v1/findings"), "governance:read"),
            (anon.get("/api/v1/users"), "governance:read"),
            (anon.get("/api/v1/models/credit/versions/1/artifact"), "artifact:read"),
            (
                anon.get("/api/v1/models/credit/versions/1/gate", params={"to": "validation"}),
                "governance:read",
            ),
            (anon.post("/api/v1/models", json={"name": "other"}), "model:write"),
            (anon.patch("/api/v1/models/credit", json={"title": "x"}), "model:write"),
            (
                anon.post("/api/v1/models/credit/versions", files={"artifact": ("m", b"v2")}),
                "version:write",
            ),
            (
                anon.post(
                    "/api/v1/models/credit/versions/1/transitions",
                    json={"to": "validation", "justification": "x"},
                ),
                "version:transition",
            ),
            (
                anon.put("/api/v1/models/credit/aliases/champion", json={"version": 1}),
                "alias:write",
            ),
            (anon.post("/api/v1/tokens", json={"user": "anonymous"}), "token:manage"),
            (anon.get("/api/v1/tokens"), "token:manage"),
        ]
        for response, permission in refused:
            body = assert_problem(
                response,
                401,
                "unauthenticated",
                f"{permission} needs an API token",
                "anonymous callers may only read the inventory and version metadata",
            )
            assert body["permission"] == permission
            assert response.headers["www-authenticate"] == "Bearer"
            assert "Secret weakness" not in response.text
        # Unpacking a stranger's zip costs the server; the refusal points to the free way.
        verify = anon.post("/api/v1/evidence/verify", files={"pack": ("p.zip", b"not a zip")})
        assert_problem(verify, 401, "unauthenticated", "needs an API token", "offline")
        assert snapshot(context) == before


def test_without_anonymous_reads_even_reading_needs_a_token(shared: Shared) -> None:
    assert_problem(httpx.get(f"{shared.url}/api/v1/me"), 401, "unauthenticated")


def test_a_user_cannot_manage_other_users_tokens(shared: Shared) -> None:
    api, ctx = shared.api, shared.ctx
    ensure_user(ctx, "bob", "owner")
    bob = tokens.create_token(ctx, OPERATOR_PRINCIPAL, user="bob", name="laptop")
    before = snapshot(ctx)
    assert_problem(
        api.post("/api/v1/tokens", json={"user": "bob", "name": "for bob"}),
        403,
        "forbidden",
        "alice may only manage their own tokens",
        "steward token create --user NAME",
    )
    assert_problem(
        api.delete(f"/api/v1/tokens/{bob.info.id}"),
        403,
        "forbidden",
        "alice may only manage their own tokens",
    )
    assert_problem(
        api.get("/api/v1/tokens", params={"user": "bob"}),
        403,
        "forbidden",
        "alice may only manage their own tokens",
    )
    assert snapshot(ctx) == before
    listed = api.get("/api/v1/tokens").json()
    assert bob.info.id not in [t["id"] for t in listed]
    assert {t["user"] for t in listed} == {"alice"}


# -- lifecycle ------------------------------------------------------------------------------


def test_illegal_transition_is_409_listing_allowed_stages(
    seeded: httpx.Client, ctx: Context
) -> None:
    before = snapshot(ctx)
    body = assert_problem(
        seeded.post(
            "/api/v1/models/credit/versions/1/transitions",
            json={"to": "production", "justification": "ship it"},
        ),
        409,
        "illegal-transition",
        "Version 1 of 'credit' is in development; it cannot move to production",
        "Allowed next stages: validation",
    )
    assert body["allowed"] == ["validation"]
    assert (body["current"], body["target"]) == ("development", "production")
    assert snapshot(ctx) == before
    assert seeded.get("/api/v1/models/credit/versions/1").json()["stage"] == "development"


def test_transition_out_of_a_final_stage_is_409_with_no_allowed_stages(shared: Shared) -> None:
    api, ctx = shared.api, shared.ctx
    before = snapshot(ctx)
    body = assert_problem(
        api.post(
            "/api/v1/models/credit/versions/2/transitions",
            json={"to": "validation", "justification": "retry"},
        ),
        409,
        "illegal-transition",
        "rejected, a final stage",
        "Log a new version instead",
    )
    assert body["allowed"] == []
    assert snapshot(ctx) == before


@pytest.mark.parametrize(
    ("body", "needle", "field"),
    [
        (
            {"to": "prod", "justification": "x"},
            "Unknown stage 'prod'; stages are: development",
            "to",
        ),
        (
            {"to": "validation", "justification": "  "},
            "A justification is required",
            "justification",
        ),
    ],
)
def test_bad_transition_requests_are_422(
    shared: Shared, body: dict[str, str], needle: str, field: str
) -> None:
    api, ctx = shared.api, shared.ctx
    before = snapshot(ctx)
    problem = assert_problem(
        api.post("/api/v1/models/credit/versions/1/transitions", json=body),
        422,
        "invalid-input",
        needle,
    )
    assert problem["field"] == field
    assert_problem(
        api.post("/api/v1/models/credit/versions/1/transitions", json={"to": "validation"}),
        422,
        "invalid-input",
        "justification: required field is missing",
    )
    assert snapshot(ctx) == before


def test_deciding_a_closed_request_keeps_the_numeric_status(seeded: httpx.Client) -> None:
    """Attack (#12.13): the request's own status once overwrote problem+json's HTTP status."""
    made = seeded.post(
        "/api/v1/models/credit/versions/1/requests",
        json={"to": "validation", "justification": "ready for review"},
    )
    assert made.status_code == 201, made.text
    assert made.json()["applied"]  # no approvals needed to enter validation: closed at once
    rid = made.json()["request"]["id"]
    body = assert_problem(
        seeded.post(f"/api/v1/requests/{rid}/approve", json={"comment": "ok"}),
        409,
        "conflict",
        "already applied",
    )
    assert body["status"] == 409 and body["request_status"] == "applied"


# -- uploads -------------------------------------------------------------------------------


@pytest.fixture
def small_server(settings: Settings) -> Iterator[tuple[Context, httpx.Client]]:
    """A server that accepts artifacts of at most 100 bytes."""
    context = bootstrap.build(settings.with_(max_artifact_bytes=100), migrate=True)
    ensure_user(context, "alice", "owner")
    made = tokens.create_token(context, OPERATOR_PRINCIPAL, user="alice")
    with (
        LiveServer(context) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {made.token}"}
        ) as client,
    ):
        assert client.post("/api/v1/models", json={"name": "credit"}).status_code == 201
        yield context, client
    context.uow.engine.dispose()


def test_oversized_artifact_is_413_and_leaves_nothing_behind(
    small_server: tuple[Context, httpx.Client],
) -> None:
    context, client = small_server
    before = snapshot(context)
    body = assert_problem(
        client.post(
            "/api/v1/models/credit/versions",
            files={"artifact": ("big.bin", b"x" * 101)},
            data={"metadata": json.dumps({"tags": {"size": "big"}})},
        ),
        413,
        "artifact-too-large",
        "larger than this server accepts (100 bytes",
        "STEWARD_MAX_ARTIFACT_BYTES",
    )
    assert body["title"] == "Artifact too large"
    assert snapshot(context) == before
    # Exactly at the limit is fine.
    ok = client.post("/api/v1/models/credit/versions", files={"artifact": ("ok.bin", b"y" * 100)})
    assert ok.status_code == 201, ok.text
    assert ok.json()["artifact"]["size"] == 100


@pytest.mark.parametrize(
    ("metadata", "needles"),
    [
        ('{"params": {"C": 1.0}', ["The version metadata is not valid JSON"]),
        ("[1, 2]", ["Invalid version metadata"]),
        ('{"metrics": {"auc": "high"}}', ["metrics.auc", "valid number"]),
        (
            '{"metric": {"auc": 0.9}}',
            ["Unknown version metadata field(s): metric", "Known fields: flavor"],
        ),
        ('{"flavor": "keras"}', ["flavor", "'sklearn'"]),
        ('{"tags": {"bad key": "x"}}', ["Invalid tag 'bad key'"]),
        ('{"metrics": {"auc": 1e999}}', ["Metric 'auc' is inf; metrics must be finite"]),
        ('{"parent_version": 7}', ["Parent version 7 of 'credit' does not exist"]),
        ('{"filename": "../../etc/passwd"}', ["Invalid artifact file name"]),
    ],
)
def test_invalid_version_metadata_is_422_and_writes_nothing(
    shared: Shared, metadata: str, needles: list[str]
) -> None:
    api, ctx = shared.api, shared.ctx
    before = snapshot(ctx)
    response = api.post(
        "/api/v1/models/credit/versions",
        data={"metadata": metadata},
        files={"artifact": ("m.bin", b"fresh bytes")},
    )
    assert_problem(response, 422, "invalid-input", *needles)
    assert snapshot(ctx) == before


def test_upload_without_artifact_is_422(shared: Shared) -> None:
    api, ctx = shared.api, shared.ctx
    before = snapshot(ctx)
    assert_problem(
        api.post("/api/v1/models/credit/versions", data={"metadata": "{}"}),
        422,
        "invalid-input",
        "artifact: required field is missing",
    )
    assert snapshot(ctx) == before


def test_wrong_sha256_is_refused_and_no_blob_is_kept(shared: Shared) -> None:
    api, ctx = shared.api, shared.ctx
    data = b"bytes that get corrupted"
    before = snapshot(ctx)
    assert_problem(
        api.post(
            "/api/v1/models/credit/versions",
            data={"sha256": hashlib.sha256(b"what the client hashed").hexdigest()},
            files={"artifact": ("m.bin", data)},
        ),
        422,
        "artifact-error",
        f"arrived with sha256 {hashlib.sha256(data).hexdigest()}",
        "Upload it again",
    )
    assert snapshot(ctx) == before


# -- listing parameters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/models", "/api/v1/versions", "/api/v1/models/credit/versions"]
)
@pytest.mark.parametrize("limit", [0, -1, 1001])
def test_limit_out_of_range_is_422(shared: Shared, path: str, limit: int) -> None:
    api = shared.api
    body = assert_problem(
        api.get(path, params={"limit": limit}),
        422,
        "invalid-input",
        "limit must be between 1 and 1000",
    )
    assert body["field"] == "limit"


def test_audit_limit_out_of_range_is_422(shared: Shared) -> None:
    api = shared.api
    for limit in (0, 10_001):
        assert_problem(
            api.get("/api/v1/audit/events", params={"limit": limit}),
            422,
            "invalid-input",
            "limit must be between 1 and 10000",
        )
    assert api.get("/api/v1/audit/events", params={"limit": 10_000}).status_code == 200


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/api/v1/models", "zzzz"),
        ("/api/v1/models", "a"),
        ("/api/v1/versions", "abc"),
        ("/api/v1/models/credit/versions", "2.5"),
    ],
)
def test_bad_cursor_is_422_saying_to_pass_next_cursor_unchanged(
    shared: Shared, path: str, cursor: str
) -> None:
    api = shared.api
    body = assert_problem(
        api.get(path, params={"cursor": cursor}),
        422,
        "invalid-input",
        "Invalid cursor: pass the next_cursor value from the previous page unchanged",
    )
    assert body["field"] == "cursor"


def test_a_cursor_of_junk_characters_is_not_silently_the_first_page(shared: Shared) -> None:
    api = shared.api
    for junk in ("!!!", "Y3JlZGl0!", "Y3JlZGl0=="):
        assert_problem(
            api.get("/api/v1/models", params={"cursor": junk}),
            422,
            "invalid-input",
            "Invalid cursor: pass the next_cursor value from the previous page unchanged",
        )


@pytest.mark.parametrize("path", ["/api/v1/versions", "/api/v1/models/credit/versions"])
@pytest.mark.parametrize(
    ("tag", "needle"),
    [
        ("=prod", "Invalid tag ''"),
        ("bad key=x", "Invalid tag 'bad key'"),
        ("-leading=x", "Invalid tag '-leading'"),
    ],
)
def test_version_tag_filter_syntax_is_checked(
    shared: Shared, path: str, tag: str, needle: str
) -> None:
    api = shared.api
    body = assert_problem(
        api.get(path, params={"tag": tag}), 422, "invalid-input", needle, "starting with"
    )
    assert body["field"] == "tags"


def test_version_tag_filter_accepts_key_and_key_equals_value(shared: Shared) -> None:
    """'=' inside the value belongs to the value; a bare key means 'has the tag'."""
    api = shared.api
    found = api.get("/api/v1/versions", params={"tag": "query=a=b"}).json()["items"]
    assert [v["version"] for v in found] == [3]
    assert api.get("/api/v1/versions", params={"tag": "query=a"}).json()["items"] == []
    assert [
        v["version"] for v in api.get("/api/v1/versions", params={"tag": "query"}).json()["items"]
    ] == [3]


def test_model_tag_filter_syntax_is_checked(shared: Shared) -> None:
    api = shared.api
    body = assert_problem(
        api.get("/api/v1/models", params={"tag": "bad key"}),
        422,
        "invalid-input",
        "Invalid tag 'bad key'",
    )
    assert body["field"] == "tags"


def test_bad_enum_filters_are_422_listing_the_choices(shared: Shared) -> None:
    api = shared.api
    assert_problem(
        api.get("/api/v1/models", params={"risk_tier": "extreme"}),
        422,
        "invalid-input",
        "Invalid risk_tier 'extreme'; use one of: unassessed, low, medium, high, critical",
    )
    assert_problem(
        api.get("/api/v1/versions", params={"stage": "prod"}),
        422,
        "invalid-input",
        "Unknown stage 'prod'; stages are:",
    )


def test_history_time_must_have_a_zone(shared: Shared) -> None:
    api = shared.api
    body = assert_problem(
        api.get("/api/v1/history", params={"at": "2026-03-01T00:00:00"}),
        422,
        "invalid-input",
        "The time must include a zone, e.g. 2026-03-01T00:00Z",
    )
    assert body["field"] == "at"
    assert_problem(
        api.get("/api/v1/models/credit/history", params={"at": "yesterday"}),
        422,
        "invalid-input",
        "query.at",
    )


def test_audit_time_filters_are_validated(shared: Shared) -> None:
    api = shared.api
    body = assert_problem(
        api.get("/api/v1/audit/events", params={"since": "last week"}), 422, "invalid-input"
    )
    assert "ISO 8601" in body["detail"]
    body = assert_problem(
        api.get("/api/v1/audit/events", params={"until": "2026-01-01T00:00"}), 422, "invalid-input"
    )
    assert "time zone" in body["detail"]
    assert api.get("/api/v1/audit/events", params={"since": "2026-01-01T00:00Z"}).status_code == 200


# -- unexpected errors -----------------------------------------------------------------------


def test_an_unexpected_error_is_a_500_problem_that_says_nothing_changed(
    shared: Shared, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = shared.api
    from steward.services import models

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(models, "get_model", broken)  # failure injection is the point
    body = assert_problem(
        api.get("/api/v1/models/credit"),
        500,
        "internal-error",
        "unexpected error; it has been logged. Nothing was changed.",
    )
    assert "disk on fire" not in json.dumps(body)
