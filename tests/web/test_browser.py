"""Browser tests: Playwright driving Debian Chromium against the real app on uvicorn.

Every page state visited is checked by axe-core at 1280 and 390 px and photographed into
var/screenshots/ (``tests.web.axe``); a violation fails the test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from tests.web.axe import checked
from tests.web.pages import SAM


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
