"""The web pages without a browser: CSRF, CSP, sessions, other participants' pages, no BSN."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.settings import Settings
from gateway.web.rendering import CONTENT_SECURITY_POLICY
from tests.support import SettableClock, running_gateway
from tests.web.pages import NOOR, SAM, csrf_token, post_form, seed

BSN_LIKE = re.compile(r"(?<![0-9a-f])9999000[0-9]{2}(?![0-9a-f])")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path / "var",
        public_url="http://testserver",
        demo_login=True,
    )
    with running_gateway(settings, SettableClock()) as (runtime, test_client):
        seed(runtime, tmp_path / "demo")
        yield test_client


def log_in(client: TestClient, bsn: str) -> None:
    response = post_form(client, "/portal/login", "/portal/login", bsn=bsn)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/portal"


def give_consent(client: TestClient, grantee: str = "uwv-leiden") -> str:
    response = post_form(
        client, "/portal/consents", "/portal", grantee=grantee, purpose="reintegration",
        categories=["work.capacity", "income.benefit"],
    )  # fmt: skip
    assert response.status_code == 303, response.text
    consents = client.get("/v1/me/consents")  # no bearer token: the API is not the session
    assert consents.status_code == 401
    found = re.findall(r"/portal/consents/([0-9a-f-]{36})/revoke", client.get("/portal").text)
    assert found
    return str(found[0])


def test_every_page_sends_the_strict_content_security_policy(client: TestClient) -> None:
    log_in(client, SAM)
    for url in ("/portal", "/portal/access-log", "/portal/plan", "/portal/login"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "<script" not in response.text and "style=" not in response.text


def test_session_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    response = client.get("/portal/login")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_form_without_the_csrf_token_is_refused(client: TestClient) -> None:
    log_in(client, SAM)
    consent_id = give_consent(client)
    response = client.post(f"/portal/consents/{consent_id}/revoke", data={})
    assert response.status_code == 403
    forged = client.post(f"/portal/consents/{consent_id}/revoke", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert consent_id in client.get("/portal").text


def test_login_form_without_csrf_token_is_refused(client: TestClient) -> None:
    response = client.post("/portal/login", data={"bsn": SAM})
    assert response.status_code == 403


def test_another_participants_consent_is_a_not_found_page(client: TestClient) -> None:
    log_in(client, SAM)
    sams_consent = give_consent(client)
    other = TestClient(client.app)
    log_in(other, NOOR)
    for url in (
        f"/portal/consents/{sams_consent}",
        f"/portal/consents/{sams_consent}/receipt",
        f"/portal/consents/{sams_consent}/receipt.json",
        f"/portal/consents/{sams_consent}/receipt.pdf",
        f"/portal/consents/{sams_consent}/revoke",
    ):
        response = other.get(url)
        assert response.status_code == 404
        assert "text/html" in response.headers["content-type"]
    refused = post_form(other, f"/portal/consents/{sams_consent}/revoke", "/portal")
    assert refused.status_code == 404
    assert sams_consent in client.get("/portal").text


def test_revoking_in_the_portal_removes_the_consent_and_is_audited(client: TestClient) -> None:
    log_in(client, SAM)
    consent_id = give_consent(client)
    response = post_form(client, f"/portal/consents/{consent_id}/revoke", "/portal")
    assert response.status_code == 303
    overview = client.get("/portal").text
    assert f"/portal/consents/{consent_id}/revoke" not in overview
    assert f'href="/portal/consents/{consent_id}"' in overview.split("Eerdere toestemmingen")[1]
    assert "consent.revoke" not in client.get("/portal/access-log").text  # plain words, not codes
    assert "trok uw toestemming" in client.get("/portal/access-log").text


def test_narrowing_keeps_only_the_ticked_categories(client: TestClient) -> None:
    log_in(client, SAM)
    consent_id = give_consent(client)
    response = post_form(
        client, f"/portal/consents/{consent_id}/narrow", "/portal", categories=["work.capacity"]
    )
    assert response.status_code == 303
    page = client.get("/portal?lang=en").text
    (sentence,) = re.findall(r'<h2 id="consent-[^"]+">(.*?)</h2>', page, re.S)
    assert "how much you can work" in sentence and "your benefit" not in sentence


def test_receipt_downloads_a_signed_jws(client: TestClient) -> None:
    log_in(client, SAM)
    consent_id = give_consent(client)
    response = client.get(f"/portal/consents/{consent_id}/receipt.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert response.json()["receipt"].count(".") == 2


def test_pages_need_a_session(client: TestClient) -> None:
    for url in ("/portal", "/portal/plan", "/officer"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].endswith("/login")


def test_a_party_without_the_officer_role_cannot_log_in(client: TestClient) -> None:
    response = post_form(client, "/officer/login", "/officer/login", party="uwv-leiden")
    assert response.status_code == 401


def test_no_page_shows_a_bsn(client: TestClient) -> None:
    log_in(client, SAM)
    consent_id = give_consent(client)
    pages: list[Any] = [client.get(url) for url in ("/portal", f"/portal/consents/{consent_id}",
        "/portal/access-log", "/portal/plan")]  # fmt: skip
    post_form(client, "/officer/login", "/officer/login", party="gemeente-leiden")
    pages.append(client.get("/officer"))
    pages.append(post_form(client, "/officer", "/officer", subject=SAM))
    pages.append(post_form(client, "/officer/participant", "/officer/participant", subject=SAM))
    for response in pages:
        assert response.status_code == 200, response.text
        assert not BSN_LIKE.search(response.text), response.url
    pseudonym = re.search(r"/officer/participant\?subject=([0-9a-f]{64})", pages[-2].text)
    assert pseudonym, "the answer names the participant by pseudonym"
    exported = client.get("/officer/export", params={"subject": pseudonym[1], "format": "csv"})
    assert exported.status_code == 200 and not BSN_LIKE.search(exported.text)


def test_officer_search_by_bsn_is_recorded_without_the_bsn(client: TestClient) -> None:
    log_in(client, SAM)
    give_consent(client)
    post_form(client, "/officer/login", "/officer/login", party="gemeente-leiden")
    page = post_form(client, "/officer", "/officer", subject=SAM, action="consent.grant")
    assert "toestemming gegeven" in page.text
    queries = post_form(client, "/officer", "/officer", action="audit.query", own="1").text
    assert "[redacted]" in queries and "Gemeente Leiden" in queries


def test_language_follows_the_query_then_the_cookie(client: TestClient) -> None:
    assert 'lang="nl"' in client.get("/portal/login").text
    assert 'lang="en"' in client.get("/portal/login?lang=en").text
    assert 'lang="en"' in client.get("/portal/login").text
    assert csrf_token(client.get("/portal/login").text)


def test_a_forged_or_garbled_session_cookie_is_no_session() -> None:
    from datetime import UTC, datetime

    from gateway.web.sessions import SessionCodec

    codec = SessionCodec(b"k" * 32, clock=lambda: datetime(2026, 11, 25, tzinfo=UTC))
    good = codec.encode(codec.signed_in("participant", "p-1"))
    assert codec.decode(good) is not None
    for cookie in ("é.x", good[:-2] + "xx", good.replace(".", ""), "a.b.c"):
        assert codec.decode(cookie) is None
