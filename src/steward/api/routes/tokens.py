"""/api/v1/tokens — API tokens of the calling user."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from steward.api.deps import context, principal, respond
from steward.api.schemas import TokenBody
from steward.domain.entities import NewToken, TokenInfo
from steward.domain.permissions import Principal
from steward.services import tokens
from steward.services.context import Context

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


@router.post("", status_code=201, response_model=NewToken)
def create(
    body: TokenBody, ctx: Context = Depends(context), who: Principal = Depends(principal)
) -> Response:
    made = tokens.create_token(
        ctx, who, user=body.user, name=body.name, expires_in_days=body.expires_in_days
    )
    return respond(made, 201)


@router.get("", response_model=list[TokenInfo])
def list_(
    user: str | None = None, ctx: Context = Depends(context), who: Principal = Depends(principal)
) -> Response:
    return respond(tokens.list_tokens(ctx, who, user), tp=list[TokenInfo])


@router.delete("/{token_id}", response_model=TokenInfo)
def revoke(
    token_id: str, ctx: Context = Depends(context), who: Principal = Depends(principal)
) -> Response:
    return respond(tokens.revoke_token(ctx, who, token_id))
