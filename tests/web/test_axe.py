"""The accessibility check itself: axe-core must fail a page state with a violation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.axe import AccessibilityViolations, checked

UNLABELLED = (
    '<!doctype html><html lang="nl"><head><title>t</title></head><body><main>'
    '<h1>Zoeken</h1><input type="text" name="q"></main></body></html>'
)


def test_axe_core_fails_a_page_with_an_unlabelled_field(browser: Any, axe: str) -> None:
    page = browser.new_context().new_page()
    page.set_content(UNLABELLED)
    with pytest.raises(AccessibilityViolations, match="label"):
        checked(page, "00-axe-self-test", axe)


def test_axe_core_passes_the_same_page_once_the_field_is_labelled(browser: Any, axe: str) -> None:
    page = browser.new_context().new_page()
    page.set_content(UNLABELLED.replace("<input", '<label for="q">Zoek</label><input id="q"'))
    checked(page, "00-axe-self-test", axe)
