"""The obstacle register: the newest outcome's obstacles counted by code, region, period and
party type, nobody named, small counts suppressed with their complements; each query on record."""

from __future__ import annotations

from typing import Any

from gateway.settings import Settings
from tests.conferences.helpers import CHAIR, UWV, conference_world, entries, scheduled
from tests.disclosures.world import NOOR, SAM, UNKNOWN, World
from tests.support import new_partner, register

THIRD = "999900031"


def _outcome(world: World, conference: dict[str, Any], index: int, *codes: str) -> None:
    case_id = conference["cases"][index]["case_id"]
    response = world.client.post(
        f"/v1/conferences/{conference['id']}/cases/{case_id}/outcomes",
        json={"advice": "advice", "obstacles": [{"code": c, "domain": "gemeente"} for c in codes]},
        headers=world.partner_headers(CHAIR),
    )
    assert response.status_code == 201, response.text


def _register(world: World, party: str = UWV, **query: str) -> Any:
    return world.client.get(
        "/v1/obstacle-register", params=query, headers=world.partner_headers(party)
    )


def _by_code(view: dict[str, Any]) -> dict[str, tuple[int | None, str | None]]:
    return {c["values"]["code"]: (c["count"], c["suppressed"]) for c in view["cells"]}


def test_counts_by_code_with_small_counts_suppressed(settings: Settings) -> None:
    with conference_world(settings, register_min_count=3) as world:
        conference = scheduled(world, [SAM, NOOR, THIRD, UNKNOWN])
        for index in range(4):
            _outcome(world, conference, index, "debts", *(("housing",) if index < 2 else ()))
        _outcome(world, conference, 3, "debts", "transport")  # a new version: the newest counts
        view = _register(world, groupBy="code").json()
        assert view["threshold"] == 3 and view["group_by"] == ["code"]
        counts = _by_code(view)
        assert counts["debts"] == (4, None)
        assert counts["housing"] == (None, "primary")  # 2 is below 3
        assert counts["transport"] == (None, "primary")
        assert counts["income-benefits"] == (0, None)
        assert view["total"]["count"] == 7
        text = str(view)
        assert conference["id"] not in text and "subject" not in text
        assert [e.outcome for e in entries(world, action="conference.register")] == ["ok"]


def test_a_lone_small_count_takes_a_complement_with_it(settings: Settings) -> None:
    with conference_world(settings, register_min_count=3) as world:
        conference = scheduled(world, [SAM, NOOR, THIRD, UNKNOWN])
        for index, codes in enumerate([("debts", "housing"), ("debts",), ("debts",), ("debts",)]):
            _outcome(world, conference, index, *codes)
        counts = _by_code(_register(world, groupBy="code").json())
        assert counts["housing"] == (None, "primary")
        assert counts["debts"] == (None, "complementary")  # else 5 - 4 gives housing back


def test_the_default_threshold_withholds_every_count_below_ten(settings: Settings) -> None:
    with conference_world(settings) as world:
        conference = scheduled(world, [SAM])
        _outcome(world, conference, 0, "debts", "housing")
        view = _register(world).json()
        assert view["threshold"] == 10
        assert view["group_by"] == ["code", "region", "period", "domain"]
        assert {c["count"] for c in view["cells"]} <= {0, None}
        assert view["total"] == {"values": {}, "count": None, "suppressed": "primary"}


def test_the_register_is_for_parties_of_case_conferences(settings: Settings) -> None:
    with conference_world(settings) as world:
        other = new_partner("uwv-delft", "uwv", "ES256", roles=("reintegration-advisor",))
        register(world.runtime, other)
        world.partners[other.party_id] = other
        refused = _register(world, "uwv-delft")
        assert refused.status_code == 403, refused.text
        assert entries(world, action="conference.register")[-1].outcome == "deny"


def test_bad_register_queries_are_refused_naming_the_parameter(settings: Settings) -> None:
    with conference_world(settings) as world:
        inverted = _register(world, **{"from": "2026-12-01", "until": "2026-01-01"})
        assert inverted.status_code == 422 and inverted.json()["errors"][0]["parameter"] == (
            "query:until"
        )
        unknown = _register(world, groupBy="participant")
        assert unknown.status_code == 400  # not a value the document allows
        assert unknown.json()["errors"][0]["parameter"].startswith("query:groupBy")
        region = _register(world, region="atlantis")
        assert region.status_code == 422
        assert region.json()["errors"][0]["parameter"] == "query:region"


def test_a_malformed_region_is_named_as_the_region(settings: Settings) -> None:
    with conference_world(settings) as world:
        refused = _register(world, region="Atlantis!")
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["parameter"] == "query:region"


def test_days_past_the_calendar_the_api_accepts_are_refused_naming_the_parameter(
    settings: Settings,
) -> None:
    with conference_world(settings) as world:
        far = _register(world, **{"from": "9999-01-01", "until": "9999-12-31"})
        assert far.status_code == 422, far.text
        assert far.json()["errors"][0]["parameter"] == "query:from"
        late = _register(world, **{"from": "2026-01-01", "until": "9999-12-31"})
        assert late.status_code == 422, late.text
        assert late.json()["errors"][0]["parameter"] == "query:until"
