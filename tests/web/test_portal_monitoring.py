"""The portal says what regional monitoring counts about the participant and on what ground, and
takes an objection that keeps them out of every later release."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from gateway.settings import Settings
from tests.disclosures.world import NOOR, SAM, World
from tests.monitoring.helpers import MIDDELBURG, monitoring_world, trajectory
from tests.web.pages import post_form


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        public_url="http://testserver",
        demo_login=True,
    )
    with monitoring_world(settings) as running:
        yield running


def test_the_portal_says_what_is_counted_and_takes_an_objection(world: World) -> None:
    bsn = SAM  # the demo login takes the seeded demo participants only
    trajectory(world, bsn, municipality=MIDDELBURG, started=date(2026, 5, 4),
               outcome="paid-work", consent=False)  # fmt: skip
    client = world.client
    assert post_form(client, "/portal/login", "/portal/login", bsn=bsn).status_code == 303
    page = client.get("/portal/monitoring").text
    assert "Zeeland" in page and "op grond van een afspraak" in page
    assert "U telt nu mee met:" in page and "nooit uw naam" in page.lower()
    objected = post_form(client, "/portal/monitoring/objection", "/portal/monitoring",
                         objected="yes")  # fmt: skip
    assert objected.status_code == 303
    after = client.get("/portal/monitoring?done=objected").text
    assert "Uw bezwaar is vastgelegd" in after and "U telt niet mee: u heeft bezwaar" in after
    entries = [e for e in world.audit_entries() if e.action == "monitoring.objection"]
    assert len(entries) == 1
    lifted = post_form(client, "/portal/monitoring/objection", "/portal/monitoring",
                       objected="no")  # fmt: skip
    assert lifted.status_code == 303
    assert "U telt nu mee met:" in client.get("/portal/monitoring").text


def test_without_trajectory_facts_the_portal_says_nothing_is_counted(world: World) -> None:
    client = world.client
    assert post_form(client, "/portal/login", "/portal/login", bsn=NOOR).status_code == 303
    assert "Er zijn geen trajectgegevens over u" in client.get("/portal/monitoring").text
