"""Inventory use cases: create, update (audited field by field), get, list."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import Any

from steward.domain import names, specs
from steward.domain.audit import Action
from steward.domain.entities import Model, Page
from steward.domain.errors import AlreadyExists, Conflict, Forbidden, InvalidInput, NotFound
from steward.domain.lifecycle import parse_stage
from steward.domain.permissions import (
    ModelScope,
    Permission,
    Principal,
    authorize,
    ensure,
    ensure_on,
)
from steward.services import risk
from steward.services.access import check_first, model_scope
from steward.services.context import Context, model_id
from steward.store.models_repo import ModelFilter
from steward.store.uow import UnitOfWork

MAX_PAGE = 1000


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def create_model(
    ctx: Context,
    principal: Principal,
    name: str,
    *,
    risk_override_reason: str | None = None,
    within: Callable[[UnitOfWork, int], None] | None = None,
    **fields: Any,
) -> Model:
    """``within(uow, model_id)`` adds the caller's own rows to the same transaction (the
    MLflow bridge's link, so an imported model is never left unlinked)."""
    ensure(principal, Permission.MODEL_WRITE)
    names.model_name(name)
    values = specs.model_fields(fields)
    # A tier or category given by hand overrides the risk assessment (docs/governance.md).
    override = risk.check_override(principal, values, risk_override_reason, creating=True)
    values.setdefault("owner", principal.name)
    # An owner registers models for themselves or their own teams, never into someone
    # else's scope (where they could not act on it afterwards anyway).
    ensure_on(
        principal,
        Permission.MODEL_WRITE,
        ModelScope(name, str(values["owner"]), str(values.get("team") or "")),
    )
    tags = values.pop("tags", [])
    with ctx.uow.write() as uow:
        if uow.models.id_of(name) is not None:
            raise AlreadyExists(f"A model named {name!r} already exists.", model=name)
        row = {
            **values,
            "name": name,
            "created_at": uow.now,
            "created_by": principal.name,
            "updated_at": uow.now,
            "latest_version": 0,
        }
        model = uow.models.insert(row, tags)
        payload = {k: _jsonable(v) for k, v in values.items()} | {"tags": tags}
        uow.record(principal.name, Action.MODEL_CREATED, "model", name, {"after": payload})
        if override is not None:
            mid = uow.models.id_of(name)
            assert mid is not None
            risk.record_override(uow, principal.name, name, mid, {}, values, override)
            model = uow.models.get(name) or model  # the override changed tier fields
        if within is not None:
            mid = uow.models.id_of(name)
            assert mid is not None
            within(uow, mid)
        uow.commit()
    return model


def update_model(
    ctx: Context,
    principal: Principal,
    name: str,
    *,
    risk_override_reason: str | None = None,
    **fields: Any,
) -> Model:
    # Only the owner and team fields may be changed with model:reassign alone.
    reassigner = authorize(principal, Permission.MODEL_REASSIGN).allowed
    if set(fields) - set(REASSIGNING) or not reassigner:
        ensure(principal, Permission.MODEL_WRITE)
    # The object (and, for a handover, the role to reassign) before the input is judged.
    if set(fields) - set(REASSIGNING) or not (fields or reassigner):
        check_first(ctx, principal, Permission.MODEL_WRITE, name)
    elif fields:
        _ensure_may_reassign(principal, name)
    if not fields:
        raise InvalidInput("Nothing to update: give at least one field to change.")
    values = specs.model_fields(fields)
    override = risk.check_override(principal, values, risk_override_reason)
    with ctx.uow.write() as uow:
        mid = model_id(uow, name)
        uow.models.lock(mid)  # the "before" values must be read under the model's lock
        scope = model_scope(uow, name)
        if set(values) - set(REASSIGNING):
            ensure_on(principal, Permission.MODEL_WRITE, scope)
        current = uow.models.get(name)
        assert current is not None
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for key, value in values.items():
            old = getattr(current, key)
            if old != value:
                before[key], after[key] = _jsonable(old), _jsonable(value)
        if not after:
            return current
        if set(after) & set(REASSIGNING):
            _ensure_reassignable(uow, principal, name, mid)
        tags = values.pop("tags", None)
        if tags is not None and "tags" in after:
            uow.models.set_tags(mid, tags)
        changes = {
            k: _jsonable(v) if isinstance(v, Enum) else v for k, v in values.items() if k in after
        }
        uow.models.update(mid, {**changes, "updated_at": uow.now})
        uow.record(
            principal.name,
            Action.MODEL_UPDATED,
            "model",
            name,
            {"before": before, "after": after, "fields": sorted(after)},
        )
        if override is not None:
            risk.record_override(uow, principal.name, name, mid, before, after, override)
        model = uow.models.get(name)
        uow.commit()
    assert model is not None
    return model


