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
from gateway.identity.vault import ParticipantRef, pseudonym
from gateway.plans.flow import UNREACHABLE
from gateway.runtime import Runtime
from gateway.signals.matching import coordination_consents, notify_involved
from gateway.signals.schemas import (
    CoordinationConsent,
    CoordinationResult,
    SignalRequest,
    SignalView,
)
from plan.service import COORDINATION
from plan.signals import involvements, submit_signal

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
    return SignalView(
        signal_id=signalled.signal_id,
        subject=pseudonym(runtime.identity_keys, caller.domain, participant.id),
        purpose=signalled.purpose, contact=signalled.contact,
        signalled_at=signalled.signalled_at.isoformat().replace("+00:00", "Z"), created=created,
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
        shown = consents.view_of(session=session, consent=consent, at=now)
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
