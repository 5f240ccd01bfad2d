"""`steward audit ...`"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli import output
from steward.cli.parsing import moment

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


@app.command("log")
def log(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option(help="Events about this model.")] = None,
    actor: Annotated[str | None, typer.Option(help="Events by this user.")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. version.transitioned")] = None,
    since: Annotated[str | None, typer.Option(help="ISO 8601 with zone.")] = None,
    until: Annotated[str | None, typer.Option(help="ISO 8601 with zone.")] = None,
    after: Annotated[int | None, typer.Option(help="Only events after this seq.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many events (1-10000).")] = 100,
    json_: JsonOpt = False,
) -> None:
    """Journal events in order, filtered."""

    def go() -> None:
        from steward.domain.audit import AuditEvent, format_time

        start, end = moment(since), moment(until)
        events = _client(ctx).audit_events(
            limit=limit,
            actor=actor,
            action=action,
            after_seq=after,
            subject_prefix=model,
            since=format_time(start) if start else None,
            until=format_time(end) if end else None,
        )
        if json_:
            output.emit_json(events, list[AuditEvent])
            return
        output.table(
            None,
            ["seq", "time (UTC)", "actor", "action", "subject", "details"],
            [
                (
                    e.seq,
                    e.time[:19].replace("T", " "),
                    e.actor,
                    e.action,
                    f"{e.subject_type}:{e.subject_id}",
                    _summary(e.payload_dict()),
                )
                for e in events
            ],
        )

    output.run(go)


def _summary(payload: dict[str, Any]) -> str:
    if "from" in payload and "to" in payload:
        return f"{payload['from']} -> {payload['to']}: {payload.get('justification', '')}"
    if "fields" in payload:
        return ", ".join(
            f"{k}: {payload['before'].get(k)!r} -> {payload['after'].get(k)!r}"
            for k in payload["fields"]
        )
    if "alias" in payload:
        return f"{payload['alias']}: {payload.get('before')} -> {payload.get('after')}"
    return ""


@app.command("verify")
def verify(
    ctx: typer.Context,
    anchor: Annotated[
        list[str] | None,
        typer.Option(
            "--anchor",
            help="SEQ:HASH head recorded earlier outside the database (repeatable): "
            "detects deleted newest events or a rewritten tail.",
        ),
    ] = None,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="A signed checkpoint file kept outside the database (repeatable): exit 1 "
            "if the journal no longer matches it.",
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Recompute the hash chain and check it against every signed checkpoint.

    Exit 0 if intact, 1 naming the first broken event and what happened to it.
    """
    result: Any = None

    def go() -> None:
        nonlocal result
        import os

        result = _client(ctx).verify_audit(
            workers=min(os.cpu_count() or 1, 4),
            anchors=anchor or [],
            checkpoints=checkpoint or [],
        )
        if json_:
            output.emit_json(result)
        elif result.ok:
            output.console().print(
                output.line(
                    output.styled("Audit chain intact", "green"),
                    f": {result.checked} events, head #{result.head_seq} {result.head_hash}",
                )
            )
        else:
            output.err_console().print(
                output.line(
                    output.styled(f"Audit chain broken at event {result.broken_seq}", "bold red"),
                    f" ({result.kind.value}): {result.detail}. {result.checked} events before it "
                    "verify.",
                ),
                highlight=False,
            )

    output.run(go)
    if result is not None and not result.ok:
        raise typer.Exit(1)


@app.command("export")
def export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("-o", "--output", help="JSON Lines file to write.")] = Path(
        "audit.jsonl"
    ),
) -> None:
    """Write the journal as JSON Lines (docs/audit.md shows how to verify it independently)."""

    def go() -> None:
        count = _client(ctx).export_audit(out)
        output.console().print(f"Wrote {count} events to {out}")

    output.run(go)


