"""A conference's view of a case: read through the policy inside the window, refused after it
without a job having run, anonymous without consent for this conference, never care data for an
employer, nothing for an uninvited party; every read on record."""

from __future__ import annotations

from gateway.settings import Settings
from tests.conferences.helpers import (
    CHAIR,
    CONFERENCE,
    EMPLOYER,
    OUTSIDER,
    UWV,
    answer,
    conference_world,
    entries,
    read,
    scheduled,
)
from tests.disclosures.world import NOOR, SAM


def test_an_invited_party_reads_inside_the_window_and_the_same_read_after_it_is_refused(
    settings: Settings,
) -> None:
    with conference_world(settings) as world:
        world.contribute(SAM, "care.involvement")
        world.contribute(SAM, "work.capacity")
        conference = scheduled(world, [SAM])
        case_id = conference["cases"][0]["case_id"]
        assert answer(world, SAM, conference["id"], "yes").status_code == 201

        inside = read(world, UWV, conference["id"], case_id)
        assert inside.status_code == 200, inside.text
        view = inside.json()
        assert view["anonymous"] is False and len(view["subject"]) == 64
        assert {item["category"] for item in view["disclosed"]} == {
            "care.involvement", "work.capacity",
        }  # fmt: skip
        assert view["actions"] == [] and view["goals"] == [] and view["involved"] is not None

        world.clock.advance(2 * 3600 + 1)  # no job runs: the window simply lies behind us now
        after = read(world, UWV, conference["id"], case_id)
        assert after.status_code == 403, after.text
        assert after.headers["content-type"] == "application/problem+json"
        assert after.json()["reason"] == "conference.closed"

        reads = entries(world, purpose=CONFERENCE)
        assert [(e.action, e.outcome) for e in reads if e.actor_party == UWV] == [
            ("disclose", "allow"), ("deny", "deny"),
        ]  # fmt: skip
        assert "conference.closed" in reads[-1].reason
        assert conference["id"] in reads[-1].reason


def test_a_read_before_the_window_is_refused(settings: Settings) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM])
        world.clock.advance(-3600)
        refused = read(world, UWV, conference["id"], conference["cases"][0]["case_id"])
        assert refused.status_code == 403
        assert refused.json()["reason"] == "conference.not_open"


def test_without_consent_for_this_conference_the_participant_is_anonymous(
    settings: Settings,
) -> None:
    with conference_world(settings) as world:
        world.contribute(NOOR, "care.involvement")
        conference = scheduled(world, [NOOR])
        case_id = conference["cases"][0]["case_id"]
        view = read(world, UWV, conference["id"], case_id).json()
        assert view["anonymous"] is True and view["subject"] is None
        assert view["disclosed"] == [] and view["goals"] is None and view["involved"] is None
        assert {w["code"] for w in view["withheld"]} == {"conference.consent_missing"}
        assert entries(world, purpose=CONFERENCE)[-1].action == "deny"


def test_a_no_after_a_yes_makes_the_next_read_anonymous(settings: Settings) -> None:
    with conference_world(settings) as world:
        world.contribute(SAM, "care.involvement")
        conference = scheduled(world, [SAM])
        case_id = conference["cases"][0]["case_id"]
        answer(world, SAM, conference["id"], "yes")
        assert read(world, UWV, conference["id"], case_id).json()["anonymous"] is False
        assert answer(world, SAM, conference["id"], "no").status_code == 201
        assert read(world, UWV, conference["id"], case_id).json()["anonymous"] is True


def test_an_uninvited_party_is_refused_and_on_record(settings: Settings) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM])
        answer(world, SAM, conference["id"], "yes")
        case_id = conference["cases"][0]["case_id"]
        refused = read(world, OUTSIDER, conference["id"], case_id)
        assert refused.status_code == 403
        assert refused.json()["reason"] == "conference.not_invited"
        agenda = world.client.get(
            f"/v1/conferences/{conference['id']}", headers=world.partner_headers(OUTSIDER)
        )
        assert agenda.status_code == 403 and agenda.json()["reason"] == "conference.not_invited"
        denials = [e for e in world.audit_entries() if e.actor_party == OUTSIDER]
        assert [(e.action, e.outcome) for e in denials] == [
            ("deny", "deny"), ("conference.agenda", "deny"),
        ]  # fmt: skip
        assert denials[0].subject_ref is not None  # the participant, by audit pseudonym


def test_an_employer_never_sees_care_data_whatever_the_consent(settings: Settings) -> None:
    with conference_world(settings) as world:
        world.contribute(SAM, "care.involvement")
        conference = scheduled(world, [SAM])
        case_id = conference["cases"][0]["case_id"]
        answer(world, SAM, conference["id"], "yes")  # names every party, every category asked

        view = read(world, EMPLOYER, conference["id"], case_id).json()
        assert view["disclosed"] == [] and view["involved"] is None and view["goals"] is None
        assert view["actions"] == []
        codes = {w["category"]: w["code"] for w in view["withheld"]}
        assert codes["care.involvement"] == "category.care_data_barred"
        assert codes["plan.involved"] == "category.care_data_barred"

        asked = read(world, EMPLOYER, conference["id"], case_id, categories=["care.involvement"])
        assert asked.status_code == 403, asked.text
        assert asked.json()["reason"] == "category.care_data_barred"
        last = entries(world, purpose=CONFERENCE)[-1]
        assert (last.actor_party, last.action, last.outcome) == (EMPLOYER, "deny", "deny")
        assert "care" in last.reason


def test_the_chair_reads_like_any_party_of_its_conference(settings: Settings) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM])
        answer(world, SAM, conference["id"], "yes")
        view = read(world, CHAIR, conference["id"], conference["cases"][0]["case_id"])
        assert view.status_code == 200 and view.json()["anonymous"] is False


def test_a_case_of_another_conference_is_not_found_here(settings: Settings) -> None:
    with conference_world(settings) as world:
        first = scheduled(world, [SAM])
        second = scheduled(world, [NOOR])
        response = read(world, UWV, first["id"], second["cases"][0]["case_id"])
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_a_yes_to_another_conference_opens_nothing_here(settings: Settings) -> None:
    with conference_world(settings) as world:
        first = scheduled(world, [SAM])
        second = scheduled(world, [SAM], signal_first=False)
        answer(world, SAM, second["id"], "yes")
        here = read(world, UWV, first["id"], first["cases"][0]["case_id"]).json()
        there = read(world, UWV, second["id"], second["cases"][0]["case_id"]).json()
        assert here["anonymous"] is True and there["anonymous"] is False
