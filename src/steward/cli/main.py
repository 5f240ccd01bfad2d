"""The `steward` command line. Imports stay lazy so `steward --help` is instant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import typer

from steward.cli import (
    approvals_cmd,
    audit_cmd,
    backup_cmd,
    check_cmd,
    compliance_cmd,
    connection_cmd,
    dataset_cmd,
    deploy_cmd,
    evidence_cmd,
    finding_cmd,
    gate_cmd,
    impact_cmd,
    job_cmd,
    mlflow_cmd,
    model_cmd,
    monitor_cmd,
    notify_cmd,
    personal_data_cmd,
    policy_cmd,
    report_cmd,
    review_cmd,
    risk_cmd,
    signing_cmd,
    sso_cmd,
    system_cmd,
    team_cmd,
    token_cmd,
    user_cmd,
    version_cmd,
    waiver_cmd,
    webhook_cmd,
    worker_cmd,
)

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
app.add_typer(
    impact_cmd.app,
    name="impact",
    help="AI impact assessments (ISO/IEC 42005, EU AI Act Art. 27): submit, decide, show.",
)
app.add_typer(token_cmd.app, name="token", help="Create, list and revoke API tokens.")
app.add_typer(
    notify_cmd.app, name="notify", help="Your notifications and preferences; the e-mail outbox."
)
app.add_typer(
    user_cmd.app, name="user", help="Users, their roles and passwords; log in for a token."
)
app.add_typer(team_cmd.app, name="team", help="Teams and their members.")
app.add_typer(
    sso_cmd.app, name="sso", help="Single sign-on: sign the CLI in, read the mapping rules."
)
app.add_typer(
    finding_cmd.app, name="finding", help="Raise, list, show, update and comment on findings."
)
app.add_typer(waiver_cmd.app, name="waiver", help="Grant, list and revoke waivers.")
app.add_typer(
    review_cmd.app, name="review", help="Periodic reviews: what is due, complete, history."
)
# policy packs, gates, approvals, check runs
app.add_typer(policy_cmd.app, name="policy", help="Load, activate and read policy packs.")
app.add_typer(gate_cmd.app, name="gate", help="Evaluate a move's gate (the CI/CD gate).")
app.add_typer(
    approvals_cmd.app,
    name="approvals",
    help="Request moves, approve or reject them, see your inbox.",
)
app.add_typer(check_cmd.app, name="check", help="Validation check runs and their evidence.")
app.add_typer(
    risk_cmd.app, name="risk", help="Risk questionnaire, assessments (tier, EU AI Act category)."
)
# signing, deploy records, webhooks
app.add_typer(
    signing_cmd.app, name="signature", help="Export and show signatures; the signing key."
)
app.add_typer(deploy_cmd.app, name="deploy", help="Record and list what deployments loaded.")
app.add_typer(webhook_cmd.app, name="webhook", help="Webhook subscriptions and deliveries.")
app.add_typer(
    connection_cmd.app, name="connection", help="Data connections the server reads through."
)
personal_data_cmd.register(dataset_cmd.app)
app.add_typer(
    dataset_cmd.app,
    name="dataset",
    help="Datasets as governed assets: inventory, versions, quality rules, approvals.",
)
# model cards and evidence packs
app.add_typer(
    report_cmd.app, name="report", help="Model cards (Annex IV documentation) and narratives."
)
app.add_typer(evidence_cmd.app, name="evidence", help="Export and verify signed evidence packs.")
# compliance: control catalogs, coverage, organisation dashboard
app.add_typer(
    compliance_cmd.app,
    name="compliance",
    help="Control catalogs, crosswalks, coverage from live evidence, the dashboard.",
)
# production monitoring
app.add_typer(
    monitor_cmd.app, name="monitor", help="Monitors, batches, late labels, history and alerts."
)
# background jobs run by `steward worker`
app.add_typer(
    job_cmd.app, name="job", help="Background jobs run by `steward worker`: follow, cancel."
)
# the MLflow registry teams already use: import, sync, status
app.add_typer(
    mlflow_cmd.app, name="mlflow", help="Govern an MLflow model registry: import, sync, status."
)
signing_cmd.register(app)
system_cmd.register(app)
backup_cmd.register(app)
worker_cmd.register(app)


def main() -> None:
    from steward.cli import output

    # Commands that import an optional library at module level (not inside output.run)
    # still end with the extra to install rather than a traceback.
    with output.errors():
        app()
