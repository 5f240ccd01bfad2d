"""`steward webhook create|list|delete|deliveries|deliver`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


@app.command("create")
def create(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="http(s) URL that receives the events.")],
    event: Annotated[
        list[str],
        typer.Option(
            "--event",
            help="approval.requested, approval.decided, gate.failed, transition.applied, "
            "finding.opened, review.overdue, deploy.mismatch, or '*' (repeatable).",
        ),
    ],
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    secret: Annotated[
        str | None, typer.Option(help="HMAC secret (16-128 chars); default: generated.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Subscribe a URL to events. The secret is shown once: give it to the receiver."""

    def go() -> None:
        found = _client(ctx).create_webhook(
            url, events=event, description=description, secret=secret
        )
        if json_:
            output.emit_json(found)
            return
        output.fields(
            f"Webhook {found.webhook.id}",
            [
                ("url", found.webhook.url),
                ("events", ", ".join(found.webhook.events)),
                ("secret", found.secret),
            ],
        )
        output.err_console().print("Store the secret now; it is not shown again.", highlight=False)

    output.run(go)


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include deleted webhooks.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Webhook subscriptions."""

    def go() -> None:
        from steward.domain.webhooks import Webhook

        found = _client(ctx).webhooks(include_deleted=all_)
        if json_:
            output.emit_json(found, list[Webhook])
            return
        output.table(
            None,
            ["id", "url", "events", "active", "created (UTC)", "by", "description"],
            [
                (
                    w.id,
                    w.url,
                    ", ".join(w.events),
                    "yes" if w.active else "no",
                    f"{w.created_at:%Y-%m-%d %H:%M:%S}",
                    w.created_by,
                    w.description,
                )
                for w in found
            ],
        )

    output.run(go)


@app.command("delete")
def delete(
    ctx: typer.Context,
    webhook_id: Annotated[str, typer.Argument(help="Webhook id (wh_...).")],
    json_: JsonOpt = False,
) -> None:
    """Stop sending to a webhook; queued deliveries are cancelled, the log is kept."""

    def go() -> None:
        found = _client(ctx).delete_webhook(webhook_id)
        if json_:
            output.emit_json(found)
            return
        output.console().print(f"Deleted webhook {found.id} ({found.url})", highlight=False)

    output.run(go)


@app.command("deliveries")
def deliveries(
    ctx: typer.Context,
    webhook_id: Annotated[str, typer.Argument(help="Webhook id (wh_...).")],
    status: Annotated[
        str | None, typer.Option(help="pending, delivered, failed or cancelled.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """The delivery log of a webhook: attempts, status codes, errors."""

    def go() -> None:
        from steward.domain.webhooks import WebhookDelivery

        found = _client(ctx).webhook_deliveries(webhook_id, status=status, limit=limit)
        if json_:
            output.emit_json(found, list[WebhookDelivery])
            return
        output.table(
            None,
            [
                "delivery",
                "event",
                "audit seq",
                "status",
                "attempts",
                "last code",
                "next try",
                "last error",
            ],
            [
                (
                    d.id,
                    d.event,
                    d.audit_seq,
                    d.status.value,
                    d.attempts,
                    d.last_status_code,
                    f"{d.next_attempt_at:%Y-%m-%d %H:%M:%S}" if d.next_attempt_at else "",
                    d.last_error,
                )
                for d in found
            ],
        )

    output.run(go)


@app.command("deliver")
def deliver(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="At most this many deliveries.")] = 100,
    json_: JsonOpt = False,
) -> None:
    """Send every delivery that is due now (a running server does this by itself)."""

    def go() -> None:
        report = _client(ctx).deliver_webhooks(limit=limit)
        if json_:
            output.emit_json(report)
            return
        output.console().print(
            f"Attempted {report.attempted}: {report.delivered} delivered, "
            f"{report.retrying} to retry, {report.failed} failed for good.",
            highlight=False,
        )

    output.run(go)
