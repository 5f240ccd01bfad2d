"""`steward compliance ...` — control catalogs, crosswalks, coverage and the dashboard."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
FrameworkOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--framework", "-f", help="Only this framework (repeat), e.g. -f eu-ai-act -f tw-fsc."
    ),
]
_STYLE = {
    "current": "green",
    "stale": "yellow",
    "missing": "red",
    "not_applicable": "dim",
    "organisational": "cyan",
}


def _client(ctx: typer.Context) -> Any:
    return ctx.obj.client()


def _mark(state: str) -> str:
    style = _STYLE.get(state, "")
    return f"[{style}]{state}[/{style}]" if style else state


@app.command("catalogs")
def catalogs(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """The shipped control catalogs: counts, status, sources, verification and licence."""

    def go() -> None:
        from steward.compliance.mapping import CatalogInfo

        found = _client(ctx).compliance_catalogs()
        if json_:
            output.emit_json(found, list[CatalogInfo])
            return
        output.table(
            None,
            ["id", "catalog", "assessable", "evidenced", "organisational", "status"],
            [
                (
                    c.id,
                    c.short,
                    c.assessable,
                    c.evidenced,
                    c.organisational,
                    c.status,
                )
                for c in found
            ],
        )
        output.console().print(
            "Sources, verification and licence notes: `steward compliance catalogs --json`."
        )

    output.run(go)


@app.command("controls")
def controls(
    ctx: typer.Context,
    framework: Annotated[str, typer.Argument(help="Catalog id, e.g. nist-ai-rmf, eu-ai-act.")],
    control: Annotated[
        str | None, typer.Argument(help="One control id (quote ids with spaces).")
    ] = None,
    all_levels: Annotated[
        bool, typer.Option("--all", help="Also functions, objectives, clauses, areas.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """A catalog's controls and the Steward evidence that satisfies each."""

    def go() -> None:
        from steward.compliance.mapping import ControlInfo

        client = _client(ctx)
        if control is not None:
            c = client.compliance_control(framework, control)
            if json_:
                output.emit_json(c)
                return
            titles = (
                {x.id: x.title for x in client.compliance_controls(framework, all_levels=True)}
                if c.addressed_by
                else {}
            )
            output.fields(
                f"{c.framework} {c.id} — {c.title}",
                [
                    ("kind", c.kind),
                    ("part of", c.parent or ""),
                    ("text", c.text),
                    ("verified", c.verified or "not stated"),
                    ("applies from", f"{c.applies_from or ''} {c.applies_note}".strip()),
                    ("evidence", ", ".join(k.value for k in c.evidence)),
                    ("organisational", c.organisational or ""),
                    ("note", c.note),
                    ("addresses", ", ".join(c.addresses)),
                    # A GAI risk: the suggested actions that address it, one per line.
                    (
                        f"addressed by ({len(c.addressed_by)})",
                        "\n".join(f"{a} — {titles.get(a, '')}" for a in c.addressed_by),
                    ),
                ],
            )
            return
        found = client.compliance_controls(framework, all_levels=all_levels)
        if json_:
            output.emit_json(found, list[ControlInfo])
            return
        output.table(
            None,
            ["control", "title", "evidence", "applies from"],
            [
                (
                    c.id,
                    c.title,
                    ", ".join(k.value for k in c.evidence)
                    or (f"organisational: {c.organisational}" if c.organisational else ""),
                    c.applies_from or "",
                )
                for c in found
            ],
        )

    output.run(go)


@app.command("crosswalk")
def crosswalk(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="First framework, e.g. nist-ai-rmf.")],
    target: Annotated[str, typer.Argument(help="Second framework, e.g. iso-42001.")],
    json_: JsonOpt = False,
) -> None:
    """Controls of two frameworks linked by the same evidence or a published crosswalk."""

    def go() -> None:
        found = _client(ctx).crosswalk(source, target)
        if json_:
            output.emit_json(found)
            return
        output.table(
            f"{found.source} ↔ {found.target}",
            [found.source, found.target, "title", "basis", "shared evidence"],
            [
                (
                    p.source,
                    p.target,
                    p.target_title,
                    ", ".join(p.basis),
                    ", ".join(k.value for k in p.evidence),
                )
                for p in found.pairs
            ],
        )
        if found.published_source:
            output.console().print(f"published: {found.published_source}")

    output.run(go)


