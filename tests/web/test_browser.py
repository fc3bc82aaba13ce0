"""Browser tests: Playwright driving Debian Chromium against the real app on uvicorn.

Accessibility is checked by a small in-page checker (axe-core is not installable here): every
form control has a label, images have alt text, headings do not skip levels, ``<html lang>`` is
set, and the page has exactly one h1. Each page is saved under var/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.auth.partner_keys import read_private_key
from gateway.settings import Settings
from tests.conftest import IN_CI
from tests.support import Partner, free_port, serving
from tests.web.pages import NOOR, SAM, seed

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_HOWTO = (
    "browser tests need Debian Chromium at /usr/bin/chromium and the playwright package "
    "(scripts/provision.sh installs Chromium; `pip install -e .[dev]` installs playwright)"
)
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-gpu",
]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
A11Y_CHECK = """() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push('html has no lang');
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`))
      || el.closest('label') || el.getAttribute('aria-label');
    if (!labelled) problems.push(`unlabelled ${el.tagName} ${el.name}`);
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push(`img without alt ${img.src}`);
  }
  for (const svg of document.querySelectorAll('svg')) {
    if (!svg.getAttribute('aria-label')) problems.push('svg without aria-label');
  }
  let level = 0;
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const next = Number(h.tagName[1]);
    if (next > level + 1) problems.push(`heading ${h.tagName} after h${level}`);
    level = next;
  }
  if (document.querySelectorAll('h1').length !== 1) problems.push('not exactly one h1');
  return problems;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"Chromium or playwright missing in CI: {CHROMIUM_HOWTO}")
        pytest.skip(CHROMIUM_HOWTO)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        public_url=url,
        port=port,
        demo_login=True,
    )
    with serving(settings) as runtime:
        yield url, seed(runtime, tmp_path / "demo")


def checked(page: Any, name: str) -> None:
    """The accessibility check, then a full-page screenshot for people to look at."""
    assert page.evaluate(A11Y_CHECK) == [], page.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def partner_token(url: str, partner: Any) -> str:
    assertion = partner.assertion(audience=f"{url}/oauth/token", now=datetime.now(UTC))
    response = httpx.post(f"{url}/oauth/token", data={
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    })  # fmt: skip
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_participant_revokes_and_officer_sees_it_and_the_denial(
    browser: Any, gateway: tuple[str, Any]
) -> None:
    url, partners = gateway
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    page.goto(f"{url}/portal")
    checked(page, "01-portal-login")
    page.get_by_label("Demo-BSN").fill(SAM)
    page.get_by_role("button", name="Inloggen").click()
    grant = page.locator("section", has=page.get_by_role("heading", name="aan het werk gaan"))
    grant.get_by_label("Wie mag het zien?").select_option("uwv-leiden")
    grant.get_by_label("hoeveel u kunt werken").check()
    grant.get_by_role("button", name="Toestemming geven").click()
    assert page.get_by_role("status").inner_text() == "Uw toestemming is opgeslagen."
    checked(page, "02-portal-consent-given")
    consent = page.locator("section", has_text="UWV Leiden (demo) mag")
    consent.get_by_role("button", name="Intrekken").click()
    assert page.get_by_role("status").inner_text() == "Uw toestemming is ingetrokken."
    assert page.locator("section", has_text="UWV Leiden (demo) mag").count() == 0
    checked(page, "03-portal-consent-revoked")

    token = partner_token(url, partners["uwv-leiden"])
    denied = httpx.post(f"{url}/v1/disclosures", headers={"Authorization": f"Bearer {token}"},
        json={"subject": {"bsn": SAM}, "purpose": "reintegration", "categories": ["work.capacity"]})  # fmt: skip
    assert denied.json()["withheld"][0]["code"] == "consent.missing", denied.text

    page.goto(f"{url}/portal/access-log")
    assert page.get_by_text("Geweigerd").count() >= 1
    checked(page, "04-portal-access-log")
    page.goto(f"{url}/portal/plan")
    checked(page, "05-portal-plan")

    officer = browser.new_context(locale="en-GB").new_page()
    officer.goto(f"{url}/officer")
    checked(officer, "06-officer-login")
    officer.get_by_label("Organisation id").fill("gemeente-leiden")
    officer.get_by_role("button", name="Log in").click()
    checked(officer, "07-officer-dashboard")
    officer.get_by_label("Action").fill("consent.revoke")
    officer.get_by_role("button", name="Search").click()
    rows = officer.locator("tbody tr")
    assert rows.count() == 1 and "consent.revoke" in rows.first.inner_text()
    checked(officer, "08-officer-revocations")
    officer.get_by_label("Action").fill("")
    officer.get_by_label("Outcome").select_option("deny")
    officer.get_by_label("Organisation").select_option("uwv-leiden")
    officer.get_by_role("button", name="Search").click()
    assert "uwv-leiden" in rows.first.inner_text() and "deny" in rows.first.inner_text()
    assert "OK" in officer.get_by_role("status").first.inner_text()
    assert officer.locator("svg").count() >= 1
    checked(officer, "09-officer-denials")
    assert (SCREENSHOTS / "09-officer-denials.png").exists()


def test_participant_says_yes_and_the_chair_records_the_outcome(
    browser: Any, gateway: tuple[str, Any], tmp_path: Path
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
    checked(page, "10-portal-conference-invitation")
    page.get_by_role("button", name="Ja, bespreek mij met mijn naam en deze gegevens").click()
    assert page.get_by_role("status").inner_text() == "Uw antwoord is opgeslagen."
    assert page.get_by_text("U zei ja.").count() == 1
    checked(page, "11-portal-conference-yes")

    chair_page = browser.new_context(locale="nl-NL").new_page()
    chair_page.goto(f"{url}/chair")
    checked(chair_page, "12-chair-login")
    chair_page.get_by_label("Code van de organisatie").fill("dzb-leiden")
    chair_page.get_by_role("button", name="Inloggen").click()
    chair_page.get_by_role("link", name="Casuïstiekoverleg Leiden").click()
    rows = chair_page.locator("tbody tr")
    assert "ja" in rows.nth(0).inner_text() and "nog geen antwoord" in rows.nth(1).inner_text()
    checked(chair_page, "13-chair-conference")
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
    checked(chair_page, "14-chair-outcome-recorded")


@pytest.fixture
def steering_gateway(tmp_path: Path) -> Iterator[str]:
    """A gateway with the demo parties and 160 generated trajectories in Holland Rijnland."""
    from gateway.core.db import transaction
    from gateway.demo.trajectories import seed_trajectories

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
    browser: Any, steering_gateway: str
) -> None:
    url = steering_gateway
    page = browser.new_page()
    page.goto(f"{url}/stuurgroep/login")
    checked(page, "steering-login")
    page.fill("#party", "stuurgroep-holland-rijnland")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/stuurgroep")
    assert "There is no release" in page.content()
    checked(page, "steering-empty")
    page.locator("section").first.locator("form button[type=submit]").click()
    page.wait_for_url(f"{url}/stuurgroep?done=release")
    text = page.content()
    assert "suppressed" in text and "± noise" in text and text.count("<svg") == 2
    checked(page, "steering-release")
    page.goto(f"{url}/stuurgroep?lang=nl")
    assert "onderdrukt" in page.content() and "± ruis" in page.content()
    checked(page, "steering-release-nl")
    page.close()
