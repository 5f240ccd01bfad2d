"""`steward init`, `steward server`, `steward demo`, `steward doctor`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli import output
from steward.settings import ConfigError, Settings


def _settings(ctx: typer.Context) -> object:
    from steward.settings import Settings

    return Settings.from_env(home=ctx.obj.home)


def _migrate(ctx: typer.Context) -> None:
    from steward.services import schema
    from steward.settings import Settings

    done = schema.migrate(Settings.from_env(home=ctx.obj.home))
    before, after, where = done.before, done.after, done.where
    if before == after:
        output.err_console().print(f"Database schema is current ({after}) at {where}")
    elif before is None:
        output.err_console().print(f"Created a new Steward store (schema {after}) at {where}")
    else:
        output.err_console().print(f"Upgraded the database schema {before} -> {after} at {where}")


def _default_workers() -> int:
    # One per CPU on SQLite too: WAL lets the workers read in parallel, and writers
    # queue on the store's cross-process write lock (store/uow.py), so extra workers
    # never fork the audit chain; reads scale with the CPUs instead of one GIL.
    return min(os.cpu_count() or 1, 4)


def _shared_metrics_dir(home: Path) -> None:
    """Worker processes write their counters here and /metrics sums them (prometheus-client's
    multiprocess mode); emptied at start so a previous run's processes are not counted."""
    where = home / "run" / "metrics"
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True, mode=0o700)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(where)


def _doctor_report(ctx: typer.Context, fix: bool) -> Any:
    """The server's report with --url; else checked here, even when the settings or the
    database are broken (that is what the checks are for)."""
    from steward.domain.doctor import DoctorCheck, DoctorReport

    if ctx.obj.url:
        return ctx.obj.client().doctor(fix=fix)
    from steward import bootstrap
    from steward.domain.permissions import OPERATOR, Principal
    from steward.services import doctor

    try:
        settings = Settings.from_env(home=ctx.obj.home)
    except ConfigError as exc:
        remedy = (
            f"correct the config file {exc.file}"
            if exc.file
            else "correct the environment variable named above"
        )
        check = DoctorCheck("configuration", False, exc.detail, remedy)
        return DoctorReport((), (), 0, False, (check,))
    context = bootstrap.build(settings, check_schema=False)
    try:
        # Embedded mode acts as the operator, as every other embedded command does.
        who = Principal(name=ctx.obj.actor or "operator", roles=frozenset({OPERATOR}))
        return doctor.check(context, who, fix=fix)
    finally:
        context.uow.engine.dispose()


