"""The browser the page tests drive: Playwright with Debian's Chromium (no browser download here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_HOWTO = (
    "browser tests need Debian Chromium at /usr/bin/chromium and the playwright package "
    "(scripts/provision.sh installs Chromium; `pip install -e .[dev]` installs playwright)"
)
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-gpu",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"Chromium or playwright missing in CI: {CHROMIUM_HOWTO}")
        pytest.skip(CHROMIUM_HOWTO)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()
