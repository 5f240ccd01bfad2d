"""Data connections are admin objects: registered, listed, shown, deleted through every face,
credentials sealed at rest, every change journalled; an owner cannot register one."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from steward.domain.errors import AlreadyExists, Forbidden, InvalidInput
from steward.domain.permissions import Principal
from steward.sdk.client import Steward
from steward.services import connections, tokens
from steward.services.context import Context
from steward.store import tables as t
from tests.conftest import LiveServer, ensure_user

ADMIN = Principal(name="root", roles=frozenset({"admin"}))
OWNER = Principal(name="bob", roles=frozenset({"owner"}))


def test_admin_registers_a_connection_whose_credentials_are_sealed_and_journalled(
    ctx: Context,
) -> None:
    found = connections.create_connection(
        ctx,
        ADMIN,
        "warehouse",
        kind="postgresql",
        location="postgresql://reader@db.example.com:5432/sales",
        credentials={"password": "s3cret-pa55word"},
        roles=["owner"],
    )
    assert found.credential_keys == ["password"] and found.roles == ["owner"]
    with ctx.uow.read() as uow:
        raw = uow.conn.execute(select(t.data_connections.c.credentials)).scalar_one()
        events = uow.conn.execute(select(t.audit_events.c.payload)).scalars().all()
    assert raw.startswith("fernet:") and "s3cret" not in raw
    assert not any("s3cret" in e for e in events)
    opened = connections.open_connection(ctx, OWNER, "warehouse")
    assert opened.credentials == {"password": "s3cret-pa55word"}
    assert [c.name for c in connections.list_connections(ctx, ADMIN)] == ["warehouse"]
    with pytest.raises(AlreadyExists):
        connections.create_connection(ctx, ADMIN, "warehouse", kind="folder", location="/srv/data")
    connections.delete_connection(ctx, ADMIN, "warehouse")
    assert connections.list_connections(ctx, ADMIN) == []
    with ctx.uow.read() as uow:
        actions = uow.conn.execute(select(t.audit_events.c.action)).scalars().all()
    assert actions[-2:] == ["connection.created", "connection.deleted"]


def test_an_owner_cannot_register_list_or_use_an_unlisted_connection(ctx: Context) -> None:
    with pytest.raises(Forbidden):
        connections.create_connection(ctx, OWNER, "lake", kind="folder", location="/srv")
    with pytest.raises(Forbidden):
        connections.list_connections(ctx, OWNER)
    connections.create_connection(ctx, ADMIN, "lake", kind="folder", location="/srv")
    with pytest.raises(Forbidden, match="may not use connection 'lake'"):
        connections.open_connection(ctx, OWNER, "lake")


@pytest.mark.parametrize(
    ("kind", "location", "extra"),
    [
        ("folder", "relative/dir", {}),
        ("folder", "file:///etc", {}),
        ("postgresql", "postgresql://u:pw@db.example.com/x", {}),
        ("s3", "https://bucket/prefix", {}),
        ("s3", "s3://bucket/p", {"options": {"endpoint_url": "http://169.254.169.254/"}}),
        ("postgresql", "postgresql://u@169.254.169.254/x", {}),
        ("postgresql", "postgresql://u@127.0.0.2/x", {}),
        ("folder", "/srv", {"credentials": {"password": "x"}}),
    ],
)
def test_bad_locations_and_unreachable_hosts_are_refused(
    ctx: Context, kind: str, location: str, extra: dict[str, dict[str, str]]
) -> None:
    with pytest.raises(InvalidInput):
        connections.create_connection(ctx, ADMIN, "bad", kind=kind, location=location, **extra)


def test_rest_owner_gets_403_and_admin_manages_connections(
    ctx: Context, live_server: LiveServer, tmp_path: Path
) -> None:
    ensure_user(ctx, "bob", "owner")
    ensure_user(ctx, "root", "admin")
    operator = Principal(name="admin", roles=frozenset({"operator"}))
    bob = tokens.create_token(ctx, operator, user="bob", name="t").token
    root = tokens.create_token(ctx, operator, user="root", name="t").token
    body = {"name": "lake", "kind": "folder", "location": str(tmp_path)}
    with httpx.Client(base_url=live_server.url) as http:
        refused = http.post(
            "/api/v1/connections", json=body, headers={"Authorization": f"Bearer {bob}"}
        )
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        made = http.post(
            "/api/v1/connections", json=body, headers={"Authorization": f"Bearer {root}"}
        )
        assert made.status_code == 201, made.text
        assert "credentials" not in made.json()
    assert connections.list_connections(ctx, ADMIN)[0].location == str(tmp_path)


def test_sdk_faces_agree(client: Steward, tmp_path: Path) -> None:
    made = client.create_connection(
        "lake",
        kind="s3",
        location="s3://bucket/prefix/",
        options={"endpoint_url": "http://127.0.0.1:9"},
        credentials={"key": "AKIA", "secret": "very-secret"},
        roles=["owner"],
    )
    assert made.location == "s3://bucket/prefix" and made.credential_keys == ["key", "secret"]
    assert client.get_connection("lake") == made
    assert [c.name for c in client.connections()] == ["lake"]
    assert client.delete_connection("lake").name == "lake"
    assert client.connections() == []
