"""Signing in at a real OpenID provider (ORY Hydra on 127.0.0.1), driven through Chromium.

Participants sign in at the provider standing in for the DigiD broker; the gemeente's privacy
officer at the provider standing in for the gemeente's own. The attacks are made the way an
attacker would: by changing what travels through the browser.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from sqlalchemy import select

from audit.models import AuditEntry
from gateway.core.db import transaction
from gateway.runtime import Runtime
from gateway.settings import DIGID_SUBSTANTIEEL, Settings
from gateway.web.sessions import SIGN_IN_COOKIE
from tests.conftest import IN_CI
from tests.support import free_port, serving
from tests.web.hydra import Hydra, hydra_binary, running_hydra
from tests.web.pages import SAM, seed

HYDRA_HOWTO = "sign-in tests need ORY Hydra (scripts/provision.sh builds it into .tools/bin)"
SECRET = "a-client-secret-for-tests"
CLIENTS = itertools.count(1)


@dataclass
class OffsetClock:
    """Real time, which the test can move forward for the gateway alone."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Gateway:
    url: str
    runtime: Runtime
    hydra: Hydra
    clock: OffsetClock


@pytest.fixture(scope="module")
def hydra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hydra]:
    binary = hydra_binary()
    if binary is None:
        if IN_CI:
            pytest.fail(f"ORY Hydra missing in CI: {HYDRA_HOWTO}")
        pytest.skip(HYDRA_HOWTO)
    with running_hydra(binary, tmp_path_factory.mktemp("hydra")) as running:
        yield running


@pytest.fixture
def gateway(hydra: Hydra, tmp_path: Path) -> Iterator[Gateway]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    number = next(CLIENTS)
    participant_client, officer_client = f"portal-{number}", f"officers-{number}"
    hydra.add_client(participant_client, SECRET, f"{url}/portal/callback")
    hydra.add_client(officer_client, SECRET, f"{url}/officer/callback")
    secret_file = tmp_path / "officer-client-secret"
    secret_file.write_text(SECRET)
    providers = tmp_path / "officer-providers.json"
    providers.write_text(json.dumps({"providers": [{
        "party": "gemeente-leiden", "issuer": hydra.issuer, "client_id": officer_client,
        "client_secret_file": str(secret_file), "roles_claim": "groups",
        "roles": {"privacy-officer": "schakel-fg"},
    }]}))  # fmt: skip
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        public_url=url,
        port=port,
        participant_oidc_issuer=hydra.issuer,
        participant_oidc_client_id=participant_client,
        participant_oidc_client_secret=SECRET,  # type: ignore[arg-type]
        officer_providers_file=providers,
    )
    clock = OffsetClock()
    with serving(settings, clock) as runtime:
        seed(runtime, tmp_path / "demo")
        yield Gateway(url, runtime, hydra, clock)


def sign_in_at_provider(page: Any, *, bsn: str = "", level: str = "substantieel",
                        user: str = "", groups: str = "") -> None:  # fmt: skip
    """Fill in the provider's login form, as the person would."""
    page.wait_for_selector("#bsn")
    page.fill("#bsn", bsn)
    page.fill("#user", user)
    page.select_option("#level", level)
    page.fill("#groups", groups)
    page.click("button")


def refusal_reason(page: Any) -> str:
    page.wait_for_selector("[data-reason]")
    return str(page.get_attribute("[data-reason]", "data-reason"))


def tamper_with_the_redirect_to_the_provider(page: Any, gateway: Gateway, **changes: str) -> None:
    """Change parameters of the authorization request on its way through the browser (a
    browser follows redirects by itself, so the gateway's redirect answer is what is changed)."""

    def handler(route: Any) -> None:
        response = route.fetch(max_redirects=0)
        parts = urlparse(response.headers["location"])
        query = {name: values[0] for name, values in parse_qs(parts.query).items()} | changes
        location = parts._replace(query=urlencode(query)).geturl()
        route.fulfill(response=response, headers={**response.headers, "location": location})

    page.route(f"{gateway.url}/portal/login", handler)


def test_portal_login_redirects_to_the_provider_with_code_pkce_state_and_nonce(
    gateway: Gateway,
) -> None:
    response = httpx.get(f"{gateway.url}/portal/login", follow_redirects=False)
    assert response.status_code == 303
    location = urlparse(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{gateway.hydra.issuer}/oauth2/auth"
    )
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["redirect_uri"] == f"{gateway.url}/portal/callback"
    assert query["acr_values"].split()[0] == DIGID_SUBSTANTIEEL
    assert SIGN_IN_COOKIE in response.cookies
    again = httpx.get(f"{gateway.url}/portal/login", follow_redirects=False)
    assert parse_qs(urlparse(again.headers["location"]).query)["state"][0] != query["state"]


def test_a_participant_signs_in_at_substantieel_and_the_portal_opens(
    browser: Any, gateway: Gateway
) -> None:
    page = browser.new_context(locale="nl-NL").new_page()
    page.goto(f"{gateway.url}/portal")
    sign_in_at_provider(page, bsn=SAM)
    page.wait_for_url(f"{gateway.url}/portal")
    assert page.get_by_role("heading", level=1).count() == 1
    assert page.get_by_role("button", name="Uitloggen").count() == 1
    assert SAM not in page.content()


