"""Oversight per organisation: an officer reads the entries in which their organisation acted and
those about the participants it contributed data about, through every route alike (search, one
entry, statistics, CSV and NDJSON exports, the dashboard); the regional officer reads all.

GGZ contributed Sam's care data and UWV Noor's work data; UWV reads Sam's care data; the gemeente
asks about Noor. GGZ's officer sees UWV reading Sam (GGZ's data) but not the gemeente asking
about Noor.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.settings import Settings
from tests.disclosures.world import NOOR, SAM, World, running_world
from tests.support import new_partner, register
from tests.web.pages import post_form

OFFICERS = {
    "ggz-leiden": ("ggz", ("care-coordinator", "privacy-officer")),
    "uwv-leiden": ("uwv", ("reintegration-advisor", "privacy-officer")),
    "gemeente-leiden": ("gemeente", ("case-manager",)),
    "clientsteun-leiden": ("client-support", ("client-supporter", "regional-privacy-officer")),
}
ROUTES = ("/v1/audit/entries", "/v1/audit/export?format=ndjson", "/v1/audit/export?format=csv")


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    partners = {
        party: new_partner(party, domain, roles=roles, purposes=("reintegration",))
        for party, (domain, roles) in OFFICERS.items()
    }
    with running_world(settings.model_copy(update={"demo_login": True}), partners) as world:
        for partner in partners.values():
            register(world.runtime, partner)
        world.contribute(SAM, "care.involvement")
        world.contribute(NOOR, "work.capacity")
        world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
        uwv = world.disclose(
            "uwv-leiden", SAM, "reintegration", ["care.involvement"], role="reintegration-advisor"
        )
        assert uwv.is_success, uwv.text
        gemeente = world.disclose("gemeente-leiden", NOOR, "reintegration", ["work.capacity"])
        assert gemeente.is_success, gemeente.text
        yield world


def read(world: World, officer: str, route: str, **params: str) -> list[dict[str, Any]]:
    response = world.client.get(
        route, params=params or None, headers=world.partner_headers(officer)
    )
    assert response.status_code == 200, response.text
    if "format=csv" in route:
        return list(csv.DictReader(io.StringIO(response.text)))
    if "format=ndjson" in route:
        return [json.loads(line) for line in response.text.splitlines()]
    return list(response.json()["entries"])


def actors(entries: list[dict[str, Any]]) -> set[str]:
    return {entry["actor_party"] for entry in entries}


@pytest.mark.parametrize("route", ROUTES)
def test_an_officer_reads_their_organisations_part_and_the_data_it_contributed(
    world: World, route: str
) -> None:
    seen = actors(read(world, "ggz-leiden", route))
    assert "uwv-leiden" in seen  # UWV read the care data GGZ contributed
    assert "gemeente-leiden" not in seen  # it asked about Noor: nothing of GGZ's


@pytest.mark.parametrize("route", ROUTES)
def test_the_regional_officer_reads_the_whole_log(world: World, route: str) -> None:
    seen = actors(read(world, "clientsteun-leiden", route))
    assert {"uwv-leiden", "gemeente-leiden"} <= seen


def test_statistics_count_only_the_organisations_part(world: World) -> None:
    def parties(officer: str) -> set[str]:
        response = world.client.get("/v1/audit/statistics", headers=world.partner_headers(officer))
        assert response.status_code == 200, response.text
        return {row["party"] for row in response.json()}

    assert "gemeente-leiden" not in parties("ggz-leiden")
    assert "gemeente-leiden" in parties("uwv-leiden")  # the gemeente asked about UWV's data
    assert "gemeente-leiden" in parties("clientsteun-leiden")


def test_a_search_about_a_participant_outside_the_scope_is_refused_on_record(
    world: World,
) -> None:
    response = world.client.get(
        "/v1/audit/entries", params={"subjectRef": NOOR},
        headers=world.partner_headers("ggz-leiden"),
    )  # fmt: skip
    assert response.status_code == 403
    assert "outside the part of the log" in response.json()["detail"]
    last = world.audit_entries()[-1]
    assert (last.action, last.outcome, last.actor_party) == ("audit.query", "deny", "ggz-leiden")
    assert NOOR not in (last.reason or "")
    assert len(read(world, "ggz-leiden", "/v1/audit/entries", subjectRef=SAM)) >= 2


def test_another_organisations_entry_is_refused_by_number(world: World) -> None:
    gemeente = next(e for e in world.audit_entries() if e.actor_party == "gemeente-leiden")
    uwv = next(e for e in world.audit_entries() if e.actor_party == "uwv-leiden")
    headers = world.partner_headers("ggz-leiden")
    refused = world.client.get(f"/v1/audit/entries/{gemeente.seq}/fhir", headers=headers)
    assert refused.status_code == 403
    allowed = world.client.get(f"/v1/audit/entries/{uwv.seq}/fhir", headers=headers)
    assert allowed.status_code == 200


def test_the_dashboard_and_its_export_keep_to_the_scope(world: World) -> None:
    response = post_form(world.client, "/officer/login", "/officer/login", party="ggz-leiden")
    assert response.status_code == 303, response.text
    page = world.client.get("/officer").text
    assert "Uwv-Leiden" in page
    # The gemeente is named only as a choice in the party filter, in no entry and no chart.
    assert page.count("Gemeente-Leiden") == page.count(">Gemeente-Leiden</option>")
    export = world.client.get("/officer/export", params={"format": "ndjson"}).text
    actors = {json.loads(line)["actor_party"] for line in export.splitlines()}
    assert "gemeente-leiden" not in actors and "uwv-leiden" in actors
    refused = post_form(world.client, "/officer", "/officer", subject=NOOR)
    assert refused.status_code == 403
    recorded = [(e.action, e.outcome, e.actor_party) for e in world.audit_entries()[-5:]]
    assert ("audit.query", "deny", "ggz-leiden") in recorded  # the refusal is on record


def test_a_refused_search_asked_again_is_refused_again(world: World) -> None:
    """The organisation's own refused search about a person is no part in that person's case."""
    headers = world.partner_headers("ggz-leiden")
    for _ in range(3):
        again = world.client.get("/v1/audit/entries", params={"subjectRef": NOOR}, headers=headers)
        assert again.status_code == 403
    timeline = world.client.post("/v1/audit/timeline", json={"subject": NOOR}, headers=headers)
    assert timeline.status_code == 403


def test_a_missing_entry_is_refused_on_record(world: World) -> None:
    headers = world.partner_headers("ggz-leiden")
    for route in ("/v1/audit/entries/999999/fhir", "/v1/audit/entries/999999/proof"):
        before = len(world.audit_entries())
        assert world.client.get(route, headers=headers).status_code == 404
        [entry] = world.audit_entries()[before:]
        assert (entry.action, entry.outcome, entry.actor_party) == (
            "audit.query",
            "deny",
            "ggz-leiden",
        )


def test_the_dashboard_answers_a_refusal_outside_the_scope_with_403(world: World) -> None:
    post_form(world.client, "/officer/login", "/officer/login", party="ggz-leiden")
    page = post_form(world.client, "/officer", "/officer", subject=NOOR)
    assert page.status_code == 403
    assert "buiten het deel van het logboek" in page.text
    for far in ({"until": "9999-12-31"}, {"beforeSeq": str(2**60)}):
        assert world.client.get("/officer", params=far).status_code in {400, 422}


@pytest.mark.parametrize(
    "params",
    [{"until": "9999-12-31T23:00:00-05:00"}, {"from": "0001-01-01T00:30:00+01:00"}],
)
def test_a_moment_at_the_calendars_edge_is_a_clear_400(
    world: World, params: dict[str, str]
) -> None:
    response = world.client.get(
        "/v1/audit/entries", params=params, headers=world.partner_headers("clientsteun-leiden")
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
