"""The OpenAPI document (/docs "Authorize") says every /api/v1 operation takes a bearer
token, except the health check and the sign-ins that issue one (password, SSO device flow)."""

from __future__ import annotations

from steward.api.app import create_app


def test_every_operation_but_health_and_login_documents_bearer_auth() -> None:
    schema = create_app(None).openapi()  # type: ignore[arg-type]  # routes need no context
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    open_paths = {
        "/api/v1/health",
        "/api/v1/auth/login",
        "/api/v1/auth/sso/device",
        "/api/v1/auth/sso/device/token",
        # The provider's back-channel logout carries its signed logout token instead.
        "/api/v1/auth/sso/backchannel-logout",
        # MLflow's webhook deliveries carry its HMAC signature, not a Steward token.
        "/mlflow/webhooks",
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            expected = None if path in open_paths else [{"HTTPBearer": []}]
            assert operation.get("security") == expected, (method, path)


def test_every_operation_documents_its_problem_responses_as_problem_json() -> None:
    schema = create_app(None).openapi()  # type: ignore[arg-type]
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            needed = {"404", "422", "429", "500", "503"}
            if path != "/api/v1/health":
                needed |= {"401"}
            if path != "/api/v1/health" and not path.startswith("/api/v1/auth/"):
                needed |= {"403"}
            if method in {"post", "put", "patch", "delete"}:
                needed |= {"409", "413"}
            assert needed <= set(responses), (method, path, needed - set(responses))
            for code in needed:
                content = responses[code]["content"]
                assert list(content) == ["application/problem+json"], (method, path, code)
