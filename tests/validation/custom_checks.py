"""A third-party check, loaded in tests through a real ``steward.checks`` entry point object."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from steward.domain.checks import CheckFamily, Threshold
from steward.validation.checks.base import Check, CheckContext, Outcome


class MaxScore(Check):
    name = "custom.max_score"
    family = CheckFamily.CUSTOM
    description = "Highest predicted score."
    requires = frozenset({"y_score"})
    default_threshold = Threshold("<=", 0.999)

    def run(self, ctx: CheckContext, params: Mapping[str, Any]) -> Outcome:
        assert ctx.y_score is not None
        return Outcome(value=float(ctx.y_score.max()), message="max of y_score")


class NotACheck:
    name = "custom.bad"
