"""Who is counted: the region's legal choice in the catalogue. Holland Rijnland counts only on
a consent to regional-monitoring; Zeeland counts everyone under its own agreement and a
participant may object. A withdrawal or an objection removes the person from every later
release; /v1/me/monitoring says what is counted and why. Counted without noise here, so the
figures are exact (the protection has tests of its own)."""

from __future__ import annotations

from datetime import date
from typing import Any

from gateway.settings import PolicyEngineKind, Settings
from tests.monitoring.helpers import (
    MIDDELBURG,
    ZEELAND_OFFICE,
    bsns,
    monitoring_world,
    released,
    table,
    trajectory,
)

EXACT = {"monitoring_noise": False}


def _paid_work(release: dict[str, Any]) -> int | None:
    margin = table(release, "method_outcome")["margins"]["outcome"]
    found: int | None = next(c["count"] for c in margin if c["values"]["outcome"] == "paid-work")
    return found


def test_a_withdrawn_consent_removes_the_person_from_the_next_release(settings: Settings) -> None:
    with monitoring_world(settings, **EXACT) as world:
        people = bsns(13)
        for bsn in people:
            trajectory(world, bsn, started=date(2026, 4, 1), outcome="paid-work")
        trajectory(world, bsns(1, start=9000)[0], started=date(2026, 4, 1), outcome="paid-work",
                   consent=False)  # fmt: skip
        before = released(world)
        assert before["protection"]["differential_privacy"] is None  # says it carries no noise
        assert _paid_work(before) == 13  # the one without consent is not counted
        mine = world.client.get("/v1/me/monitoring", headers=world.issuer.headers(people[0]))
        assert mine.json()["regions"][0] | {"agreement": None} == {
            "region": "holland-rijnland", "name": "Holland Rijnland", "basis": "consent",
            "agreement": None, "counted": True,
            "categories": ["trajectory.milestone", "trajectory.outcome", "trajectory.start"],
            "code": "consent.covered",
        }  # fmt: skip
        consents = world.client.get("/v1/me/consents", headers=world.issuer.headers(people[0]))
        consent_id = next(c["id"] for c in consents.json() if c["purpose"] == "regional-monitoring")
        revoked = world.client.post(
            f"/v1/me/consents/{consent_id}/revocation", json={},
            headers=world.issuer.headers(people[0]),
        )  # fmt: skip
        assert revoked.status_code in (200, 201), revoked.text
        assert _paid_work(released(world)) == 12
        after = world.client.get("/v1/me/monitoring", headers=world.issuer.headers(people[0]))
        assert after.json()["regions"][0]["counted"] is False


def test_an_agreement_region_counts_without_consent_until_the_person_objects(
    settings: Settings,
) -> None:
    with monitoring_world(settings, **EXACT) as world:
        people = bsns(12)
        for bsn in people:
            trajectory(world, bsn, municipality=MIDDELBURG, started=date(2026, 5, 4),
                       outcome="paid-work", consent=False)  # fmt: skip
        ask = {"region": "zeeland"}
        assert _paid_work(released(world, ZEELAND_OFFICE, **ask)) == 12
        headers = world.issuer.headers(people[0])
        shown = world.client.get("/v1/me/monitoring", headers=headers).json()
        assert shown["regions"][0]["basis"] == "agreement"
        assert shown["regions"][0]["code"] == "monitoring.agreement"
        assert "art. 89" in shown["regions"][0]["agreement"]
        objected = world.client.put("/v1/me/monitoring/objection", headers=headers)
        assert objected.status_code == 200 and objected.json()["objected"] is True
        assert objected.json()["regions"][0]["counted"] is False
        assert _paid_work(released(world, ZEELAND_OFFICE, **ask)) == 11
        entries = [e for e in world.audit_entries() if e.action == "monitoring.objection"]
        assert len(entries) == 1 and entries[0].subject_ref
        lifted = world.client.delete("/v1/me/monitoring/objection", headers=headers)
        assert lifted.json()["objected"] is False
        assert _paid_work(released(world, ZEELAND_OFFICE, **ask)) == 12


def test_an_objection_is_kept_while_the_policy_engine_cannot_decide(settings: Settings) -> None:
    unreachable = {"policy_engine": PolicyEngineKind.OPA, "opa_url": "http://127.0.0.1:9"}
    with monitoring_world(settings, **EXACT, **unreachable) as world:
        person = bsns(1)[0]
        trajectory(world, person, municipality=MIDDELBURG, started=date(2026, 5, 4),
                   outcome="paid-work", consent=False)  # fmt: skip
        headers = world.issuer.headers(person)
        objected = world.client.put("/v1/me/monitoring/objection", headers=headers)
        assert objected.status_code == 200, objected.text
        assert objected.json()["objected"] is True
        region = objected.json()["regions"][0]
        assert (region["region"], region["counted"], region["code"]) == (
            "zeeland", None, "policy-engine-unavailable")  # fmt: skip
        assert world.client.get("/v1/me/monitoring", headers=headers).json()["objected"] is True
        entries = [e for e in world.audit_entries() if e.action == "monitoring.objection"]
        assert [e.outcome for e in entries] == ["ok"]
