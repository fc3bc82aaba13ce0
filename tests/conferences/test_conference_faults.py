"""A conference read goes through the one disclosure flow, so its faults are the flow's: a policy
engine that cannot decide is a 503 and a denial on record, a failing database a 503, never a
500, and nothing is disclosed either way. The parties of the regions, tested through the API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from gateway.settings import PolicyEngineKind, Settings
from tests.conferences.helpers import (
    CONFERENCE,
    EMPLOYER,
    PEER,
    UWV,
    answer,
    conference_world,
    entries,
    read,
    scheduled,
)
from tests.disclosures.world import SAM
from tests.support import new_partner, register


def test_an_engine_that_cannot_decide_is_a_503_and_a_denial_on_record(settings: Settings) -> None:
    unreachable = {"policy_engine": PolicyEngineKind.OPA, "opa_url": "http://127.0.0.1:9"}
    with conference_world(settings, **unreachable) as world:
        world.contribute(SAM, "care.involvement")
        conference = scheduled(world, [SAM])
        assert answer(world, SAM, conference["id"], "yes").status_code == 201
        response = read(world, UWV, conference["id"], conference["cases"][0]["case_id"])
        assert response.status_code == 503, response.text
        assert response.json()["reason"] == "policy-engine-unavailable"
        last = entries(world, purpose=CONFERENCE)[-1]
        assert (last.action, last.reason) == ("deny", "policy-engine-unavailable")
        assert last.subject_ref is not None


def test_a_database_failing_while_reading_is_a_503(settings: Settings) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM])
        answer(world, SAM, conference["id"], "yes")
        headers = world.partner_headers(UWV)
        engine = world.runtime.sessions.kw["bind"]

        def broken(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if "conference_answers" in statement:
                raise RuntimeError("the database went away")

        event.listen(engine, "before_cursor_execute", broken)
        try:
            response = world.client.post(
                f"/v1/conferences/{conference['id']}/cases/{conference['cases'][0]['case_id']}/view",
                headers=headers,
            )
        finally:
            event.remove(engine, "before_cursor_execute", broken)
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"


def test_an_employer_gets_no_care_data_outside_a_conference_either(settings: Settings) -> None:
    with conference_world(settings) as world:
        world.contribute(SAM, "care.involvement")
        world.consent(SAM, EMPLOYER, "reintegration", ["care.involvement", "work.reintegration"])
        view = world.disclose(EMPLOYER, SAM, "reintegration", ["care.involvement"]).json()
        assert view["disclosed"] == []
        assert view["withheld"][0]["code"] == "category.care_data_barred"


def test_a_peer_supporter_needs_a_consent_naming_itself(settings: Settings) -> None:
    with conference_world(settings) as world:
        world.contribute(SAM, "care.involvement")
        world.consent(SAM, "peer-support", "reintegration", ["care.involvement"])
        view = world.disclose(PEER, SAM, "reintegration", ["care.involvement"]).json()
        assert view["withheld"][0]["code"] == "consent.party_required"
        world.consent(SAM, PEER, "reintegration", ["care.involvement"])
        named = world.disclose(PEER, SAM, "reintegration", ["care.involvement"]).json()
        assert [item["category"] for item in named["disclosed"]] == ["care.involvement"]


def test_a_life_coach_can_direct_the_plan(settings: Settings) -> None:
    with conference_world(settings) as world:
        coach = new_partner(
            "levenscoach-leiden", "gemeente", "ES256", roles=("life-coach",),
            purposes=("reintegration", "case-coordination"),
        )  # fmt: skip
        register(world.runtime, coach)
        world.partners[coach.party_id] = coach
        chosen = world.client.put(
            "/v1/me/director", json={"party": coach.party_id}, headers=world.issuer.headers(SAM)
        )
        assert chosen.status_code == 200, chosen.text
        plan = world.client.post(
            "/v1/plans/query", json={"subject": {"bsn": SAM}, "purpose": "case-coordination"},
            headers=world.partner_headers(coach.party_id),
        )  # fmt: skip
        assert plan.status_code == 200 and plan.json()["goals"] == []
        assert plan.json()["withheld"] == []
