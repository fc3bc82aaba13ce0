"""Matching involvement signals under the participant's coordination consent, then telling.

Two parties that signalled involvement are told of each other when the participant has a consent
in force for ``case-coordination`` that names each of them (the party itself, or its domain).
Each notice is audited (``signal.notify``, the told party as actor: it is the one who learns),
lands in the told party's feed and, if it registered a receiver, in the webhook outbox — all in
the transaction of the request that made the match.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from audit.schemas import Outcome
from consent.models import Consent
from consent.service import consents_in_force
from gateway.identity.vault import ParticipantRef, pseudonym
from gateway.runtime import Runtime
from plan.outbox import enqueue
from plan.schemas import ENDED, SIGNALLED, Involvement, Notice
from plan.service import COORDINATION
from plan.signals import involvements, notify_coordinated

EVENT_INVOLVEMENT = "involvement.signalled"
EVENT_ENDED = "involvement.ended"
EVENT_OF = {SIGNALLED: EVENT_INVOLVEMENT, ENDED: EVENT_ENDED}


class NotificationView(BaseModel):
    """Another party is involved with a participant you signalled: who, why, and how to reach them.

    Never any case content. ``subject`` is your own domain's pseudonym of the participant.
    """

    notification_id: int
    event: str = Field(description="involvement.signalled, or involvement.ended")
    subject: str
    party: str
    domain: str
    purpose: str
    contact: str
    signalled_at: datetime
    ended_at: datetime | None = Field(description="When the party ended its involvement")
    notified_at: datetime


def coordination_consents(consents: Iterable[Consent], involvement: Involvement) -> list[Consent]:
    """The consents in force for case coordination that name the party or its domain."""
    return [
        consent
        for consent in consents
        if consent.purpose == COORDINATION
        and consent.grantee in {involvement.party, involvement.domain}
    ]


def notify_involved(
    *, session: Session, runtime: Runtime, trace_id: str | None, participant: ParticipantRef
) -> list[Notice]:
    """Tell each coordinating party of the others' signals it was not yet told of."""
    now = runtime.clock()
    consents = consents_in_force(session=session, participant_id=participant.id, at=now)
    signals = involvements(session=session, participant_id=participant.id)
    basis = {signal.party: coordination_consents(consents, signal) for signal in signals}
    coordinating = {party for party, granted in basis.items() if granted}
    notices = notify_coordinated(
        session=session, participant_id=participant.id, coordinating=coordinating,
        clock=runtime.clock,
    )  # fmt: skip
    domains = {signal.party: signal.domain for signal in signals}
    for notice in notices:
        recipient_domain = domains[notice.recipient_party]
        runtime.trail.record(
            session, trace_id=trace_id, actor_party=notice.recipient_party, actor_domain=recipient_domain,
            action="signal.notify", outcome=Outcome.OK, participant=participant,
            purpose=notice.about.purpose,
            consent_ids=[c.id for c in basis[notice.recipient_party] + basis[notice.about.party]],
            reason=f"told of the involvement of {notice.about.party} ({notice.about.domain})",
        )  # fmt: skip
        view = notification_view(runtime, notice, recipient_domain)
        enqueue(
            session=session, party=notice.recipient_party, event_type=EVENT_INVOLVEMENT,
            payload=webhook_payload(view), clock=runtime.clock,
        )  # fmt: skip
    return notices


def notification_view(runtime: Runtime, notice: Notice, recipient_domain: str) -> NotificationView:
    about = notice.about
    return NotificationView(
        notification_id=notice.id, event=EVENT_OF[notice.kind],
        subject=pseudonym(runtime.identity_keys, recipient_domain, notice.participant_id),
        party=about.party, domain=about.domain, purpose=about.purpose, contact=about.contact,
        signalled_at=about.signalled_at, ended_at=about.ended_at, notified_at=notice.created_at,
    )  # fmt: skip


def webhook_payload(view: NotificationView) -> dict[str, Any]:
    """The Standard Webhooks payload shape: ``type``, ``timestamp``, ``data``."""
    return {
        "type": view.event,
        "timestamp": view.notified_at.isoformat().replace("+00:00", "Z"),
        "data": view.model_dump(mode="json"),
    }
