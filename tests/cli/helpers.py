"""What every CLI test needs: an isolated environment and output that is easy to assert on."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from steward.cli.main import app

# Never pick up a developer's or CI's Steward settings; wide enough that Rich never folds.
ENV: dict[str, str | None] = {
    "STEWARD_URL": None,
    "STEWARD_TOKEN": None,
    "STEWARD_HOME": None,
    "STEWARD_USER": None,
    "STEWARD_DATABASE_URL": None,
    "STEWARD_ARTIFACTS_URL": None,
    "STEWARD_AUDIT_KEY": None,
    "STEWARD_CONFIG": None,
    "COLUMNS": "220",
}


def flat(text: str) -> str:
    """Output without Rich box drawing and with whitespace collapsed."""
    return " ".join(re.sub(r"[│┃╭╮╰╯─━┏┓┗┛┡┩└┘┌┐├┤╇╋┳┻┴┬┼]", " ", text).split())


def run(home: Path, *args: str, actor: str = "alice") -> Result:
    """`steward --home HOME --as ACTOR ARGS...` on an embedded store."""
    return CliRunner().invoke(
        app, ["--home", str(home), "--as", actor, *args], env=ENV, catch_exceptions=False
    )


def ok(home: Path, *args: str, actor: str = "alice") -> Result:
    result = run(home, *args, actor=actor)
    assert result.exit_code == 0, result.output
    return result


def as_json(home: Path, *args: str, actor: str = "alice") -> Any:
    return json.loads(ok(home, *args, "--json", actor=actor).stdout)
