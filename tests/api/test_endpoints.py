"""Happy paths over HTTP: every /api/v1 endpoint through the real server."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from tests.conftest import LiveServer, ensure_user

from steward.domain.audit import verify
from steward.domain.permissions import OPERATOR, Principal
from steward.services import tokens
from steward.services.context import Context

OPERATOR_PRINCIPAL = Principal(name="admin", roles=frozenset({OPERATOR}))
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def api(live_server: LiveServer, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


def create(api: httpx.Client, name: str, **fields: Any) -> dict[str, Any]:
    response = api.post("/api/v1/models", json={"name": name, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def upload(
    api: httpx.Client, model: str, data: bytes, metadata: dict[str, Any] | None = None, **form: str
) -> dict[str, Any]:
    response = api.post(
        f"/api/v1/models/{model}/versions",
        data={"metadata": json.dumps(metadata or {}), **form},
        files={"artifact": ("model.bin", data, "application/octet-stream")},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def move(api: httpx.Client, model: str, version: int, *stages: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for stage in stages:
        response = api.post(
            f"/api/v1/models/{model}/versions/{version}/transitions",
            json={"to": stage, "justification": f"ready for {stage}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
    return body


def events(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/api/v1/audit/events", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


# -- system ------------------------------------------------------------------------------


@sqlite_only
def test_health_and_me(api: httpx.Client) -> None:
    health = api.get("/api/v1/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["version"] == "0.1.0"
    assert health.json()["schema"]
    assert api.get("/api/v1/me").json() == {
        "user": "alice",
        "anonymous": False,
        "roles": ["admin"],
        "teams": [],
    }


@sqlite_only
def test_docs_is_html_and_openapi_lists_every_api_route(api: httpx.Client, ctx: Context) -> None:
    docs = api.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "swagger" in docs.text.lower()
    schema = api.get("/openapi.json").json()
    from steward.api.app import create_app

    app = create_app(ctx)
    routes = [
        r
        for top in app.routes
        # FastAPI >= 0.160 keeps included routers whole; their routes are the original ones
        for r in getattr(getattr(top, "original_router", None), "routes", [top])
    ]
    served = {
        (route.path, method.lower())
        for route in routes
        if isinstance(route, APIRoute) and route.path.startswith("/api/v1")
        for method in route.methods or ()
    }
    documented = {
        (path, method)
        for path, operations in schema["paths"].items()
        for method in operations
        if path.startswith("/api/v1")
    }
    # every router of every capability is mounted (core, governance, validation)
    assert {p for p, _ in served} >= {
        "/api/v1/models",
        "/api/v1/requests/inbox",
        "/api/v1/policies",
        "/api/v1/check-runs/{run_id}",
    }
    assert documented == served
    assert schema["paths"]["/api/v1/models/{name}/versions"]["post"]["requestBody"]["content"][
        "multipart/form-data"
    ]
    assert schema["info"]["title"] == "Steward"


# -- models ------------------------------------------------------------------------------


@sqlite_only
def test_create_get_and_patch_a_model(api: httpx.Client) -> None:
    made = create(
        api,
        "credit-scoring",
        title="Consumer credit",
        purpose="Approve loans",
        team="Risk",
        tags=["retail", "credit", "retail"],
        risk_tier="high",
        regulatory_category="high",
        risk_override_reason="tiered by the model risk committee",
        next_review_date="2027-03-31",
    )
    assert made["name"] == "credit-scoring"
    assert made["owner"] == "alice"  # defaults to the caller
    assert made["created_by"] == "alice"
    assert made["tags"] == ["credit", "retail"]
    assert (made["risk_tier"], made["regulatory_category"]) == ("high", "high")
    assert made["status"] == "active"
    assert made["latest_version"] == 0
    assert made["next_review_date"] == "2027-03-31"
    assert api.get("/api/v1/models/credit-scoring").json() == made

    patched = api.patch(
        "/api/v1/models/credit-scoring", json={"title": "Consumer credit v2", "team": "Risk"}
    )
    assert patched.status_code == 200
    body = patched.json()
    assert body["title"] == "Consumer credit v2"
    assert body["purpose"] == "Approve loans"
    assert body["updated_at"] > made["updated_at"]
    updated = events(api, action="model.updated")
    assert len(updated) == 1
    assert json.loads(updated[0]["payload"]) == {
        "before": {"title": "Consumer credit"},
        "after": {"title": "Consumer credit v2"},
        "fields": ["title"],
    }
    # Patching with the values it already has changes nothing and records nothing.
    same = api.patch("/api/v1/models/credit-scoring", json={"team": "Risk"})
    assert same.json() == body
    assert len(events(api, action="model.updated")) == 1


def test_list_models_with_filters_and_pagination(api: httpx.Client) -> None:
    create(
        api,
        "credit-scoring",
        title="Credit",
        team="risk",
        risk_tier="high",
        risk_override_reason="interim tier",
        tags=["retail"],
    )
    create(api, "churn", title="Churn 100% model", team="marketing", tags=["retail"])
    create(
        api,
        "fraud",
        team="risk",
        owner="bob",
        status="proposed",
        regulatory_category="high",
        risk_override_reason="interim category",
    )
    create(api, "aml_monitor", purpose="Anti money laundering", team="risk")
    upload(api, "fraud", b"f1")
    move(api, "fraud", 1, "validation", "approved", "production")

    def names(**params: Any) -> list[str]:
        response = api.get("/api/v1/models", params=params)
        assert response.status_code == 200, response.text
        return [m["name"] for m in response.json()["items"]]

    assert names() == ["aml_monitor", "churn", "credit-scoring", "fraud"]
    assert names(team="risk") == ["aml_monitor", "credit-scoring", "fraud"]
    assert names(owner="bob") == ["fraud"]
    assert names(risk_tier="high") == ["credit-scoring"]
    assert names(regulatory_category="high") == ["fraud"]
    assert names(status="proposed") == ["fraud"]
    assert names(stage="production") == ["fraud"]
    assert names(tag="retail") == ["churn", "credit-scoring"]
    assert names(q="LAUNDERING") == ["aml_monitor"]
    assert names(q="100%") == ["churn"]
    assert names(q="_") == ["aml_monitor"]  # LIKE wildcards are literal
    assert names(team="risk", tag="retail") == ["credit-scoring"]

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/api/v1/models", params=params).json()
        seen += [m["name"] for m in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 2
    assert seen == ["aml_monitor", "churn", "credit-scoring", "fraud"]
    exact = api.get("/api/v1/models", params={"limit": 4}).json()
    assert exact["next_cursor"] is None


# -- versions ------------------------------------------------------------------------------


@sqlite_only
def test_multipart_upload_with_metadata_and_sha256(api: httpx.Client) -> None:
    create(api, "credit")
    data = bytes(range(256)) * 40
    metadata = {
        "flavor": "sklearn",
        "description": "Gradient boosting",
        "params": {"learning_rate": 0.05, "features": ["age", "income"], "early_stopping": False},
        "metrics": {"auc": 0.81, "accuracy": 1},
        "tags": {"team": "risk", "dataset": "german-credit"},
        "training_data": {
            "fingerprint": "f" * 64,
            "name": "credit-training",
            "uri": None,
            "rows": 700,
            "columns": 2,
            "schema": [{"name": "age", "type": "integer"}, {"name": "income", "type": "float"}],
            "profile": {"age": {"type": "integer", "nulls": 0}},
        },
        "signature": {"inputs": [{"name": "age", "type": "integer"}], "outputs": []},
        "code": {"repo_url": "https://git.example/credit", "commit": "abc123", "dirty": True},
    }
    body = upload(api, "credit", data, metadata, sha256=hashlib.sha256(data).hexdigest())
    assert body["model"] == "credit"
    assert body["version"] == 1
    assert body["stage"] == "development"
    assert body["artifact"] == {
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "flavor": "sklearn",
        "filename": "model.bin",  # from the upload, as the metadata named none
        "is_directory": False,
    }
    assert body["params"] == metadata["params"]
    assert body["metrics"] == {"auc": 0.81, "accuracy": 1.0}
    assert body["tags"] == {"dataset": "german-credit", "team": "risk"}
    assert body["training_data"]["rows"] == 700
    assert body["training_data"]["schema"][1] == {"name": "income", "type": "float"}
    assert body["signature"]["inputs"] == [{"name": "age", "type": "integer"}]
    assert body["code"]["commit"] == "abc123" and body["code"]["dirty"] is True
    assert body["created_by"] == "alice"
    assert api.get("/api/v1/models/credit/versions/1").json() == body
    assert api.get("/api/v1/models/credit").json()["latest_version"] == 1

    named = upload(api, "credit", b"second", {"filename": "weights.onnx", "parent_version": 1})
    assert named["version"] == 2
    assert named["artifact"]["filename"] == "weights.onnx"
    assert named["parent_version"] == 1


@sqlite_only
def test_a_wrong_sha256_is_refused(api: httpx.Client) -> None:
    create(api, "credit")
    response = api.post(
        "/api/v1/models/credit/versions",
        data={"sha256": hashlib.sha256(b"other").hexdigest()},
        files={"artifact": ("m.bin", b"these bytes")},
    )
    assert response.status_code == 422
    assert "corrupted in transit" in response.json()["detail"]
    assert api.get("/api/v1/models/credit/versions").json()["items"] == []
    assert [e["action"] for e in events(api)][-1] == "model.created"


@sqlite_only
def test_download_returns_the_exact_bytes_with_their_digest(api: httpx.Client) -> None:
    create(api, "credit")
    data = bytes(range(256)) * 5000 + b"\x00tail"  # > 1 MiB: several chunks
    upload(api, "credit", data, {"filename": "model.onnx"})
    response = api.get("/api/v1/models/credit/versions/1/artifact")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["x-steward-sha256"] == hashlib.sha256(data).hexdigest()
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"model.onnx\"; filename*=UTF-8''model.onnx"
    )


@sqlite_only
@pytest.mark.parametrize(
    ("filename", "fallback", "encoded"),
    [
        ("modèle ✓.onnx", "mod_le _.onnx", "mod%C3%A8le%20%E2%9C%93.onnx"),
        ("模型.bin", "__.bin", "%E6%A8%A1%E5%9E%8B.bin"),
        ("50% off;v2.bin", "50% off;v2.bin", "50%25%20off%3Bv2.bin"),
    ],
)
def test_download_works_for_any_stored_file_name(
    api: httpx.Client, filename: str, fallback: str, encoded: str
) -> None:
    """The name travels RFC 6266-encoded; it can neither break nor inject a header."""
    create(api, "credit")
    upload(api, "credit", b"payload", {"filename": filename})
    response = api.get("/api/v1/models/credit/versions/1/artifact")
    assert response.status_code == 200
    assert response.content == b"payload"
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    )
    assert "x-evil" not in response.headers


@sqlite_only
@pytest.mark.parametrize("filename", ['say "hi".bin', "a\r\nX-Evil: 1", "tab\there", "..", "a\\b"])
def test_file_names_that_could_break_a_header_are_refused(api: httpx.Client, filename: str) -> None:
    create(api, "credit")
    response = api.post(
        "/api/v1/models/credit/versions",
        data={"metadata": json.dumps({"filename": filename})},
        files={"artifact": ("x.bin", b"payload", "application/octet-stream")},
    )
    assert response.status_code == 422, response.text
    assert "Invalid artifact file name" in response.json()["detail"]
    assert api.get("/api/v1/models/credit/versions").json()["items"] == []


@sqlite_only
def test_list_and_search_versions_with_filters_and_pagination(api: httpx.Client) -> None:
    create(api, "credit")
    create(api, "churn")
    for n in range(1, 6):
        upload(api, "credit", f"credit {n}".encode(), {"tags": {"run": str(n), "team": "risk"}})
    upload(api, "churn", b"churn 1", {"tags": {"team": "marketing"}})
    move(api, "credit", 2, "validation")

    def versions(path: str, **params: Any) -> list[tuple[str, int]]:
        response = api.get(path, params=params)
        assert response.status_code == 200, response.text
        return [(v["model"], v["version"]) for v in response.json()["items"]]

    assert versions("/api/v1/models/credit/versions") == [("credit", n) for n in (5, 4, 3, 2, 1)]
    assert versions("/api/v1/models/credit/versions", stage="validation") == [("credit", 2)]
    assert versions("/api/v1/models/credit/versions", tag="run=3") == [("credit", 3)]
    assert versions("/api/v1/versions", tag="team=marketing") == [("churn", 1)]
    assert versions("/api/v1/versions", tag="team")[0] == ("churn", 1)
    assert len(versions("/api/v1/versions", tag="team")) == 6
    assert versions("/api/v1/versions", model="churn") == [("churn", 1)]
    assert versions("/api/v1/versions", stage="development", tag="run") == [
        ("credit", n) for n in (5, 4, 3, 1)
    ]

    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/api/v1/models/credit/versions", params=params).json()
        assert len(page["items"]) <= 2
        seen += [v["version"] for v in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [5, 4, 3, 2, 1]


# -- aliases, transitions, gate, history -------------------------------------------------------


@sqlite_only
def test_aliases_put_get_list_and_delete(api: httpx.Client) -> None:
    create(api, "credit")
    upload(api, "credit", b"one")
    upload(api, "credit", b"two")
    put = api.put("/api/v1/models/credit/aliases/champion", json={"version": 1})
    assert put.status_code == 200
    assert put.json()["version"] == 1 and put.json()["aliases"] == ["champion"]
    assert api.put("/api/v1/models/credit/aliases/challenger", json={"version": 2}).is_success
    assert api.get("/api/v1/models/credit/aliases/champion").json()["version"] == 1
    assert api.get("/api/v1/models/credit/aliases").json() == {"challenger": 2, "champion": 1}

    moved = api.put("/api/v1/models/credit/aliases/champion", json={"version": 2})
    assert moved.json()["aliases"] == ["challenger", "champion"]
    assert api.get("/api/v1/models/credit/versions/1").json()["aliases"] == []
    # Pointing an alias where it already points records nothing new.
    assert api.put("/api/v1/models/credit/aliases/champion", json={"version": 2}).is_success

    deleted = api.delete("/api/v1/models/credit/aliases/challenger")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert api.get("/api/v1/models/credit/aliases").json() == {"champion": 2}
    alias_events = [json.loads(e["payload"]) for e in events(api, subject_type="alias")]
    assert [(e["alias"], e["before"], e["after"]) for e in alias_events] == [
        ("champion", None, 1),
        ("challenger", None, 2),
        ("champion", 1, 2),
        ("challenger", 2, None),
    ]


def test_transitions_post_and_get_with_displacement(api: httpx.Client) -> None:
    create(api, "credit")
    upload(api, "credit", b"one")
    upload(api, "credit", b"two")
    first = move(api, "credit", 1, "validation", "approved", "production")
    assert first["transition"]["to_stage"] == "production"
    assert first["displaced"] == []
    assert first["version"]["stage"] == "production"

    result = move(api, "credit", 2, "validation", "approved", "production")
    t = result["transition"]
    assert (t["model"], t["version"], t["from_stage"], t["to_stage"]) == (
        "credit",
        2,
        "approved",
        "production",
    )
    assert t["actor"] == "alice"
    assert t["justification"] == "ready for production"
    assert [
        (d["version"], d["from_stage"], d["to_stage"], d["caused_by"]) for d in result["displaced"]
    ] == [(1, "production", "deprecated", "credit/2")]
    assert result["displaced"][0]["justification"].startswith("Replaced in production by version 2")
    assert result["version"]["stage"] == "production"

    listed = api.get("/api/v1/models/credit/versions/1/transitions").json()
    assert [(x["from_stage"], x["to_stage"]) for x in listed] == [
        ("development", "validation"),
        ("validation", "approved"),
        ("approved", "production"),
        ("production", "deprecated"),
    ]
    seqs = [x["audit_seq"] for x in listed]
    assert seqs == sorted(seqs)
    by_seq = {e["seq"]: e for e in events(api, action="version.transitioned")}
    assert by_seq[listed[-1]["audit_seq"]]["subject_id"] == "credit/1"
    # The displacement is journalled before the promotion that caused it.
    assert listed[-1]["audit_seq"] == t["audit_seq"] - 1


@sqlite_only
def test_gate_evaluates_without_applying(api: httpx.Client) -> None:
    create(api, "credit")
    upload(api, "credit", b"one")
    ok = api.get("/api/v1/models/credit/versions/1/gate", params={"to": "validation"}).json()
    assert ok["allowed"] is True
    assert ok["from_stage"] == "development"
    assert ok["to_stage"] == "validation"
    assert ok["policy"] is None  # no policy pack active: only the state machine
    assert [o["requirement"] for o in ok["outcomes"]] == ["lifecycle.state_machine"]
    no = api.get("/api/v1/models/credit/versions/1/gate", params={"to": "production"}).json()
    assert no["allowed"] is False
    assert "Allowed next stages: validation" in no["outcomes"][0]["reason"]
    assert api.get("/api/v1/models/credit/versions/1").json()["stage"] == "development"
    assert [e["action"] for e in events(api)][-1] == "version.created"


@sqlite_only
def test_history_now_and_as_of_a_past_moment(api: httpx.Client) -> None:
    create(api, "credit")
    create(api, "churn")
    upload(api, "credit", b"one")
    upload(api, "credit", b"two")
    upload(api, "churn", b"c1")
    move(api, "credit", 1, "validation", "approved", "production")
    api.put("/api/v1/models/credit/aliases/champion", json={"version": 1})
    then = events(api)[-1]["time"]
    move(api, "credit", 2, "validation", "approved", "production")
    api.put("/api/v1/models/credit/aliases/champion", json={"version": 2})

    now = api.get("/api/v1/history").json()
    assert [(e["model"], e["production"], e["aliases"]) for e in now] == [
        ("churn", [], {}),
        ("credit", [2], {"champion": 2}),
    ]
    assert now[1]["stages"] == {"1": "deprecated", "2": "production"}

    past = api.get("/api/v1/models/credit/history", params={"at": then}).json()
    assert len(past) == 1
    assert past[0]["production"] == [1]
    assert past[0]["aliases"] == {"champion": 1}
    assert past[0]["stages"] == {"1": "production", "2": "development"}
    assert past[0]["at"] == then

    before_anything = api.get("/api/v1/history", params={"at": "2000-01-01T00:00:00Z"}).json()
    assert before_anything == []


# -- audit ------------------------------------------------------------------------------------


@sqlite_only
def test_audit_events_filters(api: httpx.Client) -> None:
    create(api, "credit")
    create(api, "churn")
    upload(api, "credit", b"one")
    move(api, "credit", 1, "validation")
    everything = events(api)
    assert [e["seq"] for e in everything] == list(range(1, len(everything) + 1))
    assert [e["action"] for e in everything] == [
        "user.created",  # the conftest creates alice (admin) before her token
        "token.created",
        "model.created",
        "model.created",
        "version.created",
        "version.transitioned",
    ]
    assert {e["actor"] for e in everything[:2]} == {"admin"}
    assert {e["actor"] for e in everything[2:]} == {"alice"}
    assert [e["subject_id"] for e in events(api, model="credit")] == [
        "credit",
        "credit/1",
        "credit/1",
    ]
    assert [e["seq"] for e in events(api, after_seq=4)] == [5, 6]
    assert [e["seq"] for e in events(api, limit=2)] == [1, 2]
    assert [e["seq"] for e in events(api, actor="admin")] == [1, 2]
    assert [e["seq"] for e in events(api, subject_type="model", subject_id="churn")] == [4]
    assert [e["seq"] for e in events(api, since=everything[4]["time"])] == [5, 6]
    assert [e["seq"] for e in events(api, until=everything[1]["time"])] == [1, 2]
    payload = json.loads(events(api, action="version.transitioned")[0]["payload"])
    assert payload["from"] == "development" and payload["to"] == "validation"
    # Each event links to the one before it.
    for before, after in itertools.pairwise(everything):
        assert after["prev_hash"] == before["hash"]


@sqlite_only
def test_audit_verify_and_ndjson_export(api: httpx.Client) -> None:
    create(api, "credit", title="Crédit ✓")
    upload(api, "credit", b"one")
    verified = api.get("/api/v1/audit/verify").json()
    assert verified["ok"] is True
    assert verified["checked"] == verified["head_seq"] == 4  # user.created, token.created, ...
    assert verified["broken_seq"] is None and verified["kind"] is None
    assert verified["head_hash"] == events(api)[-1]["hash"]

    export = api.get("/api/v1/audit/export")
    assert export.status_code == 200
    assert export.headers["content-type"] == "application/x-ndjson"
    assert export.headers["content-disposition"] == 'attachment; filename="audit.jsonl"'
    text = export.content.decode("utf-8")
    assert text.endswith("\n")
    lines = [json.loads(line) for line in text.split("\n") if line]
    assert [e["seq"] for e in lines] == [1, 2, 3, 4]
    assert lines[2]["payload"]["after"]["title"] == "Crédit ✓"
    assert "Crédit ✓" in text  # kept as UTF-8, not escaped
    assert [e["hash"] for e in lines] == [e["hash"] for e in events(api)]
    # The export alone is enough to verify the chain.
    from steward.domain.audit import AuditEvent, canonical_json

    rebuilt = [
        AuditEvent(
            e["seq"],
            e["time"],
            e["actor"],
            e["action"],
            e["subject_type"],
            e["subject_id"],
            canonical_json(e["payload"]),
            e["prev_hash"],
            e["hash"],
        )
        for e in lines
    ]
    assert verify(rebuilt).ok


# -- tokens ------------------------------------------------------------------------------------


@sqlite_only
def test_tokens_create_list_and_revoke_over_the_api(
    api: httpx.Client, live_server: LiveServer, ctx: Context
) -> None:
    created = api.post(
        "/api/v1/tokens", json={"user": "alice", "name": "ci", "expires_in_days": 30}
    )
    assert created.status_code == 201
    made = created.json()
    assert made["token"].startswith("stw_")
    info = made["info"]
    assert (info["user"], info["name"], info["created_by"]) == ("alice", "ci", "alice")
    expires = datetime.fromisoformat(info["expires_at"])
    made_at = datetime.fromisoformat(info["created_at"])
    assert (expires - made_at).days == 30
    assert expires.tzinfo is not None and made_at <= datetime.now(UTC)

    ci = httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {made['token']}"}
    )
    assert ci.get("/api/v1/me").json()["user"] == "alice"

    listed = api.get("/api/v1/tokens").json()
    assert {t["name"] for t in listed} == {"tests", "ci"}
    assert all("token" not in t for t in listed)  # secrets are never listed
    assert all(t["user"] == "alice" for t in listed)

    revoked = api.delete(f"/api/v1/tokens/{info['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert ci.get("/api/v1/me").status_code == 401
    ci.close()
    actions = [(e["action"], e["subject_id"]) for e in events(api, subject_type="token")]
    assert actions[-2:] == [("token.created", info["id"]), ("token.revoked", info["id"])]


@sqlite_only
def test_a_user_cannot_manage_other_users_tokens(api: httpx.Client, ctx: Context) -> None:
    from steward.services import identity

    # alice is an owner here, not an admin (admins manage everyone's tokens)
    ensure_user(ctx, "root", "admin")
    identity.grant_role(ctx, OPERATOR_PRINCIPAL, "alice", "owner")
    identity.revoke_role(ctx, OPERATOR_PRINCIPAL, "alice", "admin")
    ensure_user(ctx, "bob", "owner")
    bob = tokens.create_token(ctx, OPERATOR_PRINCIPAL, user="bob", name="laptop")
    assert api.post("/api/v1/tokens", json={"user": "bob"}).status_code == 403
    assert api.delete(f"/api/v1/tokens/{bob.info.id}").status_code == 403
    assert bob.info.id not in {t["id"] for t in api.get("/api/v1/tokens").json()}
    still = tokens.list_tokens(ctx, OPERATOR_PRINCIPAL, "bob")
    assert [(t.id, t.revoked_at) for t in still] == [(bob.info.id, None)]
