"""A conference world: the disclosure world's partners, plus a re-integration provider that
chairs, an employer and a peer supporter; participants, signals and a conference in one call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx

from gateway.settings import Settings
from tests.disclosures.world import World, running_world
from tests.plans.helpers import signal
from tests.support import new_partner, register

CHAIR, EMPLOYER, PEER = "dzb-leiden", "werkgever-zeeland", "ervaring-leiden"
GGZ, UWV, GEMEENTE, OUTSIDER = "ggz-leiden", "uwv-leiden", "gemeente-leiden", "clientsteun-leiden"
CONFERENCE = "case-conference"
ASKED = ["care.involvement", "income.benefit", "work.capacity", "work.reintegration",
         "plan.goals", "plan.actions", "plan.involved"]  # fmt: skip
EXTRA = (
    (CHAIR, "reintegration-provider", ("trajectory-coach",)),
    (EMPLOYER, "employer", ("employer-representative",)),
    (PEER, "peer-support", ("peer-supporter",)),
)


@contextmanager
def conference_world(settings: Settings, **overrides: Any) -> Iterator[World]:
    configured = settings.model_copy(update={"webhook_interval_seconds": 0, **overrides})
    with running_world(configured) as world:
        for party, domain, roles in EXTRA:
            partner = new_partner(
                party, domain, "ES256", roles=roles,
                purposes=("reintegration", "case-coordination", CONFERENCE),
            )  # fmt: skip
            register(world.runtime, partner)
            world.partners[party] = partner
        yield world


def schedule(
    world: World,
    bsns: list[str],
    *,
    chair: str = CHAIR,
    invited: tuple[str, ...] = (UWV, GGZ, EMPLOYER, PEER),
    categories: list[str] | None = None,
    hours: float = 2,
    signal_first: bool = True,
    **extra: Any,
) -> httpx.Response:
    """The chair signals involvement with each participant, then schedules (a window from a
    minute ago to ``hours`` ahead)."""
    if signal_first:
        for bsn in bsns:
            assert signal(world, chair, bsn).status_code == 201
    now = world.clock()
    body = {
        "title": "Casuïstiekoverleg Leiden",
        "region": "holland-rijnland",
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(hours=hours)).isoformat(),
        "invited": list(invited),
        "categories": categories or ASKED,
        "participants": [{"bsn": bsn} for bsn in bsns],
        **extra,
    }
    return world.client.post("/v1/conferences", json=body, headers=world.partner_headers(chair))


def scheduled(world: World, bsns: list[str], **options: Any) -> dict[str, Any]:
    response = schedule(world, bsns, **options)
    assert response.status_code == 201, response.text
    conference: dict[str, Any] = response.json()
    return conference


def answer(world: World, bsn: str, conference_id: str, given: str) -> httpx.Response:
    return world.client.post(
        f"/v1/me/conferences/{conference_id}/answer",
        json={"answer": given},
        headers=world.issuer.headers(bsn),
    )


def read(world: World, party: str, conference_id: str, case_id: str, **body: Any) -> httpx.Response:
    return world.client.post(
        f"/v1/conferences/{conference_id}/cases/{case_id}/view",
        json=body or None,
        headers=world.partner_headers(party),
    )


def entries(world: World, action: str | None = None, purpose: str | None = None) -> list[Any]:
    return [
        entry
        for entry in world.audit_entries()
        if (action is None or entry.action == action)
        and (purpose is None or entry.purpose == purpose)
    ]
