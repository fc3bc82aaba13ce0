"""Requests a hostile or careless partner might send: none gains data, leaks a BSN or crashes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.settings import Settings
from tests.disclosures.world import NOOR, SAM, World, running_world

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "adapters"


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    with running_world(settings) as running:
        yield running


def test_a_party_cannot_record_a_consent_for_its_own_benefit(world: World) -> None:
    world.contribute(SAM, "care.involvement")
    headers = world.partner_headers("uwv-leiden")
    for grantee in ("uwv-leiden", "uwv"):
        response = world.client.post(
            "/v1/consents",
            json={"subject": {"bsn": SAM}, "grantee": grantee, "purpose": "reintegration",
                  "categories": ["care.involvement"], "evidence_ref": "trust me"},
            headers=headers,
        )  # fmt: skip
        assert response.status_code == 403, response.text
    view = world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"]).json()
    assert view["disclosed"] == []


def test_recording_a_consent_needs_the_purpose_in_the_token(world: World) -> None:
    headers = world.partner_headers("ggz-leiden", scope="reintegration")
    response = world.client.post(
        "/v1/consents",
        json={"subject": {"bsn": SAM}, "grantee": "uwv-leiden", "purpose": "case-coordination",
              "categories": ["care.involvement"], "evidence_ref": "form-1"},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 403


def test_unknown_and_known_subjects_get_the_same_refusal_for_bad_terms(world: World) -> None:
    world.consent(NOOR, "ggz", "reintegration", ["income.benefit"])
    known = world.client.post(
        "/v1/consents/in-force",
        json={"subject": {"bsn": NOOR}},
        headers=world.partner_headers("ggz-leiden"),
    ).json()[0]["subject_pseudonym"]
    headers = world.partner_headers("ggz-leiden")
    answers = []
    for pseudonym in (known, "ab" * 32):
        response = world.client.post(
            "/v1/consents",
            json={"subject": {"pseudonym": pseudonym}, "grantee": "nobody", "purpose": "reintegration",
                  "categories": ["care.involvement"], "evidence_ref": "form-1"},
            headers=headers,
        )  # fmt: skip
        body = response.json()
        answers.append((response.status_code, {k: v for k, v in body.items() if k != "trace_id"}))
    assert answers[0] == answers[1]
    assert answers[0][0] == 422


@pytest.mark.parametrize("field", ["categories", "purpose"])
def test_a_bsn_in_a_name_is_refused_and_never_stored_or_logged(
    world: World, field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from gateway.core.logs import configure_logging

    configure_logging()
    try:
        body = {
            "subject": {"bsn": SAM},
            "purpose": "reintegration",
            "categories": ["care.involvement"],
        }
        body[field] = [NOOR] if field == "categories" else NOOR
        response = world.client.post(
            "/v1/disclosures", json=body, headers=world.partner_headers("uwv-leiden")
        )
        logged = capsys.readouterr().out
    finally:
        import logging

        logging.getLogger().handlers.clear()
    assert response.status_code == 400  # a name's pattern holds no digit first: not the document
    stored = json.dumps([{k: str(v) for k, v in vars(e).items()} for e in world.audit_entries()])
    for text in (response.text, stored, logged):
        assert NOOR not in text


def test_ingest_for_an_erased_participant_is_a_clear_409(
    world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from gateway.cli.main import app

    bundle = (FIXTURES / "ggz-bundle.json").read_text().replace("999993008", SAM)
    headers = {**world.partner_headers("ggz-leiden"), "Content-Type": "application/fhir+json"}
    assert (
        world.client.post(
            "/v1/adapters/ggz-fhir/contributions", content=bundle, headers=headers
        ).status_code
        == 201
    )
    monkeypatch.setenv("SCHAKEL_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("SCHAKEL_DATA_DIR", str(settings.data_dir))
    assert CliRunner().invoke(app, ["participant", "erase", "--bsn", SAM, "--yes"]).exit_code == 0
    again = world.client.post(
        "/v1/adapters/ggz-fhir/contributions", content=bundle, headers=headers
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def test_an_expired_consent_cannot_be_amended_back_into_force(world: World) -> None:
    from datetime import timedelta

    until = world.clock() + timedelta(days=1)
    consent = world.client.post(
        "/v1/me/consents",
        json={"grantee": "uwv", "purpose": "reintegration", "categories": ["care.involvement"],
              "valid_until": until.isoformat()},
        headers=world.issuer.headers(SAM),
    ).json()  # fmt: skip
    world.clock.now = until + timedelta(seconds=1)
    later = world.issuer.headers(SAM, exp=int(world.clock().timestamp()) + 600)
    response = world.client.post(
        f"/v1/me/consents/{consent['id']}/amendments", json={"valid_until": None}, headers=later
    )
    assert response.status_code == 409
    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/v1/disclosures", "/v1/plans/query"])
def test_a_bsn_failing_the_eleven_proof_is_refused_by_the_request_model(
    world: World, path: str
) -> None:
    before = len(world.audit_entries())
    body = {"subject": {"bsn": "123456789"}, "purpose": "reintegration"}
    if path == "/v1/disclosures":
        body["categories"] = ["care.involvement"]
    response = world.client.post(path, json=body, headers=world.partner_headers("uwv-leiden"))
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"pointer": "#/subject/bsn", "detail": "Value error, the BSN fails the 11-proof"}
    ]
    assert len(world.audit_entries()) == before
