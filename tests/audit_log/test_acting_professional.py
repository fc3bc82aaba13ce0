"""Entries of format version 2 name the acting professional (actor_user, NEN 7513) when the
partner gives one: officers filter on it, exports and the FHIR AuditEvent carry it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from audit.append import append_entry
from gateway.core.db import transaction
from gateway.settings import Settings
from tests.audit.conftest import draft
from tests.audit_log.test_officer_api import Gateway
from tests.support import SettableClock, running_gateway


@pytest.fixture
def gateway(settings: Settings) -> Iterator[Gateway]:
    clock = SettableClock()
    with running_gateway(settings, clock) as (runtime, client):
        with transaction(runtime.sessions) as session:
            for user in ("u-4711", None, "u-4711", "u-0815"):
                append_entry(session=session, draft=draft(actor_user=user), clock=clock)
        yield Gateway(runtime, client, clock)


def test_officers_filter_entries_by_the_acting_professional(gateway: Gateway) -> None:
    officer = gateway.token("gemeente-leiden", "gemeente", ("regional-privacy-officer",))
    found = gateway.client.get(
        "/v1/audit/entries", params={"actorUser": "u-4711"}, headers=officer
    ).json()
    assert [(e["seq"], e["actor_user"]) for e in found["entries"]] == [(1, "u-4711"), (3, "u-4711")]
    every = gateway.client.get("/v1/audit/entries", headers=officer).json()["entries"]
    assert [e["actor_user"] for e in every[:4]] == ["u-4711", None, "u-4711", "u-0815"]
    exported = gateway.client.get("/v1/audit/export?format=csv", headers=officer).text
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [row["actor_user"] for row in rows[:4]] == ["u-4711", "", "u-4711", "u-0815"]


def test_the_audit_event_names_the_professional_as_requestor(gateway: Gateway) -> None:
    officer = gateway.token("gemeente-leiden", "gemeente", ("regional-privacy-officer",))
    event = gateway.client.get("/v1/audit/entries/1/fhir", headers=officer).json()
    professional, organisation = event["agent"]
    assert professional["who"]["identifier"]["value"] == "u-4711"
    assert professional["who"]["identifier"]["system"].endswith("/NamingSystem/professional")
    assert professional["who"]["identifier"]["assigner"]["identifier"]["value"] == "uwv-leiden"
    assert professional["requestor"] and not organisation["requestor"]
    without = gateway.client.get("/v1/audit/entries/2/fhir", headers=officer).json()
    assert [agent["requestor"] for agent in without["agent"]] == [True]


@pytest.mark.parametrize("user", ["", "x" * 65, "111222333"])
def test_a_draft_refuses_an_empty_long_or_bsn_like_user_id(user: str) -> None:
    with pytest.raises(ValidationError):
        draft(actor_user=user)
