"""Webhook delivery: retried with back-off against a real receiver, dead-lettered, never blocking."""

from __future__ import annotations

import time

from sqlalchemy import select
from standardwebhooks import Webhook

from gateway.core.db import transaction
from gateway.settings import Settings
from plan.models import WebhookMessage
from plan.outbox import attempts_of
from tests.disclosures.world import SAM, World
from tests.plans.helpers import (
    GGZ,
    UWV,
    add_operator,
    coordinate,
    deliver,
    headers,
    plan_world,
    register_webhook,
    signal,
)
from tests.signals.receiver import running_receiver


def _match_ggz_and_uwv(world: World) -> None:
    assert signal(world, GGZ, SAM).status_code == 201
    assert signal(world, UWV, SAM).status_code == 201
    assert coordinate(world, SAM, [GGZ, UWV]).json()["notified"] == 2


def _messages(world: World) -> list[WebhookMessage]:
    with transaction(world.runtime.sessions) as session:
        return list(session.scalars(select(WebhookMessage)))


def test_failing_receiver_is_retried_with_back_off_until_it_answers(settings: Settings) -> None:
    with plan_world(settings) as world, running_receiver(["500", "hang", "200"]) as receiver:
        secret = register_webhook(world, GGZ, receiver.url)
        start = world.clock()
        _match_ggz_and_uwv(world)
        timeline = []

        first = deliver(world)  # t=0: the receiver answers 500
        assert [(o.attempt, o.status_code, o.status) for o in first] == [(1, 500, "pending")]
        timeline.append((0, "HTTP 500"))
        world.clock.advance(29)
        assert deliver(world) == []  # not due before the 30 s back-off
        world.clock.advance(1)
        second = deliver(world)  # t=30: the receiver hangs past the 0.5 s timeout
        assert [(o.attempt, o.status_code, o.error) for o in second] == [
            (2, None, "timeout: ReadTimeout")
        ]
        timeline.append((30, "timeout"))
        world.clock.advance(59)
        assert deliver(world) == []  # the delay doubled: 60 s
        world.clock.advance(1)
        third = deliver(world)  # t=90: delivered
        assert [(o.attempt, o.status_code, o.status) for o in third] == [(3, 200, "delivered")]
        timeline.append((90, "HTTP 200"))

        [message] = _messages(world)
        with transaction(world.runtime.sessions) as session:
            attempts = attempts_of(session=session, message_id=message.id)
        assert [(int((a.at - start).total_seconds()), a.status_code) for a in attempts] == [
            (0, 500),
            (30, None),
            (90, 200),
        ]
        print("\nretry timeline (s after the match):", timeline)
        # Every attempt carried the same webhook-id and a valid signature.
        assert {r.headers["webhook-id"] for r in receiver.received} == {message.id}
        assert Webhook(secret).verify(receiver.received[-1].body, receiver.received[-1].headers)


def test_message_is_dead_lettered_after_the_last_attempt_and_operators_can_retry_it(
    settings: Settings,
) -> None:
    with (
        plan_world(settings, webhook_max_attempts=3) as world,
        running_receiver(["500"] * 3) as receiver,
    ):
        register_webhook(world, GGZ, receiver.url)
        add_operator(world)
        _match_ggz_and_uwv(world)
        for _ in range(3):
            deliver(world)
            world.clock.advance(3600)
        [message] = _messages(world)
        assert (message.status, message.attempts, message.last_error) == ("dead", 3, "HTTP 500")

        assert (
            world.client.get("/v1/webhooks/dead-letters", headers=headers(world, GGZ)).status_code
            == 403
        )
        listed = world.client.get(
            "/v1/webhooks/dead-letters", headers=headers(world, "beheer-schakel")
        ).json()
        assert [(m["id"], m["party"], m["attempts"]) for m in listed] == [(message.id, GGZ, 3)]
        assert "payload" not in listed[0]

        retried = world.client.post(
            f"/v1/webhooks/dead-letters/{message.id}/retry",
            headers=headers(world, "beheer-schakel"),
        )
        assert retried.json()["status"] == "pending"
        assert [o.status for o in deliver(world)] == ["delivered"]
        assert len(receiver.received) == 4


def test_a_hanging_receiver_never_delays_the_request_that_caused_the_message(
    settings: Settings,
) -> None:
    with plan_world(settings) as world, running_receiver(["hang"]) as receiver:
        receiver.hang_seconds = 5
        register_webhook(world, GGZ, receiver.url)
        assert signal(world, GGZ, SAM).status_code == 201
        assert signal(world, UWV, SAM).status_code == 201
        began = time.monotonic()
        response = coordinate(world, SAM, [GGZ, UWV])
        assert response.status_code == 201
        assert time.monotonic() - began < 2
        [message] = _messages(world)
        assert (message.status, message.attempts) == ("pending", 0)
        assert receiver.received == []


def test_the_background_worker_delivers_without_being_asked(settings: Settings) -> None:
    with (
        plan_world(settings, webhook_interval_seconds=0.05) as world,
        running_receiver() as receiver,
    ):
        register_webhook(world, GGZ, receiver.url)
        _match_ggz_and_uwv(world)
        deadline = time.monotonic() + 10
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(receiver.received) == 1
        assert receiver.received[0].headers["webhook-id"].startswith("msg_")


def test_the_secret_is_shown_once_and_never_again(settings: Settings) -> None:
    with plan_world(settings) as world:
        secret = register_webhook(world, GGZ, "https://ggz.example.nl/hooks")
        assert secret.startswith("whsec_")
        shown = world.client.get("/v1/webhooks/endpoint", headers=headers(world, GGZ)).json()
        assert shown == {
            "url": "https://ggz.example.nl/hooks",
            "registered_at": shown["registered_at"],
        }
