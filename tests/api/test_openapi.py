"""The OpenAPI document (/docs "Authorize") says every /api/v1 operation takes a bearer
token, except the health check and the password login that issues one."""

from __future__ import annotations

from steward.api.app import create_app


def test_every_operation_but_health_and_login_documents_bearer_auth() -> None:
    schema = create_app(None).openapi()  # type: ignore[arg-type]  # routes need no context
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    open_paths = {"/api/v1/health", "/api/v1/auth/login"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            expected = None if path in open_paths else [{"HTTPBearer": []}]
            assert operation.get("security") == expected, (method, path)