@app.command("coverage")
def coverage(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Argument(help="A model; omit for the whole organisation.")
    ] = None,
    frameworks: FrameworkOpt = None,
    gaps: Annotated[
        bool, typer.Option("--gaps", help="List only controls that are stale or missing.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Coverage computed from live data: current, stale or missing evidence per control."""

    def go() -> None:
        client = _client(ctx)
        if model is None:
            org = client.organisation_coverage(frameworks=frameworks)
            if json_:
                output.emit_json(org)
                return
            _summary(f"Coverage over {org.models} models", org.frameworks)
            rows = [
                (
                    r.framework,
                    r.control,
                    r.title,
                    *(r.counts.get(s, 0) for s in ("current", "stale", "missing")),
                    ", ".join(r.gaps),
                )
                for r in org.controls
                if not gaps or r.counts.get("stale") or r.counts.get("missing")
            ]
            output.table(
                None,
                ["framework", "control", "title", "current", "stale", "missing", "gaps in"],
                rows,
            )
            return
        cov = client.coverage(model, frameworks=frameworks)
        if json_:
            output.emit_json(cov)
            return
        where = f"version {cov.version} ({cov.stage})" if cov.version else "no version"
        output.table(
            f"Evidence for {cov.model}, {where}, tier {cov.risk_tier}",
            ["evidence", "state", "detail"],
            [(e.kind.value, _mark(e.state.value), e.detail) for e in cov.evidence],
        )
        output.table(
            None,
            ["framework", "control", "title", "status", "why"],
            [
                (c.framework, c.control, c.title, _mark(c.status.value), _why(c))
                for c in cov.controls
                if not gaps or c.status.value in ("stale", "missing")
            ],
        )
        _summary("Per framework", cov.frameworks)
        output.table(
            "Obligations and the dates they apply from",
            ["framework", "ref", "obligation", "applies from", "now", "why / date basis"],
            [
                (
                    o.framework,
                    o.ref,
                    o.what,
                    o.applies_from,
                    "applies" if o.in_effect else "not yet",
                    o.basis,
                )
                for o in cov.obligations
            ],
        )

    output.run(go)


def _why(c: Any) -> str:
    """The reason, and for a NIST AI 600-1 GAI risk how many suggested actions address it
    and the command that lists them."""
    if not c.actions:
        return str(c.reason)
    actions = (
        f"{len(c.actions)} NIST suggested actions: "
        f"`steward compliance controls {c.framework} {c.control}`"
    )
    return f"{c.reason} · {actions}" if c.reason else actions


def _summary(title: str, frameworks: Any) -> None:
    output.table(
        title,
        ["framework", "controls", "current", "stale", "missing", "n/a", "organisational", "%"],
        [
            (
                f.framework,
                f.controls,
                *(f.counts.get(s, 0) for s in _STYLE),
                "" if f.percent_current is None else f"{f.percent_current:.1f}",
            )
            for f in frameworks
        ],
    )


@app.command("dashboard")
def dashboard(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """The organisation dashboard: tiers and stages, reviews, findings, production gaps."""

    def go() -> None:
        d = _client(ctx).compliance_dashboard()
        if json_:
            output.emit_json(d)
            return
        stages = sorted({s for row in d.by_tier_and_stage.values() for s in row})
        output.table(
            f"{d.models} models by risk tier and stage",
            ["tier", *stages],
            [(tier, *(row.get(s, 0) for s in stages)) for tier, row in d.by_tier_and_stage.items()],
        )
        output.fields(
            "Open findings",
            [*d.open_findings.items(), ("past due date", d.overdue_findings)],
        )
        output.table(
            "Overdue reviews",
            ["model", "owner", "tier", "due", "days overdue"],
            [(r.model, r.owner, r.risk_tier, r.due, r.days_overdue) for r in d.overdue_reviews],
        )
        for title, gaps_ in (
            ("Production without a monitor", d.production_without_monitor),
            ("Production with stale or missing validation", d.production_stale_validation),
        ):
            output.table(
                title,
                ["model", "version", "owner", "tier", "detail"],
                [(g.model, g.version, g.owner, g.risk_tier, g.detail) for g in gaps_],
            )
        _summary("Coverage per framework", d.coverage)

    output.run(go)


@app.command("export")
def export(
    ctx: typer.Context,
    format: Annotated[
        str,
        typer.Option(
            "--format", help="oscal-catalog (needs --framework), oscal-profile or oscal-ar."
        ),
    ],
    framework: Annotated[
        str | None,
        typer.Option("--framework", "-f", help="The catalog to export, e.g. nist-ai-rmf."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="The model assessed (oscal-ar).")
    ] = None,
    out: output.DocumentOut = None,
    json_: JsonOpt = False,
) -> None:
    """Export OSCAL for another GRC tool: a catalog, the active policy pack as a profile,
    or a model's assessment results (findings per control, evidence with its hashes)."""

    def go() -> None:
        rendered = _client(ctx).compliance_export(format, framework=framework, model=model)
        output.write_document(rendered, out, json_)

    output.run(go)
