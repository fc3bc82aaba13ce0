"""A party ends its involvement signal: the parties told of it are told of the end, once."""

from __future__ import annotations

from typing import Any

from gateway.settings import Settings
from tests.disclosures.world import SAM, World
from tests.plans.helpers import GEMEENTE, GGZ, coordinate, headers, plan_world, signal


def _feed(world: World, party: str) -> list[dict[str, Any]]:
    response = world.client.get("/v1/signals/feed", headers=headers(world, party))
    assert response.status_code == 200, response.text
    notifications: list[dict[str, Any]] = response.json()["notifications"]
    return notifications


def _end(world: World, party: str, signal_id: str) -> Any:
    return world.client.delete(f"/v1/signals/{signal_id}", headers=headers(world, party))


def test_ending_a_signal_tells_the_parties_told_of_it_once(settings: Settings) -> None:
    with plan_world(settings) as world:
        ggz_signal = signal(world, GGZ, SAM).json()
        signal(world, GEMEENTE, SAM)
        assert coordinate(world, SAM).status_code == 201
        assert [n["event"] for n in _feed(world, GEMEENTE)] == ["involvement.signalled"]

        ended = _end(world, GGZ, ggz_signal["signal_id"])
        assert ended.status_code == 200, ended.text
        assert ended.json()["ended_at"] is not None

        events = [(n["event"], n["party"]) for n in _feed(world, GEMEENTE)]
        assert events == [("involvement.signalled", GGZ), ("involvement.ended", GGZ)]
        assert _end(world, GGZ, ggz_signal["signal_id"]).status_code == 200
        assert len(_feed(world, GEMEENTE)) == 2  # told once
        assert [n["event"] for n in _feed(world, GGZ)] == ["involvement.signalled"]
        actions = [e.action for e in world.audit_entries()]
        assert actions.count("signal.end") == 2 and "signal.notify" in actions


def test_a_party_cannot_end_another_partys_signal(settings: Settings) -> None:
    with plan_world(settings) as world:
        ggz_signal = signal(world, GGZ, SAM).json()
        refused = _end(world, GEMEENTE, ggz_signal["signal_id"])
        assert refused.status_code == 404
        assert refused.headers["content-type"] == "application/problem+json"


def test_a_party_may_signal_again_after_ending(settings: Settings) -> None:
    with plan_world(settings) as world:
        first = signal(world, GGZ, SAM).json()
        assert _end(world, GGZ, first["signal_id"]).status_code == 200
        again = signal(world, GGZ, SAM)
        assert again.status_code == 201, again.text
        assert again.json()["signal_id"] != first["signal_id"]
