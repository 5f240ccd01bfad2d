"""Give the demo's people a password so they can sign in to the web UI.

The demo loader calls :func:`set_demo_passwords` when ``STEWARD_DEMO_PASSWORD`` is set
(``make run`` sets it); each person's password change is audited like any other.
"""

from __future__ import annotations

import os

from steward.domain.permissions import OPERATOR, Principal
from steward.services import identity
from steward.services.context import Context

ENV = "STEWARD_DEMO_PASSWORD"


def set_demo_passwords(
    ctx: Context, password: str, people: tuple[str, ...] | None = None
) -> list[str]:
    """Set ``password`` for every demo person (or ``people``); returns who got one."""
    from steward.demo.load import PEOPLE

    operator = Principal(name="demo", roles=frozenset({OPERATOR}))
    names = list(people if people is not None else PEOPLE)
    for name in names:
        identity.set_password(ctx, operator, name, password)
    return names


def password_from_env() -> str | None:
    return os.environ.get(ENV) or None
