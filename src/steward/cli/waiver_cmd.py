"""`steward waiver ...` — excuse one policy requirement on one version, until a date."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


def _row(w: Any, now: Any) -> tuple[Any, ...]:
    return (
        w.id,
        w.model,
        w.version,
        w.requirement,
        w.state(now),
        f"{w.expires_at:%Y-%m-%d %H:%M}",
        w.granted_by,
        w.reason,
    )


_COLUMNS = ["id", "model", "version", "requirement", "state", "expires (UTC)", "by", "reason"]


@app.command("grant")
def grant(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version number.")],
    requirement: Annotated[
        str, typer.Option(help="Policy requirement id, e.g. approvals.independent.")
    ],
    reason: Annotated[str, typer.Option(help="Why the requirement may be waived.")],
    expires: Annotated[
        str, typer.Option(help="YYYY-MM-DD (end of that day, UTC) or an ISO time with a zone.")
    ],
    json_: JsonOpt = False,
) -> None:
    """Grant a waiver (risk officers): the gate shows the requirement as waived until expiry."""

    def go() -> None:
        w = _client(ctx).grant_waiver(
            model, version, requirement=requirement, reason=reason, expires=expires
        )
        if json_:
            output.emit_json(w)
        else:
            output.console().print(
                f"Waiver {w.id}: {w.requirement} waived on {w.model} version {w.version} "
                f"until {w.expires_at:%Y-%m-%d %H:%M} UTC"
            )

    output.run(go)


@app.command("list")
def list_(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Argument(help="Model; omit for every model.")] = None,
    version: Annotated[int | None, typer.Option(help="Only this version.")] = None,
    active: Annotated[bool, typer.Option("--active", help="Only waivers that count now.")] = False,
    limit: Annotated[int, typer.Option(help="Page size.")] = 100,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Waivers, oldest first, with their state (active, expired, revoked)."""

    def go() -> None:
        from datetime import UTC, datetime

        from steward.domain.entities import Page
        from steward.domain.findings import Waiver

        page = _client(ctx).waivers(
            model, version=version, active_only=active, limit=limit, cursor=cursor
        )
        if json_:
            output.emit_json(page, Page[Waiver])
            return
        now = datetime.now(UTC)
        output.table(None, _COLUMNS, [_row(w, now) for w in page.items])
        if page.next_cursor:
            output.console().print(f"More: --cursor {page.next_cursor}")

    output.run(go)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    waiver_id: Annotated[int, typer.Argument(help="Waiver id, from `waiver list`.")],
    reason: Annotated[str, typer.Option(help="Why the waiver ends early.")],
    json_: JsonOpt = False,
) -> None:
    """End a waiver now; the requirement counts again."""

    def go() -> None:
        w = _client(ctx).revoke_waiver(waiver_id, reason=reason)
        if json_:
            output.emit_json(w)
        else:
            output.console().print(f"Revoked waiver {w.id} ({w.requirement} on {w.model})")

    output.run(go)
