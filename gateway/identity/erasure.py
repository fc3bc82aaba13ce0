"""Erasing a participant (GDPR Art. 17) by crypto-shredding: the data key is destroyed, so every
contribution becomes unreadable, backups included, while the pseudonymous audit trail stays and
still verifies; every recipient of their data is told to delete it too (Art. 19), in the same
transaction. Used by ``schakel participant erase`` and the retention job alike."""

from __future__ import annotations

from sqlalchemy.orm import Session

from audit.schemas import Outcome
from gateway.audit_log.trail import OPERATOR_ACTOR
from gateway.identity.vault import ParticipantRef
from gateway.notices.flow import Notifier, after_erasure
from gateway.storage.service import erase_participant


def erase(session: Session, notifier: Notifier, participant: ParticipantRef, reason: str) -> bool:
    """Destroy the data key, record it and tell the recipients; False if no key was held."""
    trail = notifier.trail
    destroyed = erase_participant(session=session, participant_id=participant.id, now=trail.clock())
    trail.record(
        session,
        trace_id=None,
        actor_party=OPERATOR_ACTOR,
        actor_domain=OPERATOR_ACTOR,
        action="participant.erase",
        outcome=Outcome.OK,
        participant=participant,
        reason=reason if destroyed else f"{reason}; no data held, erasure recorded",
    )
    after_erasure(session, notifier, participant)
    return destroyed
