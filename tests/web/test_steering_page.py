"""The steering group's page without a browser: the latest stored release as charts and tables,
each figure's protection stated, CSV and JSON downloads of the stored release, a release asked
from the page through the same flow (budget and audit entry included), and the login."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.core.db import transaction
from gateway.demo.trajectories import seed_trajectories
from gateway.settings import Settings
from gateway.web.rendering import CONTENT_SECURITY_POLICY
from tests.disclosures.world import World
from tests.monitoring.helpers import OFFICE, monitoring_world, verified
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
        for party in ("uwv-leiden", "ggz-leiden", "gemeente-leiden"):
            assert party in running.partners
        with transaction(running.runtime.sessions) as session:
            from gateway.demo.seed import seed_demo

            seed_demo(session=session, catalogue=running.runtime.catalogue,
                      clock=running.clock, folder=tmp_path / "demo")  # fmt: skip
            seed_trajectories(session, running.runtime, today=running.clock().date(),
                              regions={"holland-rijnland": 160})  # fmt: skip
        yield running


def test_the_steering_group_asks_a_release_and_reads_it_protected(world: World) -> None:
    client = world.client
    assert client.get("/stuurgroep", follow_redirects=False).headers["location"] == (
        "/stuurgroep/login"
    )
    refused = post_form(client, "/stuurgroep/login", "/stuurgroep/login", party="uwv-leiden")
    assert refused.status_code == 401
    logged_in = post_form(client, "/stuurgroep/login", "/stuurgroep/login", party=OFFICE)
    assert logged_in.status_code == 303
    empty = client.get("/stuurgroep")
    assert empty.status_code == 200 and "Er is nog geen release" in empty.text
    assert empty.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    today = world.clock().date()
    asked = post_form(
        client, "/stuurgroep/releases", "/stuurgroep", region="holland-rijnland",
        since=today.replace(year=today.year - 1).isoformat(), until=today.isoformat(),
        area="subregion", epsilon="2",
    )  # fmt: skip
    assert asked.status_code == 303, asked.text
    page = client.get("/stuurgroep?done=release")
    text = page.text
    assert "De release is gemaakt" in text
    assert text.count("<svg") == 2 and "onderdrukt" in text and "± ruis" in text
    assert "Alleen deelnemers die toestemming gaven" in text
    assert "Uitkomst per methode" in text and "Gestarte trajecten per kwartaal" in text
    assert "<script" not in text
    listed = client.get("/v1/monitoring/releases", headers=world.partner_headers(OFFICE)).json()
    release_id = listed[0]["id"]
    assert f"/stuurgroep/releases/{release_id}.csv" in text
    csv = client.get(f"/stuurgroep/releases/{release_id}.csv")
    assert csv.status_code == 200 and csv.text.startswith("release,table,kind")
    signed = json.loads(client.get(f"/stuurgroep/releases/{release_id}.json").content)
    assert signed["release"]["id"] == release_id and verified(world, signed)
    english = client.get("/stuurgroep?lang=en").text
    assert "suppressed" in english and "± noise" in english
    entries = [e for e in world.audit_entries() if e.action == "monitoring.release"]
    assert [e.outcome for e in entries] == ["ok"]


def test_the_page_asks_nothing_beyond_the_budget(world: World) -> None:
    client = world.client
    post_form(client, "/stuurgroep/login", "/stuurgroep/login", party=OFFICE)
    body = {"region": "holland-rijnland", "since": "2026-01-01", "until": "2026-12-31"}
    assert post_form(client, "/stuurgroep/releases", "/stuurgroep", epsilon="8",
                     **body).status_code == 303  # fmt: skip
    refused = post_form(client, "/stuurgroep/releases", "/stuurgroep", epsilon="1", **body)
    assert refused.status_code == 409 and "8 is spent" in refused.text


def test_a_release_past_the_calendar_the_api_accepts_is_refused_naming_the_field(
    world: World,
) -> None:
    client = world.client
    post_form(client, "/stuurgroep/login", "/stuurgroep/login", party=OFFICE)
    refused = post_form(client, "/stuurgroep/releases", "/stuurgroep", region="holland-rijnland",
                        since="9999-01-01", until="9999-12-31")  # fmt: skip
    assert refused.status_code == 422 and "since:" in refused.text
