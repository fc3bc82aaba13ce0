"""Checkpoints on a timer: an idle log is signed too, and witnesses cosign what is signed.

An append signs a checkpoint when one is due (audit_log.trail), but a log nobody appends to
would keep its last entries unsigned for ever. A background thread asks every few seconds
whether a checkpoint is due and signs it, in a transaction of its own; then it asks the
configured witnesses to cosign the newest checkpoint (audit_log.witnesses), away from any
request.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import structlog
from sqlalchemy.orm import Session, sessionmaker

from audit.checkpoint import checkpoint_if_due
from audit.models import AuditCheckpoint
from gateway.audit_log.trail import AuditTrail
from gateway.core.db import transaction
from gateway.settings import AuditWitness

log = structlog.get_logger("gateway.audit_log.checkpointer")


def sign_if_due(sessions: sessionmaker[Session], trail: AuditTrail) -> AuditCheckpoint | None:
    """Sign the head when a checkpoint is due by count or by the age of the oldest unsigned entry."""
    with transaction(sessions) as session:
        return checkpoint_if_due(
            session=session,
            signing_key=trail.signing_key,
            clock=trail.clock,
            every_entries=trail.checkpoint_every_entries,
            every_seconds=trail.checkpoint_every_seconds,
            origin=trail.origin,
            frontier=trail.frontier,
        )


class CheckpointTimer:
    """A background thread that runs :func:`sign_if_due` every ``interval`` seconds, then asks
    the witnesses to cosign."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        trail: AuditTrail,
        interval: float,
        witnesses: Sequence[AuditWitness] = (),
        timeout: float = 5.0,
    ) -> None:
        self._sessions, self._trail, self._interval = sessions, trail, interval
        self._witnesses, self._timeout = tuple(witnesses), timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-checkpoints", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                signed = sign_if_due(self._sessions, self._trail)
            except (
                Exception
            ) as error:  # the timer outlives a database hiccup; the next tick retries
                log.error("audit checkpoint round failed", exc_info=error)
                continue
            if signed is not None:
                log.info("audit checkpoint signed", seq=signed.seq)
