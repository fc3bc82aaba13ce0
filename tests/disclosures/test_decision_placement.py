"""Where a disclosure is decided: with the embedded engine inside the batch writer's unit (it
waits on nothing), with an OPA server on a worker thread (its call can hang)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.settings import PolicyEngineKind, Settings
from tests.disclosures.world import SAM, World, running_world

WRITER = "schakel-batch-writer"


def _deciding_threads(world: World) -> list[str]:
    """Record the thread of each decision the gateway's engine makes from now on."""
    engine: Any = world.runtime.policy_engine
    decide = engine.decide
    threads: list[str] = []

    def recorded(policy_input: dict[str, Any], **options: Any) -> Any:
        threads.append(threading.current_thread().name)
        return decide(policy_input, **options)

    engine.decide = recorded
    return threads


def _ask(world: World) -> None:
    world.contribute(SAM, "care.involvement")
    world.consent(SAM, "uwv", "reintegration", ["care.involvement"])
    answer = world.disclose("uwv-leiden", SAM, "reintegration", ["care.involvement"])
    assert answer.status_code == 200, answer.text
    assert [item["category"] for item in answer.json()["disclosed"]] == ["care.involvement"]


@pytest.fixture
def embedded(settings: Settings) -> Iterator[World]:
    with running_world(settings) as world:
        yield world


def test_the_embedded_engine_decides_in_the_writers_unit(embedded: World) -> None:
    threads = _deciding_threads(embedded)
    _ask(embedded)
    assert threads == [WRITER]
    newest = embedded.audit_entries()[-1]
    assert (newest.action, newest.actor_party) == ("disclose", "uwv-leiden")


def test_an_opa_server_is_asked_beside_the_writer(settings: Settings, opa_url: str) -> None:
    configured = settings.model_copy(
        update={"policy_engine": PolicyEngineKind.OPA, "opa_url": opa_url}
    )
    with running_world(configured) as world:
        threads = _deciding_threads(world)
        _ask(world)
    assert threads and WRITER not in threads
