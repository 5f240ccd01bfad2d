"""`steward evidence export|verify` — signed evidence packs for auditors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@app.command("export")
def export(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="The zip file to write.")],
    version: Annotated[
        list[int] | None,
        typer.Option(
            "--version",
            "-v",
            help="Version to document (repeatable; default: production/under review).",
        ),
    ] = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Include PDF model cards.")] = True,
    json_: JsonOpt = False,
) -> None:
    """Export the model's signed evidence pack: model cards, risk assessment, policy,
    approvals, check results and plots, monitoring history, findings, waivers and its
    audit-journal segment
    with the chain up to a signed head. Journalled as evidence.exported."""

    def go() -> None:
        client: Any = ctx.obj.client()
        found = client.export_evidence(model, out, versions=version, include_pdf=pdf)
        if json_:
            output.emit_json(found)
            return
        output.fields(
            f"Wrote {out}",
            [
                ("model", found.model),
                ("versions", ", ".join(str(v) for v in found.versions)),
                ("files", found.files),
                ("audit events", found.audit_events),
                ("chain head", f"{found.chain_head_seq}:{found.chain_head_hash}"),
                ("manifest sha256", found.manifest_sha256),
                ("signing key", found.key_id),
            ],
        )

    output.run(go)


@app.command("verify")
def verify(
    pack: Annotated[Path, typer.Argument(help="The evidence pack zip.")],
    public_key: Annotated[
        Path | None,
        typer.Option(help="PEM key you trust (`steward signature key`), instead of the pack's."),
    ] = None,
    anchor: Annotated[
        list[str] | None,
        typer.Option(help="SEQ:HASH of a journal head recorded earlier (repeatable)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Check a pack offline: the signature, every file's sha256, every audit event and the
    chain up to the signed head. Exit 1 naming each file or event that fails."""

    def go() -> None:
        from steward.sdk.client import Steward

        report = Steward.verify_evidence(pack, public_key=public_key, anchors=anchor or ())
        if json_:
            output.emit_json(report)
        else:
            output.table(
                str(pack),
                ["check", "result", "detail"],
                [(c.name, "ok" if c.ok else "FAILED", c.detail) for c in report.checks],
            )
            if report.ok and report.manifest:
                m = report.manifest
                output.console().print(
                    output.line(
                        output.styled("Verified:", "bold green"),
                        f" evidence pack of {m.get('model')} (versions "
                        f"{', '.join(str(v) for v in m.get('versions', []))}), exported "
                        f"{m.get('created_at')} by {m.get('created_by')}, chain head "
                        f"{m['chain_head']['seq']}.",
                    ),
                    highlight=False,
                )
        if not report.ok:
            if not json_:
                output.err_console().print(
                    output.line(
                        output.styled("Error:", "bold red"),
                        " the evidence pack does not verify; see the FAILED lines.",
                    ),
                    highlight=False,
                )
            raise typer.Exit(1)

    output.run(go)
