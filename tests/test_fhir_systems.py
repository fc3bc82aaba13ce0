"""Every FHIR resource the gateway emits names only the systems declared in ``fhirsystems``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fhirsystems
from gateway.identity.vault import AUDIT_DOMAIN
from gateway.settings import Settings
from tests.disclosures.world import SAM, World, running_world
from tests.support import new_partner, register, token_request

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "adapters"
FHIR = "application/fhir+json"
ASKED = ["care.involvement", "care.work_readiness", "work.capacity"]


def systems_in(document: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(where, URI) of every coding and identifier system and every extension url."""
    if isinstance(document, list):
        for index, item in enumerate(document):
            yield from systems_in(item, f"{path}[{index}]")
        return
    if not isinstance(document, dict):
        return
    parent = path.rsplit(".", 1)[-1]
    for key, value in document.items():
        where = f"{path}.{key}"
        # ContactPoint.system is a code (phone, email), not a URI.
        coded = key == "system" and not parent.startswith("telecom")
        extension = key == "url" and "xtension" in parent
        if isinstance(value, str) and (coded or extension):
            yield where, value
        else:
            yield from systems_in(value, where)


def undeclared(document: Any, domains: frozenset[str]) -> list[tuple[str, str]]:
    known_domains = domains | {AUDIT_DOMAIN}
    return [
        (where, uri)
        for where, uri in systems_in(document)
        if uri not in fhirsystems.SYSTEMS
        and uri not in fhirsystems.EXTENSIONS
        and fhirsystems.pseudonym_domain(uri) not in known_domains
    ]


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    with running_world(settings) as running:
        yield running


def _emitted(world: World) -> dict[str, Any]:
    """One of each kind of resource the gateway answers with, by what was asked."""
    for category in ("care.involvement", "care.work_readiness", "work.capacity"):
        world.contribute(SAM, category)
    world.consent(SAM, "uwv", "reintegration", ["care.involvement", "care.work_readiness"])
    gemeente = world.partner_headers("gemeente-leiden")
    paper = {"subject": {"bsn": SAM}, "purpose": "reintegration", "evidence_ref": "form-7"}
    for recorded in (
        {"grantee": "ggz-leiden", "categories": ["work.capacity"]},
        {"grantee": "uwv", "categories": ["income.benefit"], "given_by": "representative",
         "representative_role": "mentor"},
    ):  # fmt: skip
        response = world.client.post("/v1/consents", json={**paper, **recorded}, headers=gemeente)
        assert response.status_code == 201, response.text
    ggz = {**world.partner_headers("ggz-leiden"), "Content-Type": FHIR}
    contributed = world.client.post(
        "/v1/adapters/ggz-fhir/contributions",
        content=(FIXTURES / "ggz-bundle.json").read_bytes(),
        headers=ggz,
    )
    assert contributed.status_code == 201, contributed.text

    emitted: dict[str, Any] = {}
    participant = world.issuer.headers(SAM)
    for consent in world.client.get("/v1/me/consents", headers=participant).json():
        export = world.client.get(f"/v1/me/consents/{consent['id']}/fhir", headers=participant)
        emitted[f"Consent given by {consent['given_by']}"] = export.json()
    uwv = {**world.partner_headers("uwv-leiden"), "Accept": FHIR}
    for name, categories in (("disclosure", ASKED), ("all withheld", ["work.capacity"])):
        body = {"subject": {"bsn": SAM}, "purpose": "reintegration", "categories": categories}
        answer = world.client.post("/v1/disclosures", json=body, headers=uwv)
        assert answer.status_code == 200, answer.text
        emitted[f"Bundle ({name})"] = answer.json()
    officer = _officer_headers(world)
    for entry in world.audit_entries():
        event = world.client.get(f"/v1/audit/entries/{entry.seq}/fhir", headers=officer)
        assert event.status_code == 200, event.text
        emitted[f"AuditEvent {entry.seq} ({entry.action})"] = event.json()
    return emitted


def _officer_headers(world: World) -> dict[str, str]:
    # The whole log: what is checked is how entries name systems, not whose they are.
    officer = new_partner("ggz-privacy", "ggz", roles=("regional-privacy-officer",))
    register(world.runtime, officer)
    assertion = officer.assertion(audience=world.runtime.settings.token_endpoint, now=world.clock())
    response = token_request(world.client, assertion)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_every_emitted_resource_names_only_declared_systems(world: World) -> None:
    emitted = _emitted(world)
    assert {"Consent given by participant", "Consent given by professional"} <= set(emitted)
    assert "Consent given by representative" in emitted
    actions = {name.split("(")[-1].rstrip(")") for name in emitted if name.startswith("AuditEvent")}
    assert {"consent.grant", "record.submit", "disclose", "deny"} <= actions
    domains = world.runtime.catalogue.domains
    found = {name: undeclared(document, domains) for name, document in emitted.items()}
    assert {name: faults for name, faults in found.items() if faults} == {}
    assert all(list(systems_in(document)) for document in emitted.values())


def test_the_consent_export_and_the_audit_log_name_the_participant_alike(world: World) -> None:
    emitted = _emitted(world)
    consent = emitted["Consent given by participant"]["patient"]["identifier"]
    granted = next(
        document
        for name, document in emitted.items()
        if name.startswith("AuditEvent") and name.endswith("(consent.grant)")
    )
    audited = granted["entity"][0]["what"]["identifier"]
    assert consent == audited
    assert consent["system"] == fhirsystems.participant_pseudonym(AUDIT_DOMAIN)


def test_a_disclosure_bundle_names_the_subject_in_the_requesters_domain(world: World) -> None:
    bundle = _emitted(world)["Bundle (disclosure)"]
    patient = bundle["entry"][0]["resource"]
    assert patient["identifier"][0]["system"] == fhirsystems.participant_pseudonym("uwv")
    assert bundle["identifier"]["system"] == fhirsystems.DECISION


def test_the_check_sees_an_undeclared_system_and_extension() -> None:
    document = {
        "resourceType": "Observation",
        "code": {"coding": [{"system": "https://example.org/codes", "code": "x"}]},
        "extension": [{"url": "https://example.org/ext", "valueString": "y"}],
        "subject": {"identifier": {"system": fhirsystems.participant_pseudonym("nowhere")}},
        "contained": [{"telecom": [{"system": "phone", "value": "071"}]}],
    }
    assert undeclared(document, frozenset({"uwv"})) == [
        (".code.coding[0].system", "https://example.org/codes"),
        (".extension[0].url", "https://example.org/ext"),
        (".subject.identifier.system", fhirsystems.participant_pseudonym("nowhere")),
    ]


def test_every_declared_schakel_uri_is_documented() -> None:
    documented = (ROOT / "docs" / "fhir.md").read_text("utf-8")
    declared = {*fhirsystems.SYSTEMS, *fhirsystems.EXTENSIONS, fhirsystems.PARTICIPANT_PSEUDONYM}
    assert sorted(uri for uri in declared if uri not in documented) == []


def test_the_audit_pseudonym_system_is_the_audit_domains() -> None:
    assert fhirsystems.participant_pseudonym(AUDIT_DOMAIN) == fhirsystems.AUDIT_PSEUDONYM
