"""The webhook outbox: messages written in the causing transaction, delivered with back-off.

A message is claimed for a short lease (so several gateways can deliver without sending twice),
sent outside any transaction, and its outcome recorded: delivered, due again after an
exponentially growing delay, or — after ``max_attempts`` — dead-lettered for operators.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plan.errors import WebhookMessageNotFound
from plan.models import WebhookAttempt, WebhookEndpoint, WebhookMessage

Clock = Callable[[], datetime]
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


@dataclass(frozen=True)
class RetryPolicy:
    """Delay before attempt n+1 is ``first_delay * factor**(n-1)``, at most ``max_delay``."""

    max_attempts: int = 8
    first_delay: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    max_delay: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(seconds=60)

    def delay_after(self, attempts: int) -> timedelta:
        return min(self.first_delay * self.factor ** (attempts - 1), self.max_delay)


@dataclass(frozen=True)
class Claimed:
    """A message leased to one delivery attempt."""

    id: str
    party: str
    event_type: str
    payload: dict[str, Any]
    attempt: int
    url: str
    sealed_secret: bytes
    key_id: str


def register_endpoint(
    *, session: Session, party: str, url: str, sealed_secret: bytes, key_id: str, clock: Clock
) -> WebhookEndpoint:
    """Set (or replace, with a new secret) the party's webhook receiver."""
    endpoint = session.get(WebhookEndpoint, party)
    if endpoint is None:
        endpoint = WebhookEndpoint(party=party)
        session.add(endpoint)
    endpoint.url = url
    endpoint.sealed_secret = sealed_secret
    endpoint.key_id = key_id
    endpoint.created_at = clock()
    session.flush()
    return endpoint


def endpoint_of(*, session: Session, party: str) -> WebhookEndpoint | None:
    return session.get(WebhookEndpoint, party)


def remove_endpoint(*, session: Session, party: str) -> bool:
    """Stop webhooks to the party; messages not yet delivered stay in the outbox, and its feed."""
    endpoint = session.get(WebhookEndpoint, party)
    if endpoint is None:
        return False
    session.delete(endpoint)
    session.flush()
    return True


def enqueue(
    *, session: Session, party: str, event_type: str, payload: dict[str, Any], clock: Clock
) -> WebhookMessage | None:
    """Add a message for the party's receiver, due now; None when it has no receiver."""
    if session.get(WebhookEndpoint, party) is None:
        return None
    now = clock()
    message = WebhookMessage(
        id=f"msg_{uuid.uuid4().hex}", party=party, event_type=event_type, payload=payload,
        status=PENDING, attempts=0, next_attempt_at=now, last_error=None, created_at=now,
        finished_at=None,
    )  # fmt: skip
    session.add(message)
    session.flush()
    return message


def claim_due(
    *, session: Session, now: datetime, retry: RetryPolicy, limit: int = 50
) -> list[Claimed]:
    """Lease the pending messages due at ``now``; a lease that lapses makes them due again."""
    rows = session.execute(
        select(WebhookMessage, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookEndpoint.party == WebhookMessage.party)
        .where(WebhookMessage.status == PENDING, WebhookMessage.next_attempt_at <= now)
        .order_by(WebhookMessage.next_attempt_at, WebhookMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookMessage)
    )
    claimed = []
    for message, endpoint in rows:
        message.next_attempt_at = now + retry.lease
        claimed.append(
            Claimed(
                id=message.id, party=message.party, event_type=message.event_type,
                payload=dict(message.payload), attempt=message.attempts + 1, url=endpoint.url,
                sealed_secret=endpoint.sealed_secret, key_id=endpoint.key_id,
            )
        )  # fmt: skip
    session.flush()
    return claimed


def record_attempt(
    *,
    session: Session,
    message_id: str,
    now: datetime,
    status_code: int | None,
    error: str | None,
    retry: RetryPolicy,
) -> WebhookMessage:
    """Delivered on a 2xx; otherwise due again after the back-off, or dead after the last try."""
    message = session.get(WebhookMessage, message_id, with_for_update=True)
    if message is None:
        raise WebhookMessageNotFound(f"no webhook message {message_id}")
    message.attempts += 1
    session.add(
        WebhookAttempt(
            message_id=message.id, attempt=message.attempts, at=now, status_code=status_code,
            error=None if error is None else error[:500],
        )
    )  # fmt: skip
    if status_code is not None and 200 <= status_code < 300:
        message.status, message.finished_at, message.last_error = DELIVERED, now, None
    else:
        message.last_error = (error or f"HTTP {status_code}")[:500]
        if message.attempts >= retry.max_attempts:
            message.status, message.finished_at = DEAD, now
        else:
            message.next_attempt_at = now + retry.delay_after(message.attempts)
    session.flush()
    return message


def attempts_of(*, session: Session, message_id: str) -> list[WebhookAttempt]:
    return list(
        session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.message_id == message_id)
            .order_by(WebhookAttempt.attempt)
        )
    )


def messages_for(*, session: Session, party: str) -> list[WebhookMessage]:
    return list(
        session.scalars(
            select(WebhookMessage)
            .where(WebhookMessage.party == party)
            .order_by(WebhookMessage.created_at, WebhookMessage.id)
        )
    )


def dead_letter_count(*, session: Session) -> int:
    """How many messages wait for an operator."""
    count = session.scalar(
        select(func.count()).select_from(WebhookMessage).where(WebhookMessage.status == DEAD)
    )
    return int(count or 0)


def dead_letters(*, session: Session, limit: int = 100) -> list[WebhookMessage]:
    """Messages given up on, newest first: for operators to see and retry."""
    return list(
        session.scalars(
            select(WebhookMessage)
            .where(WebhookMessage.status == DEAD)
            .order_by(WebhookMessage.finished_at.desc(), WebhookMessage.id)
            .limit(limit)
        )
    )


def requeue(*, session: Session, message_id: str, clock: Clock) -> WebhookMessage:
    """Give a dead-lettered message a fresh round of attempts, due now."""
    message = session.get(WebhookMessage, message_id, with_for_update=True)
    if message is None or message.status != DEAD:
        raise WebhookMessageNotFound(f"no dead-lettered webhook message {message_id}")
    message.status, message.attempts = PENDING, 0
    message.next_attempt_at, message.finished_at = clock(), None
    session.flush()
    return message
