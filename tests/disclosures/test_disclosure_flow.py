"""POST /v1/disclosures end to end: minimal views, denials, and failing closed at every step."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import event

from gateway.core.db import transaction
from gateway.registry.service import find_party
from gateway.settings import PolicyEngineKind, Settings
from tests.disclosures.world import NOOR, SAM, UNKNOWN, World, running_world


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    with running_world(settings) as running:
        yield running


def _prepared(world: World) -> None:
    for category in (
        "care.involvement",
        "care.work_readiness",
        "care.diagnosis",
        "work.capacity",
        "income.benefit",
    ):
        world.contribute(SAM, category)
    world.consent(
        SAM, "uwv", "reintegration", ["care.involvement", "care.work_readiness", "income.benefit"]
    )


def test_uwv_gets_exactly_what_was_consented(world: World) -> None:
    _prepared(world)
    response = world.disclose(
        "uwv-leiden", SAM, "reintegration", ["care.involvement", "work.capacity", "care.diagnosis"]
    )
    assert response.status_code == 200, response.text
    view = response.json()
    assert [item["category"] for item in view["disclosed"]] == ["care.involvement"]
    assert set(view["disclosed"][0]["fields"]) == {"in_care", "since", "coordinator_contact"}
    withheld = {item["category"]: item["code"] for item in view["withheld"]}
    assert set(withheld) == {"work.capacity", "care.diagnosis"}
    assert "F32" not in response.text and "night shifts" not in response.text
    assert len(view["subject"]) == 64
    assert "pseudonymise-subject" in view["obligations"]


def test_fields_outside_the_catalogue_never_leave(world: World) -> None:
    world.contribute(SAM, "care.involvement", therapist_notes="private")
    world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
    response = world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])
    assert "therapist_notes" not in response.text
    assert "private" not in response.text


def test_narrowed_consent_withholds_the_dropped_category_at_the_next_request(world: World) -> None:
    _prepared(world)
    consent = world.client.get("/v1/me/consents", headers=world.issuer.headers(SAM)).json()[0]
    first = world.disclose(
        "uwv-leiden", SAM, "reintegration", ["care.involvement", "income.benefit"]
    ).json()
    assert [item["category"] for item in first["disclosed"]] == [
        "care.involvement",
        "income.benefit",
    ]
    world.client.post(
        f"/v1/me/consents/{consent['id']}/amendments", json={"categories": ["income.benefit"]},
        headers=world.issuer.headers(SAM),
    )  # fmt: skip
    second = world.disclose(
        "uwv-leiden", SAM, "reintegration", ["care.involvement", "income.benefit"]
    ).json()
    assert [item["category"] for item in second["disclosed"]] == ["income.benefit"]
    assert [item["category"] for item in second["withheld"]] == ["care.involvement"]


def test_unknown_participant_and_no_consent_look_the_same(world: World) -> None:
    world.contribute(NOOR, "care.involvement")
    unknown = world.disclose("uwv-leiden", UNKNOWN, "reintegration", ["care.involvement"])
    no_consent = world.disclose("uwv-leiden", NOOR, "reintegration", ["care.involvement"])
    assert unknown.status_code == no_consent.status_code == 200

    def shape(body: dict[str, Any]) -> dict[str, Any]:
        return {
            key: value for key, value in body.items() if key not in {"decision_id", "decided_at"}
        }

    assert shape(unknown.json()) == shape(no_consent.json())


def test_both_are_audited_with_pseudonyms_and_digests(world: World) -> None:
    _prepared(world)
    allowed = world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])
    world.disclose("uwv-leiden", SAM, "reintegration", ["work.capacity"])
    entries = [entry for entry in world.audit_entries() if entry.action in {"disclose", "deny"}]
    assert [(entry.action, entry.outcome) for entry in entries] == [
        ("disclose", "allow"),
        ("deny", "deny"),
    ]
    import hashlib

    assert entries[0].payload_digest == hashlib.sha256(allowed.content).hexdigest()
    assert entries[0].trace_id == allowed.headers["traceparent"].split("-")[1]
    assert entries[0].consent_ids and entries[0].policy_revision.startswith("sha256:")
    assert entries[0].subject_ref == entries[1].subject_ref is not None


def test_token_without_the_purpose_is_refused_and_audited(world: World) -> None:
    _prepared(world)
    headers = world.partner_headers("uwv-leiden", scope="case-coordination")
    response = world.disclose(
        "uwv-leiden", SAM, "reintegration", ["care.involvement"], headers=headers
    )
    assert response.status_code == 403
    assert world.audit_entries()[-1].action == "deny"


def test_role_must_be_named_when_the_party_holds_several(world: World) -> None:
    response = world.disclose(
        "uwv-leiden", SAM, "reintegration", ["care.involvement"], role="case-manager"
    )
    assert response.status_code == 422
    assert response.json()["field"] == "role"
    assert "reintegration-advisor" in response.json()["detail"]


def test_fhir_accept_renders_a_bundle(world: World) -> None:
    from fhir.resources.R4B.bundle import Bundle

    _prepared(world)
    headers = {**world.partner_headers("uwv-leiden"), "Accept": "application/fhir+json"}
    response = world.disclose(
        "uwv-leiden", SAM, "reintegration", ["care.involvement"], headers=headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    Bundle.model_validate(response.json())
    assert SAM not in response.text


def _fhir_disclosure(world: World, bsn: str, categories: list[str]) -> Any:
    headers = {**world.partner_headers("uwv-leiden"), "Accept": "application/fhir+json"}
    return world.disclose("uwv-leiden", bsn, "reintegration", categories, headers=headers)


def test_fhir_request_with_every_category_withheld_is_answered_with_a_bundle(
    world: World,
) -> None:
    from fhir.resources.R4B.bundle import Bundle

    _prepared(world)
    response = _fhir_disclosure(world, SAM, ["work.capacity", "care.diagnosis"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    document = response.json()
    Bundle.model_validate(document)
    kinds = [entry["resource"]["resourceType"] for entry in document["entry"]]
    assert kinds == ["OperationOutcome"]
    issues = document["entry"][0]["resource"]["issue"]
    assert [(issue["diagnostics"], issue["code"]) for issue in issues] == [
        ("care.diagnosis", "suppressed"),
        ("work.capacity", "suppressed"),
    ]
    assert "night shifts" not in response.text and SAM not in response.text


def test_fhir_request_with_every_category_withheld_is_audited_as_one_denial(
    world: World,
) -> None:
    import hashlib

    _prepared(world)
    before = len(world.audit_entries())
    response = _fhir_disclosure(world, SAM, ["work.capacity"])
    entries = world.audit_entries()[before:]
    assert [(entry.action, entry.outcome) for entry in entries] == [("deny", "deny")]
    assert entries[0].payload_digest == hashlib.sha256(response.content).hexdigest()
    assert entries[0].reason is not None and "work.capacity" in entries[0].reason


def test_fhir_answers_for_an_unknown_participant_and_one_without_consent_look_the_same(
    world: World,
) -> None:
    world.contribute(NOOR, "care.involvement")
    unknown = _fhir_disclosure(world, UNKNOWN, ["care.involvement"])
    no_consent = _fhir_disclosure(world, NOOR, ["care.involvement"])
    assert unknown.status_code == no_consent.status_code == 200

    def shape(document: dict[str, Any]) -> dict[str, Any]:
        return {
            key: value for key, value in document.items() if key not in {"timestamp", "identifier"}
        }

    assert shape(unknown.json()) == shape(no_consent.json())


# --- failing closed ---------------------------------------------------------------------------


def _assert_nothing_disclosed(world: World, response: Any, entries_before: int) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "in_care" not in response.text
    disclosures = [e for e in world.audit_entries()[entries_before:] if e.action == "disclose"]
    assert disclosures == []


def test_audit_append_failure_discloses_nothing(world: World) -> None:
    _prepared(world)
    before = len(world.audit_entries())

    engine = world.runtime.sessions.kw["bind"]

    def broken_log(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO audit_entries"):
            raise RuntimeError("audit storage full")

    event.listen(engine, "before_cursor_execute", broken_log)
    try:
        response = world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])
    finally:
        event.remove(engine, "before_cursor_execute", broken_log)
    _assert_nothing_disclosed(world, response, before)


def test_commit_failure_discloses_nothing(world: World) -> None:
    _prepared(world)
    before = len(world.audit_entries())

    engine = world.runtime.sessions.kw["bind"]

    def note_disclosure(
        connection: Any, _: Any, statement: str, __: Any, context: Any, ___: Any
    ) -> None:
        if statement.startswith("INSERT INTO audit_entries") and any(
            values.get("action") == "disclose" for values in context.compiled_parameters
        ):
            connection.info["disclosing"] = True

    def broken_commit(connection: Any) -> None:
        if connection.info.pop("disclosing", False):
            raise RuntimeError("database went away")

    event.listen(engine, "before_cursor_execute", note_disclosure)
    event.listen(engine, "commit", broken_commit)
    try:
        response = world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])
    finally:
        event.remove(engine, "commit", broken_commit)
        event.remove(engine, "before_cursor_execute", note_disclosure)
    _assert_nothing_disclosed(world, response, before)


class _SlowOpa(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        time.sleep(1.0)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"result": {"allow": true, "categories": ["care.involvement"]}}')

    def log_message(self, *_: Any) -> None:
        return


def test_engine_timeout_is_a_503_and_an_audited_denial(settings: Settings) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowOpa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        slow = settings.model_copy(
            update={
                "policy_engine": PolicyEngineKind.OPA,
                "opa_url": f"http://127.0.0.1:{server.server_address[1]}",
                "opa_timeout_seconds": 0.2,
            }
        )
        with running_world(slow) as world:
            world.contribute(SAM, "care.involvement")
            started = time.monotonic()
            response = world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])
            assert time.monotonic() - started < 1.0
            assert response.status_code == 503
            assert response.json()["reason"] == "policy-engine-unavailable"
            last = world.audit_entries()[-1]
            assert (last.action, last.reason) == ("deny", "policy-engine-unavailable")
    finally:
        server.shutdown()
        server.server_close()


def test_no_bsn_in_any_response_audit_entry_or_log_line(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from gateway.core.logs import configure_logging

    configure_logging()
    try:
        _prepared(world)
        responses = [
            world.disclose(
                "uwv-leiden", SAM, "reintegration", ["care.involvement", "work.capacity"]
            ),
            world.disclose("ggz-leiden", SAM, "reintegration", ["income.benefit"]),
            world.disclose("uwv-leiden", UNKNOWN, "reintegration", ["care.involvement"]),
            world.client.post(
                "/v1/consents/in-force",
                json={"subject": {"bsn": SAM}},
                headers=world.partner_headers("uwv-leiden"),
            ),
        ]
        texts = [response.text for response in responses]
        texts += [
            json.dumps({k: str(v) for k, v in vars(entry).items()})
            for entry in world.audit_entries()
        ]
        texts.append(capsys.readouterr().out)
    finally:
        import logging

        logging.getLogger().handlers.clear()
    for bsn in (SAM, UNKNOWN):
        assert all(bsn not in text for text in texts)


@pytest.mark.parametrize("path", ["/v1/disclosures", "/v1/plans/query"])
@pytest.mark.parametrize("given", [None, "", "two words", "x" * 65, "999900006", "uwv/999900006"])
def test_a_read_without_the_acting_professional_is_refused_naming_the_header(
    world: World, path: str, given: str | None
) -> None:
    _prepared(world)
    headers = world.partner_headers("uwv-leiden")
    del headers["X-Schakel-User"]
    if given is not None:
        headers["X-Schakel-User"] = given
    body: dict[str, Any] = {"subject": {"bsn": SAM}, "purpose": "reintegration"}
    if path == "/v1/disclosures":
        body["categories"] = ["care.involvement"]
    entries_before = len(world.audit_entries())
    response = world.client.post(path, json=body, headers=headers)
    assert response.status_code == (422 if given and "999900006" in given else 400), response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert "X-Schakel-User" in problem["detail"]
    assert problem["errors"][0]["parameter"] == "header:X-Schakel-User"
    assert len(world.audit_entries()) == entries_before  # nothing was asked, nothing decided


@pytest.mark.parametrize("path", ["/v1/disclosures", "/v1/plans/query"])
def test_the_acting_professional_is_kept_in_the_entry_and_found_by_the_officer(
    world: World, path: str
) -> None:
    _prepared(world)
    headers = {**world.partner_headers("uwv-leiden"), "X-Schakel-User": "uwv/ad-jansen"}
    body: dict[str, Any] = {"subject": {"bsn": SAM}, "purpose": "reintegration"}
    if path == "/v1/disclosures":
        body["categories"] = ["care.involvement"]
    assert world.client.post(path, json=body, headers=headers).status_code == 200
    newest = world.audit_entries()[-1]
    assert (newest.actor_party, newest.actor_user) == ("uwv-leiden", "uwv/ad-jansen")
    # UWV's privacy officer (its own part of the log) finds everything that employee did.
    with transaction(world.runtime.sessions) as session:
        party = find_party(session, "uwv-leiden")
        assert party is not None
        party.roles = [*party.roles, "privacy-officer"]
    found = world.client.get(
        "/v1/audit/entries", params={"actorUser": "uwv/ad-jansen"},
        headers=world.partner_headers("uwv-leiden"),
    )  # fmt: skip
    assert found.status_code == 200, found.text
    assert [entry["seq"] for entry in found.json()["entries"]] == [newest.seq]
