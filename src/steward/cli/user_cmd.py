"""`steward user ...` — users, their roles and passwords; `steward user login`."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
StdinOpt = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of standard input instead of prompting.",
    ),
]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


def _read_stdin_lines(count: int) -> list[str]:
    lines = [sys.stdin.readline().rstrip("\r\n") for _ in range(count)]
    if not lines[0]:
        from steward.domain.errors import InvalidInput

        raise InvalidInput("No password on standard input; pipe it in, one per line.")
    return lines


def _new_password(stdin: bool) -> str:
    if stdin:
        return _read_stdin_lines(1)[0]
    value: str = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    return value


def _show(user: Any) -> None:
    output.fields(
        f"User {user.name}",
        [
            ("display name", user.display_name),
            ("e-mail", user.email),
            ("status", "active" if user.active else "disabled"),
            ("roles", ", ".join(sorted(user.roles)) or "none (may read models and versions)"),
            ("teams", ", ".join(sorted(user.teams))),
            ("password", "set" if user.has_password else "not set"),
            ("created", f"{user.created_at:%Y-%m-%d %H:%M} by {user.created_by}"),
            ("disabled", user.disabled_at and f"{user.disabled_at:%Y-%m-%d %H:%M}"),
        ],
    )


def _emit(user: Any, json_: bool) -> None:
    if json_:
        output.emit_json(user)
    else:
        _show(user)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name, e.g. 'alice' or 'ci-bot'.")],
    display_name: Annotated[str, typer.Option("--display-name", help="Full name.")] = "",
    email: Annotated[str, typer.Option(help="E-mail address.")] = "",
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role",
            help="Role to grant (repeatable): admin, owner, validator, risk_officer, approver, "
            "auditor.",
        ),
    ] = None,
    team: Annotated[
        list[str] | None, typer.Option("--team", help="Existing team to join (repeatable).")
    ] = None,
    set_password: Annotated[
        bool, typer.Option("--set-password", help="Prompt for a password (for logging in).")
    ] = False,
    password_stdin: StdinOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Create a user (admin). API tokens and logins act as a user."""

    def go() -> None:
        password = _new_password(password_stdin) if set_password or password_stdin else None
        user = _client(ctx).create_user(
            name,
            display_name=display_name,
            email=email,
            roles=role or [],
            teams=team or [],
            password=password,
        )
        _emit(user, json_)

    output.run(go)


@app.command("list")
def list_(
    ctx: typer.Context,
    role: Annotated[str | None, typer.Option(help="Only users holding this role.")] = None,
    team: Annotated[str | None, typer.Option(help="Only members of this team.")] = None,
    active: Annotated[
        bool | None,
        typer.Option("--active/--disabled", help="Only active or only disabled users."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Users with their roles and teams."""

    def go() -> None:
        from steward.domain.identity import User

        users = _client(ctx).list_users(role=role, team=team, active=active)
        if json_:
            output.emit_json(users, list[User])
            return
        output.table(
            None,
            ["name", "display name", "status", "roles", "teams", "password"],
            [
                (
                    u.name,
                    u.display_name,
                    "active" if u.active else "disabled",
                    ", ".join(sorted(u.roles)),
                    ", ".join(sorted(u.teams)),
                    "set" if u.has_password else "",
                )
                for u in users
            ],
        )

    output.run(go)


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    json_: JsonOpt = False,
) -> None:
    """One user: roles, teams, status."""
    output.run(lambda: _emit(_client(ctx).get_user(name), json_))


@app.command("update")
def update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="New full name.")
    ] = None,
    email: Annotated[str | None, typer.Option(help="New e-mail address ('' clears it).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Change a user's display name or e-mail (users may change their own)."""
    output.run(
        lambda: _emit(_client(ctx).update_user(name, display_name=display_name, email=email), json_)
    )


@app.command("disable")
def disable(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit journal).")] = "",
    json_: JsonOpt = False,
) -> None:
    """Disable a user: they can no longer log in and their API tokens are revoked."""
    output.run(lambda: _emit(_client(ctx).disable_user(name, reason=reason), json_))


@app.command("enable")
def enable(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    json_: JsonOpt = False,
) -> None:
    """Enable a disabled user again (they need new API tokens)."""
    output.run(lambda: _emit(_client(ctx).enable_user(name), json_))


@app.command("password")
def password(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    current: Annotated[
        bool,
        typer.Option(
            "--current",
            help="Also ask for the current password (needed to change your own as a non-admin; "
            "with --password-stdin it is the second line).",
        ),
    ] = False,
    password_stdin: StdinOpt = False,
) -> None:
    """Set a password: admins for anyone, users for themselves."""

    def go() -> None:
        old: str | None = None
        if password_stdin:
            lines = _read_stdin_lines(2 if current else 1)
            new, old = lines[0], (lines[1] if current else None)
        else:
            if current:
                old = typer.prompt("Current password", hide_input=True)
            new = _new_password(False)
        user = _client(ctx).set_password(name, new, current_password=old)
        output.console().print(f"Password set for {user.name}.")

    output.run(go)


@app.command("grant")
def grant(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    roles: Annotated[list[str], typer.Argument(help="Role(s) to grant.")],
    json_: JsonOpt = False,
) -> None:
    """Grant role(s) to a user (admin)."""

    def go() -> None:
        client = _client(ctx)
        user = None
        for role in roles:
            user = client.grant_role(name, role)
        _emit(user, json_)

    output.run(go)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    roles: Annotated[list[str], typer.Argument(help="Role(s) to take away.")],
    json_: JsonOpt = False,
) -> None:
    """Revoke role(s) from a user (admin)."""

    def go() -> None:
        client = _client(ctx)
        user = None
        for role in roles:
            user = client.revoke_role(name, role)
        _emit(user, json_)

    output.run(go)


@app.command("roles")
def roles(json_: JsonOpt = False) -> None:
    """The roles and the permissions each grants."""
    from steward.domain.permissions import NO_ROLE, ROLE_DESCRIPTIONS, ROLE_PERMISSIONS

    rows = [
        (role.value, ROLE_DESCRIPTIONS[role], sorted(p.value for p in granted))
        for role, granted in ROLE_PERMISSIONS.items()
    ]
    rows.append(("(no role)", "any user", sorted(p.value for p in NO_ROLE)))
    if json_:
        output.emit_json(
            [{"role": r, "description": d, "permissions": perms} for r, d, perms in rows]
        )
        return
    output.table(
        None, ["role", "what it is for", "permissions"], [(r, d, ", ".join(p)) for r, d, p in rows]
    )


@app.command("login")
def login(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: StdinOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Log in with a password; prints an API token that expires after a few hours."""

    def go() -> None:
        if password_stdin:
            secret = _read_stdin_lines(1)[0]
        else:
            secret = typer.prompt("Password", hide_input=True)
        emit_session(_client(ctx).login(name, secret), json_)

    output.run(go)


def emit_session(made: Any, json_: bool) -> None:
    """Print a login session's token (password or single sign-on), or its JSON."""
    if json_:
        from steward import wire

        output.emit_json({**wire.dump(made.info), "token": made.token})
        return
    expires = made.info.expires_at
    output.console().print(f"Session token {made.info.id} for {made.info.user}:")
    output.console().print(made.token, highlight=False, soft_wrap=True)
    output.err_console().print(
        f"It expires at {expires:%Y-%m-%d %H:%M} UTC; use it with --token or STEWARD_TOKEN."
    )
