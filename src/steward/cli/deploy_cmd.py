"""`steward deploy record|list`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli import output
from steward.cli.parsing import pairs

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


@app.command("record")
def record(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    environment: Annotated[str, typer.Option("--environment", "-e", help="e.g. prod, staging.")],
    sha256: Annotated[
        str | None, typer.Option(help="sha256 of the artifact that was actually loaded.")
    ] = None,
    artifact: Annotated[
        Path | None, typer.Option(help="Or the loaded file/folder, hashed here.")
    ] = None,
    version: Annotated[int | None, typer.Option(help="The version it claims to be.")] = None,
    detail: Annotated[
        list[str] | None, typer.Option("--detail", help="key=value context (host, image...).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Report what a deployment loaded; exit 1 if it is not an approved artifact.

    A mismatch is still recorded: it opens a finding (critical in production) and
    fires the `deploy.mismatch` webhook.
    """

    def go() -> None:
        found = _client(ctx).record_deployment(
            model,
            environment=environment,
            sha256=sha256,
            artifact=artifact,
            version=version,
            details=pairs(detail, "Detail"),
        )
        if json_:
            output.emit_json(found)
        else:
            output.fields(
                f"Deploy record {found.id}",
                [
                    ("model", found.model),
                    ("environment", found.environment),
                    ("sha256", found.artifact_sha256),
                    ("version", found.version),
                    ("status", found.status.value),
                    ("reason", found.reason),
                    ("signed", "yes" if found.signed else "no"),
                    ("finding", found.finding_id),
                    # prove it with `steward audit prove SEQ` once a checkpoint covers it
                    ("journal", f"event {found.audit_seq}, Merkle leaf {found.leaf_index}"),
                ],
            )
        if found.status.value == "mismatch":
            output.err_console().print(
                output.line(
                    output.styled("Error:", "bold red"),
                    f" {found.environment} runs an unapproved artifact: "
                    f"{found.reason}; opened finding {found.finding_id}.",
                ),
                highlight=False,
            )
            raise typer.Exit(1)

    output.run(go)


@app.command("list")
def list_(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    environment: Annotated[str | None, typer.Option(help="Only this environment.")] = None,
    status: Annotated[str | None, typer.Option(help="verified or mismatch.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """Deploy records, newest first."""

    def go() -> None:
        from steward.domain.trust import Deployment

        found = _client(ctx).deployments(
            model=model, environment=environment, status=status, limit=limit
        )
        if json_:
            output.emit_json(found, list[Deployment])
            return
        output.table(
            None,
            ["id", "when (UTC)", "model", "env", "version", "status", "sha256", "by", "finding"],
            [
                (
                    d.id,
                    f"{d.reported_at:%Y-%m-%d %H:%M:%S}",
                    d.model,
                    d.environment,
                    d.version,
                    d.status.value,
                    d.artifact_sha256[:16],
                    d.reported_by,
                    d.finding_id,
                )
                for d in found
            ],
        )

    output.run(go)
