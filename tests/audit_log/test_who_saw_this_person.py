"""Over HTTP as a privacy officer: who saw this person's data, and on what grounds? Newest first,
each disclosure with the consent it relied on; a BSN never in a URL. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.settings import Settings
from tests.disclosures.world import SAM, TOKEN_AUDIENCE, World, running_world
from tests.support import new_partner, register, token_request
from tests.web.pages import post_form

BSN_LIKE = re.compile(r"(?<![0-9a-f])9999000[0-9]{2}(?![0-9a-f])")


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    with running_world(settings.model_copy(update={"demo_login": True})) as running:
        officer = new_partner(
            "privacy-leiden", "gemeente", "EdDSA", roles=("regional-privacy-officer",), purposes=()
        )
        register(running.runtime, officer)
        running.partners["privacy-leiden"] = officer
        yield running


def officer_headers(world: World) -> dict[str, str]:
    partner = world.partners["privacy-leiden"]
    response = token_request(
        world.client, partner.assertion(audience=TOKEN_AUDIENCE, now=world.clock())
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def two_disclosures_and_a_denial(world: World) -> tuple[str, str]:
    """UWV reads with a domain-wide consent, GGZ with its own; the gemeente is refused."""
    world.contribute(SAM, "work.capacity")
    world.contribute(SAM, "care.involvement")
    uwv = world.consent(SAM, "uwv", "reintegration", ["work.capacity"])
    world.clock.advance(60)
    assert world.disclose("uwv-leiden", SAM, "reintegration", ["work.capacity"]).status_code == 200
    world.clock.advance(60)
    ggz = world.consent(SAM, "ggz-leiden", "reintegration", ["care.involvement"])
    world.clock.advance(60)
    assert (
        world.disclose("ggz-leiden", SAM, "reintegration", ["care.involvement"]).status_code == 200
    )
    world.clock.advance(60)
    world.disclose("gemeente-leiden", SAM, "reintegration", ["work.capacity"])
    return uwv["id"], ggz["id"]


def test_the_api_answers_newest_first_with_the_consent_each_disclosure_relied_on(
    world: World,
) -> None:
    uwv_consent, ggz_consent = two_disclosures_and_a_denial(world)
    response = world.client.post(
        "/v1/audit/timeline", json={"subject": SAM}, headers=officer_headers(world)
    )
    assert response.status_code == 200, response.text
    assert SAM not in str(response.request.url)
    entries = response.json()["entries"]
    seqs = [item["entry"]["seq"] for item in entries]
    assert seqs == sorted(seqs, reverse=True)
    actions = [item["entry"]["action"] for item in entries]
    assert actions[:3] == ["deny", "disclose", "consent.grant"]
    assert "audit.query" not in actions  # the officer's own searches are left out by default
    disclosures = [item for item in entries if item["entry"]["action"] == "disclose"]
    assert [item["entry"]["actor_party"] for item in disclosures] == ["ggz-leiden", "uwv-leiden"]
    ggz, uwv = (item["consents_relied_on"] for item in disclosures)
    assert [ground["id"] for ground in ggz] == [ggz_consent]
    assert ggz[0]["given_by"] == "participant" and ggz[0]["grantee"] == "ggz-leiden"
    assert ggz[0]["categories"] == ["care.involvement"]
    assert [ground["id"] for ground in uwv] == [uwv_consent] and uwv[0]["grantee"] == "uwv"
    assert not BSN_LIKE.search(response.text)


def test_the_dashboard_answers_the_same_question_in_words_and_keeps_the_bsn_out_of_urls(
    world: World,
) -> None:
    two_disclosures_and_a_denial(world)
    client = world.client
    assert (
        post_form(client, "/officer/login", "/officer/login", party="privacy-leiden").status_code
        == 303
    )
    answer = post_form(client, "/officer", "/officer", subject=SAM)
    assert answer.status_code == 200
    assert answer.request.method == "POST" and SAM not in str(answer.request.url)
    html = answer.text
    assert not BSN_LIKE.search(html)  # not in the page, its links or its form
    rows = re.findall(r'<tr id="entry-(\d+)">(.*?)</tr>', html, re.S)
    assert [int(seq) for seq, _ in rows] == sorted((int(seq) for seq, _ in rows), reverse=True)
    first, second = rows[0][1], rows[1][1]
    assert "verzoek geweigerd" in first and "geen geldende toestemming" in first
    assert "gegevens verstrekt" in second
    assert "Toestemming: gegeven door de deelnemer zelf op" in second
    assert "Ggz-Leiden" in second and "of u in zorg bent" in second
    assert re.search(
        r"\d{1,2} (jan|feb|mrt|apr|mei|jun|jul|aug|sep|okt|nov|dec) \d{4} \d{2}:\d{2}", first
    )
    assert all("logboek doorzocht" not in row for _, row in rows)  # own searches hidden
    for link in re.findall(r'href="([^"]+)"', html):
        assert not BSN_LIKE.search(link), link


def test_a_bsn_in_the_address_is_refused_and_not_searched(world: World) -> None:
    two_disclosures_and_a_denial(world)
    client = world.client
    post_form(client, "/officer/login", "/officer/login", party="privacy-leiden")
    for url in (f"/officer?subject={SAM}", f"/officer/participant?subject={SAM}",
                f"/officer/export?subject={SAM}"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 400, url
        assert "zoekformulier" in response.text
    form = client.get("/officer").text
    assert '<form method="post" action="/officer">' in form


def test_the_participant_view_is_one_printable_timeline_with_their_consents(world: World) -> None:
    two_disclosures_and_a_denial(world)
    client = world.client
    post_form(client, "/officer/login", "/officer/login", party="privacy-leiden")
    page = post_form(client, "/officer/participant", "/officer/participant", subject=SAM)
    assert page.status_code == 200 and not BSN_LIKE.search(page.text)
    timeline: Any = page.text.split("Tijdlijn")[1]
    assert timeline.count('<tr id="entry-') >= 5
    consents = page.text.split("Toestemmingen")[1].split("Tijdlijn")[0]
    assert "het hele UWV" in consents and "Ggz-Leiden" in consents
    assert "@media print" in client.get("/web/static/schakel.css").text
