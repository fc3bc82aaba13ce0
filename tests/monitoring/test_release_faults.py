"""Releases refused for what they are asked, one person's facts never disclosed, a release
reproduced from its sealed draw, and differencing two releases through the API."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gateway.core.db import transaction
from gateway.monitoring.reads import reproduce
from gateway.settings import Settings
from tests.disclosures.world import World
from tests.monitoring.helpers import (
    LEIDEN,
    LISSE,
    MIDDELBURG,
    OFFICE,
    PROVIDER,
    ask,
    bsns,
    monitoring_world,
    released,
    table,
    trajectory,
)

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "adapters" / "trajectory-message.json"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"region": "atlantis"}, "#/region"),
        ({"since": "2026-06-01", "until": "2026-01-01"}, "#/until"),
        ({"municipalities": [MIDDELBURG]}, "#/municipalities/0"),
        ({"methods": ["magic"]}, "#/methods/0"),
        ({"epsilon": 9.0}, "#/epsilon"),
        ({"since": "9999-01-01", "until": "9999-12-31"}, "#/since"),
        ({"since": "2026-01-01", "until": "9999-12-31"}, "#/until"),
    ],
)
def test_a_release_asked_wrongly_is_refused_naming_the_field(
    sqlite_settings: Settings, body: dict[str, Any], pointer: str
) -> None:
    with monitoring_world(sqlite_settings) as world:
        response = ask(world, **body)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["pointer"] == pointer


def test_only_the_regions_statistics_office_gets_a_release(sqlite_settings: Settings) -> None:
    with monitoring_world(sqlite_settings) as world:
        assert ask(world, "uwv-leiden").json()["reason"] == "monitoring.scope"
        assert ask(world, "stuurgroep-zeeland").json()["reason"] == "release.not_recipient"
        denials = [e for e in world.audit_entries() if e.action == "monitoring.release"]
        assert [e.outcome for e in denials] == ["deny", "deny"]
        other = world.client.get("/v1/monitoring/releases/" + "0" * 36,
                                 headers=world.partner_headers(OFFICE))  # fmt: skip
        assert other.status_code == 404


def test_one_persons_facts_never_leave_outside_a_release(sqlite_settings: Settings) -> None:
    with monitoring_world(sqlite_settings) as world:
        body = SAMPLE.read_bytes()
        contributed = world.client.post(
            "/v1/adapters/trajectory-json/contributions", content=body,
            headers={**world.partner_headers(PROVIDER), "Content-Type": "application/json"},
        )  # fmt: skip
        assert contributed.status_code == 201, contributed.text
        assert {item["category"] for item in contributed.json()["accepted"]} == {
            "trajectory.start", "trajectory.milestone", "trajectory.outcome"}  # fmt: skip
        world.consent("999993021", "region", "regional-monitoring", ["trajectory.start"])
        asked = world.disclose(OFFICE, "999993021", "regional-monitoring", ["trajectory.start"])
        assert asked.status_code in (200, 403)
        assert "DZB-2026-0042" not in asked.text and "GM0546" not in asked.text


def test_a_release_reproduces_from_the_same_facts_and_its_sealed_draw(
    sqlite_settings: Settings,
) -> None:
    with monitoring_world(sqlite_settings) as world:
        for index, bsn in enumerate(bsns(30)):
            trajectory(world, bsn, started=date(2026, 3, 1 + index % 28), outcome="paid-work",
                       municipality=LEIDEN if index % 3 else LISSE)  # fmt: skip
        release = released(world)
        stored = world.client.get(f"/v1/monitoring/releases/{release['id']}",
                                  headers=world.partner_headers(OFFICE))  # fmt: skip
        assert json.loads(stored.content)["release"] == release  # the stored one, not a re-run
        with transaction(world.runtime.sessions) as session:
            again = reproduce(session, world.runtime, release["id"])
        assert again.same_facts and again.same_tables
        trajectory(world, bsns(1, start=9000)[0], started=date(2026, 3, 3), outcome="education")
        with transaction(world.runtime.sessions) as session:
            changed = reproduce(session, world.runtime, release["id"])
        assert not changed.same_facts
        csv = world.client.get(f"/v1/monitoring/releases/{release['id']}",
                               headers={**world.partner_headers(OFFICE), "Accept": "text/csv"})  # fmt: skip
        assert csv.status_code == 200 and csv.text.startswith("release,table,kind,values")
        assert release["id"] in csv.text.splitlines()[1]


def _difference(world: World) -> dict[str, int]:
    """Two releases, from 1 and from 2 March: only the target started on 1 March."""
    first = released(world, since="2026-03-01")
    second = released(world, since="2026-03-02")

    def cells(release: dict[str, Any]) -> dict[str, int]:
        found: dict[str, int] = {}
        for c in table(release, "method_outcome")["cells"]:
            found[c["values"]["outcome"]] = found.get(c["values"]["outcome"], 0) + (c["count"] or 0)
        return found

    a, b = cells(first), cells(second)
    return {outcome: a[outcome] - b[outcome] for outcome in a}


def _crowd(world: World) -> None:
    for index, bsn in enumerate(bsns(60)):
        trajectory(world, bsn, started=date(2026, 3, 9), outcome=("paid-work", "education",
                   "no-result")[index % 3])  # fmt: skip
    trajectory(world, bsns(1, start=9000)[0], started=date(2026, 3, 1), outcome="education")


def test_differencing_through_the_api_reveals_the_person_without_noise(
    sqlite_settings: Settings,
) -> None:
    with monitoring_world(sqlite_settings, monitoring_noise=False) as world:
        _crowd(world)
        assert {o: d for o, d in _difference(world).items() if d} == {"education": 1}


def test_differencing_through_the_api_meets_noise(sqlite_settings: Settings) -> None:
    with monitoring_world(sqlite_settings) as world:
        _crowd(world)
        assert {o: d for o, d in _difference(world).items() if d} != {"education": 1}
