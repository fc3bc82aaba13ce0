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


def _figures(view: dict[str, Any], dimension: str) -> dict[str, int | None]:
    return {c["values"][dimension]: c["count"] for c in view["cells"]}


def test_someone_discussed_at_two_conferences_counts_once(settings: Settings) -> None:
    with conference_world(settings, register_min_count=4) as world:
        for again in (False, True):
            conference = scheduled(world, [SAM, NOOR, THIRD], signal_first=not again)
            for index in range(3):
                _outcome(world, conference, index, "debts")
        view = _register(world, groupBy="code").json()
        # Three people, six mentions: three is below four, so the count is withheld.
        assert _by_code(view)["debts"] == (None, "primary")


def test_a_region_is_not_given_back_by_the_total_minus_the_other_regions(
    settings: Settings,
) -> None:
    with conference_world(settings, register_min_count=3) as world:
        leiden = scheduled(world, [SAM, NOOR, THIRD, UNKNOWN])
        for index in range(4):
            _outcome(world, leiden, index, "debts")
        zeeland = scheduled(world, [SAM], region="zeeland", signal_first=False)
        _outcome(world, zeeland, 0, "debts")
        regions = sorted(world.runtime.catalogue.regions)
        total = _figures(_register(world, groupBy="code").json(), "code")
        within = {r: _figures(_register(world, groupBy="code", region=r).json(), "code")
                  for r in regions}  # fmt: skip
        assert within["zeeland"]["debts"] is None  # the one person there is withheld
        for target in regions:
            for code, figure in total.items():
                others = [within[r][code] for r in regions if r != target]
                if figure is not None and None not in others:
                    # Whatever the difference gives, the region's own answer publishes.
                    assert within[target][code] == figure - sum(o or 0 for o in others)


def test_two_periods_a_day_apart_count_the_same_conferences(settings: Settings) -> None:
    with conference_world(settings, register_min_count=3) as world:
        first_day = world.clock().date()
        earlier = scheduled(world, [SAM, NOOR, THIRD, UNKNOWN])
        for index in range(4):
            _outcome(world, earlier, index, "debts")
        world.clock.advance(24 * 3600)
        later = scheduled(world, [SAM], signal_first=False)
        _outcome(world, later, 0, "housing")
        day = world.clock().date()
        longer = _register(world, groupBy="period", **{"from": first_day.isoformat(),
                                                       "until": day.isoformat()})  # fmt: skip
        shorter = _register(world, groupBy="period", **{"from": first_day.isoformat(),
                                                        "until": first_day.isoformat()})  # fmt: skip
        # The difference of the two answers is nothing: both count the whole quarter.
        assert longer.json()["total"] == shorter.json()["total"]
        assert longer.json()["cells"] == shorter.json()["cells"]
        assert (
            shorter.json()["since"]
            == first_day.replace(month=(first_day.month - 1) // 3 * 3 + 1, day=1).isoformat()
        )
