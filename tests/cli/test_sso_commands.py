"""`steward sso rules` reads the administrator's mapping rules and previews what a set of
claims maps to; bad rules and bad claims end with a message and exit 1. (`steward sso
login` runs against a real provider in tests/web/test_sso_browser.py.)"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from steward.cli.main import app

RULES = "groups=risk -> role:validator; groups=risk -> team:model-validation"


def _run(*args: str, rules: str = RULES) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"STEWARD_OIDC_RULES": rules})
    return result.exit_code, result.output


def test_rules_are_listed_and_claims_previewed() -> None:
    code, out = _run("sso", "rules", "--claims", '{"groups": ["risk", "other"]}', "--json")
    assert code == 0, out
    body = json.loads(out)
    assert body["rules"][0] == {"claim": "groups", "value": "risk", "role": "validator"}
    assert body["maps_to"] == {"roles": ["validator"], "teams": ["model-validation"]}
    code, out = _run("sso", "rules", "--claims", '{"groups": ["risk"]}')
    assert code == 0 and "These claims give roles: validator; teams: model-validation" in out


def test_bad_rules_and_bad_claims_name_the_fix() -> None:
    code, out = _run("sso", "rules", rules="groups=risk -> role:wizard")
    assert code == 1 and "Unknown role 'wizard'" in out
    code, out = _run("sso", "rules", "--claims", "[1]")
    assert code == 1 and "--claims must be a JSON object" in out
