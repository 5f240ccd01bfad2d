"""Notifications end to end on SQLite and PostgreSQL, against a real SMTP server: each
event reaches the people the owning services say it waits for, once; e-mails go out in
the recipient's language and time zone, immediately or as a daily digest; a mail server
that is away is retried with back-off and shows in the outbox status; and nobody can read
or mark another person's notifications."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from tests.conftest import Clock
from tests.mailserver import Inbox, mail_server
from tests.services.test_object_authorisation import as_, credit_scoring

from steward import bootstrap
from steward.domain.errors import NotFound
from steward.domain.notifications import Kind
from steward.domain.permissions import OPERATOR, Principal
from steward.mailer import SmtpMailer
from steward.services import approvals, doctor, findings, identity, policies, versions, waivers
from steward.services import notifications as notify
from steward.services.context import Context
from steward.settings import Settings

ADMIN = Principal(name="admin", roles=frozenset({OPERATOR}))
TWO_VALIDATORS = """\
pack: two
version: "1"
requirements:
  - id: approvals.validation
    kind: approvals
    roles: [validator]
    count: 2
    independence: [not_version_creator, not_model_owner]
    to: [validation]
    tiers: [unassessed, low, medium, high, critical]
    controls: ["sr-26-2:SR26-2.independence"]
  - id: risk.assessed
    kind: risk_assessed
    to: [validation]
    tiers: any
    controls: ["sr-26-2:SR26-2.materiality"]
