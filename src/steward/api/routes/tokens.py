"""/api/v1/tokens — API tokens of the calling user."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from steward.api.deps import Caller, caller, respond
from steward.api.schemas import TokenBody
from steward.domain.entities import NewToken, TokenInfo
from steward.services import tokens

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


@router.post("", status_code=201, response_model=NewToken)
async def create(body: TokenBody, call: Caller = Depends(caller)) -> Response:
    made = await call.run(
        tokens.create_token, user=body.user, name=body.name, expires_in_days=body.expires_in_days
    )
    return respond(made, 201)


@router.get("", response_model=list[TokenInfo])
async def list_(user: str | None = None, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(tokens.list_tokens, user), tp=list[TokenInfo])


@router.delete("/{token_id}", response_model=TokenInfo)
async def revoke(token_id: str, call: Caller = Depends(caller)) -> Response:
    return respond(await call.run(tokens.revoke_token, token_id))
