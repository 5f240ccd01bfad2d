"""While the database is away (a restart, a failover) every worker pass meets it again: the
worker logs one warning line per failure then, and a traceback only for other errors."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError

from steward.services import worker


def test_a_database_that_went_away_is_one_line_and_other_errors_keep_their_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = OperationalError("SELECT 1", {}, Exception("connection failed: server closed\nmore"))
    with caplog.at_level(logging.WARNING, logger="steward.worker"):
        try:
            raise down
        except OperationalError as exc:
            worker._log_failure("worker job %s failed", exc, "monitors")
        try:
            raise ValueError("a bug")
        except ValueError as exc:
            worker._log_failure("worker job %s failed", exc, "monitors")
    first, second = caplog.records
    assert first.levelno == logging.WARNING and first.exc_info is None
    assert first.getMessage() == (
        "worker job monitors failed: database unavailable (connection failed: server closed); "
        "the next pass retries"
    )
    assert second.levelno == logging.ERROR and second.exc_info is not None