# Fields that say whose model it is: changing them moves it out of (or into) someone's
# reach and changes who counts as independent of it.
REASSIGNING = ("owner", "team")


def _ensure_may_reassign(principal: Principal, name: str) -> None:
    decision = authorize(principal, Permission.MODEL_REASSIGN)
    if not decision.allowed:
        raise Forbidden(
            f"Changing the owner or team of {name!r} is for an admin or risk officer: "
            f"{decision.reason}",
            permission=Permission.MODEL_REASSIGN.value,
            model=name,
        )


def _ensure_reassignable(uow: UnitOfWork, principal: Principal, name: str, mid: int) -> None:
    """Reassigning a model is an admin's or risk officer's act, and never while a
    request is open: segregation of duties is judged against who held the model
    when the move was requested, and handing it away must not escape that."""
    _ensure_may_reassign(principal, name)
    open_ids = uow.requests.open_ids_for_model(mid)
    if open_ids:
        raise Conflict(
            f"{name!r} has open transition request(s) {', '.join(open_ids)}; its owner and "
            "team cannot change until they are decided or withdrawn "
            f"(`steward approvals withdraw {open_ids[0]}`).",
            model=name,
            requests=open_ids,
        )


def get_model(ctx: Context, principal: Principal, name: str) -> Model:
    ensure(principal, Permission.MODEL_READ)
    with ctx.uow.read() as uow:
        model = uow.models.get(name)
    if model is None:
        raise NotFound(
            f"Model {name!r} does not exist. List models with `steward model list`.", model=name
        )
    return model


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The model name a cursor encodes; anything encode_cursor could not have made is refused."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        value = ""
    # b64decode alone skips junk characters ("!!!" decodes to ""): insist on the exact form.
    if not value or encode_cursor(value) != cursor:
        raise InvalidInput(
            "Invalid cursor: pass the next_cursor value from the previous page unchanged.",
            field="cursor",
        )
    return value


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.", field="limit")
    return limit


def model_filter(
    *,
    owner: str | None = None,
    team: str | None = None,
    risk_tier: str | None = None,
    regulatory_category: str | None = None,
    status: str | None = None,
    stage: str | None = None,
    tag: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
) -> ModelFilter:
    """The checked filter of an inventory listing (every face lists models through it)."""
    checked = specs.model_fields(
        {
            k: v
            for k, v in {
                "risk_tier": risk_tier,
                "regulatory_category": regulatory_category,
                "status": status,
            }.items()
            if v
        }
    )
    return ModelFilter(
        owner=owner or None,
        team=team or None,
        risk_tier=_jsonable(checked.get("risk_tier")),
        regulatory_category=_jsonable(checked.get("regulatory_category")),
        status=_jsonable(checked.get("status")),
        stage=parse_stage(stage, "stage").value if stage else None,
        tag=names.tag_key(tag) if tag else None,
        q=(q or "").strip() or None,
        after_name=decode_cursor(cursor) if cursor else None,
    )


def list_models(
    ctx: Context,
    principal: Principal,
    *,
    owner: str | None = None,
    team: str | None = None,
    risk_tier: str | None = None,
    regulatory_category: str | None = None,
    status: str | None = None,
    stage: str | None = None,
    tag: str | None = None,
    q: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[Model]:
    ensure(principal, Permission.MODEL_READ)
    check_limit(limit)
    flt = model_filter(
        owner=owner,
        team=team,
        risk_tier=risk_tier,
        regulatory_category=regulatory_category,
        status=status,
        stage=stage,
        tag=tag,
        q=q,
        cursor=cursor,
    )
    with ctx.uow.read() as uow:
        items = uow.models.search(flt, limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return Page(items, encode_cursor(items[-1].name) if more else None)
