"""/api/v1/notifications through the remote SDK against a live server: each caller sees and
marks only their own notifications. The attack: bob, signed in with his own token, lists,
reads by id and marks-all to reach victor's notifications; every attempt misses."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.conftest import LiveServer
from tests.services.test_object_authorisation import credit_scoring

from steward.domain.errors import InvalidInput, NotFound
from steward.domain.permissions import OPERATOR, Principal
from steward.sdk.client import Steward
from steward.services import findings, tokens
from steward.services import notifications as notify
from steward.services.context import Context

ADMIN = Principal(name="admin", roles=frozenset({OPERATOR}))


def _client(server: LiveServer, ctx: Context, user: str) -> Steward:
    import steward

    token = tokens.create_token(ctx, ADMIN, user=user, name="t").token
    return steward.connect(server.url, token=token)


def test_a_caller_reaches_only_their_own_notifications(
    ctx: Context, live_server: LiveServer, tmp_path: Path
) -> None:
    credit_scoring(ctx, tmp_path, count=1)
    findings.open_finding(
        ctx, ADMIN, "credit-scoring", title="Drift", severity="low", owner="victor"
    )
    notify.run(ctx, ADMIN, None)
    victor, bob = _client(live_server, ctx, "victor"), _client(live_server, ctx, "bob")
    [note] = victor.notifications()
    assert note.subject == "Drift" and note.link.startswith("/findings?model=credit-scoring")

    assert bob.notifications() == []  # nobody else's in the list
    with pytest.raises(NotFound):
        bob.mark_notification_read(note.id)  # by id: answered as missing
    with pytest.raises(NotFound):
        bob.mark_notification_read(2**40)  # beyond any id: missing too, not a server error
    assert bob.mark_all_notifications_read() == 0  # "all" means all of bob's
    raw = httpx.post(
        f"{live_server.url}/api/v1/notifications/{note.id}/read",
        headers={
            "Authorization": f"Bearer {tokens.create_token(ctx, ADMIN, user='bob', name='x').token}"
        },
        params={"recipient": "victor"},  # a recipient the caller names is not read
    )
    assert raw.status_code == 404
    assert raw.headers["content-type"].startswith("application/problem+json")
    assert victor.notifications(unread_only=True) == [note]  # untouched

    assert victor.mark_notification_read(note.id) == 1
    assert victor.notifications(unread_only=True) == []


def test_preferences_are_ones_own_and_checked(
    ctx: Context, live_server: LiveServer, tmp_path: Path
) -> None:
    credit_scoring(ctx, tmp_path, count=1)
    victor, bob = _client(live_server, ctx, "victor"), _client(live_server, ctx, "bob")
    saved = victor.set_notification_preferences(
        delivery="digest", language="zh-TW", timezone="Asia/Taipei", email_kinds=["request"]
    )
    assert (saved.delivery, saved.language, saved.timezone) == ("digest", "zh-TW", "Asia/Taipei")
    assert victor.notification_preferences() == saved
    assert bob.notification_preferences().delivery == "immediate"  # bob's own, unchanged
    for bad in (
        {"timezone": "Mars/Base"},
        {"timezone": "../../etc/passwd"},
        {"timezone": "x" * 5000},
        {"delivery": "hourly"},
        {"email_kinds": ["spam"]},
        {"language": "fr"},
    ):
        with pytest.raises(InvalidInput):
            bob.set_notification_preferences(**bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="STEWARD_SMTP_HOST"):
        victor.send_test_email()  # no mail server configured: said so, 422
