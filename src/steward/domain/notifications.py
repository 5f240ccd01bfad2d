# ruff: noqa: RUF001  (Chinese text uses full-width punctuation, as it should)
"""Notifications: the events that need someone, how each person wants to hear of them,
and the e-mail text in their language and time zone.

Who a notification is for is not decided here: the services that own each rule say
what waits for whom (``steward.services.work``), and the notification service turns
that into rows. This module holds what is the same wherever they are shown: the kinds,
the preferences, when a daily digest is due, the retry wait for a failed e-mail, and
the wording of a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from steward.domain import finding_messages
from steward.domain.backoff import doubling
from steward.domain.errors import InvalidInput


class Kind(StrEnum):
    REQUEST = "request"  # a transition request waiting for your decision
    APPROVAL_LAPSED = "approval_lapsed"  # an approval no longer covers the version
    ALERT = "alert"  # a monitoring alert on a model you own
    REVIEW_DUE = "review_due"  # a periodic review you may complete falls due soon
    WAIVER_EXPIRING = "waiver_expiring"  # a waiver on your model runs out soon
    FINDING = "finding"  # a finding assigned to you


class Delivery(StrEnum):
    IMMEDIATE = "immediate"  # one e-mail per notification, on the next worker pass
    DIGEST = "digest"  # one e-mail a day listing what arrived since the last


LANGUAGES = ("en", "zh-TW")
REVIEW_NOTICE_DAYS = 14  # a review due within this many days is announced
WAIVER_NOTICE_DAYS = 14  # so is a waiver that expires within this many days
DIGEST_HOUR = 8  # digests go out from 08:00 in the recipient's time zone
# A failed e-mail waits 1 min, 2, 4 … at most an hour; after MAX_ATTEMPTS it is failed.
RETRY_FIRST = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Event:
    """One thing that needs ``recipient``; ``key`` makes it notify once, ever."""

    recipient: str
    kind: Kind
    model: str
    subject: str  # as the owning service words it
    link: str  # a path in the web UI
    key: str
    # A finding Steward wrote: its message key and parameters (domain.finding_messages).
    message_key: str | None = None
    message_params: dict[str, Any] | None = None


@dataclass(frozen=True)
class Notification:
    id: int
    recipient: str
    kind: Kind
    model: str
    subject: str
    link: str
    created_at: datetime
    read_at: datetime | None = None
    message_key: str | None = None  # as on Event
    message_params: dict[str, Any] | None = None

    @property
    def read(self) -> bool:
        return self.read_at is not None


@dataclass(frozen=True)
class Preferences:
    user: str
    email_kinds: frozenset[Kind] = frozenset(Kind)  # e-mail on for these kinds
    delivery: Delivery = Delivery.IMMEDIATE
    language: str | None = None  # None: the organisation's default
    timezone: str | None = None  # None: the organisation's (STEWARD_TIMEZONE)
    last_digest_at: datetime | None = None

    def emails(self, kind: Kind) -> bool:
        return kind in self.email_kinds


@dataclass(frozen=True)
class OutboxTrouble:
    """An e-mail that failed at least once and is not sent."""

    id: str
    recipient: str
    status: str  # pending (to retry) or failed (given up)
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class OutboxStatus:
    configured: bool  # STEWARD_SMTP_HOST is set
    counts: dict[str, int]  # messages per status: pending, sent, failed
    troubled: tuple[OutboxTrouble, ...]


def parse_kinds(values: Sequence[str]) -> frozenset[Kind]:
    found = set()
    for value in values:
        try:
            found.add(Kind(value.strip()))
        except ValueError:
            known = ", ".join(k.value for k in Kind)
            raise InvalidInput(
                f"Unknown notification kind {value!r}; use one of {known}.", field="email_kinds"
            ) from None
    return frozenset(found)


def parse_delivery(value: str) -> Delivery:
    try:
        return Delivery(value.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"Unknown delivery {value!r}; use immediate or digest.", field="delivery"
        ) from None


def parse_language(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    for known in LANGUAGES:
        if value.strip().lower() == known.lower():
            return known
    raise InvalidInput(
        f"Unknown language {value!r}; use {' or '.join(LANGUAGES)}.", field="language"
    )


def digest_due(now: datetime, last: datetime | None, zone: tzinfo) -> bool:
    """A digest is due once a local day, from DIGEST_HOUR on."""
    local = now.astimezone(zone)
    if local.time() < time(DIGEST_HOUR):
        return False
    return last is None or last.astimezone(zone).date() < local.date()


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When a message that has failed ``attempts`` times is tried again (None: give up)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + doubling(attempts - 1, RETRY_FIRST, RETRY_CAP)


def within(due: date | None, today: date, days: int) -> bool:
    return due is not None and due <= today + timedelta(days=days)


# -- wording ----------------------------------------------------------------------------------

KIND_TEXT: dict[str, dict[Kind, str]] = {
    "en": {
        Kind.REQUEST: "Request waiting for your decision",
        Kind.APPROVAL_LAPSED: "Approval lapsed",
        Kind.ALERT: "Monitoring alert",
        Kind.REVIEW_DUE: "Periodic review due",
        Kind.WAIVER_EXPIRING: "Waiver expiring",
        Kind.FINDING: "Finding assigned to you",
    },
    "zh-TW": {
        Kind.REQUEST: "有待您決定的申請",
        Kind.APPROVAL_LAPSED: "核准已失效",
        Kind.ALERT: "監控警示",
        Kind.REVIEW_DUE: "定期審查即將到期",
        Kind.WAIVER_EXPIRING: "豁免即將到期",
        Kind.FINDING: "指派給您的發現事項",
    },
}

_TEXT = {
    "en": {
        "greeting": "Hello {name},",
        "one": "Steward has something that needs you:",
        "digest_subject": "Steward: {n} notification(s) today",
        "digest": "Here is what needed you since the last digest:",
        "open": "Open it in Steward: {url}",
        "all": "All your notifications: {url}",
        "at": "at {time}",
        "prefs": "Change what you receive on your page in Steward ({url}).",
        "test_subject": "Steward: test e-mail",
        "test": "This test e-mail shows that Steward can reach you. Sent {time}.",
    },
    "zh-TW": {
        "greeting": "{name} 您好：",
        "one": "Steward 有一件事需要您處理：",
        "digest_subject": "Steward：今日 {n} 則通知",
        "digest": "自上次摘要以來需要您處理的事項：",
        "open": "在 Steward 開啟：{url}",
        "all": "您的所有通知：{url}",
        "at": "時間 {time}",
        "prefs": "可在 Steward 的個人頁面變更接收設定（{url}）。",
        "test_subject": "Steward：測試郵件",
        "test": "這封測試郵件表示 Steward 能寄信給您。寄出時間 {time}。",
    },
}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def local_time(at: datetime, zone: tzinfo) -> str:
    """A time as the recipient reads it, with its zone named."""
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".strip()


def headline(note: Notification, language: str) -> str:
    words = KIND_TEXT.get(language, KIND_TEXT["en"])
    subject = note.subject
    if language != "en":  # English keeps the stored subject; a generated finding is re-worded
        subject = finding_messages.title(note.message_key, note.message_params, language) or subject
    return f"{words[note.kind]}: {note.model} — {subject}"


def _words(language: str) -> dict[str, str]:
    return _TEXT.get(language, _TEXT["en"])


def immediate(
    note: Notification, *, name: str, language: str, zone: tzinfo, base_url: str
) -> Message:
    w = _words(language)
    body = "\n".join(
        [
            w["greeting"].format(name=name),
            "",
            w["one"],
            "",
            headline(note, language),
            w["at"].format(time=local_time(note.created_at, zone)),
            w["open"].format(url=base_url + note.link),
            "",
            w["prefs"].format(url=f"{base_url}/notifications"),
        ]
    )
    return Message(f"Steward: {headline(note, language)}"[:250], body)


def digest(
    notes: Sequence[Notification], *, name: str, language: str, zone: tzinfo, base_url: str
) -> Message:
    w = _words(language)
    lines = [w["greeting"].format(name=name), "", w["digest"], ""]
    for note in notes:
        lines.append(f"- {headline(note, language)} ({local_time(note.created_at, zone)})")
        lines.append(f"  {base_url + note.link}")
    lines += ["", w["all"].format(url=f"{base_url}/notifications")]
    lines.append(w["prefs"].format(url=f"{base_url}/notifications"))
    return Message(w["digest_subject"].format(n=len(notes)), "\n".join(lines))


def probe_message(*, name: str, language: str, zone: tzinfo, now: datetime) -> Message:
    w = _words(language)
    body = "\n".join(
        [w["greeting"].format(name=name), "", w["test"].format(time=local_time(now, zone))]
    )
    return Message(w["test_subject"], body)
