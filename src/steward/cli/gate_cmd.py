"""`steward gate check` — the CI/CD gate: exit 0 only when the move would be allowed."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)

# Exit status when the gate refuses the move (errors exit 1, usage mistakes 2).
GATE_REFUSED = 3
_STYLE = {"met": "green", "unmet": "bold red", "waived": "yellow"}


def print_report(report: Any) -> None:
    """Each requirement as met / unmet / waived, with its reason, evidence and controls."""
    from rich.table import Table

    verdict = (
        output.styled("ALLOWED", "bold green")
        if report.allowed
        else output.styled("REFUSED", "bold red")
    )
    policy = report.policy or "none (only the lifecycle state machine applies)"
    output.console().print(
        output.line(
            f"{report.model} v{report.version}: {report.from_stage.value} -> "
            f"{report.to_stage.value}  ",
            verdict,
            f"   policy: {policy}" + (f"   request: {report.request}" if report.request else ""),
        ),
        highlight=False,
    )
    tbl = Table(show_lines=True, header_style="bold")
    for col in ("requirement", "status", "reason", "evidence", "controls"):
        tbl.add_column(col, overflow="fold")
    for o in report.outcomes:
        style = _STYLE[o.status]
        tbl.add_row(
            output.line(o.requirement),
            output.styled(o.status, style),
            output.line(o.reason),
            output.line("\n".join(o.evidence)),
            output.line("\n".join(o.controls)),
        )
    output.console().print(tbl)


def report_json(report: Any) -> dict[str, Any]:
    from steward import wire

    data: dict[str, Any] = wire.dump(report)
    for item, outcome in zip(data["outcomes"], report.outcomes, strict=True):
        item["status"] = outcome.status
    return data


@app.command("check")
def check(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version number.")],
    to: Annotated[str, typer.Option("--to", help="Target stage, e.g. production.")],
    json_: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Evaluate the gate for a move without applying it.

    Prints every requirement of the active policy pack as met, unmet or waived with
    the reason, the evidence ids and the controls it serves. Exits 0 only when the
    move would be allowed, 3 when the gate refuses it, 1 on an error: use it as a
    step in CI (see docs/governance.md).
    """

    def go() -> None:
        report = ctx.obj.client().check_transition(model, version, to=to)
        if json_:
            output.emit_json(report_json(report))
        else:
            print_report(report)
        if not report.allowed:
            raise typer.Exit(GATE_REFUSED)

    output.run(go)
