"""Shared by the benchmark scripts: write one section of BENCHMARKS.md, keep the others."""

from __future__ import annotations

import os
import platform
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def replace_section(title: str, section: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace the ``## title`` section (or append it); re-read the file just before writing."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == title), None)
    if start is None:
        path.write_text(text.rstrip("\n") + "\n\n" + section)
        return
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith(("## ", "# "))),
        len(lines),
    )
    rest = "".join(lines[end:])
    path.write_text("".join(lines[:start]) + section + ("\n" + rest if rest else ""))


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def memory_gib() -> float | None:
    meminfo = Path("/proc/meminfo")
    if not meminfo.exists():
        return None
    return round(int(meminfo.read_text().split()[1]) / 1024**2, 1)  # MemTotal, first line


def machine() -> str:
    """One line naming the machine the figures come from."""
    memory = memory_gib()
    ram = f", {memory} GiB RAM" if memory is not None else ""
    return (
        f"{os.cpu_count()} CPUs ({cpu_model()}){ram}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )
