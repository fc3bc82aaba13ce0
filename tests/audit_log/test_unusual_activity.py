"""Unusual activity: each rule trips on its own pattern, names the entries behind it, keeps quiet
on ordinary traffic, and is the same over the API and on the officer's dashboard."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from audit.schemas import AuditDraft, Outcome
from gateway.core.db import transaction
from gateway.settings import Settings
from tests.audit_log.test_who_saw_this_person import officer_headers
from tests.disclosures.world import World, running_world
from tests.support import new_partner, register
from tests.web.pages import post_form

# A Tuesday; 10:00 UTC is 11:00 in Amsterdam, inside office hours.
TUESDAY = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)
SMALL = {
    "demo_login": True,
    "unusual_bulk_participants": 5,
    "unusual_bulk_minutes": 10,
    "unusual_most_consulted_min": 4,
    "unusual_rise_min": 5,
}


@pytest.fixture
def world(settings: Settings) -> Iterator[World]:
    with running_world(settings.model_copy(update=SMALL)) as running:
        officer = new_partner(
            "privacy-leiden", "gemeente", "EdDSA", roles=("regional-privacy-officer",), purposes=()
        )
        register(running.runtime, officer)
        running.partners["privacy-leiden"] = officer
        running.clock.now = TUESDAY
        yield running


def subject() -> str:
    return secrets.token_hex(32)


def read(world: World, party: str, about: str, *, action: str = "disclose") -> int:
    """One request for data, written by the one append path at the clock's time."""
    with transaction(world.runtime.sessions) as session:
        appended = world.runtime.trail.append(
            session,
            AuditDraft(
                actor_party=party, actor_domain=party.split("-")[0], action=action,
                subject_ref=about, purpose="reintegration", categories=("work.capacity",),
                outcome=Outcome.ALLOW if action == "disclose" else Outcome.DENY,
            ),
        )  # fmt: skip
    return int(appended.seq)


def findings(world: World) -> list[dict[str, Any]]:
    response = world.client.get("/v1/audit/unusual-activity", headers=officer_headers(world))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def of_rule(found: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    return [finding for finding in found if finding["rule"] == rule]


def test_ordinary_traffic_in_office_hours_is_not_unusual(world: World) -> None:
    for _ in range(3):
        read(world, "uwv-leiden", subject())
        world.clock.advance(20 * 60)
    assert findings(world) == []


def test_a_request_outside_office_hours_is_listed_with_its_entry(world: World) -> None:
    world.clock.now = TUESDAY.replace(hour=21, minute=30)  # 22:30 in Amsterdam
    late = read(world, "uwv-leiden", subject())
    (finding,) = of_rule(findings(world), "after-hours")
    assert finding["party"] == "uwv-leiden" and finding["entries"] == [late]


def test_one_party_reading_many_participants_in_a_short_time_is_bulk_reading(
    world: World,
) -> None:
    seqs = []
    for _ in range(5):
        seqs.append(read(world, "gemeente-leiden", subject()))
        world.clock.advance(60)
    read(world, "uwv-leiden", subject())
    (finding,) = of_rule(findings(world), "bulk-reading")
    assert finding["party"] == "gemeente-leiden" and finding["count"] == 5
    assert finding["entries"] == seqs


def test_the_participants_consulted_most_are_listed(world: World) -> None:
    popular = subject()
    seqs = []
    for party in ("uwv-leiden", "ggz-leiden", "gemeente-leiden", "uwv-leiden"):
        seqs.append(read(world, party, popular))
        world.clock.advance(30 * 60)
    (finding,) = of_rule(findings(world), "most-consulted")
    assert finding["subject_ref"] == popular and finding["count"] == 4
    assert finding["entries"] == seqs


def test_a_sudden_rise_against_the_partys_own_baseline_is_listed(world: World) -> None:
    world.clock.now = TUESDAY - timedelta(days=13)
    for _ in range(13):  # one request a day: the baseline
        read(world, "ggz-leiden", subject())
        world.clock.advance(24 * 3600)
    today = [read(world, "ggz-leiden", subject()) for _ in range(3)]
    assert of_rule(findings(world), "sudden-rise") == []  # 3 is not yet 3 x 1 and 5
    today += [read(world, "ggz-leiden", subject()) for _ in range(2)]
    (finding,) = of_rule(findings(world), "sudden-rise")
    assert finding["party"] == "ggz-leiden" and finding["count"] == 5
    assert finding["baseline"] == pytest.approx(1.0) and finding["entries"] == today


def test_a_jump_in_refusals_is_the_denial_share_rule(world: World) -> None:
    world.clock.now = TUESDAY - timedelta(days=1)
    read(world, "uwv-leiden", subject())
    world.clock.now = TUESDAY
    denied = [read(world, "uwv-leiden", subject(), action="deny") for _ in range(3)]
    (finding,) = of_rule(findings(world), "denial-share")
    assert finding["party"] == "uwv-leiden" and finding["entries"] == denied
    assert finding["share"] == 1.0 and finding["baseline"] == 0.0


def test_the_dashboard_explains_each_finding_and_links_to_its_entries(world: World) -> None:
    world.clock.now = TUESDAY.replace(hour=21, minute=30)
    read(world, "uwv-leiden", subject())
    client = world.client
    post_form(client, "/officer/login", "/officer/login", party="privacy-leiden")
    page = client.get("/officer").text
    assert "Uwv-Leiden vroeg 1 keer gegevens buiten kantoortijd" in page
    assert "5 mrt 2030 22:30" in page
    assert 'href="/officer?party=uwv-leiden&amp;from=2030-03-05&amp;until=2030-03-05"' in page
    linked = client.get("/officer?party=uwv-leiden&from=2030-03-05&until=2030-03-05").text
    assert linked.count('<tr id="entry-') == 1
