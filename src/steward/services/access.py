"""Object-level authorisation: may this principal do this to this model?

The role table (``domain/permissions.py``) says what a role may do; this module
looks up whose model it is, inside the use case's own transaction, and asks the
pure rule ``authorize_on``. Every use case that acts on a model calls
:func:`ensure_model` after :func:`~steward.domain.permissions.ensure` (which
refuses a missing role before anything is looked up).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from steward.domain.errors import NotFound
from steward.domain.permissions import (
    ModelScope,
    Permission,
    Principal,
    authorize_on,
    ensure_on,
)
from steward.services.context import Context
from steward.store.uow import UnitOfWork


def model_scope(uow: UnitOfWork, model: str) -> ModelScope:
    row = uow.models.row(model)
    if row is None:
        raise NotFound(
            f"Model {model!r} does not exist. List models with `steward model list`.",
            model=model,
        )
    return ModelScope(name=model, owner=str(row["owner"] or ""), team=str(row["team"] or ""))


def ensure_model(
    uow: UnitOfWork, principal: Principal, permission: Permission, model: str
) -> ModelScope:
    """Refuse (403) unless the principal's roles reach this model; NotFound if none."""
    scope = model_scope(uow, model)
    ensure_on(principal, permission, scope)
    return scope


def contributors(uow: UnitOfWork, scope: ModelScope) -> list[str]:
    """The people who act on a model besides its owner: the members of its team."""
    if not scope.team:
        return []
    team = uow.teams.get(scope.team)
    return sorted(team.members) if team is not None else []


def request_holders(
    uow: UnitOfWork, request_row: Mapping[Any, Any] | None, model: str
) -> tuple[str, frozenset[str]]:
    """(owner, contributors) a request's approvers must be independent of.

    What was captured when the request was opened; a request opened before Steward
    captured it (or no request at all) is judged against who holds the model now.
    """
    if request_row is not None and request_row.get("model_owner") is not None:
        return str(request_row["model_owner"]), frozenset(request_row.get("contributors") or [])
    scope = model_scope(uow, model)
    return scope.owner, frozenset(contributors(uow, scope))


def may(ctx: Context, principal: Principal, permission: Permission, model: str) -> bool:
    """Whether a face should offer this act on this model (the use case decides again)."""
    with ctx.uow.read() as uow:
        try:
            return authorize_on(principal, permission, model_scope(uow, model)).allowed
        except NotFound:
            return False


def check_first(ctx: Context, principal: Principal, permission: Permission, model: str) -> None:
    """The object check before the caller's input is judged: 403/404, never 422, to a caller
    who may not act on this model (how their input would have fared is not theirs to learn,
    and no upload of theirs is stored for it). The use case checks again in its own
    transaction, under the model's lock: ownership may change in between."""
    with ctx.uow.read() as uow:
        ensure_model(uow, principal, permission, model)
