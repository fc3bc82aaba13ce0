"""The browser the page tests drive: Playwright with Debian's Chromium (no browser download here),
the real app on uvicorn with the demo parties, and axe-core to check every page state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.settings import Settings
from tests.conftest import IN_CI
from tests.support import free_port, serving
from tests.web.axe import axe_source
from tests.web.pages import seed

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


@pytest.fixture(scope="session")
def axe() -> str:
    """The axe-core script the browser tests inject into each page state."""
    return axe_source()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """The real app on uvicorn with the demo parties; their private keys for partner tokens."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        public_url=url,
        port=port,
        demo_login=True,
    )
    with serving(settings) as runtime:
        yield url, seed(runtime, tmp_path / "demo")
