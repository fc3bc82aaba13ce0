"""The plan's test world: the disclosure world's partners and issuer, no background worker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from gateway.settings import Settings
from gateway.signals.webhooks import Outcome, deliver_due, retry_policy
from tests.disclosures.world import World, running_world
from tests.support import new_partner, register

GGZ, UWV, GEMEENTE = "ggz-leiden", "uwv-leiden", "gemeente-leiden"
CONTACT = {
    GGZ: "GGZ Leiden, care coordinator J. de Vries, 071-1234567",
    UWV: "UWV Leiden, re-integration advisor A. Bakker, 088-8980000",
    GEMEENTE: "Gemeente Leiden, case manager S. Jansen, 14071",
}


@contextmanager
def plan_world(settings: Settings, **overrides: Any) -> Iterator[World]:
    """The worker is off: tests deliver with ``deliver(world)`` at the clock they choose."""
    configured = settings.model_copy(update={"webhook_interval_seconds": 0, **overrides})
    with running_world(configured) as world:
        yield world


def headers(world: World, party: str) -> dict[str, str]:
    return world.partner_headers(party)


def signal(world: World, party: str, bsn: str, purpose: str = "reintegration") -> httpx.Response:
    body = {"subject": {"bsn": bsn}, "purpose": purpose, "contact": CONTACT.get(party, party)}
    return world.client.post("/v1/signals", json=body, headers=headers(world, party))


def coordinate(world: World, bsn: str, parties: list[str] | None = None) -> httpx.Response:
    body = {} if parties is None else {"parties": parties}
    return world.client.post("/v1/me/coordination", json=body, headers=world.issuer.headers(bsn))


def add_action(world: World, party: str, bsn: str, title: str, **extra: Any) -> httpx.Response:
    body = {"subject": {"bsn": bsn}, "title": title, **extra}
    return world.client.post("/v1/plans/actions", json=body, headers=headers(world, party))


def query_plan(world: World, party: str, bsn: str, purpose: str) -> httpx.Response:
    body = {"subject": {"bsn": bsn}, "purpose": purpose}
    return world.client.post("/v1/plans/query", json=body, headers=headers(world, party))


def register_webhook(world: World, party: str, url: str) -> str:
    response = world.client.put(
        "/v1/webhooks/endpoint", json={"url": url}, headers=headers(world, party)
    )
    assert response.status_code == 200, response.text
    secret: str = response.json()["secret"]
    return secret


def deliver(world: World, *, timeout: float = 0.5) -> list[Outcome]:
    with httpx.Client(timeout=timeout) as http:
        return deliver_due(
            sessions=world.runtime.sessions,
            keks=world.runtime.keks,
            clock=world.clock,
            retry=retry_policy(world.runtime.settings),
            http=http,
        )


def add_operator(world: World) -> None:
    operator = new_partner(
        "beheer-schakel", "gemeente", "ES256", roles=("operator",), purposes=("reintegration",)
    )
    register(world.runtime, operator)
    world.partners[operator.party_id] = operator


def actions_of(world: World, action: str) -> list[Any]:
    return [entry for entry in world.audit_entries() if entry.action == action]