def _print_doctor(report: Any, fix: bool) -> None:
    if report.checks:
        output.table(
            None,
            ["Check", "Status", "Detail", "Fix"],
            [
                [
                    c.name,
                    output.styled("ok", "green") if c.ok else output.styled("FAIL", "bold red"),
                    c.detail,
                    c.fix,
                ]
                for c in report.checks
            ],
        )
    if not any(c.name == "leftovers" and "not looked for" in c.detail for c in report.checks):
        verb = "Removed" if fix else "Found"
        output.console().print(
            f"{verb} {len(report.spool_files)} leftover spool file(s) and "
            f"{len(report.orphan_objects)} unreferenced artifact object(s) "
            f"({report.orphan_bytes} bytes)."
            + (
                ""
                if fix or not (report.spool_files or report.orphan_objects)
                else " Run `steward doctor --fix` to remove them."
            )
        )
    if not report.ok:
        failed = ", ".join(c.name for c in report.checks if not c.ok)
        output.err_console().print(f"Failed: {failed}. Each row's Fix column says what to do.")


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(ctx: typer.Context) -> None:
        """Create the store, or apply pending schema migrations to it."""
        output.run(lambda: _migrate(ctx))

    @app.command("server")
    def server(
        ctx: typer.Context,
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
        workers: Annotated[
            int | None,
            typer.Option(
                help="Worker processes (default: one per CPU, at most 4; on SQLite the "
                "workers read in parallel and queue for the one writer)."
            ),
        ] = None,
        allow_anonymous_read: Annotated[
            bool,
            typer.Option(
                "--allow-anonymous-read",
                envvar="STEWARD_ALLOW_ANONYMOUS_READ",
                help="Let requests without a token read (never write).",
            ),
        ] = False,
        log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
        log_format: Annotated[
            str | None,
            typer.Option(
                envvar="STEWARD_LOG_FORMAT",
                help="'text', or 'json' for one JSON object per line (request id, route, "
                "status, duration, user); default: log_format in the config file, else text.",
            ),
        ] = None,
        forwarded_allow_ips: Annotated[
            str,
            typer.Option(
                envvar="STEWARD_FORWARDED_ALLOW_IPS",
                help="Reverse proxies whose X-Forwarded-For/-Proto are believed (comma-"
                "separated addresses or networks, '*' for any): client addresses for sign-in "
                "throttling, https for secure cookies.",
            ),
        ] = "127.0.0.1",
    ) -> None:
        """Serve the REST API (docs at /docs). Applies pending migrations first.

        Probes: /healthz (alive), /readyz (database and artifact store answer);
        Prometheus metrics at /metrics.
        """
        from steward import extras

        output.run(lambda: extras.require_extra("server"))
        import uvicorn

        if log_format is not None and log_format not in {"text", "json"}:
            raise typer.BadParameter("use 'text' or 'json'", param_hint="--log-format")
        output.run(lambda: _migrate(ctx))
        if ctx.obj.home:
            os.environ["STEWARD_HOME"] = ctx.obj.home
        if allow_anonymous_read:
            os.environ["STEWARD_ALLOW_ANONYMOUS_READ"] = "1"
        if log_format is not None:  # else the config file's, or text
            os.environ["STEWARD_LOG_FORMAT"] = log_format
        processes = workers or _default_workers()
        if processes > 1:
            _shared_metrics_dir(Settings.from_env(home=ctx.obj.home).home)
        output.err_console().print(
            f"Steward serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)"
            + ("  [anonymous reads allowed]" if allow_anonymous_read else "")
        )
        uvicorn.run(
            "steward.api.server:make_app",
            factory=True,
            host=host,
            port=port,
            workers=processes,
            proxy_headers=True,
            forwarded_allow_ips=forwarded_allow_ips,
            log_level=log_level,
            access_log=False,
        )

    @app.command("doctor")
    def doctor(
        ctx: typer.Context,
        fix: Annotated[
            bool, typer.Option("--fix", help="Remove what is found (journalled as store.cleaned).")
        ] = False,
        json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Check the service and find crash leftovers; exits 1 when a check fails.

        Checks the configuration, STEWARD_HOME, key files, the database (reachable, at
        this Steward's schema), the artifact store and, with STEWARD_WORKER=external, the
        worker's heartbeat. Leftovers: dead uploads' spool files and unreferenced
        artifact objects. With --url, the server checks itself.
        """

        def go() -> None:
            report = _doctor_report(ctx, fix)
            if json_:
                from steward import wire

                output.emit_json({**wire.dump(report), "ok": report.ok})
            else:
                _print_doctor(report, fix)
            if not report.ok:
                raise typer.Exit(1)

        output.run(go)

    @app.command("demo")
    def demo(ctx: typer.Context) -> None:
        """Load the demo inventory (German Credit model and others) into the store."""

        def go() -> None:
            from steward import extras

            # Fail before writing anything rather than halfway through the load.
            extras.require_extra("demo")
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            from steward.demo.load import DEMO_STEPS, load_demo

            _migrate(ctx)
            err = output.err_console()
            if not err.is_terminal:  # a log: one line per step, no live bar
                summary = load_demo(
                    ctx.obj.client(), progress=lambda what: err.print(f"Loading the demo: {what}")
                )
                output.console().print(summary)
                return
            # The load takes a while (training, validation, weeks of monitoring): show each step.
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            ) as bar:
                task = bar.add_task("Loading the demo", total=DEMO_STEPS)
                started = False

                def step(what: str) -> None:
                    nonlocal started
                    if started:
                        bar.advance(task)
                    started = True
                    bar.update(task, description=f"Loading the demo: {what}")

                summary = load_demo(ctx.obj.client(), progress=step)
            output.console().print(summary)

        output.run(go)