"""


@pytest.fixture
def mail() -> Iterator[tuple[int, Inbox]]:
    with mail_server() as found:
        yield found


@pytest.fixture
def clock() -> Clock:
    return Clock()  # 2026-01-01 00:00 UTC: 08:00 in Taipei


@pytest.fixture
def mailing(settings: Settings, mail: tuple[int, Inbox], clock: Clock) -> Iterator[Context]:
    port, _inbox = mail
    configured = settings.with_(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        public_url="https://steward.example.org",
    )
    context = bootstrap.build(configured, migrate=True, clock=clock)
    yield context
    context.uow.engine.dispose()


def _people(ctx: Context, tmp_path: Path) -> None:
    credit_scoring(ctx, tmp_path, count=1)
    identity.update_user(ctx, ADMIN, "alice", email="alice@example.org")
    identity.update_user(ctx, ADMIN, "victor", email="victor@example.org")
    identity.update_user(ctx, ADMIN, "rita", email="rita@example.org")


def _mailer(ctx: Context) -> SmtpMailer:
    found = SmtpMailer.from_settings(ctx.settings)
    assert found is not None
    return found


def test_each_event_reaches_its_people_once_in_their_language(
    mailing: Context, mail: tuple[int, Inbox], tmp_path: Path
) -> None:
    ctx, (_port, inbox) = mailing, mail
    _people(ctx, tmp_path)
    policies.load_pack(ctx, ADMIN, TWO_VALIDATORS, activate=True)
    notify.set_prefs(ctx, as_(ctx, "alice"), language="zh-TW", timezone="Asia/Taipei")
    opened = approvals.request_transition(
        ctx, as_(ctx, "alice"), "credit-scoring", 1, "validation", "ready"
    )
    findings.open_finding(
        ctx, ADMIN, "credit-scoring", title="Calibration drifts", severity="high", owner="victor"
    )
    soon = ctx.uow.clock() + timedelta(days=10)
    waivers.grant_waiver(
        ctx,
        as_(ctx, "rita"),
        "credit-scoring",
        1,
        requirement="risk.assessed",
        reason="board meets next month",
        expires=soon,
    )
    done = notify.run(ctx, ADMIN, _mailer(ctx))
    kinds = {
        who: sorted(x.kind.value for x in notify.list_mine(ctx, as_(ctx, who)))
        for who in ("alice", "victor", "rita", "carol")
    }
    assert kinds == {
        "alice": ["waiver_expiring"],  # her model's waiver
        "victor": ["finding", "request"],  # his finding, a request he may decide
        "rita": ["waiver_expiring"],  # she granted it
        "carol": [],  # alice's teammate may not decide her request: nothing
    }
    assert (done.created, done.queued, done.sent) == (4, 4, 4)

    [to_alice] = inbox.to("alice@example.org")
    body = Inbox.text(to_alice)
    assert "豁免即將到期" in str(to_alice["Subject"]) and "您好" in body
    assert "CST" in body  # her own time zone, named (Asia/Taipei)
    assert "https://steward.example.org/models/credit-scoring" in body
    [finding_mail] = [m for m in inbox.to("victor@example.org") if "Finding" in m["Subject"]]
    assert "Calibration drifts" in Inbox.text(finding_mail) and "UTC" in Inbox.text(finding_mail)

    again = notify.run(ctx, ADMIN, _mailer(ctx))
    assert (again.created, again.queued, again.sent) == (0, 0, 0)  # each event once
    assert len(inbox.messages) == 4

    # victor approves (one of two needed); alice then amends the artifact: the approval
    # lapses, and both of them hear of it.
    approvals.approve(ctx, as_(ctx, "victor"), opened.request.id, "fine")
    amended = tmp_path / "v1-fixed.bin"
    amended.write_bytes(b"weights fixed")
    versions.amend_version(
        ctx, as_(ctx, "alice"), "credit-scoring", 1, justification="leak fixed", artifact=amended
    )
    notify.run(ctx, ADMIN, _mailer(ctx))
    for who in ("alice", "victor"):
        lapsed = [x for x in notify.list_mine(ctx, as_(ctx, who)) if x.kind is Kind.APPROVAL_LAPSED]
        assert len(lapsed) == 1 and "artifact changed" in lapsed[0].subject
    assert any("核准已失效" in str(m["Subject"]) for m in inbox.to("alice@example.org"))


def test_a_digest_goes_out_once_a_day_from_eight_local_time(
    mailing: Context, mail: tuple[int, Inbox], clock: Clock, tmp_path: Path
) -> None:
    ctx, (_port, inbox) = mailing, mail
    _people(ctx, tmp_path)
    victor = as_(ctx, "victor")
    notify.set_prefs(ctx, victor, delivery="digest", timezone="Europe/London")
    for title in ("Calibration drifts", "Labels are late"):
        findings.open_finding(
            ctx, ADMIN, "credit-scoring", title=title, severity="low", owner="victor"
        )
    notify.run(ctx, ADMIN, _mailer(ctx))  # 00:00 in London: too early
    assert inbox.to("victor@example.org") == []
    clock.advance(hours=8)
    notify.run(ctx, ADMIN, _mailer(ctx))
    [digest] = inbox.to("victor@example.org")
    text = Inbox.text(digest)
    assert "2 notification(s)" in str(digest["Subject"])
    assert "Calibration drifts" in text and "Labels are late" in text and "GMT" in text
    clock.advance(hours=3)
    findings.open_finding(
        ctx, ADMIN, "credit-scoring", title="Third", severity="low", owner="victor"
    )
    notify.run(ctx, ADMIN, _mailer(ctx))
    assert len(inbox.to("victor@example.org")) == 1  # the next digest waits for tomorrow
    clock.advance(days=1)
    notify.run(ctx, ADMIN, _mailer(ctx))
    assert len(inbox.to("victor@example.org")) == 2


def test_kinds_switched_off_are_not_mailed_but_still_listed(
    mailing: Context, mail: tuple[int, Inbox], tmp_path: Path
) -> None:
    ctx, (_port, inbox) = mailing, mail
    _people(ctx, tmp_path)
    notify.set_prefs(ctx, as_(ctx, "victor"), email_kinds=["request"])
    findings.open_finding(
        ctx, ADMIN, "credit-scoring", title="Quiet", severity="low", owner="victor"
    )
    done = notify.run(ctx, ADMIN, _mailer(ctx))
    assert done.created == 1 and inbox.messages == []
    assert [x.subject for x in notify.list_mine(ctx, as_(ctx, "victor"))] == ["Quiet"]


def _drift_for_victor(ctx: Context, tmp_path: Path) -> None:
    _people(ctx, tmp_path)
    findings.open_finding(
        ctx, ADMIN, "credit-scoring", title="Drift", severity="low", owner="victor"
    )


def test_a_mail_server_that_is_away_is_retried_with_back_off(
    mailing: Context, clock: Clock, tmp_path: Path
) -> None:
    ctx = mailing
    _drift_for_victor(ctx, tmp_path)
    secret = "hunter2-smtp-secret"
    away = SmtpMailer(
        host="127.0.0.1", port=1, sender="s@example.org", user="u", password=secret, starttls=False
    )
    assert secret not in repr(away)
    first = notify.run(ctx, ADMIN, away)
    assert (first.queued, first.sent, first.retrying) == (1, 0, 1)
    status = notify.status(ctx, ADMIN)
    [trouble] = status.troubled
    assert trouble.attempts == 1 and trouble.status == "pending"
    assert trouble.last_error is not None and trouble.next_attempt_at is not None
    assert "ConnectionRefusedError" in trouble.last_error and secret not in trouble.last_error
    assert trouble.next_attempt_at - clock.now <= timedelta(minutes=1)
    assert notify.send_due(ctx, away) == (0, 0, 0)  # not due yet: back-off
    clock.advance(minutes=2)
    assert notify.send_due(ctx, away) == (0, 1, 0)
    assert notify.send_due(ctx, _mailer(ctx)) == (0, 0, 0)  # next try is 2 min away
    clock.advance(minutes=3)
    assert notify.send_due(ctx, _mailer(ctx)) == (1, 0, 0)
    assert notify.status(ctx, ADMIN).counts == {"sent": 1}


def test_a_message_that_keeps_failing_is_given_up_and_doctor_says_so(
    mailing: Context, clock: Clock, tmp_path: Path
) -> None:
    ctx = mailing
    _drift_for_victor(ctx, tmp_path)
    away = SmtpMailer(host="127.0.0.1", port=1, sender="s@example.org", starttls=False)
    notify.run(ctx, ADMIN, away)
    for _ in range(10):
        clock.advance(hours=2)
        notify.send_due(ctx, away)
    [given_up] = notify.status(ctx, ADMIN).troubled
    assert (given_up.status, given_up.attempts) == ("failed", 8)
    [check] = [c for c in doctor.check(ctx, ADMIN).checks if c.name == "e-mail"]
    assert not check.ok and "1 failed" in check.detail and "steward notify status" in check.fix


def test_without_a_mail_server_nothing_piles_up_to_be_mailed_later(
    settings: Settings, mail: tuple[int, Inbox], tmp_path: Path
) -> None:
    port, inbox = mail
    unmailed = bootstrap.build(settings, migrate=True)
    _drift_for_victor(unmailed, tmp_path)
    assert notify.run(unmailed, ADMIN, None).created == 1  # in the UI only
    unmailed.uow.engine.dispose()
    configured = bootstrap.build(
        settings.with_(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    )
    done = notify.run(configured, ADMIN, _mailer(configured))
    assert (done.created, done.queued) == (0, 0) and inbox.messages == []
    configured.uow.engine.dispose()


def test_nobody_reads_or_marks_another_persons_notifications(
    mailing: Context, tmp_path: Path
) -> None:
    ctx = mailing
    _people(ctx, tmp_path)
    findings.open_finding(
        ctx, ADMIN, "credit-scoring", title="Mine", severity="low", owner="victor"
    )
    notify.run(ctx, ADMIN, None)
    [note] = notify.list_mine(ctx, as_(ctx, "victor"))
    bob = as_(ctx, "bob")
    assert notify.list_mine(ctx, bob) == []
    with pytest.raises(NotFound):
        notify.mark_read(ctx, bob, note.id)
    assert notify.mark_all_read(ctx, bob) == 0
    assert notify.unread_count(ctx, as_(ctx, "victor")) == 1  # untouched
    assert notify.mark_read(ctx, as_(ctx, "victor"), note.id) == 1
    assert notify.unread_count(ctx, as_(ctx, "victor")) == 0


def test_a_test_email_reaches_the_person_in_their_language(
    mailing: Context, mail: tuple[int, Inbox], tmp_path: Path
) -> None:
    ctx, (_port, inbox) = mailing, mail
    _people(ctx, tmp_path)
    notify.set_prefs(ctx, as_(ctx, "alice"), language="zh-TW")
    assert notify.send_test(ctx, as_(ctx, "alice"), _mailer(ctx)) == "alice@example.org"
    [sent] = inbox.messages
    assert str(sent["Subject"]) == "Steward：測試郵件"  # noqa: RUF001


# Plain-text AUTH on loopback is what this test means to exercise; aiosmtpd warns of it.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_smtp_sign_in_with_the_configured_password() -> None:
    with mail_server("mailer", "s3cret") as (port, inbox):
        good = SmtpMailer("127.0.0.1", port, "s@example.org", "mailer", "s3cret", starttls=False)
        good.send("x@example.org", "hello", "body")
        assert len(inbox.messages) == 1
        bad = SmtpMailer("127.0.0.1", port, "s@example.org", "mailer", "wrong-pw", starttls=False)
        with pytest.raises(Exception) as refused:
            bad.send("x@example.org", "hello", "body")
        assert "wrong-pw" not in str(refused.value) and len(inbox.messages) == 1
