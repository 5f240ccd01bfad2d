"""`steward check ...` — validation runs and their evidence."""

from __future__ import annotations

import typer

from steward.cli import check_records, check_run

app = typer.Typer(no_args_is_help=True)

# record / show / list of stored check runs
check_records.register(app)

# run / suites: Steward's validation engine
check_run.register(app)
