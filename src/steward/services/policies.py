"""Policy packs: load (validated, stored verbatim, audited), activate, read."""

from __future__ import annotations

import hashlib

from steward.domain import policy
from steward.domain.audit import Action
from steward.domain.errors import Conflict, NotFound
from steward.domain.permissions import Permission, Principal, ensure
from steward.domain.policy import PolicyPack
from steward.domain.requests import PolicyPackInfo
from steward.services.context import Context
from steward.store.gates_repo import pack_info
from steward.store.uow import UnitOfWork


def load_pack(
    ctx: Context,
    principal: Principal,
    text: str,
    *,
    source: str = "policy pack",
    activate: bool = False,
) -> PolicyPackInfo:
    """Validate and store a pack; the same name and version may not change content."""
    ensure(principal, Permission.POLICY_MANAGE)
    pack = policy.parse(text, source)
    digest = hashlib.sha256(text.encode()).hexdigest()
    with ctx.uow.write() as uow:
        existing = uow.policies.find(pack.name, pack.version)
        if existing is not None and existing["sha256"] != digest:
            raise Conflict(
                f"Policy pack {pack.ref} is already loaded with different content; packs are "
                "immutable once loaded. Bump 'version' in the file and load it again.",
                policy=pack.ref,
            )
        if existing is None:
            uow.policies.insert(
                {
                    "name": pack.name,
                    "version": pack.version,
                    "sha256": digest,
                    "source": text,
                    "loaded_by": principal.name,
                    "loaded_at": uow.now,
                    "active": False,
                }
            )
            uow.record(
                principal.name,
                Action.POLICY_LOADED,
                "policy",
                pack.ref,
                {
                    "pack": pack.name,
                    "version": pack.version,
                    "sha256": digest,
                    "requirements": sorted(pack.requirement_ids()),
                },
            )
        if activate:
            _activate(uow, principal, pack)
        row = uow.policies.find(pack.name, pack.version)
        assert row is not None
        info = pack_info(row, pack.description, len(pack.requirements))
        uow.commit()
    return info


def activate_pack(ctx: Context, principal: Principal, name: str, version: str) -> PolicyPackInfo:
    ensure(principal, Permission.POLICY_MANAGE)
    with ctx.uow.write() as uow:
        row = uow.policies.find(name, version)
        if row is None:
            raise NotFound(
                f"No policy pack {name}@{version} is loaded. Load it with "
                "`steward policy load FILE`; list loaded packs with `steward policy list`.",
                policy=f"{name}@{version}",
            )
        pack = policy.parse(row["source"], f"{name}@{version}")
        _activate(uow, principal, pack)
        row = uow.policies.find(name, version)
        assert row is not None
        info = pack_info(row, pack.description, len(pack.requirements))
        uow.commit()
    return info


def deactivate(ctx: Context, principal: Principal) -> None:
    """Switch gates off (only the state machine applies): an audited, deliberate act."""
    ensure(principal, Permission.POLICY_MANAGE)
    with ctx.uow.write() as uow:
        row = uow.policies.active()
        if row is None:
            return
        uow.policies.deactivate_all()
        uow.record(
            principal.name,
            Action.POLICY_DEACTIVATED,
            "policy",
            f"{row['name']}@{row['version']}",
            {"pack": row["name"], "version": row["version"]},
        )
        uow.commit()


def _activate(uow: UnitOfWork, principal: Principal, pack: PolicyPack) -> None:
    current = uow.policies.active()
    if current is not None and (current["name"], current["version"]) == (pack.name, pack.version):
        return
    uow.policies.activate(pack.name, pack.version)
    uow.record(
        principal.name,
        Action.POLICY_ACTIVATED,
        "policy",
        pack.ref,
        {
            "pack": pack.name,
            "version": pack.version,
            "previous": None if current is None else f"{current['name']}@{current['version']}",
        },
    )


def active_pack(uow: UnitOfWork) -> PolicyPack | None:
    """The pack the gates apply now (parsed from the stored text), or None."""
    row = uow.policies.active()
    if row is None:
        return None
    return _parsed(row["sha256"], row["source"], f"{row['name']}@{row['version']}")


_PARSED: dict[str, PolicyPack] = {}


def _parsed(digest: str, text: str, source: str) -> PolicyPack:
    # Packs are immutable by hash, so a parse can be reused for the life of the process.
    pack = _PARSED.get(digest)
    if pack is None:
        pack = _PARSED[digest] = policy.parse(text, source)
    return pack


def requirement_ids(uow: UnitOfWork) -> set[str] | None:
    """Requirement ids of the active pack (what a waiver may name), None without a pack."""
    pack = active_pack(uow)
    return None if pack is None else pack.requirement_ids()


def get_pack(
    ctx: Context, principal: Principal, name: str | None = None, version: str | None = None
) -> tuple[PolicyPackInfo, str]:
    """A loaded pack's record and YAML text; the active one when no name is given."""
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        if name is None:
            row = uow.policies.active()
            if row is None:
                raise NotFound(
                    "No policy pack is active: only the lifecycle state machine guards moves. "
                    "Activate the default with `steward policy load --default --activate`."
                )
        else:
            if version is None:
                rows = [r for r in uow.policies.all() if r["name"] == name]
                row = rows[0] if rows else None
            else:
                row = uow.policies.find(name, version)
            if row is None:
                raise NotFound(
                    f"No policy pack {name}{'@' + version if version else ''} is loaded; "
                    "list them with `steward policy list`.",
                )
    pack = _parsed(row["sha256"], row["source"], f"{row['name']}@{row['version']}")
    return pack_info(row, pack.description, len(pack.requirements)), row["source"]


def describe_pack(
    ctx: Context, principal: Principal, name: str, version: str
) -> tuple[PolicyPackInfo, PolicyPack, str]:
    """A loaded pack version's record, its parsed requirements and its YAML (for reading)."""
    info, text = get_pack(ctx, principal, name, version)
    return info, _parsed(info.sha256, text, f"{info.name}@{info.version}"), text


def list_packs(ctx: Context, principal: Principal) -> list[PolicyPackInfo]:
    ensure(principal, Permission.GOVERNANCE_READ)
    with ctx.uow.read() as uow:
        rows = uow.policies.all()
    infos = []
    for row in rows:
        pack = _parsed(row["sha256"], row["source"], f"{row['name']}@{row['version']}")
        infos.append(pack_info(row, pack.description, len(pack.requirements)))
    return infos
