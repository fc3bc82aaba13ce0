"""The OPA circuit breaker: refuse at once while cooling off, then let one decision try."""

from __future__ import annotations

import threading
from pathlib import Path

from gateway.policy.breaker import Breaker
from tests.policy.conftest import HangingOpa
from tests.policy.gateway_app import CONTRACT_EXAMPLE, gateway_settings, gateway_with_decide_route
from tests.policy.test_fail_closed import assert_policy_engine_unavailable


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_one_slow_answer_is_no_outage() -> None:
    breaker = Breaker(cooloff=1.0, clock=FakeMonotonic())
    breaker.failed()
    assert breaker.admit()
    breaker.succeeded()
    breaker.failed()
    assert breaker.admit()


def test_repeated_failures_refuse_decisions_until_the_cooloff_is_over() -> None:
    clock = FakeMonotonic()
    breaker = Breaker(cooloff=1.0, clock=clock)
    assert breaker.admit()
    breaker.failed()
    breaker.failed()
    assert not breaker.admit()
    clock.now += 0.99
    assert not breaker.admit()
    clock.now += 0.02
    assert breaker.admit()  # one may try ...
    assert not breaker.admit()  # ... and only one
    breaker.succeeded()
    assert breaker.admit() and breaker.admit()


def test_a_failed_try_starts_a_new_cooloff() -> None:
    clock = FakeMonotonic()
    breaker = Breaker(cooloff=1.0, clock=clock)
    breaker.failed()
    breaker.failed()
    clock.now += 1.5
    assert breaker.admit()
    breaker.failed()
    clock.now += 0.5
    assert not breaker.admit()


def test_a_frozen_opa_is_asked_only_by_the_requests_already_deciding(
    tmp_path: Path, stuck_opa: HangingOpa
) -> None:
    settings = gateway_settings(tmp_path, engine="opa", opa_url=stuck_opa.url)
    with gateway_with_decide_route(settings) as (runtime, client):

        def ask() -> None:
            assert_policy_engine_unavailable(client.post("/test/decide", json=CONTRACT_EXAMPLE))

        askers = [threading.Thread(target=ask) for _ in range(12)]
        for asker in askers:
            asker.start()
        for asker in askers:
            asker.join()
        # Without the breaker all twelve would wait out a time-out each, a worker thread at a
        # time; with it only those that had a thread when OPA froze do (and at most one that
        # got a thread before the second time-out opened the breaker).
        assert 1 <= stuck_opa.decisions_asked <= runtime.settings.worker_threads + 1