@app.command("checkpoint")
def checkpoint(
    ctx: typer.Context,
    list_: Annotated[
        bool, typer.Option("--list", help="List the checkpoints instead of creating one.")
    ] = False,
    publish_to: Annotated[
        list[str] | None,
        typer.Option(
            "--publish-to",
            help="Folder or s3:// prefix to publish to, instead of STEWARD_CHECKPOINT_PUBLISH "
            "(repeatable; embedded store only).",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="With --list: at most this many.")] = 100,
    json_: JsonOpt = False,
) -> None:
    """Sign the journal's current tree head (a C2SP checkpoint) and publish it."""

    def go() -> None:
        from steward.domain.checkpoint import StoredCheckpoint

        client = _client(ctx)
        if list_:
            found = client.checkpoints(limit=limit)
            if json_:
                output.emit_json(found, list[StoredCheckpoint])
                return
            output.table(
                None,
                ["id", "events", "root", "created (UTC)", "by", "published to", "error"],
                [
                    (
                        c.id,
                        c.tree_size,
                        c.root_hash[:16],
                        c.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                        c.created_by,
                        ", ".join(c.published_to) or "-",
                        c.publish_error or "",
                    )
                    for c in found
                ],
            )
            return
        made = client.create_checkpoint(publish_to=publish_to)
        if json_:
            output.emit_json(made)
            return
        output.console().print(
            output.line(
                output.styled(f"Checkpoint {made.id}", "green"),
                f": events 1-{made.tree_size}, root {made.root_hash}",
            )
        )
        output.console().print(made.note, highlight=False, markup=False, end="")
        for place in made.published_to:
            output.console().print(f"Published to {place}", highlight=False)
        if made.publish_error:
            output.err_console().print(
                output.line(
                    output.styled("Not published", "bold red"),
                    f": {made.publish_error}. The scheduler (`steward monitor schedule "
                    "--worker`) retries it.",
                ),
                highlight=False,
            )

    output.run(go)


@app.command("prove")
def prove(
    ctx: typer.Context,
    seq: Annotated[int, typer.Argument(help="The event's seq.")],
    checkpoint: Annotated[
        int | None, typer.Option(help="Checkpoint id (default: the latest).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Inclusion proof: event SEQ is in the tree a signed checkpoint commits to."""

    def go() -> None:
        proof = _client(ctx).prove_inclusion(seq, checkpoint=checkpoint)
        if json_:
            output.emit_json(proof)
            return
        ok = proof.verify()
        output.console().print(
            output.line(
                output.styled(
                    f"Event {seq} is in checkpoint {proof.checkpoint_id}"
                    if ok
                    else f"The proof for event {seq} does not verify",
                    "green" if ok else "bold red",
                ),
                f" ({proof.tree_size} events, root {proof.root_hash})",
            )
        )
        output.console().print(f"leaf {proof.leaf_index}: {proof.leaf_hash}", highlight=False)
        for step in proof.proof:
            output.console().print(f"  {step}", highlight=False)
        if not ok:
            raise typer.Exit(1)

    output.run(go)


@app.command("consistency")
def consistency(
    ctx: typer.Context,
    old: Annotated[int, typer.Argument(help="The older checkpoint's id.")],
    new: Annotated[int, typer.Argument(help="The newer checkpoint's id.")],
    json_: JsonOpt = False,
) -> None:
    """Consistency proof: checkpoint NEW's tree extends checkpoint OLD's (nothing rewritten)."""

    def go() -> None:
        proof = _client(ctx).prove_consistency(old, new)
        if json_:
            output.emit_json(proof)
            return
        ok = proof.verify()
        output.console().print(
            output.line(
                output.styled(
                    f"Checkpoint {new} extends checkpoint {old}"
                    if ok
                    else f"Checkpoint {new} does not extend checkpoint {old}",
                    "green" if ok else "bold red",
                ),
                f" ({proof.old.tree_size} -> {proof.new.tree_size} events)",
            )
        )
        for step in proof.proof:
            output.console().print(f"  {step}", highlight=False)
        if not ok:
            raise typer.Exit(1)

    output.run(go)
