"""A participant reads who saw or asked for what about them — and nothing about anyone else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.settings import Settings
from tests.disclosures.world import NOOR, SAM, World, running_world


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    with running_world(settings) as running:
        yield running


def test_access_log_lists_disclosures_and_denials_in_plain_language(world: World) -> None:
    world.contribute(SAM, "care.involvement")
    world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
    world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])
    world.disclose("gemeente-leiden", SAM, "reintegration", ["care.involvement"])
    world.consent(NOOR, "ggz", "reintegration", ["income.benefit"])

    log = world.client.get("/v1/me/access-log", headers=world.issuer.headers(SAM)).json()
    items = log["items"]
    assert [item["action"] for item in items] == ["consent.grant", "disclose", "deny"]
    disclosed = items[1]
    assert disclosed["organisation"] == "Uwv-Leiden"
    assert disclosed["categories"] == ["care.involvement"]
    assert disclosed["summary"].startswith("Uwv-Leiden received care.involvement for reintegration")
    assert items[2]["party"] == "gemeente-leiden" and items[2]["outcome"] == "deny"

    noor = world.client.get("/v1/me/access-log", headers=world.issuer.headers(NOOR)).json()["items"]
    assert [item["action"] for item in noor] == ["consent.grant"]
    assert all(item["party"] != "uwv-leiden" for item in noor)


def test_access_log_needs_a_participant_token(world: World) -> None:
    assert world.client.get("/v1/me/access-log").status_code == 401
    partner = world.client.get("/v1/me/access-log", headers=world.partner_headers("uwv-leiden"))
    assert partner.status_code == 401
