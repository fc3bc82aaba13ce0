"""The portal as a participant reads it: Dutch sentences beside the fields, a withdrawal that is
confirmed first, earlier consents kept in reach, an access log newest first, a readable receipt."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audit.schemas import Outcome
from gateway.core.db import transaction
from gateway.identity.vault import find_by_bsn
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.web.i18n import words
from tests.support import SettableClock, running_gateway
from tests.web.pages import SAM, post_form, seed

ENGLISH_OR_CODES = re.compile(
    r"validation error|Field required|consent\.(grant|amend|revoke)|\b(active|revoked|granted|"
    r"superseded|planned|in-progress)\b|reintegration\b|work\.capacity|UTC"
)


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[tuple[Runtime, TestClient, SettableClock]]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        public_url="http://testserver",
        demo_login=True,
    )
    clock = SettableClock()
    with running_gateway(settings, clock) as (runtime, client):
        seed(runtime, tmp_path / "demo")
        response = post_form(client, "/portal/login", "/portal/login", bsn=SAM)
        assert response.status_code == 303
        yield runtime, client, clock


def give(client: TestClient, **fields: Any) -> Any:
    form = {"grantee": "uwv-leiden", "purpose": "reintegration", "categories": ["work.capacity"]}
    return post_form(client, "/portal/consents", "/portal", **{**form, **fields})


def consent_ids(html: str) -> list[str]:
    return re.findall(r"/portal/consents/([0-9a-f-]{36})/revoke", html)


def visible_text(html: str) -> str:
    """The words a reader sees: no tags, no attribute values (ids and URLs hold codes)."""
    return re.sub(r"<[^>]+>", " ", html)


def test_a_grant_with_nothing_chosen_answers_in_dutch_beside_each_field(portal: Any) -> None:
    _, client, _ = portal
    response = give(client, grantee="", categories=[])
    assert response.status_code == 422
    page = response.text
    assert 'id="grant-reintegration-grantee-error">Kies wie deze gegevens mag zien.' in page
    assert 'id="grant-reintegration-categories-error">Zet een vinkje bij minstens' in page
    assert (
        'aria-describedby="grant-reintegration-grantee-hint grant-reintegration-grantee-error"'
        in page
    )
    assert 'href="/portal/access-log"' in page  # the page keeps its menu
    assert not ENGLISH_OR_CODES.search(visible_text(page))


def test_an_unknown_recipient_is_a_sentence_beside_the_recipient_field(portal: Any) -> None:
    _, client, _ = portal
    response = give(client, grantee="nobody-here")
    assert response.status_code == 422
    assert (
        'id="grant-reintegration-grantee-error">Deze organisatie kennen wij niet.' in response.text
    )
    assert '<option value="nobody-here"' not in response.text
    assert 'value="work.capacity" checked' in response.text  # the choice is kept


def test_the_grant_form_chooses_no_recipient_and_explains_the_choices(portal: Any) -> None:
    _, client, _ = portal
    page = client.get("/portal").text
    select = page.split('id="grant-reintegration-grantee"')[1].split("</select>")[0]
    assert '<option value="" selected>Kies een organisatie</option>' in select
    assert select.count(" selected") == 1
    assert "het hele UWV" in page and "alleen dat kantoor" in page
    assert "Zo zoekt men werk dat past bij het aantal uren dat u kunt werken." in page


def test_giving_the_same_consent_twice_says_it_already_exists(portal: Any) -> None:
    _, client, _ = portal
    assert give(client).status_code == 303
    again = give(client)
    assert again.status_code == 409
    assert "U heeft deze toestemming al gegeven, op 24 nov 2026" in again.text
    assert len(consent_ids(client.get("/portal").text)) == 1


def test_unticking_every_category_asks_to_withdraw_and_says_why(portal: Any) -> None:
    _, client, _ = portal
    give(client)
    (consent_id,) = consent_ids(client.get("/portal").text)
    response = post_form(client, f"/portal/consents/{consent_id}/narrow", "/portal")
    assert response.status_code == 303
    assert response.headers["location"] == f"/portal/consents/{consent_id}/revoke?all_unticked=1"
    confirm = client.get(response.headers["location"]).text
    assert "U heeft alle vinkjes weggehaald" in confirm
    assert "Ja, toestemming intrekken" in confirm
    assert consent_ids(client.get("/portal").text) == [consent_id]  # nothing changed yet


def test_withdrawal_is_confirmed_first_and_stays_reachable_with_history_and_receipt(
    portal: Any,
) -> None:
    _, client, _ = portal
    give(client)
    (consent_id,) = consent_ids(client.get("/portal").text)
    question = client.get(f"/portal/consents/{consent_id}/revoke")
    assert question.status_code == 200 and "Weet u zeker" in question.text
    assert consent_ids(client.get("/portal").text) == [consent_id]
    done = post_form(client, f"/portal/consents/{consent_id}/revoke", question.url)
    assert done.status_code == 303
    overview = client.get("/portal").text
    earlier = overview.split('id="earlier"')[1]
    assert f'href="/portal/consents/{consent_id}"' in earlier and "ingetrokken" in earlier
    history = client.get(f"/portal/consents/{consent_id}").text
    assert "toestemming gegeven" in history and "ingetrokken" in history
    receipt = client.get(f"/portal/consents/{consent_id}/receipt")
    assert receipt.status_code == 200 and "Bewijs van uw toestemming" in receipt.text
    assert not ENGLISH_OR_CODES.search(visible_text(history + receipt.text))


def test_the_receipt_is_a_dutch_page_a_pdf_and_the_signed_json(portal: Any) -> None:
    _, client, _ = portal
    give(client)
    (consent_id,) = consent_ids(client.get("/portal").text)
    page = client.get(f"/portal/consents/{consent_id}/receipt").text
    assert "UWV Leiden (demo)" in page and "hoeveel u kunt werken" in page
    assert "24 nov 2026 11:00" in page  # 10:00 UTC on the clock in Amsterdam
    pdf = client.get(f"/portal/consents/{consent_id}/receipt.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert f'filename="schakel-toestemming-{consent_id}.pdf"' in pdf.headers["content-disposition"]
    signed = client.get(f"/portal/consents/{consent_id}/receipt.json")
    assert signed.json()["receipt"].count(".") == 2


def test_the_access_log_is_newest_first_and_shows_a_partial_refusal(portal: Any) -> None:
    runtime, client, clock = portal
    give(client)
    clock.advance(60)
    with transaction(runtime.sessions) as session:
        sam = find_by_bsn(session, runtime.identity_keys, SAM)
        runtime.trail.record(
            session, trace_id=None, actor_party="uwv-leiden", actor_domain="uwv",
            action="disclose", outcome=Outcome.ALLOW, participant=sam, purpose="reintegration",
            categories=["work.capacity"], reason="income.benefit: consent.missing",
        )  # fmt: skip
    page = client.get("/portal/access-log").text
    rows = re.findall(r"<tr>(.*?)</tr>", page.split("<tbody>")[1], re.S)
    assert "24 nov 2026 11:01" in rows[0] and "24 nov 2026 11:00" in rows[1]
    assert "UWV Leiden (demo) kreeg hoeveel u kunt werken." in rows[0]
    assert "UWV Leiden (demo) vroeg uw uitkering; dat is niet gedeeld." in rows[0]
    assert "U gaf UWV Leiden (demo) toestemming voor hoeveel u kunt werken." in rows[1]
    assert "hulp bij (weer) aan het werk gaan" in rows[0]
    assert not ENGLISH_OR_CODES.search(visible_text(page))


def test_plan_statuses_and_dates_are_in_words(portal: Any) -> None:
    _, client, _ = portal
    page = client.get("/portal/plan").text
    assert not ENGLISH_OR_CODES.search(visible_text(page))


def test_the_landing_page_leads_to_the_portal_the_officer_and_the_api(portal: Any) -> None:
    _, client, _ = portal
    page = client.get("/")
    assert page.status_code == 200
    for href in ('href="/portal"', 'href="/officer"', 'href="/docs"'):
        assert href in page.text


def test_pages_answer_head_with_the_headers_of_get(portal: Any) -> None:
    _, client, _ = portal
    for url in ("/", "/portal", "/portal/access-log", "/portal/plan", "/portal/login",
                "/officer/login", "/web/static/schakel.css"):  # fmt: skip
        head, get = client.head(url), client.get(url)
        assert head.status_code == get.status_code == 200, url
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.content == b""


def test_the_current_page_is_marked_in_the_menu(portal: Any) -> None:
    _, client, _ = portal
    page = client.get("/portal/access-log").text
    assert '<a href="/portal/access-log" aria-current="page">' in page
    assert '<a href="/portal">' in page


def test_every_message_and_retention_ground_has_dutch_and_english_words(portal: Any) -> None:
    runtime, _, _ = portal
    dutch, english = words("nl"), words("en")
    assert set(dutch) == set(english)
    for ground in runtime.catalogue.retention_grounds:
        assert f"ground_{ground}" in dutch, ground
