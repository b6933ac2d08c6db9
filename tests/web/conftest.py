"""Fixtures of the browser tests (Playwright + Debian's Chromium; they skip without them).

Module-scoped: each test module gets its own server (with its own data folder) and browser.
A module changes the browser's command line by overriding ``chromium_args``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support import CHROMIUM, CHROMIUM_ARGS, NO_GPU, running_server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``openrehab serve`` on a fresh data folder: (its base URL, the folder)."""
    data = tmp_path_factory.mktemp("browser-data")
    with running_server(data) as running:
        assert running.health is not None, "the server did not start"
        yield running.base_url, data


@pytest.fixture(scope="module")
def server(served: tuple[str, Path]) -> str:
    return served[0]


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="module")
def chromium_args() -> list[str]:
    """The command line of ``browser``."""
    return [*CHROMIUM_ARGS, NO_GPU]


@pytest.fixture(scope="module")
def browser(playwright: Any, chromium_args: list[str]) -> Iterator[Any]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=chromium_args)
    yield browser
    browser.close()
