"""`steward approvals ...` — request moves, decide them, see what waits for you."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.cli import output
from steward.cli.gate_cmd import print_report, report_json

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
RequestArg = Annotated[str, typer.Argument(help="Request id (req_...).")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


def _result_json(result: Any) -> dict[str, Any]:
    from steward import wire

    return {
        "request": wire.dump(result.request),
        "gate": report_json(result.gate),
        "applied": result.applied,
    }


def _print_result(result: Any) -> None:
    r = result.request
    output.fields(
        f"Request {r.id}",
        [
            ("move", f"{r.model} v{r.version}: {r.from_stage.value} -> {r.to_stage.value}"),
            ("status", r.status.value + (" (applied now)" if result.applied else "")),
            ("requested", f"{r.requested_at:%Y-%m-%d %H:%M} by {r.requested_by}"),
            ("justification", r.justification),
            (
                "closed",
                f"{r.closed_at:%Y-%m-%d %H:%M} by {r.closed_by}: {r.close_reason}"
                if r.closed_at
                else "",
            ),
        ],
    )
    if r.approvals:
        output.table(
            "Decisions",
            ["by", "decision", "roles", "teams", "when", "comment"],
            [
                (
                    a.approver,
                    a.decision.value,
                    ", ".join(a.roles),
                    ", ".join(a.teams),
                    f"{a.at:%Y-%m-%d %H:%M}",
                    a.comment,
                )
                for a in r.approvals
            ],
        )
    if r.status.value == "open":
        print_report(result.gate)


def _emit(result: Any, json_: bool) -> None:
    if json_:
        output.emit_json(_result_json(result))
    else:
        _print_result(result)


@app.command("request")
def request(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version number.")],
    to: Annotated[str, typer.Option("--to", help="Target stage, e.g. approved.")],
    justification: Annotated[
        str, typer.Option("--justification", "-m", help="Why the version should move.")
    ],
    json_: JsonOpt = False,
) -> None:
    """Ask for a move. It applies at once if the gate is met; otherwise it waits for approvals."""

    def go() -> None:
        _emit(
            _client(ctx).request_transition(model, version, to=to, justification=justification),
            json_,
        )

    output.run(go)


@app.command("inbox")
def inbox(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Open requests you may decide now, each with its gate."""

    def go() -> None:
        items = _client(ctx).inbox()
        if json_:
            output.emit_json([_result_json(i) for i in items])
            return
        if not items:
            output.err_console().print("Nothing waits for you.")
            return
        output.table(
            "Waiting for your decision",
            ["request", "model", "version", "move", "requested by", "unmet"],
            [
                (
                    i.request.id,
                    i.request.model,
                    i.request.version,
                    f"{i.request.from_stage.value} -> {i.request.to_stage.value}",
                    i.request.requested_by,
                    ", ".join(o.requirement for o in i.gate.outcomes if not o.met) or "-",
                )
                for i in items
            ],
        )

    output.run(go)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="open, applied, rejected or withdrawn.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Only this model's requests.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    json_: JsonOpt = False,
) -> None:
    """Transition requests, newest first."""

    def go() -> None:
        from steward.domain.requests import TransitionRequest

        found = _client(ctx).requests(status=status, model=model, limit=limit)
        if json_:
            output.emit_json(found, list[TransitionRequest])
            return
        output.table(
            "Transition requests",
            ["request", "model", "version", "move", "status", "requested", "decisions"],
            [
                (
                    r.id,
                    r.model,
                    r.version,
                    f"{r.from_stage.value} -> {r.to_stage.value}",
                    r.status.value,
                    f"{r.requested_at:%Y-%m-%d %H:%M} {r.requested_by}",
                    ", ".join(f"{a.approver}:{a.decision.value}" for a in r.approvals),
                )
                for r in found
            ],
        )

    output.run(go)


@app.command("show")
def show(ctx: typer.Context, request_id: RequestArg, json_: JsonOpt = False) -> None:
    """A request, its decisions and the gate as it stands."""
    output.run(lambda: _emit(_client(ctx).get_request(request_id), json_))


@app.command("approve")
def approve(
    ctx: typer.Context,
    request_id: RequestArg,
    comment: Annotated[str, typer.Option("--comment", "-c", help="Your remarks.")] = "",
    json_: JsonOpt = False,
) -> None:
    """Approve a request; the move applies as soon as its gate is satisfied."""
    output.run(lambda: _emit(_client(ctx).approve(request_id, comment), json_))


@app.command("reject")
def reject(
    ctx: typer.Context,
    request_id: RequestArg,
    comment: Annotated[str, typer.Option("--comment", "-c", help="What must change.")],
    json_: JsonOpt = False,
) -> None:
    """Reject a request: it closes, and the version goes back a stage for rework."""
    output.run(lambda: _emit(_client(ctx).reject(request_id, comment), json_))


@app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    request_id: RequestArg,
    reason: Annotated[str, typer.Option(help="Why.")] = "",
    json_: JsonOpt = False,
) -> None:
    """Withdraw your own open request."""

    def go() -> None:
        r = _client(ctx).withdraw_request(request_id, reason)
        if json_:
            output.emit_json(r)
        else:
            output.err_console().print(f"Request {r.id} withdrawn.")

    output.run(go)


@app.command("apply")
def apply(ctx: typer.Context, request_id: RequestArg, json_: JsonOpt = False) -> None:
    """Re-evaluate an open request (e.g. after checks landed) and apply it if the gate passes."""
    output.run(lambda: _emit(_client(ctx).apply_request(request_id), json_))
