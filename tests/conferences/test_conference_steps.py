"""Scheduling, answers and outcomes: who may chair, whom a chair may put on the agenda, consent
for this conference on paper or by a representative, actions into the plan with their owners;
each refusal a clear problem and on record."""

from __future__ import annotations

from datetime import timedelta

from gateway.settings import Settings
from tests.conferences.helpers import (
    CHAIR,
    EMPLOYER,
    GEMEENTE,
    OUTSIDER,
    UWV,
    answer,
    conference_world,
    entries,
    schedule,
    scheduled,
)
from tests.disclosures.world import NOOR, SAM, UNKNOWN


def test_a_party_without_a_chair_role_may_not_schedule(settings: Settings) -> None:
    with conference_world(settings) as world:
        refused = schedule(world, [SAM], chair=EMPLOYER, invited=(UWV,))
        assert refused.status_code == 403, refused.text
        assert refused.json()["reason"] == "conference.chair_not_allowed"
        last = entries(world, action="conference.schedule")[-1]
        assert (last.actor_party, last.outcome) == (EMPLOYER, "deny")


def test_a_chair_who_is_no_party_to_the_participant_finds_nobody(settings: Settings) -> None:
    with conference_world(settings) as world:
        world.consent(SAM, "uwv", "reintegration", ["income.benefit"])  # enrolled, yet no party
        for bsn in (SAM, UNKNOWN):
            refused = schedule(world, [bsn], signal_first=False)
            assert refused.status_code == 404, refused.text
            assert refused.json()["errors"][0]["pointer"] == "#/participants/0"
        denials = entries(world, action="conference.schedule")
        assert [e.outcome for e in denials] == ["deny", "deny"]
        assert denials[0].subject_ref is not None and denials[1].subject_ref is None
        assert refused.json()["detail"] == (
            "no participant under this reference is reachable for your party"
        )


def test_only_the_chair_records_an_outcome(settings: Settings) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM])
        case_id = conference["cases"][0]["case_id"]
        refused = world.client.post(
            f"/v1/conferences/{conference['id']}/cases/{case_id}/outcomes",
            json={"advice": "x"},
            headers=world.partner_headers(UWV),
        )
        assert refused.status_code == 403 and refused.json()["reason"] == "conference.not_chair"
        assert entries(world, action="conference.schedule")[-1].outcome == "deny"


def test_the_agenda_shows_cases_by_number_and_the_chair_their_answers(settings: Settings) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM, NOOR])
        answer(world, SAM, conference["id"], "yes")
        answer(world, NOOR, conference["id"], "no")
        url = f"/v1/conferences/{conference['id']}"
        chair = world.client.get(url, headers=world.partner_headers(CHAIR)).json()
        assert [(c["number"], c["answer"]["answer"]) for c in chair["cases"]] == [
            (1, "yes"), (2, "no"),
        ]  # fmt: skip
        assert all(len(c["subject"]) == 64 for c in chair["cases"])
        invited = world.client.get(url, headers=world.partner_headers(UWV)).json()
        assert [(c["number"], c["by_name"], c["answer"], c["subject"]) for c in invited["cases"]] == [
            (1, True, None, None), (2, False, None, None),
        ]  # fmt: skip
        assert invited["parties"][0]["party"] == CHAIR


def test_a_professional_records_a_paper_answer_naming_fewer_parties(settings: Settings) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM])
        case_id = conference["cases"][0]["case_id"]
        recorded = world.client.post(
            f"/v1/conferences/{conference['id']}/answers",
            json={
                "case_id": case_id, "answer": "yes", "given_by": "representative",
                "representative_role": "mentor", "evidence_ref": "form 2026-117",
                "parties": [CHAIR, UWV], "categories": ["plan.actions"],
            },
            headers=world.partner_headers(UWV),
        )  # fmt: skip
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["parties"] == [CHAIR, UWV]
        mine = world.client.get("/v1/me/conferences", headers=world.issuer.headers(SAM)).json()
        assert mine[0]["answer"]["given_by"] == "representative"
        last = entries(world, action="conference.consent")[-1]
        assert last.outcome == "ok" and last.actor_party == UWV


def test_a_consent_for_another_conference_is_refused_on_record(settings: Settings) -> None:
    with conference_world(settings) as world:
        first = scheduled(world, [SAM])
        second = scheduled(world, [NOOR])
        refused = world.client.post(
            f"/v1/conferences/{first['id']}/answers",
            json={"case_id": second["cases"][0]["case_id"], "answer": "yes",
                  "evidence_ref": "form 7"},
            headers=world.partner_headers(UWV),
        )  # fmt: skip
        assert refused.status_code == 422, refused.text
        assert refused.json()["reason"] == "conference.other_conference"
        assert refused.json()["errors"][0]["pointer"] == "#/case_id"
        last = entries(world, action="conference.consent")[-1]
        assert last.outcome == "deny" and "other_conference" in last.reason


def test_paper_without_evidence_and_a_representative_without_role_are_refused(
    settings: Settings,
) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM])
        case_id = conference["cases"][0]["case_id"]
        url = f"/v1/conferences/{conference['id']}/answers"
        headers = world.partner_headers(UWV)
        no_role = world.client.post(url, headers=headers, json={
            "case_id": case_id, "answer": "yes", "given_by": "representative", "evidence_ref": "f",
        })  # fmt: skip
        assert no_role.status_code == 422
        assert no_role.json()["errors"][0]["pointer"] == "#/representative_role"
        by_participant = world.client.post(url, headers=headers, json={
            "case_id": case_id, "answer": "yes", "given_by": "participant", "evidence_ref": "f",
        })  # fmt: skip
        assert by_participant.status_code == 400  # not a value the document allows
        outside = world.client.post(url, headers=headers, json={
            "case_id": case_id, "answer": "yes", "evidence_ref": "f", "parties": [OUTSIDER],
        })  # fmt: skip
        assert outside.json()["errors"][0]["pointer"] == "#/parties/0"


