"""`steward notify ...`: your notifications, your preferences, the e-mail outbox."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


@app.command("list")
def list_(
    ctx: typer.Context,
    unread: Annotated[bool, typer.Option("--unread", help="Only unread ones.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """Your notifications, newest first."""

    def go() -> None:
        from steward.domain.notifications import Notification, headline

        found = _client(ctx).notifications(unread_only=unread, limit=limit)
        if json_:
            output.emit_json(found, list[Notification])
            return
        output.table(
            None,
            ["id", "when", "read", "notification", "link"],
            [
                (
                    str(x.id),
                    f"{x.created_at:%Y-%m-%d %H:%M} UTC",
                    "yes" if x.read else "",
                    headline(x, "en"),
                    x.link,
                )
                for x in found
            ],
        )

    output.run(go)


@app.command("read")
def read(
    ctx: typer.Context,
    notification_id: Annotated[
        int | None, typer.Argument(help="The notification's id (see `steward notify list`).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Mark all of yours read.")] = False,
) -> None:
    """Mark one of your notifications read (or --all)."""

    def go() -> None:
        from steward.domain.errors import InvalidInput

        if all_ == (notification_id is not None):
            raise InvalidInput(
                "Give either a notification id or --all (see `steward notify list`).",
                field="notification_id",
            )
        client = _client(ctx)
        changed = (
            client.mark_all_notifications_read()
            if all_
            else client.mark_notification_read(notification_id)
        )
        output.console().print(f"{changed} notification(s) marked read.")

    output.run(go)


@app.command("prefs")
def prefs(
    ctx: typer.Context,
    email_kinds: Annotated[
        str | None,
        typer.Option(
            "--email-kinds",
            help="Comma-separated kinds to e-mail: request, approval_lapsed, alert, "
            "review_due, waiver_expiring, finding ('' e-mails none).",
        ),
    ] = None,
    delivery: Annotated[
        str | None, typer.Option(help="immediate, or digest (one e-mail a day).")
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="en or zh-TW ('' for the organisation's).")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone ('' for the organisation's).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Show your notification preferences, or change the ones given."""

    def go() -> None:
        client = _client(ctx)
        kinds = None
        if email_kinds is not None:
            kinds = [k.strip() for k in email_kinds.split(",") if k.strip()]
        if (kinds, delivery, language, timezone) == (None, None, None, None):
            found = client.notification_preferences()
        else:
            found = client.set_notification_preferences(
                email_kinds=kinds, delivery=delivery, language=language, timezone=timezone
            )
        if json_:
            output.emit_json(found)
            return
        output.fields(
            "Notification preferences",
            [
                ("e-mailed kinds", ", ".join(sorted(found.email_kinds)) or "none"),
                ("delivery", found.delivery),
                ("language", found.language or "organisation default"),
                ("time zone", found.timezone or "organisation default"),
            ],
        )

    output.run(go)


@app.command("test-email")
def test_email(ctx: typer.Context) -> None:
    """Send yourself a test e-mail now through the configured mail server."""

    def go() -> None:
        address = _client(ctx).send_test_email()
        output.console().print(f"Test e-mail sent to {address}.")

    output.run(go)


@app.command("status")
def status(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """The e-mail outbox: messages per status and those that failed (admin)."""

    def go() -> None:
        found = _client(ctx).notification_outbox()
        if json_:
            output.emit_json(found)
            return
        configured = "yes" if found.configured else "no (set STEWARD_SMTP_HOST)"
        counts = ", ".join(f"{k} {v}" for k, v in sorted(found.counts.items())) or "empty"
        output.console().print(f"E-mail configured: {configured}; outbox: {counts}")
        if found.troubled:
            output.table(
                "Not sent",
                ["id", "to", "status", "attempts", "next attempt", "error"],
                [
                    (
                        t.id,
                        t.recipient,
                        t.status,
                        str(t.attempts),
                        t.next_attempt_at and f"{t.next_attempt_at:%Y-%m-%d %H:%M} UTC",
                        t.last_error or "",
                    )
                    for t in found.troubled
                ],
            )

    output.run(go)
