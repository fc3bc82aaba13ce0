"""Must show: a release over the demo data, through the API, in which no published figure lies
between 0 and k, no suppressed count follows from the published totals, and the budget's
ledger shows the epsilon spent."""

from __future__ import annotations

from pathlib import Path

from gateway.core.db import transaction
from gateway.demo.seed import seed_demo
from gateway.demo.trajectories import REGIONS, seed_trajectories
from gateway.settings import Settings
from tests.monitoring.disclosure_check import given_back, sums_hold
from tests.monitoring.helpers import OFFICE, monitoring_world, published_values, released


def test_a_release_over_the_demo_data(sqlite_settings: Settings, tmp_path: Path) -> None:
    with monitoring_world(sqlite_settings) as world:
        runtime = world.runtime
        with transaction(runtime.sessions) as session:
            seed_demo(session=session, catalogue=runtime.catalogue, clock=world.clock,
                      folder=tmp_path / "demo")  # fmt: skip
            seeded = seed_trajectories(session, runtime, today=world.clock().date())
        assert seeded is not None and seeded.participants == sum(REGIONS.values())
        today = world.clock().date()
        release = released(
            world, since=today.replace(year=today.year - 1).isoformat(), until=today.isoformat()
        )
        values = published_values(release)
        assert values and all(value == 0 or value >= 10 for value in values)
        assert sum(1 for v in values if v >= 10) >= 20  # the page has something to show
        for shown in release["tables"]:
            assert given_back(shown) == [], shown["name"]
            assert sums_hold(shown)
        epsilon = release["protection"]["differential_privacy"]["epsilon"]
        budget = world.client.get(
            "/v1/monitoring/budget", params={"region": "holland-rijnland"},
            headers=world.partner_headers(OFFICE),
        ).json()  # fmt: skip
        assert budget["ledger"] == [
            {"release_id": release["id"], "party": OFFICE, "epsilon": epsilon,
             "spent_after": epsilon, "at": budget["ledger"][0]["at"]}
        ]  # fmt: skip
        assert budget["spent"] == epsilon and budget["left"] == budget["total"] - epsilon
