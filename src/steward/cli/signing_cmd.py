"""`steward verify ARTIFACT` and `steward signature export|show|key|verify-bom`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


def verify(
    artifact: Annotated[Path, typer.Argument(help="The model file or (unpacked) folder.")],
    manifest: Annotated[
        Path | None,
        typer.Option(help="steward-manifest.json (default: beside the artifact)."),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(help="Pinned public key PEM (default: the one beside the manifest)."),
    ] = None,
    signature: Annotated[
        Path | None, typer.Option(help="model_signing bundle (default: model.sig).")
    ] = None,
    manifest_signature: Annotated[
        Path | None,
        typer.Option(help="Manifest signature (default: steward-manifest.json.sig)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Check an artifact offline against its signed manifest; exit 1 unless all checks pass.

    For deploy pipelines: no server or network needed. It checks the manifest's
    signature, the OpenSSF model_signing signature over the artifact's bytes, and
    that the artifact is the one the manifest approved.
    """

    def go() -> None:
        from steward.sdk.client import Steward

        report = Steward.verify_artifact(
            artifact,
            manifest=manifest,
            manifest_signature=manifest_signature,
            model_signature=signature,
            public_key=public_key,
        )
        if json_:
            output.emit_json(report)
        else:
            output.table(
                f"{artifact}",
                ["check", "result", "detail"],
                [(c.name, "ok" if c.ok else "FAILED", c.detail) for c in report.checks],
            )
            if report.ok and report.manifest:
                m = report.manifest
                output.console().print(
                    output.line(
                        output.styled("Verified:", "bold green"),
                        f" {m.get('model')} version {m.get('version')}, "
                        f"signed {m.get('signed_at')} (policy {m.get('policy_version') or 'none'})",
                    ),
                    highlight=False,
                )
        if not report.ok:
            if not json_:
                output.err_console().print(
                    output.line(
                        output.styled("Error:", "bold red"),
                        " verification failed; do not deploy this artifact.",
                    ),
                    highlight=False,
                )
            raise typer.Exit(1)

    output.run(go)


@app.command("export")
def export(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version number.")],
    out: Annotated[Path, typer.Option("-o", "--output", help="Folder to write into.")] = Path(),
    json_: JsonOpt = False,
) -> None:
    """Write a version's signature files (manifest, signatures, public key) into a folder."""

    def go() -> None:
        written = _client(ctx).export_signature(model, version, out)
        if json_:
            output.emit_json([str(p) for p in written])
            return
        output.table(None, ["wrote"], [(str(p),) for p in written])

    output.run(go)


@app.command("show")
def show(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[int, typer.Argument(help="Version number.")],
    json_: JsonOpt = False,
) -> None:
    """Every signing of a version, newest first."""

    def go() -> None:
        from steward.domain.trust import SignatureRecord

        found = _client(ctx).signatures(model, version)
        if json_:
            output.emit_json(found, list[SignatureRecord])
            return
        output.table(
            f"Signatures of {model} version {version}",
            ["signed (UTC)", "by", "key", "artifact sha256", "policy", "approvals"],
            [
                (
                    f"{s.signed_at:%Y-%m-%d %H:%M:%S}",
                    s.signed_by,
                    s.key_id[:16],
                    s.artifact_sha256,
                    s.manifest.get("policy_version") or "",
                    len(s.manifest.get("approvals") or []),
                )
                for s in found
            ],
        )

    output.run(go)


@app.command("key")
def key(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the PEM to this file.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """The public key Steward signs with: pin it in deploy pipelines."""

    def go() -> None:
        info = _client(ctx).signing_key()
        if out is not None:
            out.write_text(info.public_key)
        if json_:
            output.emit_json(info)
            return
        output.fields("Signing key", [("key id", info.key_id), ("algorithm", info.algorithm)])
        if out is None:
            output.console().print(info.public_key, highlight=False)

    output.run(go)


@app.command("verify-bom")
def verify_bom(
    ctx: typer.Context,
    bom: Annotated[Path, typer.Argument(help="A CycloneDX JSON BOM exported with --sign.")],
    public_key: Annotated[
        Path | None,
        typer.Option(help="Pinned public key PEM (default: ask Steward for its signing key)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Check the JSF signature of a BOM from `steward version bom ... --sign` against the
    key you trust; exit non-zero if it was changed or signed by another key."""
    import json

    from steward.domain.errors import InvalidInput
    from steward.trust import jsf

    def go() -> None:
        try:
            doc = json.loads(bom.read_text(encoding="utf-8"))
            pem = public_key.read_text(encoding="utf-8") if public_key is not None else None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InvalidInput(
                f"Cannot read {exc.filename if isinstance(exc, OSError) else bom}: {exc}. "
                "Give a CycloneDX JSON file and a PEM public key (`steward signature key -o`).",
                field="bom",
            ) from None
        if not isinstance(doc, dict):
            raise InvalidInput(f"{bom} is not a JSON object (a CycloneDX BOM).", field="bom")
        found = jsf.verify(doc, pem if pem is not None else _client(ctx).signing_key().public_key)
        if json_:
            output.emit_json(found)
            return
        output.fields(
            "Signature valid",
            [("key id", found.key_id), ("algorithm", found.algorithm), ("file", str(bom))],
        )

    output.run(go)


def register(root: typer.Typer) -> None:
    root.command("verify")(verify)
