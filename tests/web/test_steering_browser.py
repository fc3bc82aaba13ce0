"""Browser test of the steering group's page: log in, ask a release, see it charted with each
figure's protection, in English and in Dutch; every state checked by axe-core (``tests.web.axe``)
and photographed into var/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.core.db import transaction
from gateway.demo.trajectories import seed_trajectories
from gateway.settings import Settings
from tests.support import free_port, serving
from tests.web.axe import checked
from tests.web.pages import seed


@pytest.fixture
def steering_gateway(tmp_path: Path) -> Iterator[str]:
    """A gateway with the demo parties and 160 generated trajectories in Holland Rijnland."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var", public_url=url, port=port, demo_login=True,
    )  # fmt: skip
    with serving(settings) as runtime:
        seed(runtime, tmp_path / "demo")
        with transaction(runtime.sessions) as session:
            seed_trajectories(session, runtime, today=datetime.now(UTC).date(),
                              regions={"holland-rijnland": 160})  # fmt: skip
        yield url


def test_the_steering_group_asks_a_release_and_sees_it_charted(
    browser: Any, steering_gateway: str, axe: str
) -> None:
    url = steering_gateway
    page = browser.new_page()
    page.goto(f"{url}/stuurgroep/login")
    checked(page, "40-steering-login", axe)
    page.fill("#party", "stuurgroep-holland-rijnland")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}/stuurgroep")
    assert "There is no release" in page.content()
    checked(page, "41-steering-empty", axe)
    page.locator("section").first.locator("form button[type=submit]").click()
    page.wait_for_url(f"{url}/stuurgroep?done=release")
    text = page.content()
    assert "suppressed" in text and "± noise" in text and text.count("<svg") == 2
    checked(page, "42-steering-release", axe)
    page.goto(f"{url}/stuurgroep?lang=nl")
    assert "onderdrukt" in page.content() and "± ruis" in page.content()
    checked(page, "43-steering-release-dutch", axe)
    page.close()
