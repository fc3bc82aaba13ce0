"""The privacy officer's API under /v1/audit, on the real app, SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.auditevent import AuditEvent
from sqlalchemy import select

from audit.append import append_entry
from audit.models import AuditEntry
from gateway.core.db import transaction
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.audit.conftest import draft
from tests.support import SettableClock, new_partner, register, running_gateway, token_request

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"


class Gateway:
    def __init__(self, runtime: Runtime, client: TestClient, clock: SettableClock) -> None:
        self.runtime, self.client, self.clock = runtime, client, clock

    def token(self, party_id: str, domain: str, roles: tuple[str, ...]) -> dict[str, str]:
        partner = new_partner(party_id, domain, roles=roles)
        register(self.runtime, partner)
        assertion = partner.assertion(
            audience=self.runtime.settings.token_endpoint, now=self.clock()
        )
        response = token_request(self.client, assertion)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def entries(self) -> list[AuditEntry]:
        with transaction(self.runtime.sessions) as session:
            return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


@pytest.fixture
def gateway(settings: Settings) -> Iterator[Gateway]:
    clock = SettableClock()
    with running_gateway(settings, clock) as (runtime, client):
        gateway = Gateway(runtime, client, clock)
        with transaction(runtime.sessions) as session:
            for index in range(5):
                append_entry(
                    session=session,
                    draft=draft(
                        subject_ref=f"{index % 2}" * 64, outcome="allow" if index else "deny"
                    ),
                    clock=clock,
                )
                clock.advance(3600)
        yield gateway


@pytest.fixture
def officer(gateway: Gateway) -> dict[str, str]:
    # The whole log: these tests are about the queries, not about whose part of the log it is.
    return gateway.token("gemeente-leiden", "gemeente", ("regional-privacy-officer",))


def test_checkpoint_keys_are_public(gateway: Gateway) -> None:
    response = gateway.client.get("/v1/audit/keys")
    assert response.status_code == 200
    kid = gateway.runtime.audit_keys.signing_key.kid
    assert [key["kid"] for key in response.json()["keys"]] == [kid]
    assert all("d" not in key for key in response.json()["keys"])


def test_a_party_without_the_officer_role_is_refused_and_the_attempt_recorded(
    gateway: Gateway,
) -> None:
    headers = gateway.token("uwv-leiden", "uwv", ("reintegration-advisor",))
    response = gateway.client.get(
        "/v1/audit/entries", params={"subjectRef": "1" * 64}, headers=headers
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    last = gateway.entries()[-1]
    assert (last.action, last.outcome, last.actor_party) == ("audit.query", "deny", "uwv-leiden")
    assert last.subject_ref == "1" * 64


def test_officer_searches_by_subject_and_pages_by_seq(
    gateway: Gateway, officer: dict[str, str]
) -> None:
    first = gateway.client.get(
        "/v1/audit/entries",
        params={"subjectRef": "0" * 64, "action": "disclose", "limit": 2},
        headers=officer,
    )
    assert first.status_code == 200, first.text
    page = first.json()
    assert [e["seq"] for e in page["entries"]] == [1, 3]
    assert page["next_after_seq"] == 3
    rest = gateway.client.get(
        "/v1/audit/entries",
        params={"subjectRef": "0" * 64, "action": "disclose", "limit": 2, "afterSeq": 3},
        headers=officer,
    ).json()
    assert [e["seq"] for e in rest["entries"]] == [5]
    assert rest["next_after_seq"] is None


def test_every_officer_query_is_itself_recorded(gateway: Gateway, officer: dict[str, str]) -> None:
    gateway.client.get(
        "/v1/audit/entries",
        params={"outcome": "deny"},
        headers={**officer, "traceparent": TRACEPARENT},
    )
    last = gateway.entries()[-1]
    assert (last.action, last.outcome, last.actor_party) == ("audit.query", "ok", "gemeente-leiden")
    assert last.trace_id == TRACE_ID
    assert json.loads(last.reason or "")["outcome"] == "deny"


def test_filters_by_party_action_outcome_and_period(
    gateway: Gateway, officer: dict[str, str]
) -> None:
    gateway.token("uwv-leiden", "uwv", ("reintegration-advisor",))
    params = {
        "party": "uwv-leiden",
        "action": "disclose",
        "outcome": "allow",
        "from": "2026-11-24T11:00:00Z",
        "until": "2026-11-24T13:00:00+00:00",
    }
    response = gateway.client.get("/v1/audit/entries", params=params, headers=officer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [e["seq"] for e in body["entries"]] == [2, 3]


@pytest.mark.parametrize(
    ("params", "status", "reason"),
    [
        ({"from": "2026-11-25T00:00:00Z", "until": "2026-11-24T00:00:00Z"}, 422, "inverted"),
        ({"from": "2026-11-24T00:00:00"}, 400, "with offset"),
        ({"from": "yesterday"}, 400, "RFC 3339"),
        ({"from": "1764000000"}, 400, "RFC 3339"),
        ({"party": "nobody-here"}, 422, "unknown party"),
        ({"party": "Nobody Here"}, 400, "pattern"),
        ({"action": "DROP TABLE"}, 400, "pattern"),
        ({"outcome": "perhaps"}, 400, "allow"),
        ({"limit": "501"}, 400, "less than or equal to 500"),
        ({"afterSeq": str(2**63)}, 400, "less than or equal to"),
    ],
)
def test_bad_filters_are_a_problem_with_the_reason(
    gateway: Gateway, officer: dict[str, str], params: dict[str, str], status: int, reason: str
) -> None:
    """400 when a filter does not match the document, 422 when only a rule refuses it."""
    response = gateway.client.get("/v1/audit/entries", params=params, headers=officer)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert reason in response.json()["detail"]


def test_export_streams_ndjson_and_csv(gateway: Gateway, officer: dict[str, str]) -> None:
    ndjson = gateway.client.get(
        "/v1/audit/export", params={"format": "ndjson", "action": "disclose"}, headers=officer
    )
    assert ndjson.status_code == 200
    assert ndjson.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3, 4, 5]
    table = gateway.client.get(
        "/v1/audit/export", params={"format": "csv", "outcome": "deny"}, headers=officer
    )
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [row["seq"] for row in rows] == ["1"]
    assert rows[0]["categories"] == "care.involvement work.capacity"


def test_export_of_a_period_without_entries_is_empty(
    gateway: Gateway, officer: dict[str, str]
) -> None:
    response = gateway.client.get(
        "/v1/audit/export",
        params={"from": "2020-01-01T00:00:00Z", "until": "2020-02-01T00:00:00Z"},
        headers=officer,
    )
    assert response.status_code == 200
    assert response.text == ""


def test_statistics_count_per_party_per_day(gateway: Gateway, officer: dict[str, str]) -> None:
    body = gateway.client.get(
        "/v1/audit/statistics", params={"action": "disclose"}, headers=officer
    ).json()
    assert body == [
        {
            "day": "2026-11-24",
            "party": "uwv-leiden",
            "entries": 5,
            "by_outcome": {"allow": 4, "deny": 1},
        }
    ]


def test_an_entry_as_fhir_r4_audit_event_carries_the_trace_id(
    gateway: Gateway, officer: dict[str, str]
) -> None:
    response = gateway.client.get("/v1/audit/entries/2/fhir", headers=officer)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json"
    resource: dict[str, Any] = response.json()
    event = AuditEvent.model_validate(resource)
    assert event.outcome == "0"
    assert str(event.recorded).startswith("2026-11-24")
    trace = [e["valueString"] for e in resource["extension"] if e["url"].endswith("trace-id")]
    assert trace == ["4bf92f3577b34da6a3ce929d0e0e4736"]
    missing = gateway.client.get("/v1/audit/entries/999/fhir", headers=officer)
    assert missing.status_code == 404


def test_officer_queries_get_checkpointed(settings: Settings) -> None:
    clock = SettableClock()
    every = settings.model_copy(update={"audit_checkpoint_every_entries": 2})
    with running_gateway(every, clock) as (runtime, client):
        gateway = Gateway(runtime, client, clock)
        headers = gateway.token("gemeente-leiden", "gemeente", ("privacy-officer",))
        assert client.get("/v1/audit/checkpoints/latest").status_code == 404
        client.get("/v1/audit/entries", headers=headers)
        client.get("/v1/audit/entries", headers=headers)
        latest = client.get("/v1/audit/checkpoints/latest").json()
    assert latest["seq"] == 2
    assert latest["kid"] == runtime.audit_keys.signing_key.kid


def test_officers_name_the_participant_by_bsn_and_refusals_never_store_one(
    gateway: Gateway, officer: dict[str, str]
) -> None:
    from gateway.identity.vault import AUDIT_DOMAIN, enrol, pseudonym

    bsn = "999900006"
    runtime = gateway.runtime
    with transaction(runtime.sessions) as session:
        participant = enrol(
            session=session, keys=runtime.identity_keys, bsn=bsn,
            domains=runtime.catalogue.domains, now=gateway.clock(),
        )  # fmt: skip
        subject = pseudonym(runtime.identity_keys, AUDIT_DOMAIN, participant.id)
        append_entry(session=session, draft=draft(subject_ref=subject), clock=gateway.clock)
    found = gateway.client.get("/v1/audit/entries", params={"subjectRef": bsn}, headers=officer)
    assert [entry["subject_ref"] for entry in found.json()["entries"]] == [subject]
    unknown = gateway.client.get(
        "/v1/audit/entries", params={"subjectRef": "999900018"}, headers=officer
    )
    assert unknown.status_code == 200 and unknown.json()["entries"] == []
    bad = gateway.client.get(
        "/v1/audit/entries", params={"subjectRef": "123456789"}, headers=officer
    )
    assert bad.status_code == 422

    outsider = gateway.token("uwv-leiden", "uwv", ("reintegration-advisor",))
    refused = gateway.client.get("/v1/audit/entries", params={"subjectRef": bsn}, headers=outsider)
    assert refused.status_code == 403
    stored = " ".join(str(vars(entry)) for entry in gateway.entries())
    assert bsn not in stored
