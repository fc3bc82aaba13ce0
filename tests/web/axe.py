"""Every page state the browser tests visit is checked by axe-core and kept as screenshots.

axe-core (Deque, the npm registry's ``axe-core`` package, installed into .tools/ by
scripts/provision.sh) is evaluated in the page through the DevTools protocol, so the pages' strict
Content-Security-Policy stays in force. Any violation fails the test; each state is checked and
photographed at desktop (1280 px) and phone (390 px) width, where the page must not be wider
than the screen. The screenshots stay in var/screenshots/ as CI artefacts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
AXE_VERSION = "4.14.1"
AXE_DEFAULT = (
    ROOT / ".tools" / f"axe-core-{AXE_VERSION}" / "node_modules" / "axe-core" / "axe.min.js"
)
AXE_HOWTO = "browser tests need axe-core in .tools/ (scripts/provision.sh installs it from npm)"
SCREENSHOTS = ROOT / "var" / "screenshots"
WIDTHS = ((1280, 800), (390, 844))

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary),
  }));
}"""
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def axe_source() -> str:
    """The axe-core script; a missing one fails in CI and skips on a laptop."""
    path = Path(os.environ.get("SCHAKEL_TEST_AXE") or AXE_DEFAULT)
    if not path.is_file():
        if IN_CI:
            pytest.fail(f"axe-core missing in CI: {AXE_HOWTO}")
        pytest.skip(AXE_HOWTO)
    return path.read_text("utf-8")


class AccessibilityViolations(AssertionError):
    """axe-core found violations on a page state."""


def violations(page: Any, source: str) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (injected once per document)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source)
    found: list[dict[str, Any]] = page.evaluate(RUN_AXE)
    return found


def checked(page: Any, name: str, source: str) -> None:
    """axe-core at both widths, no sideways scrolling, then a full-page screenshot of each."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        found = violations(page, source)
        if found:
            details = "\n".join(
                f"{v['id']} ({v['impact']}): {v['help']}: {v['nodes']}" for v in found
            )
            raise AccessibilityViolations(f"{page.url} at {width} px:\n{details}")
        overflow = page.evaluate(OVERFLOW)
        assert overflow <= 0, f"{page.url} is {overflow} px wider than a {width} px screen"
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
