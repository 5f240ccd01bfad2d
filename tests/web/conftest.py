"""Fixtures shared by the browser tests: one Chromium per module, and a live server over
the module's ``store`` (each browser test module builds its own store with the people
and objects its flows need)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import LiveServer

from steward.services.context import Context

CHROMIUM = "/usr/bin/chromium"  # Debian's package; browser downloads fail on these machines


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        engine = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield engine
        engine.close()


@pytest.fixture(scope="module")
def server(store: Context) -> Iterator[LiveServer]:
    with LiveServer(store) as live:
        yield live
