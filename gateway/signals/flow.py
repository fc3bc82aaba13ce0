"""The signals area's steps: a partner signals involvement; the participant consents to
coordination among the parties involved, who are then told of each other (never of content).

A partner names the participant by its domain pseudonym or by BSN. A BSN that passes the 11-proof
enrols a participant not seen before (as recording a paper consent does): signalling is how a
party makes its involvement known. A pseudonym that does not resolve is 404 — the only 404 here,
as every pseudonym a partner can hold was handed out by the gateway.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import Outcome
from consent import service as consents
from consent.schemas import ConsentTerms, GivenBy, GivenHow
from gateway.audit_log.trail import PARTICIPANT_ACTOR
from gateway.auth.access_tokens import Caller, check_scope
from gateway.consents.flow import grantee_kind, vocabulary
from gateway.errors import InvalidInput, NotFound
from gateway.identity.subjects import resolve_or_enrol_subject
from gateway.identity.vault import ParticipantId, ParticipantRef, pseudonym
from gateway.plans.flow import UNREACHABLE
from gateway.registry.service import find_party
from gateway.runtime import Runtime
from gateway.signals.matching import (
    coordination_consents,
    notification_view,
    notify_involved,
    webhook_payload,
)
from gateway.signals.schemas import (
    CoordinationConsent,
    CoordinationResult,
    SignalRequest,
    SignalView,
)
from plan.models import InvolvementSignal
from plan.outbox import enqueue
from plan.schemas import Involvement
from plan.service import COORDINATION
from plan.signals import end_signal, involvements, submit_signal

PLAN_CATEGORIES = ["plan.actions", "plan.goals"]


def signal(
    session: Session, runtime: Runtime, trace_id: str | None, caller: Caller, body: SignalRequest
) -> SignalView:
    """Other involved parties learn of it only once the participant consents to coordination."""
    check_scope(caller, body.purpose)
    participant = resolve_or_enrol_subject(
        session, runtime.identity_keys, caller, body.subject,
        domains=runtime.catalogue.domains, now=runtime.clock(),
    )  # fmt: skip
    if participant is None:
        raise NotFound(UNREACHABLE)
    signalled, created = submit_signal(
        session=session, participant_id=participant.id, party=caller.party,
        domain=caller.domain, purpose=body.purpose, contact=body.contact, clock=runtime.clock,
    )  # fmt: skip
    runtime.trail.record(
        session, trace_id=trace_id, actor_party=caller.party, actor_domain=caller.domain,
        action=Action.SIGNAL_SUBMIT, outcome=Outcome.OK, participant=participant,
        purpose=body.purpose,
        reason="signalled" if created else "signalled before; the first signal stands",
    )  # fmt: skip
    notify_involved(session=session, runtime=runtime, trace_id=trace_id, participant=participant)
    return _signal_view(runtime, caller, participant.id, signalled, created=created)


def end_involvement(
    session: Session, runtime: Runtime, trace_id: str | None, caller: Caller, signal_id: str
) -> SignalView:
    """The party is no longer involved: the parties told of its signal are told of the end."""
    ended, notices = end_signal(
        session=session, signal_id=signal_id, party=caller.party, clock=runtime.clock
    )
    participant = ParticipantId(_participant_of(session, signal_id))
    runtime.trail.record(
        session, trace_id=trace_id, actor_party=caller.party, actor_domain=caller.domain,
        action=Action.SIGNAL_END, outcome=Outcome.OK, participant=participant,
        purpose=ended.purpose, reason=f"involvement ended; {len(notices)} part(ies) told",
    )  # fmt: skip
    for notice in notices:
        recipient = find_party(session, notice.recipient_party)
        domain = recipient.domain if recipient is not None else ended.domain
        runtime.trail.record(
            session, trace_id=trace_id, actor_party=notice.recipient_party, actor_domain=domain,
            action=Action.SIGNAL_NOTIFY, outcome=Outcome.OK, participant=participant,
            purpose=ended.purpose, reason=f"told that {ended.party} ended its involvement",
        )  # fmt: skip
        view = notification_view(runtime, notice, domain)
        enqueue(
            session=session, party=notice.recipient_party, event_type=view.event,
            payload=webhook_payload(view), clock=runtime.clock,
        )  # fmt: skip
    return _signal_view(runtime, caller, participant.id, ended, created=False)


def _participant_of(session: Session, signal_id: str) -> str:
    signal = session.get(InvolvementSignal, signal_id)
    assert signal is not None  # end_signal found it
    return signal.participant_id


def _signal_view(
    runtime: Runtime, caller: Caller, participant_id: str, signal: Involvement, *, created: bool
) -> SignalView:
    return SignalView(
        signal_id=signal.signal_id,
        subject=pseudonym(runtime.identity_keys, caller.domain, participant_id),
        purpose=signal.purpose, contact=signal.contact,
        signalled_at=signal.signalled_at.isoformat().replace("+00:00", "Z"), created=created,
        ended_at=signal.ended_at,
    )  # fmt: skip


def consent_to_coordination(
    session: Session,
    runtime: Runtime,
    trace_id: str | None,
    participant: ParticipantRef,
    body: CoordinationConsent,
) -> CoordinationResult:
    """A consent for the plan categories per named party (default: every party involved)."""
    now = runtime.clock()
    involved = {s.party: s for s in involvements(session=session, participant_id=participant.id)}
    named = sorted(set(body.parties) if body.parties is not None else set(involved))
    strangers = [party for party in named if party not in involved]
    if strangers:
        raise InvalidInput(
            f"not involved with you: {', '.join(strangers)}; involved: "
            f"{', '.join(sorted(involved)) or 'nobody yet'}",
            field="parties",
        )
    in_force = consents.consents_in_force(session=session, participant_id=participant.id, at=now)
    granted = []
    for party in named:
        if any(c.grantee == party for c in coordination_consents(in_force, involved[party])):
            continue
        terms = ConsentTerms(grantee=party, purpose=COORDINATION, categories=PLAN_CATEGORIES)
        consent = consents.grant(
            session=session, participant_id=participant.id, terms=terms,
            how=GivenHow(given_by=GivenBy.PARTICIPANT, recorded_by=PARTICIPANT_ACTOR),
            grantee_kind=grantee_kind(runtime, session, party), vocabulary=vocabulary(runtime),
            clock=runtime.clock,
        )  # fmt: skip
        # Seen as of now, after the grant: the consent is in force from its own moment.
        shown = consents.view_of(session=session, consent=consent, at=runtime.clock())
        runtime.trail.record(
            session, trace_id=trace_id, actor_party=PARTICIPANT_ACTOR,
            actor_domain=PARTICIPANT_ACTOR, action=Action.CONSENT_GRANT, outcome=Outcome.OK,
            participant=participant, purpose=COORDINATION, categories=shown.categories,
            consent_ids=[shown.id],
        )  # fmt: skip
        granted.append(shown)
    notices = notify_involved(
        session=session, runtime=runtime, trace_id=trace_id, participant=participant
    )
    return CoordinationResult(consents=granted, notified=len(notices))
