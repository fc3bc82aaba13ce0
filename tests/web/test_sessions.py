"""Sessions that end: logout, idle and absolute time-outs, a disabled party, a withdrawn role.

Each is checked at the next request against the server-side record, so a copy of the cookie
taken before is worthless afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.core.db import transaction
from gateway.registry.models import Party
from gateway.registry.service import disable_party
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.web.sessions import COOKIE
from tests.support import SettableClock, running_gateway
from tests.web.pages import SAM, post_form, seed


@dataclass
class Portal:
    runtime: Runtime
    client: TestClient
    clock: SettableClock


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        public_url="http://testserver",
        demo_login=True,
        web_session_idle_minutes=15,
        web_session_absolute_minutes=60,
    )
    clock = SettableClock()
    with running_gateway(settings, clock) as (runtime, client):
        seed(runtime, tmp_path / "demo")
        yield Portal(runtime, client, clock)


def sign_in_participant(client: TestClient) -> str:
    response = post_form(client, "/portal/login", "/portal/login", bsn=SAM)
    assert response.status_code == 303, response.text
    return str(client.cookies[COOKIE])


def sign_in_officer(client: TestClient) -> str:
    response = post_form(client, "/officer/login", "/officer/login", party="gemeente-leiden")
    assert response.status_code == 303, response.text
    return str(client.cookies[COOKIE])


def opens(client: TestClient, url: str, cookie: str) -> bool:
    """Whether the page opens for a request that carries exactly this cookie."""
    client.cookies.clear()
    client.cookies.set(COOKIE, cookie)
    response = client.get(url, follow_redirects=False)
    return response.status_code == 200


@pytest.mark.parametrize(("url", "sign_in"), [
    ("/portal", sign_in_participant), ("/officer", sign_in_officer),
])  # fmt: skip
def test_a_session_cookie_copied_before_logout_is_refused_afterwards(
    portal: Portal, url: str, sign_in: object
) -> None:
    copied = sign_in(portal.client)  # type: ignore[operator]
    assert opens(portal.client, url, copied)
    logout = post_form(portal.client, f"{url}/logout", url)
    assert logout.status_code == 303
    assert not opens(portal.client, url, copied)


def test_an_idle_session_ends(portal: Portal) -> None:
    cookie = sign_in_participant(portal.client)
    portal.clock.advance(14 * 60)
    assert opens(portal.client, "/portal", cookie)
    portal.clock.advance(15 * 60)
    assert not opens(portal.client, "/portal", cookie)
    portal.clock.advance(-20 * 60)  # ended stays ended, whatever the clock says
    assert not opens(portal.client, "/portal", cookie)


def test_a_session_in_use_still_ends_at_the_absolute_time_out(portal: Portal) -> None:
    cookie = sign_in_participant(portal.client)
    for _ in range(5):
        portal.clock.advance(10 * 60)
        assert opens(portal.client, "/portal", cookie)
    portal.clock.advance(10 * 60)
    assert not opens(portal.client, "/portal", cookie)


def test_disabling_the_party_ends_its_officers_sessions(portal: Portal) -> None:
    cookie = sign_in_officer(portal.client)
    with transaction(portal.runtime.sessions) as session:
        disable_party(session=session, party_id="gemeente-leiden", now=portal.clock())
    assert not opens(portal.client, "/officer", cookie)


def test_withdrawing_the_officer_role_ends_the_session(portal: Portal) -> None:
    cookie = sign_in_officer(portal.client)
    with transaction(portal.runtime.sessions) as session:
        party = session.get(Party, "gemeente-leiden")
        assert party is not None
        party.roles = [role for role in party.roles if "privacy-officer" not in role]
    assert not opens(portal.client, "/officer", cookie)
    with transaction(portal.runtime.sessions) as session:
        party = session.get(Party, "gemeente-leiden")
        assert party is not None
        party.roles = [*party.roles, "privacy-officer"]
    assert not opens(portal.client, "/officer", cookie)  # a new sign-in is needed
