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
            if result.unauthenticated_before:
                output.err_console().print(
                    f"Events before #{result.unauthenticated_before} carry no MAC the audit key "
                    "can check (written before the key file existed): only the chain and "
                    "recorded anchors protect them. See docs/audit.md.",
                    highlight=False,
                )
        else:
            where = (
                f"Audit chain broken at event {result.broken_seq}"
                if result.broken_seq is not None
                else "Audit checkpoint check failed"  # a forged checkpoint names no event
            )
            output.err_console().print(
                output.line(
                    output.styled(where, "bold red"),
                    f" ({result.kind.value}): {result.detail}. {result.checked} events before it "
                    "verify.",
                ),
                highlight=False,
            )

    output.run(go)
    if result is not None and not result.ok:
        raise typer.Exit(1)


@app.command("reconcile")
def reconcile(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Replay the journal against the state tables. Exit 1 naming every row it does not explain."""
    result: Any = None

    def go() -> None:
        nonlocal result
        result = _client(ctx).reconcile_audit()
        if json_:
            output.emit_json(result)
            return
        if result.ok:
            output.console().print(
                output.line(
                    output.styled("State reconciled", "green"),
                    f": the journal ({result.events} events replayed) explains all "
                    f"{result.rows} rows",
                )
            )
            return
        output.table(
            None,
            ["table", "row", "problem", "in the table", "journal explains"],
            [
                (d.table, d.key, d.problem, d.found or "-", d.expected or "-")
                for d in result.discrepancies
            ],
        )
        output.err_console().print(
            output.line(
                output.styled(
                    f"{len(result.discrepancies)} rows the journal does not explain", "bold red"
                ),
                ": they were written outside Steward (e.g. by SQL). Check the journal itself "
                "with `steward audit verify`.",
            ),
            highlight=False,
        )

    output.run(go)
    if result is not None and not result.ok:
        raise typer.Exit(1)


@app.command("rotate-key")
def rotate_key(ctx: typer.Context) -> None:
    """Authenticate new events with a fresh audit key (run on the server host).

    The old keys stay in the key file so the events they authenticated still verify.
    """

    def go() -> None:
        from steward.domain.errors import InvalidInput
        from steward.services import reconcile
        from steward.settings import Settings

        if ctx.obj.url:
            raise InvalidInput(
                "The audit key is a file on the server: run `steward audit rotate-key` on the "
                "server host, without --url.",
                field="url",
            )
        new, retired = reconcile.rotate_key(Settings.from_env(home=ctx.obj.home))
        output.console().print(
            f"New events are authenticated with key {new}; kept to check older events: "
            f"{', '.join(retired)}. Back up the key file (see docs/audit.md)."
        )

    output.run(go)


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
                [
                    "id",
                    "events",
                    "root",
                    "created (UTC)",
                    "by",
                    "published to",
                    "cosigners",
                    "error",
                ],
                [
                    (
                        c.id,
                        c.tree_size,
                        c.root_hash[:16],
                        c.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                        c.created_by,
                        ", ".join(c.published_to) or "-",
                        ", ".join(c.cosigners) or "-",
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


witness_app = typer.Typer(
    no_args_is_help=True,
    help="Witnesses: outside parties who cosign checkpoints after checking consistency.",
)
app.add_typer(witness_app, name="witness")


@witness_app.command("keygen")
def witness_keygen(
    name: Annotated[str, typer.Argument(help="The witness's name (no spaces or '+').")],
    out: Annotated[
        Path, typer.Option("-o", "--output", help="PEM file for the private key (not overwritten).")
    ] = Path("witness-key.pem"),
) -> None:
    """Make a witness key pair (run by the witness); print the verifier key to register."""

    def go() -> None:
        from steward.trust import witness

        key = witness.generate(name, out)
        output.err_console().print(
            f"Wrote the private key to {out} (keep it; it never leaves the witness). Give the "
            f"operator this verifier key for `steward audit witness add {name} --public-key`:",
            highlight=False,
        )
        output.console().print(key.verifier_key, highlight=False, markup=False)
        from steward.domain.checkpoint import key_fingerprint

        output.err_console().print(
            f"Key fingerprint (SHA-256): {key_fingerprint(key.verifier_key)} — the operator's "
            "witnesses page shows it; compare the two.",
            highlight=False,
        )

    output.run(go)


@witness_app.command("add")
def witness_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The witness's name (its key's name).")],
    public_key: Annotated[
        str, typer.Option("--public-key", help="Its signed-note verifier key NAME+KEYID+KEY.")
    ],
) -> None:
    """Register a witness whose cosignatures Steward accepts (admin)."""

    def go() -> None:
        added = _client(ctx).add_witness(name, public_key)
        output.console().print(f"Witness {added.name} registered", highlight=False)

    output.run(go)


@witness_app.command("list")
def witness_list(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """The registered witnesses."""

    def go() -> None:
        from steward.domain.checkpoint import Witness

        found = _client(ctx).witnesses()
        if json_:
            output.emit_json(found, list[Witness])
            return
        output.table(
            None,
            ["name", "verifier key", "added (UTC)", "by"],
            [
                (w.name, w.verifier_key, w.created_at.strftime("%Y-%m-%d %H:%M:%S"), w.created_by)
                for w in found
            ],
        )

    output.run(go)


@witness_app.command("remove")
def witness_remove(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The witness's name.")]
) -> None:
    """Unregister a witness (admin); the cosignatures it made stay."""

    def go() -> None:
        _client(ctx).remove_witness(name)
        output.console().print(f"Witness {name} removed", highlight=False)

    output.run(go)


def _read_text(path: Path, what: str, option: str) -> str:
    from steward.domain.errors import InvalidInput

    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Cannot read {what} {path}: {exc}.", field=option) from None


def _proof_hashes(path: Path) -> list[bytes]:
    """The hashes of a consistency proof: `steward audit consistency --json` output or a list."""
    import json

    from steward.domain.errors import InvalidInput

    try:
        data = json.loads(_read_text(path, "the proof", "proof"))
        steps = data["proof"] if isinstance(data, dict) else data
        return [bytes.fromhex(step) for step in steps]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            f"{path} is not a consistency proof ({exc}): save the output of "
            "`steward audit consistency OLD NEW --json`.",
            field="proof",
        ) from None


@witness_app.command("cosign")
def witness_cosign(
    new: Annotated[Path, typer.Option("--checkpoint", help="The new signed checkpoint file.")],
    key: Annotated[Path, typer.Option("--key", help="The witness's private key (PEM).")],
    name: Annotated[str, typer.Option("--name", help="The witness's name (its key's name).")],
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="The last checkpoint this witness saw (and cosigned)."),
    ] = None,
    proof: Annotated[
        Path | None,
        typer.Option(
            "--proof", help="Consistency proof from --previous to --checkpoint (JSON file)."
        ),
    ] = None,
    log_key: Annotated[
        str | None,
        typer.Option(
            "--log-key",
            help="The log's verifier key, or a file holding it (default: log-key.vkey next "
            "to the checkpoint, as published).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the cosigned note here.")
    ] = None,
) -> None:
    """Cosign a checkpoint as a witness, offline: only if it extends the one you saw.

    Checks the log's signature and the consistency proof, then adds this witness's
    signature line. Exit 1, cosigning nothing, if either check fails.
    """

    def go() -> None:
        from steward.domain.errors import InvalidInput
        from steward.trust import witness

        if (previous is None) != (proof is None):
            raise InvalidInput(
                "Give --previous and --proof together (or neither, for the first checkpoint "
                "you witness).",
                field="proof",
            )
        vkey = log_key
        try:
            names_file = vkey is not None and Path(vkey).is_file()
        except OSError:  # a key text too long to be a path
            names_file = False
        if vkey is None or names_file:
            source = Path(vkey) if vkey else new.parent / "log-key.vkey"
            if not source.is_file():
                raise InvalidInput(
                    f"No log verifier key: {source} does not exist. Give --log-key with the "
                    "key `steward audit checkpoint` publishes as log-key.vkey.",
                    field="log_key",
                )
            vkey = _read_text(source, "the log key", "log_key").strip()
        cosigned = witness.cosign(
            witness.load(name, key),
            _read_text(new, "the checkpoint", "checkpoint"),
            vkey,
            previous_text=None
            if previous is None
            else _read_text(previous, "the previous checkpoint", "previous"),
            proof=[] if proof is None else _proof_hashes(proof),
        )
        if out is None:
            output.console().print(cosigned, highlight=False, markup=False, end="")
        else:
            out.write_text(cosigned, encoding="utf-8")
            output.err_console().print(
                f"Cosigned; submit it with `steward audit witness submit {out}`", highlight=False
            )

    output.run(go)


@witness_app.command("submit")
def witness_submit(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The cosigned note the witness wrote.")],
    checkpoint: Annotated[
        int | None, typer.Option(help="Checkpoint id (default: found by the note's size).")
    ] = None,
) -> None:
    """Store a witness's cosignature, after checking it against the registered witness keys."""

    def go() -> None:
        stored = _client(ctx).submit_cosignature(
            _read_text(file, "the cosigned note", "file"), checkpoint=checkpoint
        )
        output.console().print(
            f"Checkpoint {stored.id} ({stored.tree_size} events) is cosigned by "
            f"{', '.join(stored.cosigners)}",
            highlight=False,
        )

    output.run(go)
