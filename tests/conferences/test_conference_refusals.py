"""Every refusal of a conference step is on record: a yes after the window, a yes naming a party
or category the conference does not have, a representative without a role, an invitation or a
case after the window. Each is answered as the domain's problem and leaves one deny entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gateway.settings import Settings
from tests.conferences.helpers import CHAIR, OUTSIDER, UWV, conference_world, entries, scheduled
from tests.disclosures.world import NOOR, SAM, World
from tests.plans.helpers import signal

WINDOW_SECONDS = 360  # hours=0.1 in the helper's window, a minute of it already gone


def _one_denial(world: World, action: str, call: Callable[[], httpx.Response]) -> httpx.Response:
    """Call, and check that exactly one deny entry of ``action`` was added (and nothing else)."""
    before = len(world.audit_entries())
    response = call()
    added = world.audit_entries()[before:]
    assert [(e.action, e.outcome) for e in added] == [(action, "deny")], added
    return response


def _recorded(world: World, conference: dict[str, Any], **answer: Any) -> httpx.Response:
    body = {"case_id": conference["cases"][0]["case_id"], "answer": "yes",
            "evidence_ref": "form 2026-118", **answer}  # fmt: skip
    return world.client.post(
        f"/v1/conferences/{conference['id']}/answers", json=body,
        headers=world.partner_headers(UWV),
    )  # fmt: skip


def test_a_recorded_yes_after_the_window_is_a_409_on_record(settings: Settings) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM], hours=0.1)
        world.clock.advance(WINDOW_SECONDS)
        late = _one_denial(world, "conference.consent", lambda: _recorded(world, conference))
        assert late.status_code == 409, late.text
        assert late.json()["reason"] == "conference.over"
        assert late.json()["type"].endswith("/conference-conflict")
        entry = entries(world, action="conference.consent")[-1]
        assert entry.reason.startswith("conference.over: ") and entry.subject_ref


def test_a_participants_own_yes_after_the_window_is_a_409_on_record(settings: Settings) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM], hours=0.1)
        world.clock.advance(WINDOW_SECONDS)
        late = _one_denial(world, "conference.consent", lambda: world.client.post(
            f"/v1/me/conferences/{conference['id']}/answer", json={"answer": "yes"},
            headers=world.issuer.headers(SAM),
        ))  # fmt: skip
        assert late.status_code == 409 and late.json()["reason"] == "conference.over"


@pytest.mark.parametrize(
    ("answer", "pointer"),
    [
        ({"parties": [OUTSIDER]}, "#/parties/0"),
        ({"categories": ["care.diagnosis"]}, "#/categories/0"),
        ({"given_by": "representative"}, "#/representative_role"),
    ],
)
def test_a_yes_that_does_not_hold_is_a_422_naming_the_field_on_record(
    settings: Settings, answer: dict[str, Any], pointer: str
) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM])
        refused = _one_denial(
            world, "conference.consent", lambda: _recorded(world, conference, **answer)
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"].endswith("/invalid-input")
        assert refused.json()["errors"][0]["pointer"] == pointer
        entry = entries(world, action="conference.consent")[-1]
        assert entry.reason.startswith("conference.invalid_input: ") and pointer in entry.reason


def test_an_invitation_after_the_window_is_a_409_on_record(settings: Settings) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM], hours=0.1, invited=(UWV,))
        world.clock.advance(WINDOW_SECONDS)
        late = _one_denial(world, "conference.invite", lambda: world.client.post(
            f"/v1/conferences/{conference['id']}/invitations", json={"party": "ggz-leiden"},
            headers=world.partner_headers(CHAIR),
        ))  # fmt: skip
        assert late.status_code == 409, late.text
        assert late.json()["reason"] == "conference.over"


def test_a_case_after_the_window_is_a_409_on_record(settings: Settings) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM], hours=0.1)
        assert signal(world, CHAIR, NOOR).status_code == 201
        world.clock.advance(WINDOW_SECONDS)
        late = _one_denial(world, "conference.schedule", lambda: world.client.post(
            f"/v1/conferences/{conference['id']}/cases", json={"subject": {"bsn": NOOR}},
            headers=world.partner_headers(CHAIR),
        ))  # fmt: skip
        assert late.status_code == 409, late.text
        assert late.json()["reason"] == "conference.over"
        assert entries(world, action="conference.schedule")[-1].subject_ref
