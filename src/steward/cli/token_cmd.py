"""`steward token ...`"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


@app.command("create")
def create(
    ctx: typer.Context,
    user: Annotated[str, typer.Option(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "",
    expires_in_days: Annotated[
        int | None,
        typer.Option("--expires-in-days", help="Expire after this many days (default: never)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Create an API token. It is shown once; only its hash is stored."""

    def go() -> None:
        made = _client(ctx).create_token(user, name=name, expires_in_days=expires_in_days)
        if json_:
            from steward import wire

            output.emit_json({**wire.dump(made.info), "token": made.token})
            return
        output.console().print(f"Token {made.info.id} for {made.info.user}:")
        output.console().print(made.token, highlight=False, soft_wrap=True)
        output.err_console().print("Store it now: it cannot be shown again.")

    output.run(go)


@app.command("list")
def list_(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None,
    json_: JsonOpt = False,
) -> None:
    """API tokens (never their secrets)."""

    def go() -> None:
        from steward.domain.entities import TokenInfo

        tokens = _client(ctx).list_tokens(user)
        if json_:
            output.emit_json(tokens, list[TokenInfo])
            return
        output.table(
            None,
            ["id", "user", "name", "created", "expires", "revoked", "last used"],
            [
                (
                    t.id,
                    t.user,
                    t.name,
                    f"{t.created_at:%Y-%m-%d %H:%M}",
                    t.expires_at and f"{t.expires_at:%Y-%m-%d}",
                    t.revoked_at and f"{t.revoked_at:%Y-%m-%d %H:%M}",
                    t.last_used_at and f"{t.last_used_at:%Y-%m-%d %H:%M}",
                )
                for t in tokens
            ],
        )

    output.run(go)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(help="Token id (tok_...), from `token list`.")],
) -> None:
    """Revoke a token at once."""

    def go() -> None:
        info = _client(ctx).revoke_token(token_id)
        output.console().print(f"Revoked {info.id} ({info.user})")

    output.run(go)
