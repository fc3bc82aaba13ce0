"""Browser tests: Playwright driving Debian Chromium against the real app on uvicorn.

Accessibility is checked by a small in-page checker (axe-core is not installable here): every
form control has a label, images have alt text, headings do not skip levels, ``<html lang>`` is
set, and the page has exactly one h1. Each page is saved under var/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.settings import Settings
from tests.support import free_port, serving
from tests.web.pages import SAM, seed

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
    denied = httpx.post(f"{url}/v1/disclosures",
        headers={"Authorization": f"Bearer {token}", "X-Schakel-User": "uwv/ad-jansen"},
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
