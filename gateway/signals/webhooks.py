"""Webhook delivery by the Standard Webhooks specification (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``: HMAC-SHA256 over ``id.timestamp.body``, via the ``standardwebhooks`` package).

Messages wait in the outbox (``plan.outbox``), written in the transaction that caused them. A
worker thread — or a direct call of :func:`deliver_due` — claims due messages, sends each outside
any database transaction, and records the outcome; so a slow or failing receiver never blocks or
fails the request that caused the message.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import structlog
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from gateway.core.clock import Clock
from gateway.core.db import transaction
from gateway.settings import Settings
from gateway.storage.kek import KekError, KekRing
from plan.outbox import DELIVERED, Claimed, RetryPolicy, claim_due, record_attempt

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret
log = structlog.get_logger("gateway.signals.webhooks")
# What a delivered message leaves on record, in the transaction that records its delivery.
Delivered = Callable[[Session, Claimed], None]


@dataclass(frozen=True)
class Outcome:
    """One delivery attempt as it went."""

    message_id: str
    attempt: int
    status_code: int | None
    error: str | None
    status: str


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.webhook_max_attempts,
        first_delay=timedelta(seconds=settings.webhook_first_retry_seconds),
    )


def new_secret() -> tuple[str, bytes]:
    """A 32-byte signing secret, and its ``whsec_``-prefixed base64 text shown to the party once."""
    raw = secrets.token_bytes(32)
    return SECRET_PREFIX + base64.b64encode(raw).decode("ascii"), raw


def seal_secret(keks: KekRing, party: str, raw: bytes) -> tuple[bytes, str]:
    """Wrap the secret with the KEK, bound to the party (AES-256-GCM associated data)."""
    return keks.primary.wrap(raw, _binding(party)), keks.primary.kek_id


def _binding(party: str) -> str:
    # ':' occurs in neither party ids nor participant ids, so no data-key wrap can be swapped in.
    return f"webhook:{party}"


def signed_request(
    message: Claimed, secret: bytes, *, timestamp: int
) -> tuple[bytes, dict[str, str]]:
    """The body and the three Standard Webhooks headers for one attempt."""
    body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True)
    signature = Webhook(secret).sign(
        msg_id=message.id, timestamp=datetime.fromtimestamp(timestamp, UTC), data=body
    )
    headers = {
        "content-type": "application/json",
        "webhook-id": message.id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }
    return body.encode("utf-8"), headers


def deliver_due(
    *,
    sessions: sessionmaker[Session],
    keks: KekRing,
    clock: Clock,
    retry: RetryPolicy,
    http: httpx.Client,
    limit: int = 50,
    on_delivered: Delivered = lambda session, message: None,
) -> list[Outcome]:
    """Send every message due now, once; record each outcome in a short transaction of its own,
    with whatever ``on_delivered`` records of a delivered message."""
    with transaction(sessions) as session:
        claimed = claim_due(session=session, now=clock(), retry=retry, limit=limit)
    outcomes = []
    for message in claimed:
        status_code, error = _attempt(message, keks, clock, http)
        with transaction(sessions) as session:
            stored = record_attempt(
                session=session, message_id=message.id, now=clock(), status_code=status_code,
                error=error, retry=retry,
            )  # fmt: skip
            if stored.status == DELIVERED:
                on_delivered(session, message)
            outcomes.append(Outcome(message.id, stored.attempts, status_code, error, stored.status))
        if stored.status == "dead":
            log.warning("webhook message dead-lettered", message_id=message.id, party=message.party)
    return outcomes


def _attempt(
    message: Claimed, keks: KekRing, clock: Clock, http: httpx.Client
) -> tuple[int | None, str | None]:
    try:
        secret = keks.for_id(message.key_id).unwrap(message.sealed_secret, _binding(message.party))
    except KekError as error:
        return None, f"secret unreadable: {error}"
    refused = refused_target(message.url)
    if refused is not None:
        return None, refused
    body, headers = signed_request(message, secret, timestamp=int(clock().timestamp()))
    try:
        response = http.post(message.url, content=body, headers=headers)
    except httpx.TimeoutException as error:
        return None, f"timeout: {type(error).__name__}"
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}"


_UNSAFE = ("is_private", "is_link_local", "is_reserved", "is_multicast", "is_unspecified")


def refused_target(url: str) -> str | None:
    """Why a receiver may not be called now, or None: a name may resolve to an internal address
    after registration (DNS rebinding), so every attempt checks where it would connect."""
    host = (httpx.URL(url).host or "").strip("[]")
    literal_loopback = host == "localhost" or _ip_flag(host, "is_loopback")
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except OSError as error:
        return f"receiver host does not resolve: {error.strerror or error}"
    for address in addresses:
        if _ip_flag(address, "is_loopback"):
            if not literal_loopback:
                return "receiver resolves to a loopback address"
        elif any(_ip_flag(address, flag) for flag in _UNSAFE):
            return "receiver resolves to a private, link-local or reserved address"
    return None


def _ip_flag(host: str, flag: str) -> bool:
    try:
        return bool(getattr(ipaddress.ip_address(host.split("%")[0]), flag))
    except ValueError:
        return False


class WebhookWorker:
    """A background thread that delivers due webhooks every ``interval`` seconds."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        keks: KekRing,
        clock: Clock,
        settings: Settings,
        on_outcome: Callable[[str], None] = lambda status: None,
        on_delivered: Delivered = lambda session, message: None,
    ) -> None:
        self._sessions, self._keks, self._clock = sessions, keks, clock
        self._on_outcome, self._on_delivered = on_outcome, on_delivered
        self._interval = settings.webhook_interval_seconds
        self._retry = retry_policy(settings)
        self._timeout = settings.webhook_timeout_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._timeout + 5)

    def _run(self) -> None:
        with httpx.Client(timeout=self._timeout, follow_redirects=False) as http:
            while not self._stop.wait(self._interval):
                try:
                    outcomes = deliver_due(
                        sessions=self._sessions, keks=self._keks, clock=self._clock,
                        retry=self._retry, http=http, on_delivered=self._on_delivered,
                    )  # fmt: skip
                    for outcome in outcomes:
                        self._on_outcome(outcome.status)
                except Exception as error:  # the worker outlives a database hiccup
                    log.error("webhook delivery round failed", exc_info=error)
