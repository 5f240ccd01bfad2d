"""/api/v1/users, /api/v1/teams (users, roles, teams) and /api/v1/auth/login."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from steward.api.deps import Caller, app_context, caller, client_address, respond
from steward.api.schemas import _Strict
from steward.domain.entities import NewToken
from steward.domain.identity import Team, User
from steward.services import identity

router = APIRouter(prefix="/api/v1", tags=["identity"])


class UserCreate(_Strict):
    name: str
    display_name: str = ""
    email: str = ""
    roles: list[str] = Field(
        default_factory=list,
        description="admin, owner, validator, risk_officer, approver, auditor",
    )
    teams: list[str] = Field(default_factory=list, description="Existing team names")
    password: str | None = Field(default=None, description="At least 12 characters")


class UserUpdate(_Strict):
    display_name: str | None = None
    email: str | None = None


class DisableBody(_Strict):
    reason: str = ""


class PasswordBody(_Strict):
    password: str
    current_password: str | None = Field(
        default=None, description="Needed when users change their own password"
    )


class LoginBody(_Strict):
    user: str
    password: str


class TeamCreate(_Strict):
    name: str
    title: str = ""
    description: str = ""
    members: list[str] = Field(default_factory=list)
    line: str | None = Field(None, description="Line of defence: first, second or third")


class TeamUpdate(_Strict):
    title: str | None = None
    description: str | None = None
    line: str | None = Field(None, description="first, second or third; '' clears it")


@router.post("/users", status_code=201, response_model=User)
async def create_user(body: UserCreate, call: Caller = Depends(caller)) -> Response:
    user = await call.run(
        identity.create_user,
        body.name,
        display_name=body.display_name,
        email=body.email,
        roles=body.roles,
        teams=body.teams,
        password=body.password,
    )
    return respond(user, 201)


@router.get("/users", response_model=list[User])
async def list_users(
    role: str | None = None,
    team: str | None = None,
    active: bool | None = None,
    call: Caller = Depends(caller),
) -> Response:
    users = await call.run(identity.list_users, role=role, team=team, active=active)
    return respond(users, tp=list[User])


@router.get("/users/{name}", response_model=User)
async def get_user(name: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(identity.get_user, name))


@router.patch("/users/{name}", response_model=User)
async def update_user(name: str, body: UserUpdate, call: Caller = Depends(caller)) -> Response:
    user = await call.run(
        identity.update_user, name, display_name=body.display_name, email=body.email
    )
    return respond(user)


@router.post("/users/{name}/disable", response_model=User)
async def disable_user(
    name: str, body: DisableBody | None = None, call: Caller = Depends(caller)
) -> Response:
    reason = body.reason if body is not None else ""
    return respond(await call.run(identity.disable_user, name, reason))


@router.post("/users/{name}/enable", response_model=User)
async def enable_user(name: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(identity.enable_user, name))


@router.put("/users/{name}/password", response_model=User)
async def set_password(name: str, body: PasswordBody, call: Caller = Depends(caller)) -> Response:
    user = await call.run(
        identity.set_password, name, body.password, current_password=body.current_password
    )
    return respond(user)


@router.put("/users/{name}/roles/{role}", response_model=User)
async def grant_role(name: str, role: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(identity.grant_role, name, role))


@router.delete("/users/{name}/roles/{role}", response_model=User)
async def revoke_role(name: str, role: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(identity.revoke_role, name, role))


@router.post("/auth/login", response_model=NewToken)
async def login(body: LoginBody, request: Request) -> Response:
    """Exchange a user name and password for an API token that expires in a few hours."""
    ctx = app_context(request)
    made = await run_in_threadpool(
        identity.login, ctx, body.user, body.password, client_address(request)
    )
    return respond(made)


@router.post("/teams", status_code=201, response_model=Team)
async def create_team(body: TeamCreate, call: Caller = Depends(caller)) -> Response:
    team = await call.run(
        identity.create_team,
        body.name,
        title=body.title,
        description=body.description,
        members=body.members,
        line=body.line,
    )
    return respond(team, 201)


@router.patch("/teams/{name}", response_model=Team)
async def update_team(name: str, body: TeamUpdate, call: Caller = Depends(caller)) -> Response:
    return respond(
        await call.run(
            identity.update_team,
            name,
            title=body.title,
            description=body.description,
            line=body.line,
        )
    )


@router.get("/teams", response_model=list[Team])
async def list_teams(call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(identity.list_teams), tp=list[Team])


@router.get("/teams/{name}", response_model=Team)
async def get_team(name: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(identity.get_team, name))


@router.delete("/teams/{name}", response_model=Team)
async def delete_team(name: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(identity.delete_team, name))


@router.put("/teams/{name}/members/{user}", response_model=Team)
async def add_member(name: str, user: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(identity.add_member, name, user))


@router.delete("/teams/{name}/members/{user}", response_model=Team)
async def remove_member(name: str, user: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(identity.remove_member, name, user))
