"""Exceeding the budget by many small releases: each spends from the region's budget for the
year, the one that would go beyond it is refused (409, on record) and nothing of it is counted,
stored or spent; the ledger adds up to the budget and no further."""

from __future__ import annotations

from datetime import date

from gateway.settings import Settings
from tests.monitoring.helpers import OFFICE, ask, bsns, monitoring_world, trajectory


def test_many_small_releases_stop_at_the_budget(sqlite_settings: Settings) -> None:
    with monitoring_world(sqlite_settings) as world:
        for bsn in bsns(12):
            trajectory(world, bsn, started=date(2026, 3, 2), outcome="education")
        headers = world.partner_headers(OFFICE)
        accepted = 0
        while True:
            response = world.client.post(
                "/v1/monitoring/releases", headers=headers,
                json={"region": "holland-rijnland", "since": "2026-01-01",
                      "until": "2026-12-31", "epsilon": 0.5},
            )  # fmt: skip
            if response.status_code != 201:
                break
            accepted += 1
            assert accepted <= 16
        assert accepted == 16  # 16 x 0.5 = the yearly budget of 8
        assert response.status_code == 409, response.text
        problem = response.json()
        assert problem["reason"] == "monitoring.budget_exhausted"
        assert problem["budget"] == {"region": "holland-rijnland", "year": world.clock().year,
                                     "total": 8.0, "spent": 8.0, "asked": 0.5}  # fmt: skip
        assert "8 is spent, 0 is left" in problem["detail"]
        budget = world.client.get(
            "/v1/monitoring/budget", params={"region": "holland-rijnland"}, headers=headers
        ).json()
        assert len(budget["ledger"]) == 16 and budget["left"] == 0
        assert abs(sum(line["epsilon"] for line in budget["ledger"]) - 8.0) < 1e-6
        listed = world.client.get("/v1/monitoring/releases", headers=headers).json()
        assert len(listed) == 16
        refusals = [e for e in world.audit_entries()
                    if e.action == "monitoring.release" and e.outcome == "deny"]  # fmt: skip
        assert len(refusals) == 1 and "budget_exhausted" in (refusals[0].reason or "")


def test_even_the_smallest_release_is_refused_once_the_budget_is_spent(
    sqlite_settings: Settings,
) -> None:
    with monitoring_world(sqlite_settings) as world:
        assert ask(world, epsilon=8.0).status_code == 201
        refused = ask(world, epsilon=0.05)
        assert refused.status_code == 409 and refused.json()["budget"]["spent"] == 8.0
        assert ask(world, epsilon=0.01).status_code == 422  # below the least a release spends
