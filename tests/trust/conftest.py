"""Steward signs what a policy pack let into production: these tests run under a light pack."""

from __future__ import annotations

import pytest

from steward.domain.permissions import OPERATOR, Principal
from steward.services import policies
from steward.services.context import Context

LIGHT_PACK = """\
pack: light
version: "1"
requirements:
  - id: review.current
    kind: review_current
    to: [production]
    controls: ["nist-ai-rmf:GOVERN 1.5"]
"""


@pytest.fixture(autouse=True)
def light_policy(request: pytest.FixtureRequest) -> None:
    if "ctx" not in request.fixturenames:
        return
    ctx: Context = request.getfixturevalue("ctx")
    admin = Principal(name="admin", roles=frozenset({OPERATOR}))
    policies.load_pack(ctx, admin, LIGHT_PACK, activate=True)
