"""`steward review ...` — periodic reviews: what is due, complete one, a model's history."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


@app.command("due")
def due(
    ctx: typer.Context,
    within: Annotated[
        int, typer.Option("--within", help="Also list reviews due within this many days.")
    ] = 30,
    json_: JsonOpt = False,
) -> None:
    """Overdue reviews, those due soon, and risk-tiered models never scheduled."""

    def go() -> None:
        from steward.domain.reviews import ReviewDue

        found = _client(ctx).reviews_due(within_days=within)
        if json_:
            output.emit_json(found, list[ReviewDue])
            return

        def when(r: Any) -> str:
            if r.days is None:
                return "never scheduled"
            if r.days < 0:
                return f"{-r.days} days overdue"
            return "today" if r.days == 0 else f"in {r.days} days"

        output.table(
            None,
            ["model", "tier", "owner", "next review", "status", "when"],
            [
                (r.model, r.risk_tier, r.owner, r.next_review_date, r.status.value, when(r))
                for r in found
            ],
        )

    output.run(go)


@app.command("complete")
def complete(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model reviewed.")],
    outcome: Annotated[
        str, typer.Option(help="satisfactory, needs_improvement or unsatisfactory.")
    ],
    notes: Annotated[str, typer.Option(help="What was reviewed and concluded.")],
    json_: JsonOpt = False,
) -> None:
    """Record a completed periodic review (validators); schedules the next one."""

    def go() -> None:
        r = _client(ctx).complete_review(model, outcome=outcome, notes=notes)
        if json_:
            output.emit_json(r)
            return
        output.console().print(
            f"Review {r.id} of {r.model}: {r.outcome.value}. Next review due "
            f"{r.next_review_date} ({r.risk_tier} tier, every {r.cadence_months} months)."
        )
        if r.finding_id is not None:
            output.console().print(f"Opened finding {r.finding_id} for the review's issues.")

    output.run(go)


@app.command("list")
def list_(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    json_: JsonOpt = False,
) -> None:
    """A model's completed reviews, newest first."""

    def go() -> None:
        from steward.domain.reviews import Review

        found = _client(ctx).reviews(model)
        if json_:
            output.emit_json(found, list[Review])
            return
        output.table(
            None,
            ["id", "completed (UTC)", "reviewer", "outcome", "tier", "next review", "notes"],
            [
                (
                    r.id,
                    f"{r.completed_at:%Y-%m-%d %H:%M}",
                    r.reviewer,
                    r.outcome.value,
                    r.risk_tier,
                    r.next_review_date,
                    r.notes,
                )
                for r in found
            ],
        )

    output.run(go)
