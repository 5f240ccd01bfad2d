"""The reference docs stay complete: every CLI command and option, every API route.

docs/cli.md is generated from the Typer app by this module and committed;
regenerate it after changing a command with::

    .venv/bin/python -m tests.test_docs --write
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from steward.cli.main import app

ROOT = Path(__file__).resolve().parent.parent
CLI_MD = ROOT / "docs" / "cli.md"
API_MD = ROOT / "docs" / "api.md"

_PLACEHOLDERS = {"str": "TEXT", "int": "INTEGER", "Path": "PATH", "list[str]": "TEXT"}

INTRO = """\
# Command line reference

<!-- Generated from the Typer app: `.venv/bin/python -m tests.test_docs --write`.
     tests/test_docs.py fails when a command or option is missing here. -->

`steward` works on an **embedded store** (a folder: `./.steward` unless `--home`
or `STEWARD_HOME` says otherwise; created on first use) or, with `--url` and
`--token`, on a **Steward server** (see [api.md](api.md)). The commands are the
same either way.

- Commands that show records print Rich tables for people; `--json` prints JSON
  for scripts, with the field names the REST API uses.
- A refused request prints one line on stderr, `Error: <what is wrong and how to
  fix it>`, and exits with status **1**. A usage mistake (missing argument,
  `key=value` without `=`, a time without a zone) exits with status **2**.
- Times are ISO 8601 with a zone: `2026-03-01T00:00Z`, `2026-03-01T09:30+01:00`.
- Repeatable options (`--tag`, `--param`, `--metric`, ...) are given once per value.

