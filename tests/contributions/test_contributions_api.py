"""``POST /v1/adapters/{format}/contributions`` on SQLite and PostgreSQL, with real partners."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from audit.models import AuditEntry
from gateway.contributions.models import IdempotencyRecord
from gateway.core.db import transaction
from gateway.identity.models import Participant
from gateway.identity.vault import AUDIT_DOMAIN, find_by_bsn, pseudonym
from gateway.runtime import Runtime
from gateway.settings import Settings
from gateway.storage.models import Contribution
from gateway.storage.service import latest_items
from tests.support import (
    Partner,
    SettableClock,
    new_partner,
    register,
    running_gateway,
    token_request,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "adapters"
AUDIENCE = "http://testserver/oauth/token"
GGZ_BSN = "999993008"
UWV_BSN = "999993021"
GEMEENTE_BSN = "999993045"
FHIR = "application/fhir+json"


@dataclass
class World:
    runtime: Runtime
    client: TestClient
    clock: SettableClock
    ggz: Partner
    uwv: Partner
    gemeente: Partner

    def headers(self, partner: Partner, **extra: str) -> dict[str, str]:
        token = token_request(self.client, partner.assertion(audience=AUDIENCE, now=self.clock()))
        return {"Authorization": f"Bearer {token.json()['access_token']}", **extra}

    def post(
        self, partner: Partner, fmt: str, body: bytes, content_type: str, **headers: str
    ) -> httpx.Response:
        return self.client.post(
            f"/v1/adapters/{fmt}/contributions",
            content=body,
            headers=self.headers(partner, **{"Content-Type": content_type, **headers}),
        )

    def count(self, model: Any) -> int:
        with transaction(self.runtime.sessions) as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def stored(self, bsn: str) -> dict[str, dict[str, Any]]:
        """Every category stored for the participant, decrypted."""
        with transaction(self.runtime.sessions) as session:
            participant = find_by_bsn(session, self.runtime.identity_keys, bsn)
            if participant is None:
                return {}
            categories = session.scalars(
                select(Contribution.category).where(Contribution.participant_id == participant.id)
            ).all()
            items = latest_items(
                session=session, keks=self.runtime.keks, participant_id=participant.id,
                categories=list(categories),
            )  # fmt: skip
            return {item.category: item.fields for item in items}


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    clock = SettableClock()
    with running_gateway(settings, clock) as (runtime, client):
        ggz = new_partner("ggz-rivierduinen", "ggz", roles=("care-coordinator",))
        uwv = new_partner("uwv-leiden", "uwv", roles=("reintegration-advisor",))
        gemeente = new_partner("gemeente-leiden", "gemeente", roles=("case-manager",))
        for partner in (ggz, uwv, gemeente):
            register(runtime, partner)
        yield World(runtime, client, clock, ggz, uwv, gemeente)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_ggz_bundle_is_stored_encrypted_and_named_by_pseudonym(world: World) -> None:
    response = world.post(world.ggz, "ggz-fhir", fixture("ggz-bundle.json"), FHIR)
    assert response.status_code == 201, response.text
    result = response.json()
    assert GGZ_BSN not in response.text
    with transaction(world.runtime.sessions) as session:
        participant = find_by_bsn(session, world.runtime.identity_keys, GGZ_BSN)
        assert participant is not None
        expected = pseudonym(world.runtime.identity_keys, "ggz", participant.id)
    assert result["subject_pseudonym"] == expected
    assert [item["category"] for item in result["accepted"]] == [
        "care.involvement",
        "care.work_readiness",
    ]
    stored = world.stored(GGZ_BSN)
    assert stored["care.involvement"]["coordinator_contact"]["name"] == "Joris de Vries"
    assert stored["care.work_readiness"]["ips_stage"] == "job-search"


def test_condition_is_dropped_with_a_reason_and_never_reaches_the_database(world: World) -> None:
    response = world.post(world.ggz, "ggz-fhir", fixture("ggz-bundle.json"), FHIR)
    dropped = {item["location"]: item for item in response.json()["dropped"]}
    assert dropped["Bundle.entry[6].resource"]["reason"] == "never-disclosable"
    assert dropped["Bundle.entry[6].resource"]["category"] == "care.diagnosis"
    assert dropped["Bundle.entry[7].resource"]["reason"] == "clinical-resource"
    with transaction(world.runtime.sessions) as session:
        categories = set(session.scalars(select(Contribution.category)).all())
        participant = session.scalars(select(Participant)).one()
        plaintexts = latest_items(
            session=session, keks=world.runtime.keks, participant_id=participant.id,
            categories=sorted(categories),
        )  # fmt: skip
    assert categories == {"care.involvement", "care.work_readiness"}
    assert "Depressive" not in repr([item.fields for item in plaintexts])
    assert "sertraline" not in repr([item.fields for item in plaintexts])


def test_uwv_xml_and_json_and_gemeente_zaken_are_stored(world: World) -> None:
    xml = world.post(world.uwv, "uwv-xml", fixture("uwv-message.xml"), "application/xml")
    json_ = world.post(world.uwv, "uwv-json", fixture("uwv-message.json"), "application/json")
    zgw = world.post(
        world.gemeente, "gemeente-zgw", fixture("gemeente-zaken.json"), "application/json"
    )
    assert (xml.status_code, json_.status_code, zgw.status_code) == (201, 201, 201), zgw.text
    assert world.stored(UWV_BSN)["work.capacity"]["hours_per_week"] == 20
    assert world.stored("999993033")["income.benefit"]["benefit_type"] == "WW"
    assert set(world.stored(GEMEENTE_BSN)) == {
        "income.benefit",
        "social.support",
        "work.reintegration",
    }
    for response in (xml, json_, zgw):
        assert UWV_BSN not in response.text and GEMEENTE_BSN not in response.text


def test_a_dropped_field_is_named_with_its_category_and_location(world: World) -> None:
    response = world.post(world.uwv, "uwv-xml", fixture("uwv-extra-field.xml"), "application/xml")
    assert response.status_code == 201, response.text
    result = response.json()
    assert [(item["category"], item["fields"]) for item in result["accepted"]] == [
        ("income.benefit", ["benefit_type", "status"])
    ]
    dropped = [
        (item["location"], item["category"], item["field"], item["reason"])
        for item in result["dropped"]
    ]
    assert dropped == [
        ("/message/caseNotes", None, "caseNotes", "outside-catalogue"),
        ("/message/benefit/iban", "income.benefit", "iban", "outside-catalogue"),
    ]
    assert "NL91ABNA0417164300" not in response.text
    assert world.stored(UWV_BSN)["income.benefit"] == {"benefit_type": "WW", "status": "active"}


def test_each_element_of_a_zaak_not_taken_in_is_dropped_at_its_own_location(world: World) -> None:
    response = world.post(
        world.gemeente, "gemeente-zgw", fixture("gemeente-zaken.json"), "application/json"
    )
    dropped = [
        (item["location"], item["category"], item["field"]) for item in response.json()["dropped"]
    ]
    assert dropped == [("#/results/0/omschrijving", "income.benefit", "omschrijving")]


def test_patient_demographics_are_dropped_one_element_at_a_time(world: World) -> None:
    response = world.post(world.ggz, "ggz-fhir", fixture("ggz-bundle.json"), FHIR)
    dropped = {
        item["field"]: item["location"]
        for item in response.json()["dropped"]
        if item["reason"] == "outside-catalogue"
    }
    assert dropped == {
        "name": "Bundle.entry[0].resource.name",
        "birthDate": "Bundle.entry[0].resource.birthDate",
    }


def test_ingest_is_audited_once_with_the_accepted_categories(world: World) -> None:
    world.post(world.ggz, "ggz-fhir", fixture("ggz-bundle.json"), FHIR)
    with transaction(world.runtime.sessions) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "record.submit")
        ).all()
        participant = find_by_bsn(session, world.runtime.identity_keys, GGZ_BSN)
        assert participant is not None
        subject = pseudonym(world.runtime.identity_keys, AUDIT_DOMAIN, participant.id)
    assert len(entries) == 1
    assert entries[0].actor_party == "ggz-rivierduinen"
    assert entries[0].subject_ref == subject
    assert entries[0].categories == ["care.involvement", "care.work_readiness"]


def test_contribution_for_another_domains_category_is_forbidden(world: World) -> None:
    response = world.post(world.uwv, "ggz-fhir", fixture("ggz-bundle.json"), FHIR)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    locations = [error["location"] for error in response.json()["errors"]]
    assert "Bundle.entry[1].resource" in locations
    assert world.count(Contribution) == 0
    assert world.count(Participant) == 0


def test_payload_naming_another_sender_is_forbidden(world: World) -> None:
    other = new_partner("uwv-amsterdam", "uwv", roles=("reintegration-advisor",))
    register(world.runtime, other)
    response = world.post(other, "uwv-xml", fixture("uwv-message.xml"), "application/xml")
    assert response.status_code == 403
    assert world.count(Contribution) == 0


HOSTILE = [
    ("ggz-fhir", "ggz-wrong-resource-type.json", FHIR, 422, "Bundle.resourceType"),
    ("ggz-fhir", "ggz-missing-required.json", FHIR, 422, "Bundle.entry[2].resource.status"),
    ("ggz-fhir", "ggz-wrong-type-value.json", FHIR, 422, "Bundle.entry[0].resource.identifier[0].value"),
    ("ggz-fhir", "ggz-bad-bsn.json", FHIR, 422, "Bundle.entry[0].resource.identifier[0].value"),
    ("ggz-fhir", "ggz-unknown-code.json", FHIR, 422,
     "Bundle.entry[1].resource.valueCodeableConcept.coding[0].code"),
    ("ggz-fhir", "deep-nesting.json", FHIR, 400, "Bundle"),
    ("uwv-json", "deep-nesting.json", "application/json", 400, "#"),
    ("gemeente-zgw", "deep-nesting.json", "application/json", 400, "#"),
    ("uwv-json", "deep-nesting-200.json", "application/json", 400, "#/a/a/a/a"),
    ("uwv-xml", "uwv-doctype.xml", "application/xml", 400, "/"),
    ("uwv-xml", "uwv-xxe.xml", "application/xml", 400, "/"),
    ("uwv-xml", "uwv-billion-laughs.xml", "application/xml", 400, "/"),
    ("uwv-xml", "uwv-malformed.xml", "application/xml", 400, "/"),
    ("uwv-xml", "uwv-unknown-benefit.xml", "application/xml", 422, "/message/benefit/type"),
    ("uwv-json", "uwv-bad-hours.json", "application/json", 422, "#/workCapacity/hoursPerWeek"),
    ("gemeente-zgw", "gemeente-unknown-zaaktype.json", "application/json", 422,
     "#/zaaktype/identificatie"),
]  # fmt: skip


@pytest.mark.parametrize(("fmt", "name", "content_type", "status", "location"), HOSTILE)
def test_hostile_payload_is_a_located_problem_and_stores_nothing(
    world: World, fmt: str, name: str, content_type: str, status: int, location: str
) -> None:
    partner = {"ggz": world.ggz, "uwv": world.uwv, "gemeente": world.gemeente}[fmt.split("-")[0]]
    response = world.post(partner, fmt, fixture(name), content_type)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert any(error["location"].startswith(location) for error in problem["errors"]), problem
    assert "Traceback" not in response.text
    assert "/etc/passwd" not in response.text and "lollol" not in response.text
    assert world.count(Contribution) == 0
    assert world.count(Participant) == 0


def test_wrong_content_type_is_415(world: World) -> None:
    response = world.post(world.uwv, "uwv-xml", fixture("uwv-message.json"), "application/json")
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert world.count(Contribution) == 0


def test_unknown_format_is_404(world: World) -> None:
    response = world.post(world.uwv, "hl7-v2", b"MSH|", "text/plain")
    assert response.status_code == 404


def test_twenty_megabytes_declared_is_413_before_reading(world: World) -> None:
    body = b'{"a": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    response = world.post(world.uwv, "uwv-json", body, "application/json")
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_twenty_megabytes_streamed_without_length_is_413(world: World) -> None:
    chunks_sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal chunks_sent
        for _ in range(20 * 16):
            chunks_sent += 1
            yield b"x" * 65536

    headers = world.headers(world.uwv, **{"Content-Type": "application/json"})
    response = world.client.post(
        "/v1/adapters/uwv-json/contributions", content=chunks(), headers=headers
    )
    assert response.status_code == 413
    assert world.count(Contribution) == 0


def test_same_idempotency_key_and_body_replays_the_first_answer(world: World) -> None:
    body = fixture("uwv-message.xml")
    first = world.post(world.uwv, "uwv-xml", body, "application/xml", **{"Idempotency-Key": "k-1"})
    again = world.post(world.uwv, "uwv-xml", body, "application/xml", **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert world.count(Contribution) == 3
    assert world.count(IdempotencyRecord) == 1


def test_same_idempotency_key_with_another_body_is_409(world: World) -> None:
    headers = {"Idempotency-Key": "k-2"}
    first = world.post(
        world.uwv, "uwv-xml", fixture("uwv-message.xml"), "application/xml", **headers
    )
    other = world.post(
        world.uwv, "uwv-json", fixture("uwv-message.json"), "application/json", **headers
    )
    assert first.status_code == 201
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    assert world.count(Contribution) == 3


def test_failed_request_does_not_burn_its_idempotency_key(world: World) -> None:
    headers = {"Idempotency-Key": "k-3"}
    bad = world.post(
        world.uwv, "uwv-xml", fixture("uwv-unknown-benefit.xml"), "application/xml", **headers
    )
    assert bad.status_code == 422
    assert world.count(IdempotencyRecord) == 0


def test_idempotency_keys_are_per_party(world: World) -> None:
    headers = {"Idempotency-Key": "shared"}
    uwv = world.post(world.uwv, "uwv-xml", fixture("uwv-message.xml"), "application/xml", **headers)
    zgw = world.post(
        world.gemeente,
        "gemeente-zgw",
        fixture("gemeente-zaken.json"),
        "application/json",
        **headers,
    )
    assert (uwv.status_code, zgw.status_code) == (201, 201)


def test_unknown_pseudonym_is_a_located_problem(world: World) -> None:
    body = (
        b'{"sentAt": "2026-11-24T09:15:00+01:00", "participant": {"pseudonym": "'
        + b"ab" * 32
        + (b'"}, "benefit": {"type": "WW", "status": "lopend"}}')
    )
    response = world.post(world.uwv, "uwv-json", body, "application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == "#/participant/pseudonym"


def test_known_pseudonym_of_the_callers_domain_names_the_participant(world: World) -> None:
    first = world.post(world.uwv, "uwv-xml", fixture("uwv-message.xml"), "application/xml")
    own = first.json()["subject_pseudonym"].encode()
    body = (
        b'{"sentAt": "2026-11-25T09:15:00+01:00", "participant": {"pseudonym": "'
        + own
        + (b'"}, "benefit": {"type": "WW", "status": "beeindigd"}}')
    )
    response = world.post(world.uwv, "uwv-json", body, "application/json")
    assert response.status_code == 201, response.text
    assert response.json()["subject_pseudonym"] == own.decode()
    assert world.stored(UWV_BSN)["income.benefit"] == {"benefit_type": "WW", "status": "ended"}


def _ggz_bundle_naming(identifier: dict[str, str]) -> bytes:
    bundle = json.loads(fixture("ggz-bundle.json"))
    bundle["entry"][0]["resource"]["identifier"] = [identifier]
    return json.dumps(bundle).encode()


def test_a_ggz_bundle_names_the_participant_by_its_own_domains_pseudonym_system(
    world: World,
) -> None:
    first = world.post(world.ggz, "ggz-fhir", fixture("ggz-bundle.json"), FHIR)
    own = first.json()["subject_pseudonym"]
    system = "https://schakel.nl/fhir/NamingSystem/participant-pseudonym/ggz"
    again = world.post(
        world.ggz, "ggz-fhir", _ggz_bundle_naming({"system": system, "value": own}), FHIR
    )
    assert again.status_code == 201, again.text
    assert again.json()["subject_pseudonym"] == own


def test_a_pseudonym_of_another_domain_is_refused_at_its_location(world: World) -> None:
    first = world.post(world.ggz, "ggz-fhir", fixture("ggz-bundle.json"), FHIR)
    own = first.json()["subject_pseudonym"]
    system = "https://schakel.nl/fhir/NamingSystem/participant-pseudonym/uwv"
    response = world.post(
        world.ggz, "ggz-fhir", _ggz_bundle_naming({"system": system, "value": own}), FHIR
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "location": "Bundle.entry[0].resource.identifier[0].value",
            "detail": "a uwv pseudonym; name the participant by a ggz one",
        }
    ]
