"""Notifications: what needs each person, in the web UI and by e-mail.

Who is told what comes from the services that own each rule: "my work"
(``steward.services.work``: requests this person may decide, findings assigned to them,
reviews they may complete, alerts on the models they own), open requests whose approvals
lapsed (the gate's own lapse rule, ``domain.gate.lapse_reason``) and waivers about to
expire. A worker pass (``Job.NOTIFICATIONS``) turns them into rows — each event once per
person, by its dedupe key — queues e-mails in an outbox in the same transaction, and
sends what is due through a :class:`Mailer`, retrying failures with back-off.

Everything a person reads or changes here is their own: the recipient is part of every
query, so no caller can read or mark someone else's notifications.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from steward.domain import notifications as n
from steward.domain.errors import InvalidInput, NotFound, StewardError, Unauthenticated
from steward.domain.gate import Binding, lapse_reason
from steward.domain.identity import User
from steward.domain.notifications import (
    Event,
    Kind,
    Notification,
    OutboxStatus,
    OutboxTrouble,
    Preferences,
)
from steward.domain.permissions import Permission, Principal, authorize, ensure
from steward.domain.requests import RequestStatus, Verdict
from steward.services import approvals, gates, identity, versions, waivers, work
from steward.services.context import Context
from steward.store.uow import UnitOfWork

log = logging.getLogger("steward.notifications")

MAX_PAGE = 200
MAX_ID = 2**31 - 1  # ids are 32-bit integers in PostgreSQL: a larger one names nothing


class Mailer(Protocol):
    """Sends one plain-text e-mail; raises on failure (the outbox retries)."""

    def send(self, to: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True)
class PassResult:
    created: int
    queued: int
    sent: int
    retrying: int
    failed: int


def _own(principal: Principal) -> str:
    """The signed-in person whose notifications these are."""
    if principal.anonymous:
        raise Unauthenticated(
            "Notifications belong to a person: sign in (`steward user login`) or send an API token."
        )
    return principal.name


def _link_model(model: str, tail: str = "") -> str:
    return f"/models/{quote(model, safe='')}{tail}"


# -- who needs what --------------------------------------------------------------------------


def events_for(ctx: Context, person: Principal, today: Any) -> list[Event]:
    """What ``person``'s own "my work" says waits for them, as notification events."""
    found: list[Event] = []
    for item in work.my_work(ctx, person).items:
        if item.kind == "approval":
            found.append(
                Event(
                    person.name,
                    Kind.REQUEST,
                    item.model,
                    item.title,
                    f"/approvals#req-{quote(item.ref, safe='')}",
                    f"request:{item.ref}",
                )
            )
        elif item.kind == "finding":
            found.append(
                Event(
                    person.name,
                    Kind.FINDING,
                    item.model,
                    item.title,
                    f"/findings?model={quote(item.model, safe='')}#finding-{item.ref}",
                    f"finding:{item.ref}",
                    item.message_key,
                    item.message_params,
                )
            )
        elif item.kind == "review" and n.within(item.due, today, n.REVIEW_NOTICE_DAYS):
            found.append(
                Event(
                    person.name,
                    Kind.REVIEW_DUE,
                    item.model,
                    f"due {item.due}",
                    f"/reviews#review-{quote(item.model, safe='')}",
                    f"review:{item.model}:{item.due}",
                )
            )
        elif item.kind == "alert":
            found.append(
                Event(
                    person.name,
                    Kind.ALERT,
                    item.model,
                    item.title,
                    _link_model(item.model, "/monitoring"),
                    f"alert:{item.ref}",
                )
            )
    return found


