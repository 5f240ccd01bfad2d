"""The `steward` command line. Imports stay lazy so `steward --help` is instant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer

from steward.cli import audit_cmd, model_cmd, system_cmd, token_cmd, version_cmd

app = typer.Typer(
    name="steward",
    help="Steward: model inventory, versioned registry, governed lifecycle, audit journal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@dataclass
class Options:
    url: str | None
    token: str | None
    home: str | None
    actor: str | None
    _client: Any = None

    def client(self) -> Any:
        if self._client is None:
            import steward

            self._client = steward.connect(
                self.url, token=self.token, home=self.home, actor=self.actor
            )
        return self._client


@app.callback()
def main_options(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            envvar="STEWARD_URL",
            help="Steward server URL; omit to use the embedded store.",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="STEWARD_TOKEN", help="API token for the server."),
    ] = None,
    home: Annotated[
        str | None,
        typer.Option(
            "--home", envvar="STEWARD_HOME", help="Embedded store folder (default ./.steward)."
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--as",
            envvar="STEWARD_USER",
            help="Who you are in embedded mode (default: the OS user).",
        ),
    ] = None,
) -> None:
    ctx.obj = Options(url=url, token=token, home=home, actor=actor)


app.add_typer(model_cmd.app, name="model", help="Create, list, show and update models.")
app.add_typer(
    version_cmd.app,
    name="version",
    help="Log, list, show and download versions; aliases; transitions.",
)
app.add_typer(audit_cmd.app, name="audit", help="Read, verify and export the audit journal.")
app.add_typer(token_cmd.app, name="token", help="Create, list and revoke API tokens.")
system_cmd.register(app)


def main() -> None:
    app()
