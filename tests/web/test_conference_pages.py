"""The conference pages without a browser: the participant sees who comes and what each may see
and answers yes or no; the chair sees invitations and consent per participant and records an
outcome; CSRF, logins and no BSN on any page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.settings import Settings
from gateway.web.rendering import CONTENT_SECURITY_POLICY
from gateway.web.sessions import COOKIE
from tests.conferences.helpers import CHAIR, EMPLOYER, UWV, conference_world, entries, scheduled
from tests.disclosures.world import NOOR, SAM, World
from tests.web.pages import post_form

BSN_LIKE = re.compile(r"(?<![0-9a-f])9999000[0-9]{2}(?![0-9a-f])")


def _settings(tmp_path: Path, *, demo_login: bool = True) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        public_url="http://testserver",
        demo_login=demo_login,
    )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with conference_world(_settings(tmp_path)) as running:
        yield running


def _log_in(client: TestClient, url: str, **fields: str) -> None:
    response = post_form(client, f"{url}/login", f"{url}/login", **fields)
    assert response.status_code == 303, response.text


def test_the_participant_sees_who_comes_and_what_each_may_see_and_says_yes(world: World) -> None:
    conference = scheduled(world, [SAM])
    client = world.client
    _log_in(client, "/portal", bsn=SAM)
    page = client.get("/portal/conferences")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    text = page.text
    assert "Casuïstiekoverleg Leiden" in text and "U heeft nog niet geantwoord" in text
    employer_line = next(line for line in text.splitlines() if "Werkgever-Zeeland" in line)
    assert "uw re-integratietraject" in employer_line
    assert "in zorg" not in employer_line  # an employer never sees care data
    uwv_line = next(line for line in text.splitlines() if "Uwv-Leiden" in line)
    assert "of u in zorg bent" in uwv_line

    answered = post_form(
        client, f"/portal/conferences/{conference['id']}/answer", "/portal/conferences",
        answer="yes",
    )  # fmt: skip
    assert answered.status_code == 303 and answered.headers["location"].endswith("done=answer")
    assert "U zei ja." in client.get("/portal/conferences").text
    assert entries(world, action="conference.consent")[-1].outcome == "ok"
    assert not BSN_LIKE.search(client.get("/portal/conferences").text)


def test_an_answer_without_the_csrf_token_is_refused(world: World) -> None:
    conference = scheduled(world, [SAM])
    _log_in(world.client, "/portal", bsn=SAM)
    refused = world.client.post(
        f"/portal/conferences/{conference['id']}/answer", data={"answer": "yes"}
    )
    assert refused.status_code == 403
    assert entries(world, action="conference.consent") == []


def test_the_chair_sees_consent_per_participant_and_records_an_outcome(world: World) -> None:
    conference = scheduled(world, [SAM, NOOR])
    world.client.post(
        f"/v1/me/conferences/{conference['id']}/answer", json={"answer": "yes"},
        headers=world.issuer.headers(SAM),
    )  # fmt: skip
    client = world.client
    _log_in(client, "/chair", party=CHAIR)
    assert "Casuïstiekoverleg Leiden" in client.get("/chair").text
    url = f"/chair/conferences/{conference['id']}"
    page = client.get(url)
    assert page.status_code == 200
    assert "Casus 1" in page.text and "Casus 2" in page.text
    assert "nog geen antwoord" in page.text and "in het portaal" in page.text
    assert not BSN_LIKE.search(page.text)

    case_id = conference["cases"][0]["case_id"]
    recorded = post_form(
        client, f"{url}/cases/{case_id}/outcome", url,
        advice="Eerst de schulden regelen, dan 12 uur per week.", obstacle=["debts"],
        **{"domain-debts": "gemeente", "action_title_0": "Intake schuldhulp",
           "action_owner_0": UWV, "action_due_0": "2027-01-15"},
    )  # fmt: skip
    assert recorded.status_code == 303, recorded.text
    assert "versie 1 vastgelegd" in client.get(url).text
    plan = client.get("/v1/me/plan", headers=world.issuer.headers(SAM)).json()
    assert [a["title"] for a in plan["actions"]] == ["Intake schuldhulp"]


def test_an_invited_party_sees_the_agenda_without_the_forms(world: World) -> None:
    conference = scheduled(world, [SAM])
    _log_in(world.client, "/chair", party=UWV)
    page = world.client.get(f"/chair/conferences/{conference['id']}")
    assert page.status_code == 200
    assert "Casus 1" in page.text and "/outcome" not in page.text


def test_a_party_that_may_not_chair_cannot_log_in(world: World) -> None:
    response = post_form(world.client, "/chair/login", "/chair/login", party=EMPLOYER)
    assert response.status_code == 401
    assert "Deze organisatie mag geen overleg voorzitten." in response.text
    assert 'action="/chair/login"' in response.text
    assert world.client.get("/chair", follow_redirects=False).headers["location"] == "/chair/login"


def test_a_chairs_cookie_copied_before_logout_is_refused_afterwards(world: World) -> None:
    client = world.client
    _log_in(client, "/chair", party=CHAIR)
    copied = client.cookies.get(COOKIE)
    assert copied and client.get("/chair", follow_redirects=False).status_code == 200
    assert post_form(client, "/chair/logout", "/chair").status_code == 303
    client.cookies.clear()
    client.cookies.set(COOKIE, copied)
    assert client.get("/chair", follow_redirects=False).headers["location"] == "/chair/login"
    sign_ins = [e for e in world.audit_entries() if e.action == "officer.sign_in"]
    assert [(e.actor_party, e.outcome) for e in sign_ins] == [(CHAIR, "ok")]


@pytest.mark.parametrize(
    ("login", "says"),
    [
        ("/chair/login", "Inloggen als voorzitter kan hier nog niet."),
        ("/stuurgroep/login", "Inloggen voor de stuurgroep kan hier nog niet."),
    ],
)
def test_without_the_demo_sign_in_a_partys_login_page_says_so_and_shows_no_form(
    tmp_path: Path, login: str, says: str
) -> None:
    with conference_world(_settings(tmp_path, demo_login=False)) as running:
        page = running.client.get(login)
    assert page.status_code == 200
    assert says in page.text and f'action="{login}"' not in page.text