```bash
steward model create credit-scoring --title "Consumer credit" --tag retail
steward risk assess credit-scoring --answers answers.yaml
steward version create credit-scoring model.skops --param C=0.5 --metric auc=0.81 \\
    --tag team=risk --training-data train.csv --target default
steward version transition credit-scoring 1 --to validation -m "ready for review"
steward version alias credit-scoring champion 1
steward version download credit-scoring champion -o model.skops
steward model history credit-scoring --at 2026-03-01T00:00Z
steward audit verify
steward --url https://steward.example --token stw_... model list --team risk --json
```
"""


def _walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
    yield path, command
    if hasattr(command, "list_commands"):
        for name in command.list_commands(None):
            yield from _walk(command.get_command(None, name), [*path, name])


def command_tree() -> list[tuple[str, Any]]:
    """(path, command) for `steward` and every group and command below it."""
    return [(" ".join(path), cmd) for path, cmd in _walk(typer.main.get_command(app), ["steward"])]


def _placeholder(param: Any) -> str:
    bare = str(param.bare_type())
    return _PLACEHOLDERS.get(bare, bare.upper())


def _option_cell(param: Any) -> str:
    if param.param_type_name == "argument":
        return f"`{param.name.upper()}`"
    names = " / ".join(param.opts + param.secondary_opts)
    if param.is_flag:
        return f"`{names}`"
    return f"`{names} {_placeholder(param)}`"


def _describe(param: Any) -> str:
    text = (getattr(param, "help", None) or "").strip()
    notes = []
    if param.required:
        notes.append("required")
    if param.multiple:
        notes.append("repeatable")
    default = param.default
    flag = getattr(param, "is_flag", False)
    if flag and param.secondary_opts:
        notes.append(f"default: `{param.opts[0] if default else param.secondary_opts[0]}`")
    elif not flag and default not in (None, "", (), []):
        notes.append(f"default: `{default}`")
    if getattr(param, "envvar", None):
        notes.append(f"env: `{param.envvar}`")
    if notes:
        text = f"{text} ({'; '.join(notes)})" if text else f"({'; '.join(notes)})"
    return text.replace("|", "\\|")


def _usage(path: str, command: Any) -> str:
    pieces = []
    if any(p.param_type_name == "option" for p in command.params):
        pieces.append("[OPTIONS]")
    for param in command.params:
        if param.param_type_name == "argument":
            name = param.name.upper()
            pieces.append(name if param.required else f"[{name}]")
    if hasattr(command, "list_commands"):
        pieces.append("COMMAND [ARGS]...")
    return " ".join([path, *pieces])


def _table(command: Any) -> list[str]:
    rows = [f"| {_option_cell(p)} | {_describe(p)} |" for p in command.params if not p.hidden]
    if not rows:
        return []
    return ["| Argument / option | Description |", "|---|---|", *rows, ""]


def render_cli_reference() -> str:
    lines = [INTRO]
    for path, command in command_tree():
        heading = "###" if path.count(" ") > 1 else "##"
        title = "Global options" if path == "steward" else f"`{path}`"
        lines.append(f"{heading} {title}\n")
        help_text = (command.help or "").strip()
        if help_text and path != "steward":
            lines.append(help_text.split("\n\n")[0].replace("\n", " ") + "\n")
        if path == "steward":
            lines.append("Given before the command, e.g. `steward --home ./store model list`.\n")
        elif not hasattr(command, "list_commands"):
            lines.append(f"```\n{_usage(path, command)}\n```\n")
        lines.extend(_table(command))
    return "\n".join(lines).rstrip() + "\n"


def _sections(text: str) -> dict[str, str]:
    """Markdown sections keyed by their `steward ...` heading."""
    found: dict[str, str] = {}
    parts = re.split(r"^#{2,3} `(steward[^`]*)`\s*$", text, flags=re.MULTILINE)
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        found[name] = body
    return found


# -- tests ---------------------------------------------------------------------------------


def test_every_cli_command_path_is_documented() -> None:
    text = CLI_MD.read_text(encoding="utf-8")
    paths = [path for path, _ in command_tree() if path != "steward"]
    assert {"steward model create", "steward version alias", "steward audit verify"} <= set(paths)
    missing = [path for path in paths if f"`{path}`" not in text]
    assert missing == [], f"add to docs/cli.md (python -m tests.test_docs --write): {missing}"


def test_every_cli_option_is_documented_under_its_command() -> None:
    sections = _sections(CLI_MD.read_text(encoding="utf-8"))
    global_options = CLI_MD.read_text(encoding="utf-8").split("## `steward init`")[0]
    missing = []
    for path, command in command_tree():
        body = global_options if path == "steward" else sections.get(path, "")
        for param in command.params:
            if param.hidden:
                continue
            names = [param.name.upper()] if param.param_type_name == "argument" else param.opts
            missing += [f"{path} {name}" for name in names if name not in body]
    assert missing == [], f"document in docs/cli.md: {missing}"


def test_every_api_route_is_documented() -> None:
    from steward.api.app import create_app

    schema = create_app(None).openapi()  # type: ignore[arg-type]  # routes need no context
    text = API_MD.read_text(encoding="utf-8")
    routes = [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1")
        for method in operations
    ]
    assert len(routes) >= 26
    missing = [f"{m} {p}" for m, p in routes if f"`{p}`" not in text]
    assert missing == [], f"add to docs/api.md: {missing}"
    rows = {
        (m.group(1), m.group(2))
        for m in re.finditer(r"^\| `?([A-Z]+)`? \| `(/api/v1[^`]*)`", text, re.MULTILINE)
    }
    assert [r for r in routes if r not in rows] == [], "every METHOD + path in the endpoints table"


def test_every_audit_action_is_documented() -> None:
    from steward.domain.audit import Action

    text = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
    table = text.split("## Actions", 1)[1].split("\n## ", 1)[0]
    missing = [a.value for a in Action if f"`{a.value}`" not in table]
    assert missing == [], f"add to the Actions table of docs/audit.md: {missing}"


def test_the_committed_cli_reference_matches_the_generator() -> None:
    """Keeps help text and docs/cli.md in step; regenerate rather than hand-edit."""
    if CLI_MD.read_text(encoding="utf-8") != render_cli_reference():
        pytest.fail("docs/cli.md is stale: run `.venv/bin/python -m tests.test_docs --write`")


if __name__ == "__main__":
    if "--write" in sys.argv:
        CLI_MD.write_text(render_cli_reference(), encoding="utf-8")
        print(f"wrote {CLI_MD}")
    else:
        print(render_cli_reference(), end="")
