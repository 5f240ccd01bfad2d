"""Whose model it is comes before what the caller sent.

The attack: bob, an owner in another team, sends *invalid* input to alice's
``credit-scoring``. When a use case judged the input before the object, bob got
422 — learning how his input would have fared on a model he may not touch, and
(for uploads) making the server store his bytes first. Every use case now checks
the object first: he gets 403 naming alice's model, never 422; his own model
still answers 422 to the same input, so the bodies below really are invalid.

Schema-level 422 (FastAPI's own validation of the body's shape, before the use
case) still reaches an authenticated caller: it is decided from the request
alone, the same for every model name, existing or not, so it tells him nothing
about alice's model. An anonymous caller never gets even that: a write without a
token whose body fails the schema is answered 401 (authenticate), not 422.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from tests.services.test_object_authorisation import ADMIN, credit_scoring

from steward import bootstrap
from steward.api.app import create_app
from steward.services import findings, tokens
from steward.services.context import Context
from steward.settings import Settings

CHECK_RUN_WITHOUT_RESULTS = {
    "suite": "s",
    "suite_version": "1",
    "source": "external",
    "data_fingerprint": None,
    "results": [],
    "started_at": "2026-01-01T00:00:00Z",
    "finished_at": "2026-01-01T00:00:01Z",
}


def attacks(model: str, finding: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, request kwargs): each one invalid input the use case refuses."""
    m = f"/api/v1/models/{model}"
    return [
        ("PATCH", m, {"json": {}}),  # nothing to update
        ("PATCH", m, {"json": {"tags": ["Not A Tag!"]}}),
        ("PUT", f"{m}/aliases/Not An Alias!", {"json": {"version": 1}}),
        ("PUT", f"{m}/versions/1/narratives", {"json": {"fields": {"no_such_field": "x"}}}),
        ("PUT", f"{m}/versions/1/narratives", {"json": {"fields": {}}}),
        (
            "POST",
            f"{m}/versions",
            {
                "files": {"artifact": ("m.bin", b"bob's weights")},
                "data": {"metadata": '{"tags": {"": "empty key"}}'},
            },
        ),
        (
            "POST",
            f"{m}/versions/1/amend",
            {
                "files": {"artifact": ("m.bin", b"bob's weights")},
                "data": {"metadata": '{"justification": "   "}'},
            },
        ),
        ("POST", f"{m}/risk-assessments", {"json": {"answers": {"no_such_question": "x"}}}),
        ("POST", f"{m}/deployments", {"json": {"environment": "prod", "sha256": "not-hex"}}),
        ("POST", f"{m}/versions/1/check-runs", {"json": CHECK_RUN_WITHOUT_RESULTS}),
        ("POST", f"{m}/versions/1/transitions", {"json": {"to": "nowhere", "justification": ""}}),
        ("POST", f"{m}/versions/1/requests", {"json": {"to": "nowhere", "justification": ""}}),
        ("POST", f"{m}/findings", {"json": {"title": "", "severity": "apocalyptic"}}),
        ("PATCH", f"/api/v1/findings/{finding}", {"json": {}}),
        ("PATCH", f"/api/v1/findings/{finding}", {"json": {"status": "vanished"}}),
        ("POST", f"/api/v1/findings/{finding}/comments", {"json": {"body": "   "}}),
    ]


def test_a_stranger_gets_403_for_invalid_input_never_422(ctx: Context, tmp_path: Path) -> None:
    credit_scoring(ctx, tmp_path, count=1)
    alices = findings.open_finding(ctx, ADMIN, "credit-scoring", title="t", severity="low").id
    bobs = findings.open_finding(ctx, ADMIN, "diabetes", title="t", severity="low").id
    bob = tokens.create_token(ctx, ADMIN, user="bob", name="attack").token
    with TestClient(create_app(ctx), headers={"Authorization": f"Bearer {bob}"}) as client:
        # a version of his own, so the same input is judged (422) on his model
        own = client.post(
            "/api/v1/models/diabetes/versions", files={"artifact": ("m.bin", b"bob's")}
        )
        assert own.status_code == 201, own.text
        wrong: list[str] = []
        for method, path, kwargs in attacks("credit-scoring", alices):
            response = client.request(method, path, **kwargs)
            detail = response.json().get("detail", "")
            if response.status_code != 403 or "credit-scoring" not in detail:
                wrong.append(f"{method} {path}: HTTP {response.status_code} {response.text[:200]}")
        assert wrong == [], "\n".join(wrong)
        # the same bodies on his own model: judged, and refused as input
        for method, path, kwargs in attacks("diabetes", bobs):
            response = client.request(method, path, **kwargs)
            assert response.status_code in (400, 409, 422), (method, path, response.text)


def test_a_missing_model_answers_404_before_its_input_is_judged(
    ctx: Context, tmp_path: Path
) -> None:
    credit_scoring(ctx, tmp_path, count=1)
    bob = tokens.create_token(ctx, ADMIN, user="bob", name="attack").token
    with TestClient(create_app(ctx), headers={"Authorization": f"Bearer {bob}"}) as client:
        for method, path, kwargs in attacks("ghost", 999_999):
            response = client.request(method, path, **kwargs)
            assert response.status_code == 404, (method, path, response.text)


def test_an_anonymous_write_with_a_malformed_body_is_401_not_422(tmp_path: Path) -> None:
    ctx = bootstrap.build(
        Settings(
            home=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'steward.db'}",
            artifacts_url=str(tmp_path / "artifacts"),
            allow_anonymous_read=True,
        ),
        migrate=True,
    )
    try:
        with TestClient(create_app(ctx)) as client:
            # schema-invalid bodies: without the guard FastAPI answered 422 about them
            for method, path, body in (
                ("PUT", "/api/v1/models/m/versions/1/narratives", {"fields": 5}),
                ("POST", "/api/v1/models", {"name": ["not", "a", "name"]}),
                ("PATCH", "/api/v1/findings/1", {"due_date": "someday"}),
            ):
                response = client.request(method, path, json=body)
                assert response.status_code == 401, (method, path, response.text)
                assert response.headers["www-authenticate"] == "Bearer"
            assert client.get("/api/v1/models").status_code == 200  # reads still work
    finally:
        ctx.uow.engine.dispose()
