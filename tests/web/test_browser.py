"""Browser tests: Playwright driving Debian Chromium against the real app on uvicorn.

Every page state visited is checked by axe-core at 1280 and 390 px and photographed into
var/screenshots/ (``tests.web.axe``); a violation fails the test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from gateway.auth.partner_keys import read_private_key
from tests.support import Partner
from tests.web.axe import checked
from tests.web.pages import NOOR, SAM


def partner_token(url: str, partner: Any) -> str:
    assertion = partner.assertion(audience=f"{url}/oauth/token", now=datetime.now(UTC))
    response = httpx.post(f"{url}/oauth/token", data={
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    })  # fmt: skip
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_a_participant_gives_fixes_and_withdraws_a_consent_and_reads_who_saw_what(
    browser: Any, gateway: tuple[str, Any], axe: str
) -> None:
    url, partners = gateway
    page = browser.new_context(locale="nl-NL").new_page()
    page.goto(url)
    checked(page, "01-landing", axe)
    page.get_by_role("link", name="Mijn gegevens delen").click()
    checked(page, "02-portal-login", axe)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.get_by_label("Demo-BSN").fill(SAM)
    page.get_by_role("button", name="Inloggen").click()
    checked(page, "03-portal-overview", axe)

    grant = page.locator("section", has=page.get_by_role("heading", name="aan het werk gaan"))
    grant.get_by_role("button", name="Toestemming geven").click()
    assert page.get_by_text("Kies wie deze gegevens mag zien.").count() >= 1
    checked(page, "04-portal-grant-errors", axe)
    grant = page.locator("section", has=page.get_by_role("heading", name="aan het werk gaan"))
    grant.get_by_label("Wie mag het zien?").select_option("uwv-leiden")
    grant.get_by_label("hoeveel u kunt werken").check()
    grant.get_by_role("button", name="Toestemming geven").click()
    assert page.get_by_role("status").inner_text() == "Uw toestemming is opgeslagen."
    checked(page, "05-portal-consent-given", axe)

    consent = page.locator("section", has_text="UWV Leiden (demo) mag")
    consent.get_by_role("link", name="Intrekken").click()
    checked(page, "06-portal-withdraw-confirm", axe)
    page.get_by_role("button", name="Ja, toestemming intrekken").click()
    assert page.get_by_role("status").inner_text() == "Uw toestemming is ingetrokken."
    assert page.locator("section", has_text="UWV Leiden (demo) mag").count() == 0
    checked(page, "07-portal-consent-withdrawn", axe)
    page.get_by_role("link", name="Geschiedenis").click()
    checked(page, "08-portal-consent-history", axe)
    page.get_by_role("link", name="Bewijs bekijken").click()
    checked(page, "09-portal-receipt", axe)

    token = partner_token(url, partners["uwv-leiden"])
    denied = httpx.post(f"{url}/v1/disclosures",
        headers={"Authorization": f"Bearer {token}", "X-Schakel-User": "uwv/ad-jansen"},
        json={"subject": {"bsn": SAM}, "purpose": "reintegration", "categories": ["work.capacity"]})  # fmt: skip
    assert denied.json()["withheld"][0]["code"] == "consent.missing", denied.text

    page.get_by_role("link", name="Wie heeft wat over mij gezien?").click()
    assert page.get_by_text("Geweigerd").count() >= 1
    checked(page, "10-portal-access-log", axe)
    page.get_by_role("link", name="Mijn plan").click()
    checked(page, "11-portal-plan", axe)
    page.get_by_role("link", name="English").click()
    checked(page, "12-portal-plan-english", axe)


def test_the_privacy_officer_finds_who_saw_a_participant_and_on_what_grounds(
    browser: Any, gateway: tuple[str, Any], axe: str
) -> None:
    url, partners = gateway
    participant = browser.new_context(locale="nl-NL").new_page()
    participant.goto(f"{url}/portal/login")
    participant.get_by_label("Demo-BSN").fill(SAM)
    participant.get_by_role("button", name="Inloggen").click()
    grant = participant.locator(
        "section", has=participant.get_by_role("heading", name="aan het werk gaan")
    )
    grant.get_by_label("Wie mag het zien?").select_option("uwv-leiden")
    grant.get_by_label("hoeveel u kunt werken").check()
    grant.get_by_role("button", name="Toestemming geven").click()
    token = partner_token(url, partners["uwv-leiden"])
    denied = httpx.post(f"{url}/v1/disclosures", headers={"Authorization": f"Bearer {token}", "X-Schakel-User": "uwv/ad-jansen"},
        json={"subject": {"bsn": SAM}, "purpose": "reintegration", "categories": ["income.benefit"]})  # fmt: skip
    assert denied.json()["withheld"][0]["code"] == "consent.missing", denied.text

    officer = browser.new_context(locale="nl-NL").new_page()
    officer.goto(f"{url}/officer")
    checked(officer, "20-officer-login", axe)
    officer.get_by_label("Code van de organisatie").fill("gemeente-leiden")
    officer.get_by_role("button", name="Inloggen").click()
    checked(officer, "21-officer-dashboard", axe)
    officer.get_by_label("Deelnemer (BSN of pseudoniem)").fill(SAM)
    officer.get_by_role("button", name="Zoeken").click()
    assert SAM not in officer.url
    rows = officer.locator("tbody tr[id^=entry-]")
    assert "verzoek geweigerd" in rows.first.inner_text()
    assert "toestemming gegeven" in rows.nth(1).inner_text()
    checked(officer, "22-officer-search-by-bsn", axe)
    rows.first.locator("a.mono").click()
    assert SAM not in officer.url and "subject=" in officer.url
    checked(officer, "23-officer-pseudonym-clicked", axe)
    officer.get_by_role("link", name="Alles over deze deelnemer (afdrukbaar)").click()
    checked(officer, "24-officer-participant-timeline", axe)
    officer.emulate_media(media="print")
    assert officer.locator("header.site").is_hidden()
    officer.emulate_media(media="screen")
    officer.get_by_role("link", name="English").click()
    checked(officer, "25-officer-participant-timeline-english", axe)
    history = officer.evaluate("window.history.length")
    assert history >= 1 and SAM not in officer.evaluate("document.body.innerHTML")


def test_participant_says_yes_and_the_chair_records_the_outcome(
    browser: Any, gateway: tuple[str, Any], axe: str, tmp_path: Path
) -> None:
    url, _ = gateway
    chair = Partner("dzb-leiden", "reintegration-provider",
                    read_private_key(tmp_path / "demo" / "dzb-leiden" / "private.jwk.json"))  # type: ignore[arg-type]  # fmt: skip
    headers = {"Authorization": f"Bearer {partner_token(url, chair)}"}
    for bsn in (SAM, NOOR):
        signalled = httpx.post(f"{url}/v1/signals", headers=headers, json={
            "subject": {"bsn": bsn}, "purpose": "reintegration", "contact": "DZB, 071-0000000",
        })  # fmt: skip
        assert signalled.status_code == 201, signalled.text
    now = datetime.now(UTC)
    scheduled = httpx.post(f"{url}/v1/conferences", headers=headers, json={
        "title": "Casuïstiekoverleg Leiden", "region": "holland-rijnland",
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(hours=2)).isoformat(),
        "invited": ["uwv-leiden", "ggz-leiden", "werkgever-leiden", "ervaring-leiden"],
        "categories": ["care.involvement", "work.reintegration", "plan.actions"],
        "participants": [{"bsn": SAM}, {"bsn": NOOR}],
    })  # fmt: skip
    assert scheduled.status_code == 201, scheduled.text

    page = browser.new_context(locale="nl-NL").new_page()
    page.goto(f"{url}/portal/login")
    page.get_by_label("Demo-BSN").fill(SAM)
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_role("link", name="Mijn overleggen").click()
    employer = page.locator("li", has_text="Bakkerij De Zon")
    assert "in zorg" not in employer.inner_text()
    checked(page, "30-portal-conference-invitation", axe)
    page.get_by_role("button", name="Ja, bespreek mij met mijn naam en deze gegevens").click()
    assert page.get_by_role("status").inner_text() == "Uw antwoord is opgeslagen."
    assert page.get_by_text("U zei ja.").count() == 1
    checked(page, "31-portal-conference-yes", axe)

    chair_page = browser.new_context(locale="nl-NL").new_page()
    chair_page.goto(f"{url}/chair")
    checked(chair_page, "32-chair-login", axe)
    chair_page.get_by_label("Code van de organisatie").fill("dzb-leiden")
    chair_page.get_by_role("button", name="Inloggen").click()
    chair_page.get_by_role("link", name="Casuïstiekoverleg Leiden").click()
    rows = chair_page.locator("tbody tr")
    assert "ja" in rows.nth(0).inner_text() and "nog geen antwoord" in rows.nth(1).inner_text()
    checked(chair_page, "33-chair-conference", axe)
    outcome = chair_page.locator("form", has=chair_page.get_by_label("Advies").first).first
    outcome.get_by_label("Advies").fill(
        "Eerst de schulden regelen; dan 12 uur per week bij de bakkerij."
    )
    outcome.get_by_label("Schulden").check()
    outcome.get_by_label("Actie").first.fill("Werkplekbezoek")
    outcome.get_by_label("Eigenaar").first.select_option("werkgever-leiden")
    outcome.get_by_role("button", name="Opslaan").click()
    assert chair_page.get_by_role("status").inner_text() == "De uitkomst is vastgelegd."
    assert "versie 1 vastgelegd" in chair_page.locator("tbody tr").nth(0).inner_text()
    checked(chair_page, "34-chair-outcome-recorded", axe)
