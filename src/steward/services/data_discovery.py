"""Silo discovery: the tables and files behind a data connection that no registered dataset
covers, with row counts, so a data office sees what is ungoverned (docs/datasets.md).

The connection's own catalogue is read (:mod:`steward.monitoring.catalogue`), never SQL or a
path a caller gives; which objects a dataset covers is the domain's rule
(:func:`steward.domain.discovery.covers`). Discovering is data governance's work
(``dataset:approve``: a data steward or an admin), and the caller must also be allowed to
use the connection, as for any read through it.
"""

from __future__ import annotations

from steward.domain.discovery import Discovery, connection_arg, discovery
from steward.domain.permissions import Permission, Principal, ensure
from steward.services import connections
from steward.services.context import Context


def discover(ctx: Context, principal: Principal, connection: str) -> Discovery:
    ensure(principal, Permission.DATASET_APPROVE)
    name = connection_arg(connection)
    opened = connections.open_connection(ctx, principal, name)
    from steward.monitoring.catalogue import catalogue

    # The catalogue is read outside any transaction: a slow remote database holds no lock.
    entries, truncated = catalogue(opened)
    with ctx.uow.read() as uow:
        sources = uow.datasets.sources_on(name)
    return discovery(name, opened.connection.kind.value, entries, sources, truncated)