def test_a_too_low_assurance_level_gets_a_clear_page_and_no_session(
    browser: Any, gateway: Gateway
) -> None:
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    page.goto(f"{gateway.url}/portal/login")
    sign_in_at_provider(page, bsn=SAM, level="midden")
    assert refusal_reason(page) == "acr"
    assert "DigiD Substantieel" in page.inner_text("main")
    page.goto(f"{gateway.url}/portal")
    assert page.locator("#bsn").count() == 1  # no session: sent to sign in again


def test_a_callback_with_another_state_is_refused(browser: Any, gateway: Gateway) -> None:
    page = browser.new_context().new_page()
    tamper_with_the_redirect_to_the_provider(page, gateway, state="s" * 43)
    page.goto(f"{gateway.url}/portal/login")
    sign_in_at_provider(page, bsn=SAM)
    assert refusal_reason(page) == "state"


def test_a_replayed_code_is_refused(browser: Any, gateway: Gateway) -> None:
    context = browser.new_context()
    page = context.new_page()
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.goto(f"{gateway.url}/portal/login")
    pending = next(c for c in context.cookies() if c["name"] == SIGN_IN_COOKIE)
    sign_in_at_provider(page, bsn=SAM)
    page.wait_for_url(f"{gateway.url}/portal")
    callback = next(url for url in seen if url.startswith(f"{gateway.url}/portal/callback"))
    replay = browser.new_context()
    replay.add_cookies([pending])
    replayed = replay.new_page()
    replayed.goto(callback)
    assert refusal_reason(replayed) == "token"  # the provider refuses a code used before


def test_a_changed_pkce_challenge_makes_the_code_useless(browser: Any, gateway: Gateway) -> None:
    page = browser.new_context().new_page()
    forged = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # the RFC 7636 example's challenge
    tamper_with_the_redirect_to_the_provider(page, gateway, code_challenge=forged)
    page.goto(f"{gateway.url}/portal/login")
    sign_in_at_provider(page, bsn=SAM)
    assert refusal_reason(page) == "token"


def test_an_id_token_with_another_nonce_is_refused(browser: Any, gateway: Gateway) -> None:
    page = browser.new_context().new_page()
    tamper_with_the_redirect_to_the_provider(page, gateway, nonce="n" * 43)
    page.goto(f"{gateway.url}/portal/login")
    sign_in_at_provider(page, bsn=SAM)
    assert refusal_reason(page) == "nonce"


def test_an_expired_id_token_is_refused(browser: Any, gateway: Gateway) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{gateway.url}/portal/login")
    # The provider's ID tokens live five minutes; the gateway's clock is now nine ahead.
    gateway.clock.offset = timedelta(minutes=9)
    sign_in_at_provider(page, bsn=SAM)
    assert refusal_reason(page) == "expired"


def test_sign_in_goes_on_when_the_provider_rolls_its_keys_over(
    browser: Any, gateway: Gateway
) -> None:
    first = browser.new_context().new_page()
    first.goto(f"{gateway.url}/portal/login")
    sign_in_at_provider(first, bsn=SAM)
    first.wait_for_url(f"{gateway.url}/portal")
    old, new = gateway.hydra.roll_over_keys()
    time.sleep(1.1)  # the gateway fetches an issuer's keys again at most once a second
    second = browser.new_context().new_page()
    second.goto(f"{gateway.url}/portal/login")
    sign_in_at_provider(second, bsn=SAM)
    second.wait_for_url(f"{gateway.url}/portal")
    assert gateway.hydra.signing_kids() == [new] and new not in old


def sign_in_entries(runtime: Runtime) -> list[AuditEntry]:
    with transaction(runtime.sessions) as session:
        query = select(AuditEntry).where(AuditEntry.action == "officer.sign_in")
        return list(session.scalars(query.order_by(AuditEntry.seq)))


def test_an_officer_signs_in_at_their_own_organisation_and_it_is_on_record(
    browser: Any, gateway: Gateway
) -> None:
    page = browser.new_context(locale="nl-NL").new_page()
    page.goto(f"{gateway.url}/officer/login")
    page.get_by_role("link", name="Gemeente Leiden").click()
    sign_in_at_provider(page, user="fg-anna", groups="medewerkers schakel-fg")
    page.wait_for_url(f"{gateway.url}/officer")
    assert page.get_by_role("button", name="Uitloggen").count() == 1
    [entry] = sign_in_entries(gateway.runtime)
    assert (entry.actor_party, entry.outcome) == ("gemeente-leiden", "ok")
    assert entry.actor_user == "fg-anna" and "privacy-officer" in (entry.reason or "")


def test_a_person_without_the_officer_group_is_refused_on_record(
    browser: Any, gateway: Gateway
) -> None:
    page = browser.new_context(locale="nl-NL").new_page()
    page.goto(f"{gateway.url}/officer/login/gemeente-leiden")
    sign_in_at_provider(page, user="jan", groups="medewerkers")
    assert refusal_reason(page) == "no-role"
    [entry] = sign_in_entries(gateway.runtime)
    assert (entry.actor_party, entry.outcome) == ("gemeente-leiden", "deny")
    page.goto(f"{gateway.url}/officer")
    assert page.url.endswith("/officer/login")
