"""`steward policy ...` — load, activate and read policy packs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


def _show_info(info: Any) -> None:
    output.fields(
        f"Policy pack {info.name}@{info.version}",
        [
            ("active", "yes" if info.active else "no"),
            ("requirements", info.requirements),
            ("sha256", info.sha256),
            ("loaded", f"{info.loaded_at:%Y-%m-%d %H:%M} by {info.loaded_by}"),
            ("description", info.description),
        ],
    )


@app.command("load")
def load(
    ctx: typer.Context,
    file: Annotated[
        Path | None, typer.Argument(help="Policy pack YAML file.", show_default=False)
    ] = None,
    default: Annotated[
        bool, typer.Option("--default", help="Load the pack shipped with Steward.")
    ] = False,
    activate: Annotated[
        bool, typer.Option("--activate", help="Make it the pack the gates apply.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Validate and store a policy pack (problems are listed with their line numbers)."""

    def go() -> None:
        from steward.domain.errors import InvalidInput

        if (file is None) == (not default):
            raise InvalidInput("Give a policy pack FILE or --default (not both).")
        client = _client(ctx)
        if default:
            info = client.load_default_policy(activate=activate)
        else:
            info = client.load_policy(file, activate=activate)
        if json_:
            output.emit_json(info)
        else:
            _show_info(info)

    output.run(go)


@app.command("activate")
def activate(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Pack name.")],
    version: Annotated[str, typer.Argument(help="Pack version.")],
    json_: JsonOpt = False,
) -> None:
    """Make a loaded pack the one the gates apply (audited)."""

    def go() -> None:
        info = _client(ctx).activate_policy(name, version)
        if json_:
            output.emit_json(info)
        else:
            _show_info(info)

    output.run(go)


@app.command("deactivate")
def deactivate(ctx: typer.Context) -> None:
    """Stop applying any pack: only the lifecycle state machine guards moves (audited)."""

    def go() -> None:
        _client(ctx).deactivate_policy()
        output.err_console().print("No policy pack is active now.")

    output.run(go)


@app.command("list")
def list_(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Loaded policy packs, newest first."""

    def go() -> None:
        from steward.domain.requests import PolicyPackInfo

        packs = _client(ctx).policies()
        if json_:
            output.emit_json(packs, list[PolicyPackInfo])
            return
        output.table(
            "Policy packs",
            ["pack", "version", "active", "requirements", "loaded", "by"],
            [
                (
                    p.name,
                    p.version,
                    "yes" if p.active else "",
                    p.requirements,
                    f"{p.loaded_at:%Y-%m-%d %H:%M}",
                    p.loaded_by,
                )
                for p in packs
            ],
        )

    output.run(go)


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="Pack name (default: the active pack).")
    ] = None,
    version: Annotated[
        str | None, typer.Option("--version", help="Pack version (default: newest).")
    ] = None,
    source: Annotated[bool, typer.Option("--source", help="Print the YAML as loaded.")] = False,
    json_: JsonOpt = False,
) -> None:
    """A pack's requirements: which moves and tiers each guards, the controls it cites."""

    def go() -> None:
        from steward.domain import policy
        from steward.domain.entities import TIERS

        info, text = _client(ctx).policy(name, version)
        if source:
            output.console().print(text, highlight=False, markup=False, end="")
            return
        pack = policy.parse(text, f"{info.name}@{info.version}")
        if json_:
            from steward import wire

            output.emit_json(
                {
                    "pack": wire.dump(info),
                    "review_cadence_months": pack.review_cadence_months,
                    "requirements": [
                        {
                            "id": r.id,
                            "kind": r.kind,
                            "to": sorted(s.value for s in r.to),
                            "tiers": sorted(r.tiers),
                            "controls": list(r.controls),
                            "description": r.description,
                            "params": r.params,
                        }
                        for r in pack.requirements
                    ],
                }
            )
            return
        _show_info(info)
        output.table(
            "Requirements",
            ["id", "kind", "to", "tiers", "parameters", "controls"],
            [
                (
                    r.id,
                    r.kind,
                    ", ".join(sorted(s.value for s in r.to)),
                    ", ".join(t for t in TIERS if t in r.tiers),
                    "; ".join(f"{k}={v}" for k, v in r.params.items()),
                    "\n".join(r.controls),
                )
                for r in pack.requirements
            ],
        )

    output.run(go)