def lapsed_events(ctx: Context, principal: Principal) -> list[Event]:
    """Open requests holding an approval that no longer covers the version (the gate's
    lapse rule): the requester and the approver both need to know."""
    found: list[Event] = []
    for listed in approvals.list_requests(ctx, principal, status=RequestStatus.OPEN.value):
        found_request = approvals.get_request(ctx, principal, listed.id)  # with its approvals
        request, report = found_request.request, found_request.gate
        version = versions.get_version(ctx, principal, request.model, request.version)
        now = Binding(version.artifact.sha256, gates.fingerprints(version), report.policy or "")
        for given in request.approvals:
            if given.decision is not Verdict.APPROVE:
                continue
            binding = Binding(
                given.artifact_sha256,
                (given.training_fingerprint, given.evaluation_fingerprint),
                given.policy,
            )
            reason = lapse_reason(given.approver, binding, now)
            if reason is None:
                continue
            for who in {request.requested_by, given.approver}:
                found.append(
                    Event(
                        who,
                        Kind.APPROVAL_LAPSED,
                        request.model,
                        f"request {request.id}: {reason}",
                        "/approvals",
                        f"lapsed:{given.id}:{binding.artifact_sha256[:16]}:{now.artifact_sha256[:16]}"
                        f":{now.policy}",
                    )
                )
    return found


def waiver_events(ctx: Context, principal: Principal, now: datetime) -> list[Event]:
    """Active waivers that expire within WAIVER_NOTICE_DAYS: their model's owner and the
    person who granted them."""
    found: list[Event] = []
    horizon = now + timedelta(days=n.WAIVER_NOTICE_DAYS)
    cursor: str | None = None
    owners: dict[str, str] = {}
    while True:
        page = waivers.list_waivers(ctx, principal, active_only=True, limit=500, cursor=cursor)
        for w in page.items:
            if w.expires_at > horizon:
                continue
            if w.model not in owners:
                with ctx.uow.read() as uow:
                    row = uow.models.row(w.model)
                owners[w.model] = str(row["owner"] or "") if row is not None else ""
            for who in {owners[w.model], w.granted_by} - {""}:
                found.append(
                    Event(
                        who,
                        Kind.WAIVER_EXPIRING,
                        w.model,
                        f"waiver {w.id} on version {w.version} ({w.requirement}) expires "
                        f"{w.expires_at:%Y-%m-%d}",
                        _link_model(w.model),
                        f"waiver:{w.id}:{w.expires_at:%Y%m%d}",
                    )
                )
        cursor = page.next_cursor
        if not cursor:
            return found


# -- the worker pass -------------------------------------------------------------------------


