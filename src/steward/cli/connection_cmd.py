"""`steward connection create|list|show|delete` — data connections (admin only)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.cli import output
from steward.cli.parsing import pairs

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


def _fields(found: Any) -> list[tuple[str, Any]]:
    return [
        ("kind", found.kind.value),
        ("location", found.location),
        ("options", ", ".join(f"{k}={v}" for k, v in found.options.items())),
        (
            "credentials",
            ", ".join(found.credential_keys) + (" (sealed)" if found.credential_keys else ""),
        ),
        ("roles", ", ".join(found.roles) or "admins only"),
        ("teams", ", ".join(found.teams)),
        ("description", found.description),
        ("created", f"{found.created_at:%Y-%m-%d %H:%M:%S} by {found.created_by}"),
    ]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Connection name (e.g. lake).")],
    kind: Annotated[str, typer.Option(help="folder, s3 or postgresql.")],
    location: Annotated[
        str,
        typer.Option(help="Root directory, s3://bucket/prefix or postgresql://user@host/db."),
    ],
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    option: Annotated[
        list[str] | None,
        typer.Option("--option", help="s3: endpoint_url=URL, region=NAME (repeatable)."),
    ] = None,
    credential: Annotated[
        list[str] | None,
        typer.Option(
            "--credential",
            help="Sealed at rest: s3 key=…, secret=…, token=…; postgresql password=… (repeatable).",
        ),
    ] = None,
    role: Annotated[
        list[str] | None, typer.Option("--role", help="A role that may use it (repeatable).")
    ] = None,
    team: Annotated[
        list[str] | None, typer.Option("--team", help="A team that may use it (repeatable).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Register where the server may read data; monitors then name it."""

    def go() -> None:
        found = _client(ctx).create_connection(
            name,
            kind=kind,
            location=location,
            description=description,
            options=pairs(option, "--option"),
            credentials=pairs(credential, "--credential"),
            roles=role or [],
            teams=team or [],
        )
        if json_:
            output.emit_json(found)
            return
        output.fields(f"Connection {found.name}", _fields(found))

    output.run(go)


@app.command("list")
def list_(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Registered data connections (never their credentials)."""

    def go() -> None:
        from steward.domain.connections import Connection

        found = _client(ctx).connections()
        if json_:
            output.emit_json(found, list[Connection])
            return
        output.table(
            None,
            ["name", "kind", "location", "roles", "teams", "credentials", "description"],
            [
                (
                    c.name,
                    c.kind.value,
                    c.location,
                    ", ".join(c.roles) or "admins only",
                    ", ".join(c.teams),
                    ", ".join(c.credential_keys),
                    c.description,
                )
                for c in found
            ],
        )

    output.run(go)


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Connection name.")],
    json_: JsonOpt = False,
) -> None:
    """One data connection (which credentials it holds, not their values)."""

    def go() -> None:
        found = _client(ctx).get_connection(name)
        if json_:
            output.emit_json(found)
            return
        output.fields(f"Connection {found.name}", _fields(found))

    output.run(go)


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Connection name.")],
    json_: JsonOpt = False,
) -> None:
    """Remove a connection; monitors naming it fail until it is registered again."""

    def go() -> None:
        found = _client(ctx).delete_connection(name)
        if json_:
            output.emit_json(found)
            return
        output.console().print(f"Deleted connection {found.name}", highlight=False)

    output.run(go)
