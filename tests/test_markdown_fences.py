"""Code blocks in the README and docs are closed and tagged, so shell examples never
render as Python (the README's second Python block once ran on into the shell section)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(\s*)(```+|~~~+)(.*)$")


def fences(path: Path) -> list[tuple[int, str, str]]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = FENCE.match(line)
        if match:
            found.append((number, match.group(2), match.group(3).strip()))
    return found


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_code_block_is_closed(path: Path) -> None:
    opened: tuple[int, str] | None = None
    for number, marker, info in fences(path):
        if opened is None:
            opened = (number, marker)
        elif marker.startswith(opened[1][0]) and len(marker) >= len(opened[1]) and not info:
            opened = None
        else:
            pytest.fail(f"{path.name} line {opened[0]}: code block not closed before line {number}")
    assert opened is None, f"{path.name} line {opened[0]}: code block never closed"


def test_readme_blocks_say_their_language() -> None:
    opening = [info for _, _, info in fences(ROOT / "README.md")[::2]]
    assert all(opening), "every README code block names its language (```bash, ```python)"


def test_python_blocks_in_the_readme_parse() -> None:
    import ast

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        # A block that swallowed a shell section would not parse as Python.
        ast.parse(block)