def _zone(ctx: Context, prefs: Preferences) -> tzinfo:
    if prefs.timezone:
        try:
            return ZoneInfo(prefs.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ctx.settings.zone


def _language(ctx: Context, prefs: Preferences) -> str:
    return prefs.language or ctx.settings.language


def collect(ctx: Context, principal: Principal) -> tuple[int, int]:
    """Create the notifications that are due and queue their e-mails: (created, queued)."""
    ensure(principal, Permission.USER_MANAGE)
    now = ctx.uow.clock()
    with ctx.uow.read() as uow:
        people = {u.name: u for u in uow.users.search(active=True)}
    events: list[Event] = []
    for name in people:
        person = identity.principal_for(ctx, name)
        if authorize(person, Permission.GOVERNANCE_READ).allowed:
            events += events_for(ctx, person, now.date())
    events += lapsed_events(ctx, principal)
    events += waiver_events(ctx, principal, now)
    created = queued = 0
    mail = bool(ctx.settings.smtp_host)
    with ctx.uow.write() as uow:
        for event in events:
            if event.recipient not in people:
                continue
            note = uow.notifications.add(event, uow.now)
            if note is not None:
                created += 1
        if mail:
            queued = _queue(ctx, uow, people)
        else:  # no mail server: nothing waits to be e-mailed once one is configured
            uow.notifications.mark_all_mailed(uow.now)
        uow.commit()
    return created, queued


def _queue(ctx: Context, uow: UnitOfWork, people: dict[str, User]) -> int:
    """Queue the e-mails due: one per new notification for immediate delivery, one digest
    a day for the others. Notifications that need no e-mail are marked handled."""
    queued = 0
    base = ctx.settings.public_url or ""
    for name in uow.notifications.recipients_unmailed():
        user = people.get(name)
        pending = uow.notifications.unmailed(name)
        prefs = uow.notifications.prefs(name)
        wanted = [p for p in pending if prefs.emails(p.kind)]
        if user is None or not user.email or not wanted:
            uow.notifications.mark_mailed([p.id for p in pending], uow.now)
            continue
        zone, language = _zone(ctx, prefs), _language(ctx, prefs)
        display = user.display_name or name
        if prefs.delivery is n.Delivery.IMMEDIATE:
            for note in wanted:
                msg = n.immediate(note, name=display, language=language, zone=zone, base_url=base)
                uow.notifications.enqueue(name, user.email, msg.subject, msg.body, uow.now)
                queued += 1
        elif n.digest_due(uow.now, prefs.last_digest_at, zone):
            msg = n.digest(wanted, name=display, language=language, zone=zone, base_url=base)
            uow.notifications.enqueue(name, user.email, msg.subject, msg.body, uow.now)
            uow.notifications.save_prefs(replace(prefs, last_digest_at=uow.now), uow.now)
            queued += 1
        else:
            # Unwanted kinds are handled now; wanted ones wait for the digest.
            uow.notifications.mark_mailed([p.id for p in pending if p not in wanted], uow.now)
            continue
        uow.notifications.mark_mailed([p.id for p in pending], uow.now)
    return queued


def send_due(ctx: Context, mailer: Mailer, *, limit: int = 50) -> tuple[int, int, int]:
    """Send the outbox's due messages: (sent, to retry, failed for good). Each message is
    its own transaction, so a crash never sends one twice on the next pass or loses it."""
    sent = retrying = failed = 0
    for _ in range(limit):
        with ctx.uow.write() as uow:
            due = uow.notifications.due(uow.now, 1)
            if not due:
                return sent, retrying, failed
            row = due[0]
            try:
                mailer.send(str(row["address"]), str(row["subject"]), str(row["body"]))
            except Exception as exc:  # any transport failure is retried; its text is kept
                attempts = int(row["attempts"]) + 1
                retry = n.retry_at(attempts, uow.now)
                uow.notifications.failed(str(row["id"]), attempts, _describe(exc), retry)
                log.warning("notification e-mail %s failed (attempt %d)", row["id"], attempts)
                if retry is None:
                    failed += 1
                else:
                    retrying += 1
            else:
                uow.notifications.sent(str(row["id"]), uow.now)
                sent += 1
            uow.commit()
    return sent, retrying, failed


def _describe(exc: Exception) -> str:
    """A failure's text for the outbox: the exception's own words, never the settings."""
    return f"{type(exc).__name__}: {exc}"[:2000]


def run(ctx: Context, principal: Principal, mailer: Mailer | None) -> PassResult:
    """One worker pass: create, queue, send."""
    created, queued = collect(ctx, principal)
    sent = retrying = failed = 0
    if mailer is not None:
        sent, retrying, failed = send_due(ctx, mailer)
    return PassResult(created, queued, sent, retrying, failed)


def status(ctx: Context, principal: Principal, *, limit: int = 20) -> OutboxStatus:
    """The outbox: how many messages are pending, sent, failed; the latest troubles."""
    ensure(principal, Permission.USER_MANAGE)
    with ctx.uow.read() as uow:
        counts = uow.notifications.outbox_counts()
        rows = uow.notifications.troubled(limit)
    troubled = tuple(
        OutboxTrouble(
            id=str(r["id"]),
            recipient=str(r["recipient"]),
            status=str(r["status"]),
            attempts=int(r["attempts"]),
            next_attempt_at=r["next_attempt_at"],
            last_error=r["last_error"],
        )
        for r in rows
    )
    return OutboxStatus(bool(ctx.settings.smtp_host), counts, troubled)


# -- one's own notifications -----------------------------------------------------------------


def list_mine(
    ctx: Context,
    principal: Principal,
    *,
    unread_only: bool = False,
    limit: int = 50,
    before: int | None = None,
) -> list[Notification]:
    me = _own(principal)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.", field="limit")
    if before is not None:
        before = min(before, MAX_ID + 1)
    with ctx.uow.read() as uow:
        return uow.notifications.for_recipient(
            me, unread_only=unread_only, limit=limit, before=before
        )


def unread_count(ctx: Context, principal: Principal) -> int:
    me = _own(principal)
    with ctx.uow.read() as uow:
        return uow.notifications.unread(me)


def mark_read(ctx: Context, principal: Principal, note_id: int) -> int:
    """Mark one of one's own notifications read. Someone else's is answered exactly as a
    missing one, so ids cannot be probed."""
    me = _own(principal)
    with ctx.uow.write() as uow:
        if not 1 <= note_id <= MAX_ID or not uow.notifications.owned(me, note_id):
            raise NotFound(
                f"You have no notification {note_id}. See yours with `steward notify list`.",
                notification=note_id,
            )
        changed = uow.notifications.mark_read(me, [note_id], uow.now)
        uow.commit()
    return changed


def mark_all_read(ctx: Context, principal: Principal) -> int:
    me = _own(principal)
    with ctx.uow.write() as uow:
        changed = uow.notifications.mark_read(me, None, uow.now)
        uow.commit()
    return changed


def get_prefs(ctx: Context, principal: Principal) -> Preferences:
    me = _own(principal)
    with ctx.uow.read() as uow:
        return uow.notifications.prefs(me)


def set_prefs(
    ctx: Context,
    principal: Principal,
    *,
    email_kinds: Sequence[str] | None = None,
    delivery: str | None = None,
    language: str | None = None,
    timezone: str | None = None,
) -> Preferences:
    """Change one's own preferences; what is not given stays. An empty language or time
    zone means the organisation's."""
    me = _own(principal)
    changes: dict[str, Any] = {}
    if email_kinds is not None:
        changes["email_kinds"] = n.parse_kinds(email_kinds)
    if delivery is not None:
        changes["delivery"] = n.parse_delivery(delivery)
    if language is not None:
        changes["language"] = n.parse_language(language)
    if timezone is not None:
        zone = timezone.strip() or None
        if zone is not None:
            try:
                if len(zone) > 64:  # the longest IANA name is 32 characters
                    raise ValueError(zone)
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                raise InvalidInput(
                    f"{timezone!r} is not a time zone; use an IANA name such as Asia/Taipei.",
                    field="timezone",
                ) from None
        changes["timezone"] = zone
    with ctx.uow.write() as uow:
        if uow.users.get(me) is None:
            raise NotFound(f"No user {me!r}: preferences belong to stored users.", user=me)
        prefs = replace(uow.notifications.prefs(me), **changes)
        uow.notifications.save_prefs(prefs, uow.now)
        uow.commit()
    return prefs


def send_test(ctx: Context, principal: Principal, mailer: Mailer | None = None) -> str:
    """Send a test e-mail to oneself now, in one's language and time zone; the address.
    ``mailer`` defaults to the configured SMTP server."""
    me = _own(principal)
    if mailer is None:
        from steward.mailer import SmtpMailer

        mailer = SmtpMailer.from_settings(ctx.settings)
    if mailer is None:
        raise InvalidInput(
            "E-mail is not configured on this Steward: an administrator sets "
            "STEWARD_SMTP_HOST (docs/deployment.md, E-mail notifications).",
            field="smtp_host",
        )
    with ctx.uow.read() as uow:
        user = uow.users.get(me)
        prefs = uow.notifications.prefs(me)
    if user is None or not user.email:
        raise InvalidInput(
            "You have no e-mail address: ask an administrator to set one "
            "(`steward user update NAME --email ADDRESS`).",
            field="email",
        )
    msg = n.probe_message(
        name=user.display_name or me,
        language=_language(ctx, prefs),
        zone=_zone(ctx, prefs),
        now=ctx.uow.clock(),
    )
    try:
        mailer.send(user.email, msg.subject, msg.body)
    except Exception as exc:
        raise StewardError(
            f"The mail server refused or could not be reached: {_describe(exc)}. Check "
            "STEWARD_SMTP_HOST / _PORT / _STARTTLS and the sign-in (docs/deployment.md)."
        ) from None
    return user.email
