"""`steward backup` and `steward restore` (host operations: never over --url)."""

from __future__ import annotations

from typing import Annotated

import typer

from steward.cli import output


def _local_only(ctx: typer.Context, command: str) -> None:
    from steward.domain.errors import InvalidInput

    if ctx.obj.url:
        raise InvalidInput(
            f"{command.capitalize()} reads and writes the server's database, artifact store and "
            f"key files: run `steward {command}` on the server host, without --url.",
            field="url",
        )


def register(app: typer.Typer) -> None:
    @app.command("backup")
    def backup(
        ctx: typer.Context,
        dest: Annotated[
            str, typer.Argument(help="A new folder, or an s3:// prefix, to write the backup to.")
        ],
        without_keys: Annotated[
            bool,
            typer.Option(
                "--without-keys",
                help="Leave the key files out (then keep them safe yourself: a restore needs "
                "them to verify the journal and unseal credentials).",
            ),
        ] = False,
        json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Write a consistent snapshot: database (logical), artifacts, keys, latest checkpoint.

        Unless --without-keys, the backup holds secrets (the keys that seal credentials and
        sign the journal): encrypt it and keep it apart from the store.
        """

        def go() -> None:
            from steward import bootstrap
            from steward.services import backup as service
            from steward.settings import Settings, default_actor

            _local_only(ctx, "backup")
            context = bootstrap.build(Settings.from_env(home=ctx.obj.home))
            try:
                report = service.backup(
                    context, ctx.obj.actor or default_actor(), dest, keys=not without_keys
                )
            finally:
                context.uow.engine.dispose()
            if json_:
                output.emit_json(report)
                return
            output.console().print(
                f"Backed up schema {report.schema_revision}: {report.rows} rows, "
                f"{report.artifacts} artifact objects, keys: {', '.join(report.keys) or 'none'}"
                f", checkpoint: {report.checkpoint_tree_size or 'none'} -> {report.destination}",
                highlight=False,
            )
            output.console().print(f"manifest sha256 {report.manifest_sha256}", highlight=False)
            if report.keys:
                output.err_console().print(
                    "This backup holds the key files: encrypt it and store it apart from the "
                    "server (see docs/deployment.md).",
                    highlight=False,
                )
            if report.missing_artifacts:
                output.err_console().print(
                    output.line(
                        output.styled("Missing from the artifact store", "bold red"),
                        f": {', '.join(report.missing_artifacts)}",
                    ),
                    highlight=False,
                )

        output.run(go)

    @app.command("restore")
    def restore(
        ctx: typer.Context,
        src: Annotated[str, typer.Argument(help="The folder or s3:// prefix of a backup.")],
        json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Restore a backup into an empty store (SQLite or PostgreSQL, either way round)."""

        def go() -> None:
            from steward.services import backup as service
            from steward.settings import Settings

            _local_only(ctx, "restore")
            report = service.restore(Settings.from_env(home=ctx.obj.home), src)
            if json_:
                output.emit_json(report)
                return
            output.console().print(
                f"Restored {report.rows} rows (schema {report.schema_revision}, now "
                f"{report.upgraded_to}) and {report.artifacts} artifact objects from {src}; "
                f"keys written: {', '.join(report.keys_written) or 'none'}. "
                "Check it with `steward audit verify`.",
                highlight=False,
            )
            if not (report.keys_written or report.keys_kept):
                output.err_console().print(
                    "The backup holds no key files: put the original ones in STEWARD_HOME/keys "
                    "before you run `steward audit verify` (see docs/deployment.md).",
                    highlight=False,
                )

        output.run(go)
