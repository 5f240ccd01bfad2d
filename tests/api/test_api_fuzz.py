"""A bounded schemathesis run: every operation, as an admin and with no token.

Generated requests (valid and invalid by the schema) must never get a server error,
and every status code and content type the server answers with must be documented in
the OpenAPI schema. The security campaign's run found 12 server errors in 11 500
requests; this keeps the count at zero on every `make test`. Long campaigns belong in
bench/ (raise STEWARD_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance
from tests.conftest import ensure_user

from steward import bootstrap
from steward.api.app import create_app
from steward.domain.permissions import OPERATOR, Principal
from steward.services import tokens
from steward.settings import Settings

EXAMPLES = int(os.environ.get("STEWARD_FUZZ_EXAMPLES", "6"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]
OPERATOR_P = Principal(name="admin", roles=frozenset({OPERATOR}))
_AUTH: dict[str, dict[str, str]] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home: Path = tmp_path_factory.mktemp("fuzz")
    ctx = bootstrap.build(
        Settings(
            home=home,
            database_url=f"sqlite:///{home / 'steward.db'}",
            artifacts_url=str(home / "artifacts"),
        ),
        migrate=True,
    )
    ensure_user(ctx, "alice", "admin")
    secret = tokens.create_token(ctx, OPERATOR_P, user="alice", name="fuzz").token
    _AUTH["admin"] = {"Authorization": f"Bearer {secret}"}
    _AUTH["anonymous"] = {}
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(ctx))
    ctx.uow.engine.dispose()


BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every run: a failure reproduces
    suppress_health_check=list(HealthCheck),
    database=None,
)


def failures(api_schema: Any, headers: dict[str, str]) -> list[str]:
    """Run every operation's generated cases; one line per operation that failed."""
    found: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @BOUNDED
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # a grouped failure per operation
            first = " ".join(str(exc).split())[:400]
            found.append(f"{operation.method.upper()} {operation.path}: {first}")
    return found


@pytest.mark.parametrize("who", ["admin", "anonymous"])
def test_no_server_errors_and_every_answer_is_documented(api_schema: Any, who: str) -> None:
    assert failures(api_schema, _AUTH[who]) == []
