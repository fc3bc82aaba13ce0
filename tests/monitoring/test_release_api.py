"""A release through the API: the steering group's figures, every one protected, signed and
stored; the budget's ledger shows what each release spent."""

from __future__ import annotations

from datetime import date

from gateway.settings import Settings
from tests.monitoring.helpers import (
    OFFICE,
    ZEELAND_OFFICE,
    ask,
    bsns,
    monitoring_world,
    published_values,
    released,
    table,
    trajectory,
)


def test_a_release_counts_protects_and_spends(settings: Settings) -> None:
    with monitoring_world(settings) as world:
        for index, bsn in enumerate(bsns(40)):
            trajectory(world, bsn, started=date(2026, 2, 1 + index % 20), outcome="paid-work",
                       method="ips" if index % 2 else "social-development-company", hours=20)  # fmt: skip
        release = released(world, epsilon=1.0)
        dp = release["protection"]["differential_privacy"]
        assert dp["library"].startswith("OpenDP") and 0.99 <= dp["epsilon"] <= 1.0 + 1e-6
        assert dp["budget"]["spent_after"] == dp["epsilon"]
        assert all(v == 0 or v >= 10 for v in published_values(release))
        assert release["protection"]["suppression"]["threshold"] == 10
        assert {t["name"] for t in release["tables"]} >= {"method_outcome", "quarter_outcome"}
        budget = world.client.get(
            "/v1/monitoring/budget", params={"region": "holland-rijnland"},
            headers=world.partner_headers(OFFICE),
        ).json()  # fmt: skip
        assert budget["spent"] == dp["epsilon"] and budget["total"] == 8.0
        assert [line["release_id"] for line in budget["ledger"]] == [release["id"]]
        stored = world.client.get(
            f"/v1/monitoring/releases/{release['id']}", headers=world.partner_headers(OFFICE)
        )
        assert stored.json()["release"] == release
        other = ask(world, ZEELAND_OFFICE)
        assert other.status_code == 403 and other.json()["reason"] == "release.not_recipient"
        assert table(release, "method_outcome")["epsilon"] > 0
