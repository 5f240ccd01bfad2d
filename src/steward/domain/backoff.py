"""Exponential back-off, the one formula every retry and lockout in Steward waits by.

Webhook deliveries, failed scheduled monitor runs and password lockouts each state their
own first wait and ceiling; the doubling between them is this function's alone.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

Wait = TypeVar("Wait", float, timedelta)


def doubling(step: int, first: Wait, cap: Wait) -> Wait:
    """``first · 2**step``, never more than ``cap`` (``step`` counts from 0).

    The ceiling is compared before multiplying, so a long failure streak cannot overflow
    a timedelta however large ``step`` grows.
    """
    if step < 0:
        raise ValueError("step counts from 0")
    if not first:
        return first
    factor: int = 2**step
    if first >= cap or factor >= cap / first:
        return cap
    return first * factor
