"""What every use case needs, built once by :mod:`steward.bootstrap`."""

from __future__ import annotations

from dataclasses import dataclass, field

from steward.artifacts.store import ArtifactStore
from steward.domain.errors import NotFound
from steward.domain.lifecycle import Requirement
from steward.domain.throttle import Limits
from steward.settings import Settings
from steward.store.uow import UnitOfWork, UnitOfWorkFactory


@dataclass
class Context:
    settings: Settings
    uow: UnitOfWorkFactory
    artifacts: ArtifactStore
    # Gate requirements evaluated after the state machine (governance adds these).
    requirements: list[Requirement] = field(default_factory=list)
    # True in the server (REST API and web UI): requests come from other machines, so a
    # caller's wish to trust a file format that runs code is not honoured there; the server's
    # own settings decide (see steward.services.validation).
    remote: bool = False
    # How many failed sign-ins lock an account or a client, and for how long; the counts
    # are in the database, shared by every process (see domain/throttle.py).
    login_limits: Limits = field(default_factory=Limits)


def model_id(uow: UnitOfWork, name: str) -> int:
    found = uow.models.id_of(name)
    if found is None:
        raise NotFound(
            f"Model {name!r} does not exist. List models with `steward model list`.",
            model=name,
        )
    return found


def version_row_id(uow: UnitOfWork, model: str, version: int) -> tuple[int, int]:
    mid = model_id(uow, model)
    row = uow.versions.row(mid, version)
    if row is None:
        raise NotFound(
            f"Model {model!r} has no version {version}. "
            f"List its versions with `steward version list {model}`.",
            model=model,
            version=version,
        )
    return mid, int(row["id"])
