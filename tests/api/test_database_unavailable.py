"""PostgreSQL goes away under a running service (a restart, a failover, a network cut).

Found by the load and fault campaign (bench/load.py): every API route answered 500
with no Retry-After while the database was down, and `steward worker` exited. Now
clients get 503 with Retry-After and the worker keeps going; both recover by
themselves when the database is back.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.conftest import LiveServer, _pg_admin
from tests.services.test_worker import ADMIN, NoSender

from steward.domain.worker import Job
from steward.services import models
from steward.services import worker as service
from steward.services.context import Context

postgres_only = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


@pytest.fixture
def outage(database_url: str) -> Iterator[tuple[str, str]]:
    """(refuse, allow): SQL that shuts the test database to new and existing sessions,
    and lets them back. Allowed again whatever the test does."""
    name = database_url.rsplit("/", 1)[1]
    refuse = (
        f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false',
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )
    allow = f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'
    yield refuse, allow  # type: ignore[misc]
    _pg_admin(allow)


def _down(refuse: tuple[str, ...]) -> None:
    for statement in refuse:
        _pg_admin(statement)


@postgres_only
def test_the_api_answers_503_with_retry_after_and_recovers(
    ctx: Context, token: str, outage: tuple[tuple[str, ...], str]
) -> None:
    refuse, allow = outage
    models.create_model(ctx, ADMIN, "credit", owner="alice", purpose="p")
    auth = {"authorization": f"Bearer {token}"}
    with LiveServer(ctx) as server, httpx.Client(base_url=server.url, headers=auth) as http:
        assert http.get("/api/v1/models/credit").status_code == 200
        _down(refuse)
        for path in ("/api/v1/models/credit", "/api/v1/models"):
            down = http.get(path)
            assert down.status_code == 503, down.text
            assert down.headers["retry-after"] == "5"
            assert down.json()["code"] == "database-unavailable"
        write = http.post("/api/v1/models", json={"name": "during", "purpose": "p"})
        assert write.status_code == 503, write.text  # the body guard checks the token first
        assert write.headers["retry-after"] == "5"
        assert http.get("/readyz").status_code == 503
        _pg_admin(allow)
        assert http.get("/api/v1/models/credit").status_code == 200
        assert http.get("/api/v1/models/during").status_code == 404  # nothing half-written


@postgres_only
def test_the_worker_keeps_going_while_the_database_is_away(
    ctx: Context, outage: tuple[tuple[str, ...], str]
) -> None:
    refuse, allow = outage
    identity = service.Identity()
    _down(refuse)
    away = service.run_pass(ctx, ADMIN, (Job.WEBHOOKS,), NoSender(), identity=identity)
    assert not away.ok
    assert "database unavailable" in away.outcomes[0].detail
    _pg_admin(allow)
    back = service.run_pass(ctx, ADMIN, (Job.WEBHOOKS,), NoSender(), identity=identity)
    assert back.ok and back.outcomes[0].ran