def test_a_yes_after_the_window_is_refused_a_no_is_taken(settings: Settings) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM], hours=0.1)
        world.clock.advance(600)
        late = world.client.post(
            f"/v1/conferences/{conference['id']}/answers",
            json={"case_id": conference["cases"][0]["case_id"], "answer": "yes",
                  "evidence_ref": "form"},
            headers=world.partner_headers(UWV),
        )  # fmt: skip
        assert late.status_code == 409 and late.json()["reason"] == "conference.over"


def test_agreed_actions_go_into_the_plan_with_their_owners(settings: Settings) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM])
        case_id = conference["cases"][0]["case_id"]
        answer(world, SAM, conference["id"], "yes")
        outcome = world.client.post(
            f"/v1/conferences/{conference['id']}/cases/{case_id}/outcomes",
            json={
                "advice": "Start with 12 hours at a sheltered workplace; settle the debts first.",
                "obstacles": [{"code": "debts", "domain": "gemeente"},
                              {"code": "stigma-at-work", "domain": "employer", "note": "team"}],
                "actions": [{"title": "Intake debt assistance", "owner": UWV},
                            {"title": "Workplace visit", "owner": EMPLOYER,
                             "due_date": "2027-01-15"}],
            },
            headers=world.partner_headers(CHAIR),
        )  # fmt: skip
        assert outcome.status_code == 201, outcome.text
        actions = outcome.json()["actions"]
        assert [(a["owner_party"], a["recorded_by"]) for a in actions] == [
            (UWV, CHAIR), (EMPLOYER, CHAIR),
        ]  # fmt: skip
        plan = world.client.get("/v1/me/plan", headers=world.issuer.headers(SAM)).json()
        assert {a["title"] for a in plan["actions"]} == {
            "Intake debt assistance",
            "Workplace visit",
        }
        assert [e.outcome for e in entries(world, action="conference.outcome")] == ["ok"]
        assert len(entries(world, action="plan.update")) == 2


def test_no_actions_into_the_plan_of_someone_discussed_anonymously(settings: Settings) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [NOOR])
        url = (
            f"/v1/conferences/{conference['id']}/cases/{conference['cases'][0]['case_id']}/outcomes"
        )
        headers = world.partner_headers(CHAIR)
        refused = world.client.post(url, headers=headers, json={
            "advice": "x", "actions": [{"title": "y", "owner": UWV}],
        })  # fmt: skip
        assert (
            refused.status_code == 409 and refused.json()["reason"] == "conference.consent_missing"
        )
        recorded = world.client.post(url, headers=headers, json={
            "advice": "Housing first.", "obstacles": [{"code": "housing", "domain": "gemeente"}],
        })  # fmt: skip
        assert recorded.status_code == 201 and recorded.json()["actions"] == []


def test_bad_terms_are_refused_naming_the_field(settings: Settings) -> None:
    with conference_world(settings) as world:
        now = world.clock()
        cases = {
            "#/ends_at": {"ends_at": (now - timedelta(minutes=5)).isoformat()},
            "#/region": {"region": "atlantis"},
            "#/categories/0": {"categories": ["care.diagnosis"]},
            "#/invited/0": {"invited": ["nobody-here"]},
        }
        for pointer, change in cases.items():
            refused = schedule(world, [SAM], signal_first=False, **change)
            assert refused.status_code == 422, (pointer, refused.text)
            assert refused.json()["errors"][0]["pointer"] == pointer
        too_long = schedule(world, [SAM], signal_first=False, hours=24 * 15)
        assert too_long.json()["errors"][0]["pointer"] == "#/ends_at"
        conference = scheduled(world, [SAM])
        bad_code = world.client.post(
            f"/v1/conferences/{conference['id']}/cases/{conference['cases'][0]['case_id']}/outcomes",
            json={"advice": "x", "obstacles": [{"code": "weather", "domain": "gemeente"}]},
            headers=world.partner_headers(CHAIR),
        )
        assert bad_code.status_code == 422
        assert bad_code.json()["errors"][0]["pointer"] == "#/obstacles/0/code"
        assert "debts" in bad_code.json()["valid_values"]


def test_a_window_past_the_calendar_the_api_accepts_is_refused_naming_the_field(
    settings: Settings,
) -> None:
    with conference_world(settings) as world:
        late = schedule(world, [SAM], signal_first=False, ends_at="9999-12-31T23:00:00-05:00")
        assert late.status_code == 422, late.text
        assert [e["pointer"] for e in late.json()["errors"]] == ["#/ends_at"]
        both = schedule(world, [SAM], signal_first=False, starts_at="9999-12-31T20:00:00-05:00",
                        ends_at="9999-12-31T23:00:00-05:00")  # fmt: skip
        assert both.status_code == 422, both.text
        assert [e["pointer"] for e in both.json()["errors"]] == ["#/starts_at", "#/ends_at"]


def test_a_standing_consent_for_case_conferences_is_refused(settings: Settings) -> None:
    with conference_world(settings) as world:
        refused = world.client.post(
            "/v1/me/consents",
            json={"grantee": GEMEENTE, "purpose": "case-conference", "categories": ["plan.goals"]},
            headers=world.issuer.headers(SAM),
        )
        assert refused.status_code == 422
