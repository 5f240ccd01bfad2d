"""`steward team ...` — teams and their members."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


LineOpt = Annotated[
    str | None,
    typer.Option(
        "--line",
        help="Line of defence: first (development and business), second (risk and "
        "validation) or third (internal audit). Policy packs can require or forbid lines.",
    ),
]


def _line(line: str | None) -> str:
    from steward.domain.identity import LINES

    return f"{line} ({LINES[line]})" if line in LINES else "not set"


def _emit(team: Any, json_: bool) -> None:
    if json_:
        output.emit_json(team)
        return
    output.fields(
        f"Team {team.name}",
        [
            ("title", team.title),
            ("description", team.description),
            ("line", _line(team.line)),
            ("members", ", ".join(team.members)),
            ("created", f"{team.created_at:%Y-%m-%d %H:%M} by {team.created_by}"),
        ],
    )


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Team name, e.g. 'model-validation'.")],
    title: Annotated[str, typer.Option(help="Human title.")] = "",
    description: Annotated[str, typer.Option(help="What the team does.")] = "",
    member: Annotated[
        list[str] | None, typer.Option("--member", help="Existing user to add (repeatable).")
    ] = None,
    line: LineOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Create a team (admin). Segregation of duties counts approvers' teams."""
    output.run(
        lambda: _emit(
            _client(ctx).create_team(
                name, title=title, description=description, members=member or [], line=line
            ),
            json_,
        )
    )


@app.command("update")
def update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Team name.")],
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    line: LineOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Change a team's title, description or line of defence (admin); --line '' clears it."""
    output.run(
        lambda: _emit(
            _client(ctx).update_team(name, title=title, description=description, line=line),
            json_,
        )
    )


@app.command("list")
def list_(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Teams and their members."""

    def go() -> None:
        from steward.domain.identity import Team

        teams = _client(ctx).list_teams()
        if json_:
            output.emit_json(teams, list[Team])
            return
        output.table(
            None,
            ["name", "title", "line", "members"],
            [(t.name, t.title, t.line or "-", ", ".join(t.members)) for t in teams],
        )

    output.run(go)


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Team name.")],
    json_: JsonOpt = False,
) -> None:
    """One team and its members."""
    output.run(lambda: _emit(_client(ctx).get_team(name), json_))


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Team name.")],
) -> None:
    """Delete a team (admin); past approvals keep the teams they recorded."""

    def go() -> None:
        team = _client(ctx).delete_team(name)
        output.console().print(f"Deleted team {team.name} ({len(team.members)} members).")

    output.run(go)


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Team name.")],
    users: Annotated[list[str], typer.Argument(help="User(s) to add.")],
    json_: JsonOpt = False,
) -> None:
    """Add user(s) to a team (admin)."""

    def go() -> None:
        client = _client(ctx)
        team = None
        for user in users:
            team = client.add_team_member(name, user)
        _emit(team, json_)

    output.run(go)


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Team name.")],
    users: Annotated[list[str], typer.Argument(help="User(s) to remove.")],
    json_: JsonOpt = False,
) -> None:
    """Remove user(s) from a team (admin)."""

    def go() -> None:
        client = _client(ctx)
        team = None
        for user in users:
            team = client.remove_team_member(name, user)
        _emit(team, json_)

    output.run(go)
