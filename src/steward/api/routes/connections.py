"""/api/v1/connections — data connections the server reads through (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from steward.api.deps import Caller, caller, respond
from steward.domain.connections import Connection
from steward.services import connections

router = APIRouter(prefix="/api/v1", tags=["connections"])


class ConnectionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    kind: str = Field(description="folder, s3 or postgresql")
    location: str = Field(
        description="Root directory, s3://bucket/prefix, or postgresql://user@host/db"
    )
    description: str = ""
    options: dict[str, str] = Field(default_factory=dict, description="s3: endpoint_url, region")
    credentials: dict[str, str] = Field(
        default_factory=dict,
        description="Sealed at rest, never returned: s3 key/secret/token, postgresql password",
    )
    roles: list[str] = Field(default_factory=list, description="Roles that may use it")
    teams: list[str] = Field(default_factory=list, description="Teams that may use it")


@router.post("/connections", status_code=201, response_model=Connection)
async def create_connection(body: ConnectionBody, call: Caller = Depends(caller)) -> Response:
    values = body.model_dump()
    name = values.pop("name")
    return respond(await call.run(connections.create_connection, name, **values), 201)


@router.get("/connections", response_model=list[Connection])
async def list_connections(call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(connections.list_connections), tp=list[Connection])


@router.get("/connections/{name}", response_model=Connection)
async def get_connection(name: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(connections.get_connection, name))


@router.delete("/connections/{name}", response_model=Connection)
async def delete_connection(name: str, call: Caller = Depends(caller)) -> Response:
    """Monitors naming it fail their next scheduled run until it is registered again."""
    return respond(await call.run(connections.delete_connection, name))
