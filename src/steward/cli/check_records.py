"""`steward check record|show|list` — check runs as evidence (registered on check_cmd.app)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli import output

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
_PASS = {True: ("pass", "green"), False: ("FAIL", "bold red"), None: ("info", "dim")}


def _value(result: Any) -> str:
    """The value, with its confidence interval when the check has one (fairness)."""
    if result.value is None:
        return ""
    shown = f"{result.value:.6g}"
    found = (result.details or {}).get("interval")
    if isinstance(found, dict):
        shown += f"\n{found['level']:.0%} CI {found['low']:.3g} to {found['high']:.3g}"
        if found.get("straddles_threshold"):
            shown += "\nuncertain"
    return shown


def print_run(run: Any) -> None:
    output.fields(
        f"Check run {run.id}",
        [
            ("version", f"{run.model} v{run.version}"),
            ("suite", f"{run.suite} (version {run.suite_version}, {run.source.value})"),
            (
                "result",
                output.styled("passed", "green")
                if run.passed
                else output.styled("failed", "bold red"),
            ),
            ("artifact", run.artifact_sha256),
            ("data", run.data_fingerprint or "-"),
            ("finished", f"{run.finished_at:%Y-%m-%d %H:%M:%S} by {run.created_by}"),
            ("evidence", ", ".join(f"{e.name} ({e.sha256[:12]})" for e in run.evidence)),
        ],
    )
    if run.results:
        output.table(
            "Results",
            ["check", "result", "value", "threshold", "message"],
            [
                (
                    r.name,
                    output.styled(*_PASS[r.passed]),
                    _value(r),
                    f"{r.threshold.op} {r.threshold.limit:g}" if r.threshold else "",
                    r.message,
                )
                for r in run.results
            ],
        )


def register(app: typer.Typer) -> None:
    @app.command("record")
    def record(
        ctx: typer.Context,
        model: Annotated[str, typer.Argument(help="Model name.")],
        version: Annotated[int, typer.Argument(help="Version number.")],
        file: Annotated[
            Path,
            typer.Option(
                "--file",
                help="JSON: {suite, suite_version, data_fingerprint, results: [{name, family, "
                "passed, value, threshold: {op, limit}, message}]}",
            ),
        ],
        json_: JsonOpt = False,
    ) -> None:
        """Record check results computed outside Steward (stored as source "external")."""

        def go() -> None:
            from steward import wire
            from steward.domain.checks import CheckResult
            from steward.domain.errors import InvalidInput

            try:
                data = json.loads(file.read_text(encoding="utf-8"))
            except OSError as exc:
                raise InvalidInput(f"Cannot read {file}: {exc.strerror}.") from None
            except ValueError as exc:
                raise InvalidInput(f"{file} is not valid JSON: {exc}.") from None
            if not isinstance(data, dict) or not isinstance(data.get("results"), list):
                raise InvalidInput(f"{file} must hold an object with a 'results' list.")
            results = wire.load(list[CheckResult], data["results"], what="results")
            run = ctx.obj.client().record_checks(
                model,
                version,
                results,
                suite=str(data.get("suite", "external")),
                suite_version=str(data.get("suite_version", "1")),
                data_fingerprint=data.get("data_fingerprint"),
                summary=data.get("summary") or {},
            )
            if json_:
                output.emit_json(run)
            else:
                print_run(run)

        output.run(go)

    @app.command("show")
    def show(
        ctx: typer.Context,
        run_id: Annotated[str, typer.Argument(help="Run id (run_...).")],
        json_: JsonOpt = False,
    ) -> None:
        """A check run with every result."""

        def go() -> None:
            run = ctx.obj.client().check_run(run_id)
            if json_:
                output.emit_json(run)
            else:
                print_run(run)

        output.run(go)

    @app.command("list")
    def list_(
        ctx: typer.Context,
        model: Annotated[str, typer.Argument(help="Model name.")],
        version: Annotated[int, typer.Argument(help="Version number.")],
        limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
        json_: JsonOpt = False,
    ) -> None:
        """A version's check runs, newest first."""

        def go() -> None:
            from steward.domain.checks import CheckRun

            runs = ctx.obj.client().check_runs(model, version, limit=limit)
            if json_:
                output.emit_json(runs, list[CheckRun])
                return
            output.table(
                f"Check runs of {model} v{version}",
                ["run", "suite", "source", "result", "failed", "finished", "by"],
                [
                    (
                        r.id,
                        f"{r.suite}@{r.suite_version}",
                        r.source.value,
                        "passed" if r.passed else "FAILED",
                        ", ".join(x.name for x in r.results if x.passed is False),
                        f"{r.finished_at:%Y-%m-%d %H:%M}",
                        r.created_by,
                    )
                    for r in runs
                ],
            )

        output.run(go)
