"""Steward: model lifecycle management.

>>> import steward
>>> st = steward.connect()                  # embedded store under ./.steward
>>> st = steward.connect("http://host:8080", token="stw_...")   # a server
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from steward.sdk.client import Steward


def connect(
    url: str | None = None,
    *,
    token: str | None = None,
    home: str | None = None,
    actor: str | None = None,
    transport: Any = None,
) -> Steward:
    """Open Steward: embedded (no URL, or ``STEWARD_URL`` unset) or a server over HTTP.

    Embedded mode creates a new store on first use; an existing store with an
    old schema is refused with the command that upgrades it.
    """
    import os

    from steward.sdk.client import Steward

    url = url or os.environ.get("STEWARD_URL") or None
    if url:
        from steward.sdk.remote import RemoteBackend

        return Steward(
            RemoteBackend(url, token or os.environ.get("STEWARD_TOKEN"), transport=transport)
        )
    from steward import extras

    # The embedded store is the server's code: without that extra, say so before importing.
    extras.require_extra("server")
    from steward import bootstrap
    from steward.sdk.local import LocalBackend
    from steward.settings import Settings, default_actor

    ctx = bootstrap.build(Settings.from_env(home=home), create_if_missing=True)
    return Steward(LocalBackend(ctx, actor or default_actor()))


__all__ = ["__version__", "connect"]
