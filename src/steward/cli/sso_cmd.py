"""`steward sso ...` — single sign-on: sign the command line in, read the mapping rules."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer

from steward.cli import output

app = typer.Typer(no_args_is_help=True)


@app.command("login")
def login(
    ctx: typer.Context,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    timeout: Annotated[
        int, typer.Option(help="Give up after this many seconds without approval.")
    ] = 600,
) -> None:
    """Sign in through the single sign-on provider (device flow); prints a session token.

    Open the address it shows, sign in at the provider and type the code; the token
    then acts as you, with the roles your groups give (`--url` names the server).
    """

    def go() -> None:
        from steward.domain.errors import SignInPending, StewardError

        client = ctx.obj.client()
        started = client.sso_device_start()
        where = started.get("verification_uri_complete") or started.get("verification_uri")
        err = output.err_console()
        err.print(
            f"Open {where} and enter the code {started.get('user_code')}",
            soft_wrap=True,
            highlight=False,
            markup=False,  # what the server sent is printed, never interpreted
        )
        interval = max(1, int(started.get("interval", 5)))
        deadline = time.monotonic() + min(timeout, int(started.get("expires_in", timeout)))
        while True:
            time.sleep(interval)
            try:
                made = client.sso_device_token(str(started["device_code"]))
                break
            except SignInPending as pending:
                if pending.extra.get("error") == "slow_down":
                    interval += 5
                if time.monotonic() > deadline:
                    raise StewardError(
                        "Nobody approved the sign-in in time; run `steward sso login` again."
                    ) from None
        from steward.cli.user_cmd import emit_session

        emit_session(made, json_)

    output.run(go)


@app.command("rules")
def rules(
    claims: Annotated[
        str | None,
        typer.Option(
            "--claims",
            help='An ID token\'s claims as JSON (e.g. \'{"groups": ["risk"]}\'): show the '
            "roles and teams they map to.",
        ),
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """The mapping rules from provider claims to roles and teams (STEWARD_OIDC_RULES)."""

    def go() -> None:
        from steward.domain import sso
        from steward.domain.errors import InvalidInput
        from steward.settings import Settings

        found = sso.parse_rules(Settings.from_env().oidc_rules)
        mapped: Any = None
        if claims is not None:
            try:
                given = json.loads(claims)
            except ValueError as bad:
                raise InvalidInput(f"--claims is not JSON: {bad}", field="claims") from None
            if not isinstance(given, dict):
                raise InvalidInput("--claims must be a JSON object of claims.", field="claims")
            grants = sso.map_claims(given, found)
            mapped = {"roles": sorted(grants.roles), "teams": sorted(grants.teams)}
        if json_:
            output.emit_json(
                {
                    "rules": [
                        {"claim": r.claim, "value": r.value, r.kind: r.target} for r in found
                    ],
                    **({"maps_to": mapped} if mapped is not None else {}),
                }
            )
            return
        output.table(
            "Single sign-on rules",
            ["claim", "value", "gives"],
            [(r.claim, r.value, f"{r.kind}:{r.target}") for r in found],
        )
        if not found:
            output.err_console().print(
                "No rules: set STEWARD_OIDC_RULES, e.g. 'groups=risk -> role:validator'."
            )
        if mapped is not None:
            output.console().print(
                f"These claims give roles: {', '.join(mapped['roles']) or '(none)'}; "
                f"teams: {', '.join(mapped['teams']) or '(none)'}"
            )

    output.run(go)
