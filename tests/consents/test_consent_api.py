"""The consent registry through the HTTP API, on SQLite and PostgreSQL, with a real test issuer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.consent import Consent as FhirConsent
from joserfc import jws
from joserfc.jwk import KeySet

from gateway.core.db import transaction
from gateway.registry.service import disable_party
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.consents.oidc import ParticipantIssuer, running_issuer
from tests.support import (
    Partner,
    SettableClock,
    new_partner,
    register,
    running_gateway,
    token_request,
)

SAM = "999900006"
NOOR = "999900018"
AUDIENCE = "http://testserver/oauth/token"


@dataclass
class World:
    runtime: Runtime
    client: TestClient
    issuer: ParticipantIssuer
    clock: SettableClock
    uwv: Partner
    ggz: Partner

    def as_participant(self, bsn: str) -> dict[str, str]:
        return self.issuer.headers(bsn)

    def as_partner(self, partner: Partner) -> dict[str, str]:
        token = token_request(self.client, partner.assertion(audience=AUDIENCE, now=self.clock()))
        return {"Authorization": f"Bearer {token.json()['access_token']}"}

    def grant(self, bsn: str = SAM, **terms: Any) -> dict[str, Any]:
        body = {"grantee": "uwv", "purpose": "reintegration", "categories": ["care.involvement"]}
        body.update(terms)
        response = self.client.post("/v1/me/consents", json=body, headers=self.as_participant(bsn))
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    clock = SettableClock(datetime.now(UTC).replace(microsecond=0))
    with running_issuer() as issuer:
        configured = settings.model_copy(update={"participant_oidc_issuer": issuer.url})
        with running_gateway(configured, clock) as (runtime, client):
            uwv = new_partner("uwv-leiden", "uwv", roles=("reintegration-advisor",))
            ggz = new_partner("ggz-leiden", "ggz", "EdDSA", roles=("care-coordinator",))
            register(runtime, uwv)
            register(runtime, ggz)
            yield World(runtime, client, issuer, clock, uwv, ggz)


def test_participant_grants_and_sees_an_active_consent(world: World) -> None:
    consent = world.grant()
    assert consent["status"] == "active"
    assert consent["given_by"] == "participant"
    listed = world.client.get("/v1/me/consents", headers=world.as_participant(SAM)).json()
    assert [c["id"] for c in listed] == [consent["id"]]


def test_revocation_denies_the_very_next_decision(world: World) -> None:
    from consent.service import consents_in_force
    from gateway.policy.input import decision_input

    consent = world.grant(categories=["care.involvement", "income.benefit"])

    def decide() -> list[str]:
        with transaction(world.runtime.sessions) as session:
            from gateway.identity.vault import find_by_bsn

            participant = find_by_bsn(session, world.runtime.identity_keys, SAM)
            assert participant is not None
            consents = consents_in_force(
                session=session, participant_id=participant.id, at=world.clock()
            )
            policy_input = decision_input(
                party="uwv-leiden", domain="uwv", role="reintegration-advisor", purpose="reintegration",
                categories=["care.involvement"], consents=consents, director=None, now=world.clock(),
            )  # fmt: skip
        return world.runtime.policy_engine.decide(policy_input).categories

    assert decide() == ["care.involvement"]
    revoked = world.client.post(
        f"/v1/me/consents/{consent['id']}/revocation", json={"reason": "changed my mind"},
        headers=world.as_participant(SAM),
    )  # fmt: skip
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert decide() == []


def test_unknown_purpose_is_refused_with_the_valid_values(world: World) -> None:
    response = world.client.post(
        "/v1/me/consents",
        json={"grantee": "uwv", "purpose": "marketing", "categories": ["care.involvement"]},
        headers=world.as_participant(SAM),
    )
    assert response.status_code == 422
    assert response.json()["valid_values"] == [
        "case-coordination",
        "regional-monitoring",
        "reintegration",
    ]
    assert response.json()["errors"][0]["pointer"] == "#/purpose"


def test_unknown_category_is_refused_with_the_valid_values(world: World) -> None:
    response = world.client.post(
        "/v1/me/consents",
        json={"grantee": "uwv", "purpose": "reintegration", "categories": ["care.diagnosis"]},
        headers=world.as_participant(SAM),
    )
    assert response.status_code == 422
    assert "care.involvement" in response.json()["valid_values"]
    assert "care.diagnosis" in response.json()["detail"]


@pytest.mark.parametrize(
    ("period", "message"),
    [
        (
            {"valid_from": "2030-01-02T00:00:00Z", "valid_until": "2030-01-01T00:00:00Z"},
            "after valid_from",
        ),
        (
            {"valid_from": "2020-01-01T00:00:00Z", "valid_until": "2020-06-01T00:00:00Z"},
            "in the past",
        ),
    ],
)
def test_impossible_periods_are_refused(world: World, period: dict[str, str], message: str) -> None:
    response = world.client.post(
        "/v1/me/consents",
        json={
            "grantee": "uwv",
            "purpose": "reintegration",
            "categories": ["care.involvement"],
            **period,
        },
        headers=world.as_participant(SAM),
    )
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_naive_timestamps_are_refused(world: World) -> None:
    response = world.client.post(
        "/v1/me/consents",
        json={"grantee": "uwv", "purpose": "reintegration", "categories": ["care.involvement"],
              "valid_until": "2030-01-01T00:00:00"},
        headers=world.as_participant(SAM),
    )  # fmt: skip
    assert response.status_code == 400  # the document's date-time (RFC 3339) has an offset
    assert response.json()["errors"][0]["pointer"] == "#/valid_until"


def test_revoking_twice_is_a_conflict(world: World) -> None:
    consent = world.grant()
    url = f"/v1/me/consents/{consent['id']}/revocation"
    assert world.client.post(url, json={}, headers=world.as_participant(SAM)).status_code == 200
    again = world.client.post(url, json={}, headers=world.as_participant(SAM))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def test_another_participants_consent_is_not_found(world: World) -> None:
    consent = world.grant(SAM)
    for method, path in (
        ("get", f"/v1/me/consents/{consent['id']}"),
        ("post", f"/v1/me/consents/{consent['id']}/revocation"),
        ("get", f"/v1/me/consents/{consent['id']}/history"),
    ):
        kwargs: dict[str, Any] = {"json": {}} if method == "post" else {}
        response = getattr(world.client, method)(path, headers=world.as_participant(NOOR), **kwargs)
        assert response.status_code == 404, path
    missing = world.client.get("/v1/me/consents/does-not-exist", headers=world.as_participant(NOOR))
    assert missing.json()["detail"].startswith("no consent")
    assert (
        world.client.get(
            f"/v1/me/consents/{consent['id']}", headers=world.as_participant(SAM)
        ).status_code
        == 200
    )


def test_unknown_or_disabled_grantee_is_refused(world: World) -> None:
    response = world.client.post(
        "/v1/me/consents",
        json={
            "grantee": "bank-leiden",
            "purpose": "reintegration",
            "categories": ["care.involvement"],
        },
        headers=world.as_participant(SAM),
    )
    assert response.status_code == 422
    with transaction(world.runtime.sessions) as session:
        disable_party(session=session, party_id="ggz-leiden", now=world.clock())
    disabled = world.client.post(
        "/v1/me/consents",
        json={
            "grantee": "ggz-leiden",
            "purpose": "reintegration",
            "categories": ["income.benefit"],
        },
        headers=world.as_participant(SAM),
    )
    assert disabled.status_code == 422
    assert "neither an enabled party nor a domain" in disabled.json()["detail"]


def test_amendment_narrows_and_both_versions_stay_readable(world: World) -> None:
    first = world.grant(categories=["care.involvement", "income.benefit"])
    amended = world.client.post(
        f"/v1/me/consents/{first['id']}/amendments",
        json={"categories": ["income.benefit"]},
        headers=world.as_participant(SAM),
    )
    assert amended.status_code == 201
    second = amended.json()
    assert second["version"] == 2
    assert second["supersedes"] == first["id"]
    assert second["categories"] == ["income.benefit"]
    old = world.client.get(
        f"/v1/me/consents/{first['id']}", headers=world.as_participant(SAM)
    ).json()
    assert old["status"] == "superseded"
    assert old["categories"] == ["care.involvement", "income.benefit"]
    history = world.client.get(
        f"/v1/me/consents/{second['id']}/history", headers=world.as_participant(SAM)
    ).json()
    assert [event["kind"] for event in history] == ["granted", "superseded", "amended"]


def test_consent_expiring_at_t_is_not_in_force_at_t(world: World) -> None:
    from consent.service import consents_in_force
    from gateway.identity.vault import find_by_bsn

    until = world.clock() + timedelta(days=30)
    world.grant(valid_until=until.isoformat())
    with transaction(world.runtime.sessions) as session:
        participant = find_by_bsn(session, world.runtime.identity_keys, SAM)
        assert participant is not None
        just_before = consents_in_force(
            session=session, participant_id=participant.id, at=until - timedelta(microseconds=1)
        )
        at_end = consents_in_force(session=session, participant_id=participant.id, at=until)
    assert len(just_before) == 1
    assert at_end == []
    world.clock.now = until
    later_token = world.issuer.headers(SAM, exp=int(until.timestamp()) + 600)
    listed = world.client.get("/v1/me/consents", headers=later_token).json()
    assert listed[0]["status"] == "expired"


def test_fhir_export_validates_as_an_r4_consent(world: World) -> None:
    consent = world.grant()
    document = world.client.get(
        f"/v1/me/consents/{consent['id']}/fhir", headers=world.as_participant(SAM)
    ).json()
    resource = FhirConsent.model_validate(document)
    assert resource.status == "active"
    assert resource.provision.purpose[0].code == "reintegration"
    assert SAM not in json.dumps(document)


def _fhir(world: World, consent_id: str) -> tuple[dict[str, Any], Any]:
    response = world.client.get(
        f"/v1/me/consents/{consent_id}/fhir", headers=world.as_participant(SAM)
    )
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document, FhirConsent.model_validate(document)


def _record(world: World, **terms: Any) -> dict[str, Any]:
    body = {"subject": {"bsn": SAM}, "grantee": "uwv-leiden", "purpose": "reintegration",
            "categories": ["care.involvement"], "evidence_ref": "dossier-123/form-7", **terms}  # fmt: skip
    response = world.client.post("/v1/consents", json=body, headers=world.as_partner(world.ggz))
    assert response.status_code == 201, response.text
    consent: dict[str, Any] = response.json()["consent"]
    return consent


def test_fhir_export_of_a_consent_given_online_names_the_participant_as_its_performer(
    world: World,
) -> None:
    consent = world.grant()
    document, resource = _fhir(world, consent["id"])
    assert [performer.type for performer in resource.performer] == ["Patient"]
    assert document["performer"][0]["identifier"] == document["patient"]["identifier"]
    [verification] = resource.verification
    assert verification.verified is True
    assert (
        document["verification"][0]["verifiedWith"]["identifier"]
        == document["patient"]["identifier"]
    )
    assert verification.verificationDate.isoformat() == consent["created_at"].replace("Z", "+00:00")


def test_fhir_export_of_a_paper_consent_names_the_participant_and_the_recording_party(
    world: World,
) -> None:
    consent = _record(world)
    document, resource = _fhir(world, consent["id"])
    assert [performer.type for performer in resource.performer] == ["Patient", "Organization"]
    assert document["performer"][1]["identifier"] == {
        "system": "https://schakel.nl/fhir/NamingSystem/party",
        "value": "ggz-leiden",
    }
    assert document["verification"][0]["verifiedWith"]["type"] == "Patient"
    assert resource.sourceReference.display == "dossier-123/form-7"


def test_fhir_export_of_a_representatives_consent_names_the_representative(
    world: World,
) -> None:
    consent = _record(world, given_by="representative", representative_role="curator")
    document, resource = _fhir(world, consent["id"])
    [representative] = document["contained"]
    assert representative["resourceType"] == "RelatedPerson"
    assert representative["patient"] == document["patient"]
    assert representative["relationship"][0]["coding"] == [
        {"system": "https://schakel.nl/fhir/CodeSystem/representative-role", "code": "curator"}
    ]
    assert [performer.type for performer in resource.performer] == [
        "RelatedPerson",
        "Organization",
    ]
    assert document["performer"][0]["reference"] == "#representative"
    assert document["verification"][0]["verifiedWith"]["reference"] == "#representative"


def test_fhir_export_of_a_version_the_participant_amended_names_only_the_participant(
    world: World,
) -> None:
    paper = _record(world, categories=["care.involvement", "income.benefit"])
    amended = world.client.post(
        f"/v1/me/consents/{paper['id']}/amendments",
        json={"categories": ["income.benefit"]},
        headers=world.as_participant(SAM),
    )
    assert amended.status_code == 201, amended.text
    _, resource = _fhir(world, amended.json()["id"])
    assert [performer.type for performer in resource.performer] == ["Patient"]


def test_receipt_verifies_with_only_the_published_jwks(world: World) -> None:
    consent = world.grant()
    body = world.client.get(
        f"/v1/me/consents/{consent['id']}/receipt", headers=world.as_participant(SAM)
    ).json()
    assert body["jwks_uri"] == "http://testserver/v1/receipt-keys"
    published = world.client.get("/v1/receipt-keys").json()
    token_kids = {key["kid"] for key in world.client.get("/.well-known/jwks.json").json()["keys"]}
    assert token_kids.isdisjoint(key["kid"] for key in published["keys"])  # a key for each job
    verified = jws.deserialize_compact(
        body["receipt"], KeySet.import_key_set(published), algorithms=["EdDSA"]
    )
    claims = json.loads(verified.payload)
    assert claims["record_id"] == f"{consent['id']}#v1"
    assert claims["purposes"][0]["pii_categories"] == ["care.involvement"]
    assert claims["schema_version"].startswith("ISO/IEC TS 27560")
    assert SAM not in verified.payload.decode()


def test_a_receipt_issued_before_the_receipt_key_rotates_still_verifies_afterwards(
    world: World, settings: Settings
) -> None:
    consent = world.grant()
    before = world.client.get(
        f"/v1/me/consents/{consent['id']}/receipt", headers=world.as_participant(SAM)
    ).json()["receipt"]
    rotated = subprocess.run(
        [str(Path(sys.executable).with_name("schakel")), "keys", "rotate-receipt-key"],
        env={**os.environ, "SCHAKEL_DATA_DIR": str(settings.data_dir)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "receipts are signed by" in rotated.stdout
    configured = settings.model_copy(update={"participant_oidc_issuer": world.issuer.url})
    with running_gateway(configured, world.clock) as (_, restarted):
        published = KeySet.import_key_set(restarted.get("/v1/receipt-keys").json())
        after = restarted.get(
            f"/v1/me/consents/{consent['id']}/receipt", headers=world.as_participant(SAM)
        ).json()["receipt"]
    assert len(published.keys) == 2
    for receipt in (before, after):
        verified = jws.deserialize_compact(receipt, published, algorithms=["EdDSA"])
        assert json.loads(verified.payload)["record_id"] == f"{consent['id']}#v1"
    kid = jws.extract_compact(before.encode()).protected["kid"]
    assert jws.extract_compact(after.encode()).protected["kid"] != kid


def test_professional_records_a_paper_consent_and_reads_only_its_own(world: World) -> None:
    recorded = world.client.post(
        "/v1/consents",
        json={"subject": {"bsn": SAM}, "grantee": "uwv-leiden", "purpose": "reintegration",
              "categories": ["care.involvement"], "evidence_ref": "dossier-123/form-7"},
        headers=world.as_partner(world.ggz),
    )  # fmt: skip
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["consent"]["given_by"] == "professional"
    assert recorded.json()["consent"]["recorded_by"] == "ggz-leiden"
    assert SAM not in recorded.text
    world.grant(grantee="ggz", categories=["income.benefit"])

    seen_by_uwv = world.client.post(
        "/v1/consents/in-force", json={"subject": {"bsn": SAM}}, headers=world.as_partner(world.uwv)
    ).json()
    assert [item["consent"]["grantee"] for item in seen_by_uwv] == ["uwv-leiden"]
    seen_by_ggz = world.client.post(
        "/v1/consents/in-force", json={"subject": {"bsn": SAM}}, headers=world.as_partner(world.ggz)
    ).json()
    assert [item["consent"]["grantee"] for item in seen_by_ggz] == ["ggz"]
    assert seen_by_uwv[0]["subject_pseudonym"] != seen_by_ggz[0]["subject_pseudonym"]


def test_representative_consent_needs_a_role(world: World) -> None:
    body = {"subject": {"bsn": SAM}, "grantee": "uwv", "purpose": "reintegration",
            "categories": ["care.involvement"], "evidence_ref": "court-order-1", "given_by": "representative"}  # fmt: skip
    missing_role = world.client.post("/v1/consents", json=body, headers=world.as_partner(world.ggz))
    assert missing_role.status_code == 422
    with_role = world.client.post(
        "/v1/consents",
        json={**body, "representative_role": "mentor"},
        headers=world.as_partner(world.ggz),
    )
    assert with_role.status_code == 201
    assert with_role.json()["consent"]["representative_role"] == "mentor"


def test_unknown_participant_and_no_consent_look_the_same_to_a_partner(world: World) -> None:
    world.grant(NOOR, grantee="ggz", categories=["income.benefit"])
    headers = world.as_partner(world.uwv)
    unknown = world.client.post(
        "/v1/consents/in-force", json={"subject": {"bsn": "999900043"}}, headers=headers
    )
    no_consent = world.client.post(
        "/v1/consents/in-force", json={"subject": {"bsn": NOOR}}, headers=headers
    )
    assert unknown.status_code == no_consent.status_code == 200
    assert unknown.json() == no_consent.json() == []


def test_bsn_failing_the_eleven_proof_is_refused(world: World) -> None:
    response = world.client.post(
        "/v1/consents/in-force",
        json={"subject": {"bsn": "123456789"}},
        headers=world.as_partner(world.uwv),
    )
    assert response.status_code == 422
    assert "11-proof" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"iss": "https://evil.example"}, 401),
        ({"aud": "someone-else"}, 401),
        ({"exp": 1}, 401),
        ({"bsn": "123456789"}, 401),
    ],
)
def test_participant_tokens_are_checked(world: World, change: dict[str, Any], status: int) -> None:
    token = world.issuer.token(SAM, **change)
    response = world.client.get("/v1/me/consents", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status
    assert "www-authenticate" in response.headers


def test_partner_token_is_no_participant_token(world: World) -> None:
    response = world.client.get("/v1/me/consents", headers=world.as_partner(world.uwv))
    assert response.status_code == 401


def test_every_consent_change_is_audited_without_a_bsn(world: World) -> None:
    from sqlalchemy import select

    from audit.models import AuditEntry

    consent = world.grant()
    world.client.post(
        f"/v1/me/consents/{consent['id']}/amendments", json={"categories": ["care.involvement"]},
        headers=world.as_participant(SAM),
    )  # fmt: skip
    with transaction(world.runtime.sessions) as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        actions = [entry.action for entry in entries]
        subjects = {entry.subject_ref for entry in entries}
        dumped = " ".join(str(vars(entry)) for entry in entries)
    assert actions == ["consent.grant", "consent.amend"]
    assert len(subjects) == 1 and None not in subjects
    assert SAM not in dumped


def test_an_id_token_is_never_accepted_as_a_bearer(world: World) -> None:
    with_nonce = world.issuer.headers(SAM, nonce="n-1")
    refused = world.client.get("/v1/me/consents", headers=with_nonce)
    assert refused.status_code == 401
    assert "ID token is not an access token" in refused.json()["detail"]
    assert world.client.get("/v1/me/consents", headers=world.as_participant(SAM)).status_code == 200
