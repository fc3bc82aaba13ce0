"""Involvement signals over HTTP: partners signal and read their feed; participants consent to
coordination among the parties involved.

A partner names the participant by its domain pseudonym or by BSN. A BSN that passes the 11-proof
enrols a participant not seen before (as recording a paper consent does): signalling is how a
party makes its involvement known. A pseudonym that does not resolve is 404 — the only 404 here,
as every pseudonym a partner can hold was handed out by the gateway.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from audit.actions import Action
from audit.schemas import Outcome
from consent import service as consents
from consent.schemas import ConsentTerms, ConsentView, GivenBy, GivenHow
from gateway.audit_log.trail import PARTICIPANT_ACTOR, record
from gateway.auth.access_tokens import check_scope
from gateway.consents.participant_api import grantee_kind, vocabulary
from gateway.deps import ParticipantDep, PartnerDep, RuntimeDep, SessionDep
from gateway.errors import InvalidInput, NotFound
from gateway.identity.subjects import SubjectRef, resolve_or_enrol_subject
from gateway.identity.vault import pseudonym
from gateway.plans.api import UNREACHABLE
from gateway.signals.matching import (
    NotificationView,
    coordination_consents,
    notification_view,
    notify_involved,
)
from plan.schemas import Contact, Name
from plan.service import COORDINATION
from plan.signals import MAX_FEED_PAGE, feed, involvements, submit_signal

partner_router = APIRouter(prefix="/v1/signals", tags=["partner: involvement signals"])
participant_router = APIRouter(prefix="/v1/me", tags=["participant: plan"])
PLAN_CATEGORIES = ["plan.actions", "plan.goals"]


class SignalRequest(BaseModel):
    """'My party is involved with this participant for this purpose; reach us here.'"""

    model_config = ConfigDict(extra="forbid")

    subject: SubjectRef
    purpose: Name
    contact: Contact = Field(description="How another professional reaches yours; no case content")


class SignalView(BaseModel):
    signal_id: str
    subject: str = Field(description="Your domain's pseudonym of the participant")
    purpose: str
    contact: str
    signalled_at: str
    created: bool = Field(description="False when your party had signalled this already")


class FeedPage(BaseModel):
    notifications: list[NotificationView]
    next_cursor: int = Field(description="Pass as ?after= to read on; unchanged when nothing new")


@partner_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Signal that your party is involved with a participant",
    responses={
        200: {"description": "Signalled before; the first signal stands"},
        403: {"description": "The access token does not carry the purpose"},
        404: {"description": "A pseudonym that names no participant of your domain"},
    },
)
def signal_involvement(
    body: SignalRequest,
    request: Request,
    response: Response,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> SignalView:
    """Other involved parties learn of it only once the participant consents to coordination."""
    check_scope(caller, body.purpose)
    participant = resolve_or_enrol_subject(
        session, runtime.identity_keys, caller, body.subject,
        domains=runtime.catalogue.domains, now=runtime.clock(),
    )  # fmt: skip
    if participant is None:
        raise NotFound(UNREACHABLE)
    signal, created = submit_signal(
        session=session, participant_id=participant.id, party=caller.party,
        domain=caller.domain, purpose=body.purpose, contact=body.contact, clock=runtime.clock,
    )  # fmt: skip
    record(
        session=session, runtime=runtime, request=request, actor_party=caller.party,
        actor_domain=caller.domain, action=Action.SIGNAL_SUBMIT, outcome=Outcome.OK,
        participant=participant, purpose=body.purpose,
        reason="signalled" if created else "signalled before; the first signal stands",
    )  # fmt: skip
    notify_involved(session=session, runtime=runtime, request=request, participant=participant)
    if not created:
        response.status_code = status.HTTP_200_OK
    return SignalView(
        signal_id=signal.signal_id,
        subject=pseudonym(runtime.identity_keys, caller.domain, participant.id),
        purpose=signal.purpose, contact=signal.contact,
        signalled_at=signal.signalled_at.isoformat().replace("+00:00", "Z"), created=created,
    )  # fmt: skip


@partner_router.get(
    "/feed",
    summary="Your notifications of other parties' involvement, after a cursor",
    description="For systems that cannot receive webhooks; holds the same notifications.",
)
def signal_feed(
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, description="next_cursor of the previous page")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_FEED_PAGE)] = 100,
) -> FeedPage:
    notices = feed(session=session, recipient_party=caller.party, after=after, limit=limit)
    return FeedPage(
        notifications=[notification_view(runtime, n, caller.domain) for n in notices],
        next_cursor=notices[-1].id if notices else after,
    )


class CoordinationConsent(BaseModel):
    """Consent to coordination among the parties involved with you (purpose case-coordination).

    Each named party (default: every party that signalled) gets a consent for the plan
    categories; the parties are then told of each other's involvement and contact.
    """

    model_config = ConfigDict(extra="forbid")

    parties: list[Name] | None = Field(default=None, max_length=32)


class CoordinationResult(BaseModel):
    consents: list[ConsentView]
    notified: int = Field(description="How many notifications this sent")


@participant_router.post(
    "/coordination",
    status_code=status.HTTP_201_CREATED,
    summary="Consent to coordination among the parties involved with me",
)
def consent_to_coordination(
    body: CoordinationConsent,
    request: Request,
    participant: ParticipantDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> CoordinationResult:
    now = runtime.clock()
    signals = involvements(session=session, participant_id=participant.id)
    involved = {signal.party: signal for signal in signals}
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
        record(
            session=session, runtime=runtime, request=request, actor_party=PARTICIPANT_ACTOR,
            actor_domain=PARTICIPANT_ACTOR, action=Action.CONSENT_GRANT, outcome=Outcome.OK,
            participant=participant, purpose=COORDINATION, categories=shown.categories,
            consent_ids=[shown.id],
        )  # fmt: skip
        granted.append(shown)
    notices = notify_involved(
        session=session, runtime=runtime, request=request, participant=participant
    )
    return CoordinationResult(consents=granted, notified=len(notices))
