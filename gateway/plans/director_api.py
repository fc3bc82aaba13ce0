"""The director of a participant's plan over HTTP: the participant chooses (their choice is their
consent), or a partner proposes a party that a coordination consent in force names; the director
hands over. Every assignment, hand-over and end is audited.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from audit.actions import Action
from audit.schemas import Outcome
from consent.service import consents_in_force
from gateway.audit_log.trail import PARTICIPANT_ACTOR, record
from gateway.deps import ParticipantDep, PartnerDep, RuntimeDep, SessionDep
from gateway.errors import Forbidden, InvalidInput, NotFound
from gateway.identity.subjects import SubjectRef
from gateway.identity.vault import ParticipantRef
from gateway.plans.api import NOT_REACHABLE_RESPONSE, reach
from gateway.registry.service import find_party
from gateway.runtime import Runtime
from plan import service
from plan.errors import DirectorNotAllowed
from plan.schemas import AssignmentView, DirectorView, Name

participant_router = APIRouter(prefix="/v1/me", tags=["participant: plan"])
partner_router = APIRouter(prefix="/v1/plans", tags=["partner: plan"])


class DirectorChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    party: Name = Field(description="The party that is to direct your plan, e.g. gemeente-leiden")


def _director_candidate(session: Session, party_id: str) -> tuple[str, str]:
    """An enabled party registered for case coordination; anything else is refused (422)."""
    party = find_party(session, party_id)
    if party is None or not party.enabled or service.COORDINATION not in party.purposes:
        raise InvalidInput(
            f"{party_id!r} is not an enabled party registered for {service.COORDINATION}",
            field="party",
        )
    return party.id, party.domain


def _audit_director(
    session: Session,
    runtime: Runtime,
    request: Request,
    *,
    actor: tuple[str, str],
    participant: ParticipantRef,
    action: Action,
    reason: str,
    consent_ids: list[str],
) -> None:
    record(
        session=session, runtime=runtime, request=request, actor_party=actor[0],
        actor_domain=actor[1], action=action, outcome=Outcome.OK, participant=participant,
        purpose=service.COORDINATION, consent_ids=consent_ids, reason=reason,
    )  # fmt: skip


@participant_router.put("/director", summary="Choose (or change) the director of my plan")
def choose_director(
    choice: DirectorChoice,
    request: Request,
    participant: ParticipantDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> DirectorView:
    """Your choice is your consent: it holds until you end it or choose another party."""
    party, domain = _director_candidate(session, choice.party)
    consents = consents_in_force(session=session, participant_id=participant.id, at=runtime.clock())
    current = service.current_director(
        session=session, participant_id=participant.id, consents=consents
    )
    if current is None or current.party != party or current.basis != service.PARTICIPANT:
        row = service.assign_director(
            session=session, participant_id=participant.id, party=party, domain=domain,
            assigned_by=PARTICIPANT_ACTOR, consent_id=None, current=current, clock=runtime.clock,
        )  # fmt: skip
        _audit_director(
            session, runtime, request, actor=(PARTICIPANT_ACTOR, PARTICIPANT_ACTOR),
            participant=participant, action=Action.DIRECTOR_ASSIGN, consent_ids=[],
            reason=f"{row.kind} to {party} by the participant",
        )  # fmt: skip
    chosen = service.current_director(
        session=session, participant_id=participant.id, consents=consents
    )
    assert chosen is not None
    return DirectorView(party=chosen.party, domain=chosen.domain, basis=chosen.basis,
                        since=chosen.since)  # fmt: skip


@participant_router.delete(
    "/director", status_code=status.HTTP_204_NO_CONTENT, summary="End the directorship"
)
def end_director(
    request: Request, participant: ParticipantDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    consents = consents_in_force(session=session, participant_id=participant.id, at=runtime.clock())
    current = service.current_director(
        session=session, participant_id=participant.id, consents=consents
    )
    if current is None:
        raise NotFound("your plan has no director")
    service.end_director(
        session=session, participant_id=participant.id, current=current,
        ended_by=PARTICIPANT_ACTOR, clock=runtime.clock,
    )  # fmt: skip
    _audit_director(
        session, runtime, request, actor=(PARTICIPANT_ACTOR, PARTICIPANT_ACTOR),
        participant=participant, action=Action.DIRECTOR_END, consent_ids=[],
        reason=f"directorship of {current.party} ended by the participant",
    )  # fmt: skip
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@participant_router.get("/director/history", summary="Every assignment and hand-over")
def my_director_history(participant: ParticipantDep, session: SessionDep) -> list[AssignmentView]:
    return service.director_history(session=session, participant_id=participant.id)


class DirectorProposal(BaseModel):
    """Assign a director (yourself by default) or, as the director, hand over to another party."""

    model_config = ConfigDict(extra="forbid")

    subject: SubjectRef
    party: Name | None = Field(default=None, description="Default: your own party")


@partner_router.put(
    "/director",
    summary="Assign a director, or hand over as the director",
    responses={
        403: {"description": "A director is in place and you are not it"},
        409: {"description": "No consent in force for case-coordination names that party"},
        **NOT_REACHABLE_RESPONSE,
    },
)
def propose_director(
    body: DirectorProposal,
    request: Request,
    caller: PartnerDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> DirectorView:
    """Needs the participant's consent: one in force for case-coordination naming that party."""
    reached = reach(session, runtime, caller, body.subject)
    current = reached.director
    if current is not None and current.party != caller.party:
        raise Forbidden("the plan has a director; only that party or the participant hands it over")
    party, domain = _director_candidate(session, body.party or caller.party)
    if current is not None and current.party == party:
        return DirectorView(party=party, domain=domain, basis=current.basis, since=current.since)
    granting = [
        c for c in reached.consents if c.purpose == service.COORDINATION and c.grantee == party
    ]
    if not granting:
        raise DirectorNotAllowed(
            f"no consent in force for {service.COORDINATION} names {party}; the participant "
            "must consent to coordination by that party (or choose the director themselves)",
            reason="director.consent_missing",
        )
    row = service.assign_director(
        session=session, participant_id=reached.participant.id, party=party, domain=domain,
        assigned_by=caller.party, consent_id=granting[0].id, current=current, clock=runtime.clock,
    )  # fmt: skip
    _audit_director(
        session, runtime, request, actor=(caller.party, caller.domain),
        participant=reached.participant, action=Action.DIRECTOR_ASSIGN,
        consent_ids=[c.id for c in granting], reason=f"{row.kind} to {party} on consent",
    )  # fmt: skip
    return DirectorView(party=party, domain=domain, basis=row.basis, since=row.at)
