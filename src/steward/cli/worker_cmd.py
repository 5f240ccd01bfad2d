"""`steward worker`: the scheduler and the webhook outbox, in a process of their own."""

from __future__ import annotations

import os
import signal
import threading
from typing import Annotated, Any

import typer

from steward.cli import output
from steward.domain.errors import InvalidInput, StewardError


def _print_pass(report: Any, *, json_: bool) -> None:
    if json_:
        output.emit_json(report)
        return
    output.table(
        None,
        ["Job", "Ran", "Result"],
        [
            [
                o.job.value,
                "yes" if o.ran else "skipped",
                o.detail if o.ok else f"FAILED: {o.detail}",
            ]
            for o in report.outcomes
        ],
    )


def register(app: typer.Typer) -> None:
    @app.command("worker")
    def worker(
        ctx: typer.Context,
        once: Annotated[
            bool, typer.Option("--once", help="Run every job once and exit (for cron and tests).")
        ] = False,
        interval: Annotated[
            float, typer.Option(min=0.1, help="Seconds between webhook outbox passes.")
        ] = 2.0,
        schedule_interval: Annotated[
            float,
            typer.Option(
                min=1.0,
                help="Seconds between scheduler passes (due monitors, overdue reviews, "
                "audit checkpoints and publication retries).",
            ),
        ] = 60.0,
        engine: Annotated[str, typer.Option(help="Monitor engine: duckdb, numpy or spark.")] = (
            "duckdb"
        ),
        json_: Annotated[bool, typer.Option("--json", help="Print each pass as JSON.")] = False,
    ) -> None:
        """Run the scheduler and drain the webhook outbox until SIGTERM/SIGINT.

        Safe to run on several machines at once: each job runs under its own lock.
        Set STEWARD_WORKER=external for the API servers so they leave this to the worker.
        """

        def go() -> None:
            from steward import bootstrap
            from steward.services import identity
            from steward.services import worker as service
            from steward.settings import Settings
            from steward.webhooks.deliver import HttpSender

            if ctx.obj.url:
                raise InvalidInput(
                    "`steward worker` runs next to the database, not against a server URL: "
                    "unset STEWARD_URL (or drop --url) and set STEWARD_DATABASE_URL instead.",
                    field="url",
                )
            settings = Settings.from_env(home=ctx.obj.home)
            context = bootstrap.build(settings)
            principal = identity.principal_for(
                context, ctx.obj.actor or "steward-worker", operator=True
            )
            stop = threading.Event()

            def on_signal(signum: int, _frame: object) -> None:
                output.err_console().print(
                    f"{signal.Signals(signum).name}: finishing the current job, then stopping."
                )
                stop.set()

            # Restored afterwards: an in-process caller (tests, scripts) keeps its own.
            previous = {
                sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
            }
            if not once:
                output.err_console().print(
                    f"Steward worker started (pid {os.getpid()}); stop it with SIGTERM or Ctrl-C."
                )
            failed: list[str] = []

            def on_pass(report: Any) -> None:
                failed[:] = [f"{o.job.value}: {o.detail}" for o in report.outcomes if not o.ok]
                if (
                    once
                    or json_
                    or any(o.ran and (not o.ok or _busy(o.detail)) for o in report.outcomes)
                ):
                    _print_pass(report, json_=json_)

            sender = HttpSender()
            try:
                service.run(
                    context,
                    principal,
                    sender,
                    interval=interval,
                    schedule_interval=schedule_interval,
                    once=once,
                    engine=engine,
                    stop=stop,
                    on_pass=on_pass,
                )
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
                sender.close()
                context.uow.engine.dispose()
            if once and failed:
                # cron notices a non-zero exit; a long-running worker retries next pass instead
                raise StewardError("A job failed: " + "; ".join(failed))

        output.run(go)


def _busy(detail: str) -> bool:
    """Whether a job's result is worth a line in a long-running worker's output."""
    quiet = (
        "no checkpoint due",
        "0 review(s) overdue",
        "ran 0 monitor(s), 0 failed",
        "0 delivered, 0 to retry, 0 failed",
        "ran 0 job(s), 0 failed",
        "not permitted",
    )
    return detail not in quiet
